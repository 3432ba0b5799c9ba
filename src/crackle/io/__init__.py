"""Files: atomic writes, run directories, avalanche tables (Parquet, CSV, .npy)."""

from crackle.io.atomic import atomic_path, write_json
from crackle.io.lock import RunDirLockedError, lock_holder, run_lock
from crackle.io.rundir import RunDir
from crackle.io.state import CorruptStateError, load_npz, read_json_object
from crackle.io.tables import AvalancheWriter, read_avalanche_table, read_avalanches

__all__ = [
    "AvalancheWriter",
    "CorruptStateError",
    "RunDir",
    "RunDirLockedError",
    "atomic_path",
    "load_npz",
    "lock_holder",
    "read_avalanche_table",
    "read_avalanches",
    "read_json_object",
    "run_lock",
    "write_json",
]

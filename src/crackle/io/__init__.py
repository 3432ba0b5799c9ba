"""Files: atomic writes, run directories, avalanche tables (Parquet, CSV, .npy).

Names load on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crackle import _lazy

if TYPE_CHECKING:
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

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "atomic_path": "atomic",
        "write_json": "atomic",
        "RunDirLockedError": "lock",
        "lock_holder": "lock",
        "run_lock": "lock",
        "RunDir": "rundir",
        "CorruptStateError": "state",
        "load_npz": "state",
        "read_json_object": "state",
        "AvalancheWriter": "tables",
        "read_avalanche_table": "tables",
        "read_avalanches": "tables",
    },
)

"""Files: atomic writes, run directories, avalanche tables (Parquet, CSV, .npy)."""

from crackle.io.atomic import atomic_path, write_json
from crackle.io.rundir import RunDir
from crackle.io.tables import AvalancheWriter, read_avalanche_table, read_avalanches

__all__ = [
    "AvalancheWriter",
    "RunDir",
    "atomic_path",
    "read_avalanche_table",
    "read_avalanches",
    "write_json",
]

"""Parameter sweeps on Dask, from a laptop to a cluster, with a resumable ledger.

A TOML config names a registered experiment, a grid (or a list of points) over its
parameters and a base seed; :func:`run_sweep` runs every point not yet in the sweep
directory's ledger on a Dask cluster (a local one on 127.0.0.1 by default, or a
scheduler address), writes each result as it arrives, then one Parquet table and the
figures. See docs/sweeps.md.

``import crackle.sweep`` imports neither Dask nor torch; they load when a sweep runs.
"""

from crackle.sweep.config import ClusterConfig, SweepConfig, SweepPoint, load_config, parse_config
from crackle.sweep.experiments import (
    Experiment,
    ExperimentParams,
    experiment_names,
    get_experiment,
    register_experiment,
)
from crackle.sweep.ledger import Ledger, open_ledger
from crackle.sweep.runner import SweepProgress, SweepSummary, read_ledger, run_point, run_sweep
from crackle.sweep.seeds import point_key, point_seed

__all__ = [
    "ClusterConfig",
    "Experiment",
    "ExperimentParams",
    "Ledger",
    "SweepConfig",
    "SweepPoint",
    "SweepProgress",
    "SweepSummary",
    "experiment_names",
    "get_experiment",
    "load_config",
    "open_ledger",
    "parse_config",
    "point_key",
    "point_seed",
    "read_ledger",
    "register_experiment",
    "run_point",
    "run_sweep",
]

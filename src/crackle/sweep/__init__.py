"""Parameter sweeps on Dask, from a laptop to a cluster, with a resumable ledger.

A TOML config names a registered experiment, a grid (or a list of points) over its
parameters and a base seed; :func:`run_sweep` runs every point not yet in the sweep
directory's ledger on a Dask cluster (a local one on 127.0.0.1 by default, or a
scheduler address), writes each result as it arrives, then one Parquet table and the
figures. See docs/sweeps.md.

Sweeps need pydantic and Dask (``pip install 'crackle[sweep]'``). ``import
crackle.sweep`` imports neither Dask nor torch; every name loads on first use (PEP 562),
Dask when a sweep runs.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from crackle import _lazy
from crackle._extras import require

if TYPE_CHECKING:
    from crackle.sweep.clusters import jobqueue_cluster
    from crackle.sweep.config import (
        ClusterConfig,
        SweepConfig,
        SweepPoint,
        load_config,
        parse_config,
    )
    from crackle.sweep.experiments import (
        Experiment,
        ExperimentParams,
        experiment_names,
        get_experiment,
        register_experiment,
    )
    from crackle.sweep.ledger import Ledger, open_ledger
    from crackle.sweep.plugins import ENTRY_POINT_GROUP, load_plugin, plugin_experiment
    from crackle.sweep.runner import (
        SweepProgress,
        SweepSummary,
        read_ledger,
        run_point,
        run_sweep,
    )
    from crackle.sweep.seeds import point_key, point_seed

__all__ = [
    "ENTRY_POINT_GROUP",
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
    "jobqueue_cluster",
    "load_config",
    "load_plugin",
    "open_ledger",
    "parse_config",
    "plugin_experiment",
    "point_key",
    "point_seed",
    "read_ledger",
    "register_experiment",
    "run_point",
    "run_sweep",
]

_NAMES = {
    "ClusterConfig": "config",
    "SweepConfig": "config",
    "SweepPoint": "config",
    "load_config": "config",
    "parse_config": "config",
    "Experiment": "experiments",
    "ExperimentParams": "experiments",
    "experiment_names": "experiments",
    "get_experiment": "experiments",
    "register_experiment": "experiments",
    "ENTRY_POINT_GROUP": "plugins",
    "load_plugin": "plugins",
    "plugin_experiment": "plugins",
    "jobqueue_cluster": "clusters",
    "Ledger": "ledger",
    "open_ledger": "ledger",
    "SweepProgress": "runner",
    "SweepSummary": "runner",
    "read_ledger": "runner",
    "run_point": "runner",
    "run_sweep": "runner",
    "point_key": "seeds",
    "point_seed": "seeds",
}


def _needs_sweep_extra(name: str) -> None:
    if _NAMES[name] in ("seeds", "ledger"):
        return  # numpy and the standard library only
    require("pydantic", extra="sweep", feature=f"crackle.sweep.{name}")
    if name == "run_sweep":
        require("distributed", extra="sweep", feature="crackle.sweep.run_sweep")
    if name == "jobqueue_cluster":
        require("dask_jobqueue", extra="cluster", feature="crackle.sweep.jobqueue_cluster")


__getattr__, __dir__ = _lazy.attach(
    __name__,
    _NAMES,
    before={name: partial(_needs_sweep_extra, name) for name in _NAMES},
)

"""Sweeps on the batch clusters people have: SLURM and PBS through dask-jobqueue.

``crackle sweep CONFIG --cluster slurm`` (or ``kind = "slurm"`` in ``[cluster]``) runs
the client and the Dask scheduler where the command runs (a login node) and the
workers as batch jobs: ``jobs`` jobs, each asking for ``cores`` cores, ``memory`` and
``walltime`` on ``queue`` charged to ``account``, and starting ``cores`` single-thread
worker processes. :func:`jobqueue_cluster` builds the dask-jobqueue cluster from the
config; its ``job_script()`` shows what would be submitted, without a queue.

Needs dask-jobqueue (``pip install 'crackle[cluster]'``)
and, to submit, the queue's command (``sbatch``, ``qsub``) on PATH.
"""

from __future__ import annotations

import logging
import shutil
from typing import Any

from crackle._validation import CrackleValueError
from crackle.sweep.config import ClusterConfig

__all__ = ["SUBMIT_COMMANDS", "jobqueue_cluster"]

SUBMIT_COMMANDS = {"slurm": "sbatch", "pbs": "qsub"}


def jobqueue_cluster(
    cluster: ClusterConfig,
    kind: str | None = None,
    *,
    scheduler_options: dict[str, Any] | None = None,
) -> Any:
    """A dask-jobqueue ``SLURMCluster`` or ``PBSCluster`` from a ``[cluster]`` table.

    Parameters
    ----------
    cluster : ClusterConfig
        ``cores``, ``memory`` (required), ``walltime``, ``queue``, ``account``,
        ``job_extra_directives``, ``job_script_prologue``, ``interface``.
    kind : {"slurm", "pbs"}, optional
        Default ``cluster.kind``.
    scheduler_options : dict, optional
        Passed to the scheduler (default: no dashboard, any free port).

    Returns
    -------
    dask_jobqueue.JobQueueCluster
        Started (its scheduler listens) but with no job submitted: ``job_script()``
        is the batch script, ``scale(jobs=n)`` submits. Close it when done.

    Examples
    --------
    >>> from crackle.sweep import ClusterConfig
    >>> cfg = ClusterConfig(kind="slurm", cores=4, memory="8GB", queue="short",
    ...                     interface="lo")
    >>> with jobqueue_cluster(cfg) as cl:
    ...     script = cl.job_script()
    >>> "#SBATCH -p short" in script and "--nworkers 4" in script
    True
    """
    if not isinstance(cluster, ClusterConfig):
        raise CrackleValueError(
            "The 'cluster' parameter of jobqueue_cluster must be a ClusterConfig. "
            f"Got {cluster!r} instead."
        )
    kind = cluster.kind if kind is None else kind
    if kind not in SUBMIT_COMMANDS:
        raise CrackleValueError(
            "The 'kind' parameter of jobqueue_cluster must be one of 'slurm', 'pbs'. "
            f"Got {kind!r} instead."
        )
    if cluster.memory is None:
        raise CrackleValueError(
            f"a {kind.upper()} cluster needs the memory of each job: set memory = '16GB' "
            "(for example) in the config's [cluster] table"
        )
    try:
        import dask_jobqueue
    except ModuleNotFoundError:
        raise CrackleValueError(
            f"--cluster {kind} needs dask-jobqueue: pip install 'crackle[cluster]'"
        ) from None

    cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster
    opts = {"dashboard": False, "dashboard_address": None}
    opts.update(scheduler_options or {})
    try:
        return cls(
            cores=cluster.cores,
            processes=cluster.cores,  # one single-thread worker per core, as locally
            memory=cluster.memory,
            walltime=cluster.walltime,
            queue=cluster.queue,
            account=cluster.account,
            job_extra_directives=list(cluster.job_extra_directives),
            job_script_prologue=list(cluster.job_script_prologue),
            interface=cluster.interface,
            job_name="crackle-sweep",
            scheduler_options=opts,
            silence_logs=logging.CRITICAL,
        )
    except (ValueError, OSError) as exc:
        raise CrackleValueError(f"cannot set up the {kind.upper()} cluster: {exc}") from None


def check_submit_command(kind: str) -> None:
    """Refuse early, with the reason, when the queue's submit command is missing."""
    cmd = SUBMIT_COMMANDS[kind]
    if shutil.which(cmd) is None:
        raise CrackleValueError(
            f"--cluster {kind} submits the workers with {cmd}, which is not on this "
            f"machine's PATH: run crackle sweep on the cluster's login node (or use "
            "--scheduler with a Dask scheduler you started there)"
        )

"""Run a sweep on Dask: a local cluster of processes by default, a scheduler address,
or workers submitted as SLURM or PBS batch jobs (``crackle.sweep.clusters``).

The client submits the points that the ledger does not hold yet, writes each result
as it arrives (so a killed run loses only the points in flight), then builds the
table and the figures. A point whose experiment raises is recorded as failed, with
its error, and the others go on; ``retry_failed=True`` runs the failed ones again.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from crackle._validation import CrackleValueError, check_int, check_real, param_error
from crackle.io.lock import run_lock
from crackle.sweep.config import ClusterConfig, SweepConfig, SweepPoint, load_config
from crackle.sweep.experiments import Experiment
from crackle.sweep.ledger import RESERVED_COLUMNS, Ledger, open_ledger

__all__ = ["SweepProgress", "SweepSummary", "read_ledger", "run_point", "run_sweep"]

_FUNC = "run_sweep"
_ADDRESS = re.compile(r"^([a-z]+://)?[^\s/]+:\d+$")


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: handed to the ``progress`` callback after every point."""

    done: int
    total: int
    failed: int
    skipped: int
    last_key: str | None = None


@dataclass(frozen=True)
class SweepSummary:
    """What a call of :func:`run_sweep` did, and where its outputs are."""

    path: Path
    experiment: str
    n_points: int
    n_run: int
    n_skipped: int
    n_ok: int
    n_failed: int
    scheduler: str | None
    table: Path
    figures: tuple[Path, ...]
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["path"], out["table"] = str(self.path), str(self.table)
        out["figures"] = [str(f) for f in self.figures]
        return out


def _plain(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic | np.ndarray) and np.ndim(value) == 0:
        return value.item()
    raise TypeError(
        f"result {name!r} is a {type(value).__name__}: an experiment returns scalars "
        "(int, float, bool, str, None) or numpy arrays"
    )


def run_point(experiment: Experiment, params: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Run one point (on a worker); errors come back as data, never as an exception.

    Returns
    -------
    dict
        ``status`` ('ok' or 'failed'), ``results`` (scalars), ``arrays`` (numpy
        arrays), ``error`` (type, message, traceback, or None), ``elapsed_s`` and
        ``worker``.
    """
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    error = None
    try:
        # Validated by the client already; lax here so that JSON lists fill tuple fields.
        out = experiment.func(experiment.params.model_validate(dict(params), strict=False), seed)
        for name, value in dict(out).items():
            if name in params or name in RESERVED_COLUMNS:
                raise ValueError(
                    f"result {name!r} of experiment {experiment.name!r} has the name of "
                    "a parameter or a table column; rename it"
                )
            if isinstance(value, np.ndarray) and value.ndim > 0:
                arrays[name] = value
            else:
                results[name] = _plain(name, value)
    except Exception as exc:
        results, arrays = {}, {}
        error = {"type": type(exc).__name__, "message": str(exc), "traceback": _tb(exc)}
    return {
        "status": "ok" if error is None else "failed",
        "results": results,
        "arrays": arrays,
        "error": error,
        "elapsed_s": time.perf_counter() - t0,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def _tb(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _record(config: SweepConfig, pt: SweepPoint, out: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": pt.key,
        "index": pt.index,
        "experiment": config.experiment.name,
        "replicate": pt.replicate,
        "seed": pt.seed,
        "base_seed": config.seed,
        "params": pt.params,
        "status": out["status"],
        "results": out["results"],
        "arrays": sorted(out.get("arrays") or {}),
        "error": out["error"],
        "elapsed_s": out.get("elapsed_s"),
        "worker": out.get("worker"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@contextmanager
def _client(
    scheduler: str | None,
    n_workers: int,
    threads: int,
    processes: bool,
    timeout: float,
    batch: ClusterConfig | None = None,
) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler``, on workers submitted as batch jobs
    (``batch``, its ``kind`` slurm or pbs), or on a fresh loopback LocalCluster."""
    from distributed import Client, LocalCluster

    if batch is not None:
        from crackle.sweep.clusters import jobqueue_cluster

        with jobqueue_cluster(batch) as jq:
            jq.scale(jobs=batch.jobs)
            with Client(jq, set_as_default=False) as client:
                yield client
        return
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise CrackleValueError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({exc}). "
                "Check the address and that `dask scheduler` runs there, or leave out "
                "--scheduler to run on this machine."
            ) from None
        with client:
            yield client
        return
    # Everything on loopback TCP, free ports, no dashboard: the scheduler's HTTP server
    # (health and metrics routes, which it always starts) is pinned to 127.0.0.1 too.
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads,
            processes=processes,
            host="127.0.0.1",
            protocol="tcp",
            scheduler_port=0,
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,  # failures are recorded in the ledger
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def run_sweep(
    config: SweepConfig | str | Path,
    out: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    processes: bool | None = None,
    connect_timeout: float | None = None,
    cluster: str | None = None,
    retry_failed: bool = False,
    figures: bool = True,
    progress: Callable[[SweepProgress], None] | None = None,
) -> SweepSummary:
    """Run every point of a sweep not yet in the ledger at ``out``, then tabulate.

    Parameters
    ----------
    config : SweepConfig, str or Path
        A validated config, or the path of a TOML file (see ``crackle.sweep.config``).
    out : str or Path
        The sweep directory; created, or resumed when it holds this same sweep.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``); default: the
        config's ``[cluster] scheduler``, else a LocalCluster on 127.0.0.1 (worker
        processes, no dashboard) for the length of the call.
    n_workers, threads_per_worker : int, optional
        Size of the local cluster (default from the config: 2 and 1).
    processes : bool, optional
        Local workers as separate processes (default from the config: True); False
        runs them as threads of this process (quick checks, no parallel Python).
    connect_timeout : float, optional
        Seconds to wait for ``scheduler`` (default from the config: 10).
    cluster : {"local", "slurm", "pbs"}, optional
        Where the workers run (default from the config: ``[cluster] kind``, "local"):
        "slurm" and "pbs" submit ``jobs`` batch jobs through dask-jobqueue with the
        config's ``cores``, ``memory``, ``walltime``, ``queue``, ``account`` and
        ``job_extra_directives`` (see ``crackle.sweep.clusters``); the submit
        command (``sbatch``, ``qsub``) must be on PATH.
    retry_failed : bool
        Run the points recorded as failed again (default: keep their records).
    figures : bool
        Draw ``figures/*.png`` from the table.
    progress : callable, optional
        Called with a :class:`SweepProgress` once at the start and after each point.

    Returns
    -------
    SweepSummary

    Examples
    --------
    >>> import tempfile
    >>> from crackle.sweep import parse_config, run_sweep
    >>> cfg = parse_config({"experiment": "smoke", "grid": {"x": [0.0, 1.0, 2.0]}})
    >>> out = tempfile.mkdtemp() + "/sweep"
    >>> s = run_sweep(cfg, out, processes=False, figures=False)
    >>> s.n_run, s.n_ok
    (3, 3)
    >>> run_sweep(cfg, out, processes=False, figures=False).n_skipped  # resumed: all done
    3
    """
    t0 = time.perf_counter()
    if not isinstance(config, SweepConfig | str | Path):
        raise param_error("config", _FUNC, "a SweepConfig or the path of a TOML file", config)
    if not isinstance(out, str | Path):
        raise param_error("out", _FUNC, "a path (str or Path)", out)
    for name, flag in (("retry_failed", retry_failed), ("figures", figures)):
        if not isinstance(flag, bool):
            raise param_error(name, _FUNC, "True or False", flag)
    if processes is not None and not isinstance(processes, bool):
        raise param_error("processes", _FUNC, "True, False or None", processes)
    if progress is not None and not callable(progress):
        raise param_error("progress", _FUNC, "a callable or None", progress)
    cfg = config if isinstance(config, SweepConfig) else load_config(config)
    cl = cfg.cluster
    scheduler = scheduler if scheduler is not None else cl.scheduler
    kind = cl.kind if cluster is None else cluster
    if kind not in ("local", "slurm", "pbs"):
        raise param_error("cluster", _FUNC, "one of 'local', 'slurm', 'pbs'", cluster)
    batch = None
    if kind != "local":
        if scheduler is not None:
            raise CrackleValueError(
                f"give a scheduler address or a batch cluster ({kind}), not both"
            )
        from crackle.sweep.clusters import check_submit_command

        check_submit_command(kind)
        batch = cl.model_copy(update={"kind": kind})
    if scheduler is not None and (not isinstance(scheduler, str) or not _ADDRESS.match(scheduler)):
        raise CrackleValueError(
            f"The 'scheduler' parameter of {_FUNC} must be an address such as "
            f"tcp://127.0.0.1:8786. Got {scheduler!r} instead."
        )
    workers = check_int(cl.n_workers if n_workers is None else n_workers, "n_workers", _FUNC, low=1)
    threads = check_int(
        cl.threads_per_worker if threads_per_worker is None else threads_per_worker,
        "threads_per_worker",
        _FUNC,
        low=1,
    )
    timeout = check_real(
        cl.connect_timeout if connect_timeout is None else connect_timeout,
        "connect_timeout",
        _FUNC,
        low=0,
        low_open=True,
    )

    with run_lock(out, what="sweep directory"):
        return _run_locked(
            cfg,
            out,
            scheduler,
            workers,
            threads,
            timeout,
            processes,
            retry_failed,
            figures,
            progress,
            t0,
            batch,
        )


def _run_locked(
    cfg: SweepConfig,
    out: str | Path,
    scheduler: str | None,
    workers: int,
    threads: int,
    timeout: float,
    processes: bool | None,
    retry_failed: bool,
    figures: bool,
    progress: Callable[[SweepProgress], None] | None,
    t0: float,
    batch: ClusterConfig | None = None,
) -> SweepSummary:
    cl = cfg.cluster
    led = open_ledger(out, cfg)
    led.clean_temporaries()
    records = led.read_records()
    todo = [
        pt
        for pt in cfg.points
        if pt.key not in records or (retry_failed and records[pt.key]["status"] != "ok")
    ]
    total, skipped = len(cfg.points), len(cfg.points) - len(todo)
    todo_keys = {pt.key for pt in todo}
    failed = sum(
        1
        for pt in cfg.points
        if pt.key in records and pt.key not in todo_keys and records[pt.key]["status"] != "ok"
    )
    done = skipped
    if progress is not None:
        progress(SweepProgress(done, total, failed, skipped))
    if todo:
        from distributed import as_completed

        procs = cl.processes if processes is None else bool(processes)
        with _client(scheduler, min(workers, len(todo)), threads, procs, timeout, batch) as client:
            futures = {
                client.submit(
                    run_point,
                    cfg.experiment,
                    pt.params,
                    pt.seed,
                    key=f"crackle-{cfg.experiment.name}-{pt.key}-{os.urandom(4).hex()}",
                    pure=False,
                ): pt
                for pt in todo
            }
            for fut in as_completed(futures, loop=client.loop):
                pt = futures.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died or the result did not arrive
                    res = {
                        "status": "failed",
                        "results": {},
                        "arrays": {},
                        "error": {
                            "type": type(exc).__name__,
                            "message": str(exc),
                            "traceback": _tb(exc),
                        },
                    }
                rec = _record(cfg, pt, res)
                led.write_record(rec, res.get("arrays"))
                records[pt.key] = rec
                done += 1
                failed += rec["status"] != "ok"
                if progress is not None:
                    progress(SweepProgress(done, total, failed, skipped, pt.key))
    led.write_table(cfg, records)
    figs: tuple[Path, ...] = ()
    if figures:
        from crackle.sweep.figures import sweep_figures

        figs = tuple(sweep_figures(led.table, list(cfg.points[0].params), cfg.axes, led.figures))
    status = [records.get(pt.key, {}).get("status") for pt in cfg.points]
    return SweepSummary(
        led.path,
        cfg.experiment.name,
        total,
        len(todo),
        skipped,
        status.count("ok"),
        status.count("failed"),
        scheduler if batch is None else f"{batch.kind} jobs",
        led.table,
        figs,
        time.perf_counter() - t0,
    )


def read_ledger(out: str | Path) -> Ledger:
    """The :class:`Ledger` of an existing sweep directory."""
    led = Ledger(Path(out))
    if not led.meta.exists():
        raise FileNotFoundError(f"{out} holds no sweep.json: not a sweep directory")
    return led

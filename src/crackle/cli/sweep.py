"""``crackle sweep CONFIG``: run a parameter sweep on Dask, resumably."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.text import Text

from crackle.cli._common import WAIT_HELP, clean_errors, console, err_console, progress_bar, writing
from crackle.cli.main import app


@app.command("sweep")
@clean_errors
def sweep(
    config: Path = typer.Argument(..., help="Sweep config (TOML); see docs/sweeps.md."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Sweep directory (default: runs/CONFIG-NAME)."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: a local cluster on 127.0.0.1).",
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-n", min=1, help="Local worker processes (default: config, or 2)."
    ),
    threads: int | None = typer.Option(
        None, "--threads-per-worker", min=1, help="Threads per local worker (default 1)."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.1, help="Seconds to wait for --scheduler (default 10)."
    ),
    cluster: str | None = typer.Option(
        None,
        "--cluster",
        metavar="slurm|pbs|local",
        help="Run the workers as SLURM or PBS batch jobs (dask-jobqueue), sized by the "
        "config's [cluster] cores, memory, walltime, queue, account, jobs (default: "
        "[cluster] kind, or local).",
    ),
    plugin: str | None = typer.Option(
        None,
        "--plugin",
        metavar="MODULE:FUNCTION",
        help="Run your own function: its keyword parameters are the sweep's, seed=... "
        "gets the point's seed, it returns a dict (see docs/sweeps.md). The module is "
        "looked up on PYTHONPATH and in the current directory.",
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Run the points recorded as failed again."
    ),
    html: bool = typer.Option(True, "--html/--no-html", help="Write report.html at the end."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Run a parameter sweep on Dask, resumably: table, figures and report.

    Runs every point of CONFIG not yet in the sweep directory. Each finished point is
    written to OUT/points/ at once, so an interrupted sweep resumes where it stopped.
    Exit code 1 when some points failed (their errors are in OUT/points/ and the
    table; --retry-failed runs them again).
    """
    from crackle.sweep.config import load_config
    from crackle.sweep.runner import SweepProgress, run_sweep

    if cluster is not None and cluster not in ("local", "slurm", "pbs"):
        raise typer.BadParameter(
            f"{cluster!r} is not one of slurm, pbs, local", param_hint="'--cluster'"
        )
    if plugin is not None and os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: a module beside you
    cfg = load_config(config, plugin=plugin)
    out = out or Path("runs") / config.stem
    kind = cluster or cfg.cluster.kind
    where = (
        f"{kind.upper()} batch jobs ({cfg.cluster.jobs} x {cfg.cluster.cores} cores)"
        if kind != "local"
        else scheduler or cfg.cluster.scheduler or "a local cluster on 127.0.0.1"
    )
    console.print(
        f"sweep {config}: experiment {cfg.experiment.name!r}, {len(cfg.points)} points, on {where}",
        highlight=False,
    )
    with writing(out, wait, "sweep directory"), progress_bar() as progress:
        task = progress.add_task("sweep", total=len(cfg.points))

        def update(p: SweepProgress) -> None:
            desc = f"sweep ({p.failed} failed)" if p.failed else "sweep"
            progress.update(task, completed=p.done, description=desc)

        summary = run_sweep(
            cfg,
            out,
            scheduler=scheduler,
            n_workers=workers,
            threads_per_worker=threads,
            connect_timeout=timeout,
            cluster=cluster,
            retry_failed=retry_failed,
            progress=update,
        )
    console.print(
        f"{summary.n_points} points: {summary.n_run} run now, {summary.n_skipped} already "
        f"in the ledger; {summary.n_ok} ok, {summary.n_failed} failed "
        f"({summary.elapsed_s:.1f} s)",
        highlight=False,
    )
    console.print(f"wrote {summary.table} and {len(summary.figures)} figures in {out}/figures/")
    if html:
        from crackle.report.html import write_html_report

        with writing(out, wait, "sweep directory"):
            console.print(f"wrote {write_html_report(out)}")
    if summary.n_failed:
        err_console.print(
            Text.assemble(
                (f"{summary.n_failed} point(s) failed", "yellow"),
                f": errors in {out}/points/ and the table; fix the cause, then re-run with "
                "--retry-failed",
            ),
            soft_wrap=True,
        )
        raise typer.Exit(code=1)

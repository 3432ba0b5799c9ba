"""``crackle analyze``: a file of avalanches or a run directory -> crackling report."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import WAIT_HELP, clean_errors, console, note, progress_bar, writing
from crackle.cli._tables import report_table
from crackle.cli.main import app


@app.command("analyze")
@clean_errors
def analyze(
    source: Path = typer.Argument(
        ..., help="Run directory, or a .parquet/.csv/.npy/.npz file of sizes and durations."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Run directory for the report (default: the run directory "
        "itself, or runs/analyze-NAME for a file).",
    ),
    size_column: str | None = typer.Option(None, "--size-column", help="Column of sizes."),
    duration_column: str | None = typer.Option(
        None, "--duration-column", help="Column of durations."
    ),
    n_boot: int = typer.Option(
        100,
        "--n-boot",
        min=0,
        help="Most bootstrap goodness-of-fit replicates per fitting window (0: skip; the "
        "verdict then rests on the other checks).",
    ),
    size_xmax: float | None = typer.Option(
        None,
        "--size-xmax",
        help="Upper end of the size fit (default: below the smallest censored avalanche).",
    ),
    duration_xmax: float | None = typer.Option(
        None,
        "--duration-xmax",
        help="Upper end of the duration fit (default: below the shortest censored one).",
    ),
    min_tail_fraction: float | None = typer.Option(
        None,
        "--min-tail-fraction",
        help="Search x_min only where the tail keeps at least this fraction (e.g. 0.1).",
    ),
    gamma_range: tuple[float, float] | None = typer.Option(
        None,
        "--gamma-range",
        metavar="LO HI",
        help="Range of the collapse exponent gamma = 1/(sigma nu z) scanned by the shape "
        "collapse (default 0.5 4); widen it when the report finds the minimum at an edge.",
    ),
    bin_width: str | None = typer.Option(
        None, "--bin", help="Spike files: bin width, 'iei' (mean inter-event interval) or a number."
    ),
    spike_columns: str | None = typer.Option(
        None, "--spike-columns", help="Spike tables: TIME,UNIT column names (default time,unit)."
    ),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Crackling report (table on screen, report.json and figures) of measured avalanches."""
    from crackle.experiments.run_report import write_run_report
    from crackle.io.rundir import RunDir
    from crackle.io.tables import read_avalanches
    from crackle.report.run import load_run_avalanches

    if not source.exists():
        raise FileNotFoundError(f"no such file or directory: {source}")
    from crackle.cli.analyze_spikes import is_spike_file, run_spike_analysis

    if is_spike_file(source, bin_width):
        run_spike_analysis(source, out=out, bin_width=bin_width, columns=spike_columns, wait=wait)
        return
    target = out or (source if source.is_dir() else Path("runs") / f"analyze-{source.stem}")
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a directory; choose another --out")
    with writing(target, wait), progress_bar() as progress:
        task = progress.add_task("reading", total=2)
        if source.is_dir():
            av = load_run_avalanches(RunDir(source))
        else:
            av = read_avalanches(source, size_column=size_column, duration_column=duration_column)
        run = RunDir.create(target)
        if not source.is_dir():
            run.write_config(
                {
                    "command": "analyze",
                    "source": str(source.resolve()),
                    "n_boot": n_boot,
                    "min_tail_fraction": min_tail_fraction,
                    "size_xmax": size_xmax,
                    "duration_xmax": duration_xmax,
                    "gamma_range": None if gamma_range is None else list(gamma_range),
                }
            )
        progress.advance(task)
        progress.update(task, description="fitting")
        rep, paths = write_run_report(
            av,
            run,
            n_boot=n_boot,
            min_tail_fraction=min_tail_fraction,
            size_xmax="auto" if size_xmax is None else size_xmax,
            duration_xmax="auto" if duration_xmax is None else duration_xmax,
            **({} if gamma_range is None else {"gamma_range": tuple(gamma_range)}),
        )
        progress.advance(task)
    console.print(report_table(rep, title=f"crackling report: {source}"))
    for line in rep.notes:
        note(line)
    console.print(f"wrote {run.report} and {len(paths) - 1} figures in {run.figures}/")

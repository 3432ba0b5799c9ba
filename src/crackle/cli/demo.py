"""``crackle demo``: the main job on built-in data, nothing to download."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import clean_errors, console, progress_bar
from crackle.cli._tables import report_table
from crackle.cli.main import app


@app.command("demo")
@clean_errors
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory to write."),
    n: int = typer.Option(200_000, "--n", help="Number of avalanches.", min=100),
    m: float = typer.Option(1.0, "--m", help="Branching ratio (1 is critical).", min=0.0),
    seed: int = typer.Option(0, "--seed", help="Random seed.", min=0),
) -> None:
    """Critical branching process -> avalanches -> crackling report and figures.

    The exponents of a critical branching process are known exactly (tau = 3/2,
    alpha = 2, 1/(sigma nu z) = 2), so the demo doubles as a check of the pipeline.
    """
    from crackle.io.rundir import RunDir
    from crackle.report.run import save_avalanches, write_run_report
    from crackle.sim.branching import branching_process

    run = RunDir.create(out)
    params = {"command": "demo", "generator": "branching_process", "m": m, "n": n, "seed": seed}
    with progress_bar() as progress:
        task = progress.add_task("demo", total=4)
        progress.update(task, description=f"simulating {n} avalanches")
        run.write_config(params)
        av = branching_process(m=m, n=n, seed=seed)
        progress.advance(task)
        progress.update(task, description="writing avalanches")
        save_avalanches(av, run)
        progress.advance(task)
        progress.update(task, description="fitting and collapsing")
        rep, paths = write_run_report(av, run)
        progress.advance(task, 2)
    console.print(report_table(rep, title=f"crackle demo: branching process, m = {m}"))
    console.print("exact values at m = 1: tau = 1.5, alpha = 2, 1/(σνz) = 2")
    for note in rep.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"wrote {run.path}/: config.json, avalanches.parquet, shapes.npz, "
        f"report.json, figures/ ({len(paths) - 1} PNG)"
    )

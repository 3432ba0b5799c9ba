"""``crackle simulate gaussian``: avalanches of a Gaussian network into a run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import WAIT_HELP, clean_errors, console, note, progress_bar, writing
from crackle.cli._tables import report_table
from crackle.cli.main import app

simulate_app = typer.Typer(help="Simulators with known physics -> avalanches on disk.")
app.add_typer(simulate_app, name="simulate")


@simulate_app.command("gaussian")
@clean_errors
def gaussian(
    out: Path = typer.Option(Path("runs/gaussian"), "--out", "-o", help="Run directory."),
    width: int = typer.Option(128, help="Width N."),
    depth: int = typer.Option(400, help="Depth L."),
    sigma_w2: float | None = typer.Option(
        None, "--sigma-w2", help="Weight variance (default 1 + 2/N, near criticality)."
    ),
    sigma_b2: float = typer.Option(0.0, "--sigma-b2", help="Bias variance."),
    n: int = typer.Option(200_000, help="Inputs (one avalanche each)."),
    q0: float = typer.Option(1e-3, help="Input signal strength = threshold."),
    resample_every: int = typer.Option(1024, help="Inputs per weight draw."),
    activation: str = typer.Option("tanh", help="Activation."),
    method: str = typer.Option(
        "matrix", help="'matrix' (shared weights), 'gram' (same law, faster) or 'marginal'."
    ),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    device: str = typer.Option("cpu", help="'cpu', 'cuda', 'cuda:1', ..."),
    report: bool = typer.Option(True, help="Run the crackling report when done."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Stream avalanches of a Gaussian-initialised network to OUT (Parquet + shapes).

    Saved every 20 s; run the same command again to resume an interrupted run.
    """
    # The default sigma_w^2 needs a width to divide by; a bad width is named later.
    default_sw = 1.0 + 2.0 / width if width > 0 else 1.0
    sw = default_sw if sigma_w2 is None else sigma_w2
    with writing(out, wait):
        _simulate(
            out,
            width,
            depth,
            sw,
            sigma_b2,
            n,
            q0,
            resample_every,
            activation,
            method,
            seed,
            device,
            report,
        )


def _simulate(
    out: Path,
    width: int,
    depth: int,
    sw: float,
    sigma_b2: float,
    n: int,
    q0: float,
    resample_every: int,
    activation: str,
    method: str,
    seed: int,
    device: str,
    report: bool,
) -> None:
    from crackle.experiments.run_report import write_run_report
    from crackle.io.rundir import RunDir
    from crackle.report.run import load_run_avalanches
    from crackle.sim.gaussian import gaussian_avalanches

    with progress_bar() as progress:
        task = progress.add_task(f"N = {width}, σ_w² = {sw:.4f}", total=n)
        av = gaussian_avalanches(
            width,
            depth,
            sw,
            sigma_b2,
            n,
            q0=q0,
            resample_every=resample_every,
            activation=activation,
            method=method,
            seed=seed,
            device=device,
            out=out,
            keep_events=False,
            progress=lambda done: progress.update(task, completed=done),
        )
    info = av.info
    console.print(
        f"{info['n_complete']} complete avalanches, {info['n_censored_unrecorded']} censored "
        f"({info['n_overflow']} overflowed), {av.n_empty} empty; wrote {out}/"
    )
    if report:
        run = RunDir(out)
        rep, paths = write_run_report(load_run_avalanches(run), run)
        console.print(report_table(rep, title=f"crackling report: {out}"))
        for line in rep.notes:
            note(line)
        console.print(f"wrote {run.report} and {len(paths) - 1} figures in {run.figures}/")

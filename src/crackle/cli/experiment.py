"""``crackle experiment fss``: finite-size scaling of Gaussian-network avalanches."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import (
    WAIT_HELP,
    clean_errors,
    console,
    locks_out,
    note,
    progress_bar,
    split_floats,
    split_ints,
)
from crackle.cli.main import app

experiment_app = typer.Typer(help="Experiments that reproduce the source papers' figures.")
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("fss")
@clean_errors
@locks_out
def fss(
    out: Path = typer.Option(Path("runs/fss"), "--out", "-o", help="Run directory."),
    widths: str = typer.Option("50,100,200,400,800", help="Widths N, comma-separated."),
    depth: int = typer.Option(400, help="Depth L (layers)."),
    offsets: str = typer.Option(
        "0.5,1,1.5,2,3,4,6", help="Scan of c in sigma_w^2 = 1 + c/N, comma-separated."
    ),
    n_avalanches: int = typer.Option(1_000_000, help="Complete avalanches per width."),
    n_scan: int = typer.Option(100_000, help="Inputs per scanned sigma_w^2."),
    q0: float = typer.Option(1e-3, help="Input signal strength = threshold."),
    sigma_b2: float = typer.Option(0.0, help="Bias variance."),
    method: str = typer.Option(
        "marginal", help="'marginal' (exact per input), 'gram' or 'matrix' (shared weights)."
    ),
    resample_every: int = typer.Option(1024, help="Inputs per weight draw ('matrix', 'gram')."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    device: str = typer.Option("cpu", help="'cpu' or 'cuda'."),
    sizes: str = typer.Option(
        "excess",
        help="Avalanche size: 'excess' N Σ (q^l - q0) (area above threshold) or 'total' "
        "N Σ q^l (Ghavasieh et al.'s accumulated signal strength).",
    ),
    offset_tolerance: float = typer.Option(
        0.2,
        help="Offsets whose straightness rms is within this fraction of the best form the "
        "plateau whose spread gives the systematic error of the choice of sigma_w^2.",
    ),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Avalanches at several widths, sigma_w^2 scanned for straight power laws,
    exponents extrapolated to infinite width (Ghavasieh et al. 2025, Fig. 2).

    Each exponent reads value ± statistical ± systematic error (fitting window and
    choice of sigma_w^2); at N → ∞ the 1/N fit's chi^2/dof follows, and a note says
    when the fit is poor. Finished widths are kept in OUT/widths/N<width>/ and skipped
    on a re-run, so an interrupted experiment resumes. Writes OUT/fss.json and
    OUT/figures/fss_*.png.
    """
    from crackle.experiments.fss import EXPONENTS, FSSConfig, finite_size_scaling
    from crackle.io.rundir import RunDir
    from crackle.report.fss_figures import save_fss_figures

    cfg = FSSConfig(
        widths=split_ints(widths, "--widths"),
        depth=depth,
        offsets=split_floats(offsets, "--offsets"),
        n_avalanches=n_avalanches,
        n_scan=n_scan,
        q0=q0,
        sigma_b2=sigma_b2,
        method=method,
        resample_every=resample_every,
        seed=seed,
        device=device,
        sizes=sizes,
        offset_tolerance=offset_tolerance,
    )
    # Rough total of complete avalanches: the scans give about half their inputs.
    total = len(cfg.widths) * (cfg.n_avalanches + len(cfg.offsets) * cfg.n_scan // 2)
    with progress_bar() as progress:
        task = progress.add_task("fss", total=total)

        def tick(stage: str, k: int) -> None:
            progress.update(task, advance=k, description=stage)

        res = finite_size_scaling(cfg, out=out, progress=tick)
        progress.update(task, description="figures")
        paths = save_fss_figures(res, RunDir(out).figures)
    from rich.table import Table

    table = Table(
        title=f"finite-size scaling ({cfg.sizes} sizes; value ± stat ± sys)",
        title_justify="left",
    )
    table.add_column("N", justify="right")
    table.add_column("σ_w²", justify="right")
    for name in EXPONENTS:
        table.add_column(name, justify="right")
    for row in res.table():
        at_inf = row["width"] == float("inf")
        cells = ["∞" if at_inf else f"{row['width']:.0f}"]
        cells.append(f"{row['sigma_w2']:.4f}")
        for k in EXPONENTS:
            cell = f"{row[k]:.3f} ± {row[k + '_err']:.3f} ± {row[k + '_sys']:.3f}"
            if at_inf:
                cell += f"\nχ²/dof {row[k + '_chi2_dof']:.1f}"
            cells.append(cell)
        table.add_row(*cells)
    console.print(table)
    if res.nearest is not None:
        console.print(f"nearest class at N → ∞: {res.nearest.name}")
    for line in res.notes:
        note(line)
    console.print(f"wrote {out}/fss.json and {len(paths)} figures in {out}/figures/")


# Further experiments attach themselves to experiment_app on import (after it exists).
from crackle.cli import experiment_resnet  # noqa: E402, F401

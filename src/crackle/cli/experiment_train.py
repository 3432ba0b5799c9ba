"""``crackle experiment trainability``: accuracy over the (sigma_w^2, sigma_b^2) plane."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import clean_errors, console, progress_bar
from crackle.cli.experiment import _floats, experiment_app


@experiment_app.command("trainability")
@clean_errors
def trainability(
    out: Path = typer.Option(Path("runs/trainability"), "--out", "-o", help="Run directory."),
    sigma_w2: str = typer.Option("0.5,1,1.5,2,2.5,3,3.5,4", "--sigma-w2", help="Grid of σ_w²."),
    sigma_b2: str = typer.Option("0,0.05,0.1,0.2,0.35,0.5", "--sigma-b2", help="Grid of σ_b²."),
    depth: int = typer.Option(20, help="Hidden layers."),
    width: int = typer.Option(64, help="Neurons per hidden layer."),
    epochs: int = typer.Option(2, help="Epochs (the paper: 10)."),
    batches_per_epoch: int = typer.Option(200, help="Batches per epoch (the paper: 200)."),
    batch_size: int = typer.Option(128, help="Batch size (the paper: 128)."),
    lr: float = typer.Option(0.01, help="SGD learning rate."),
    dataset: str = typer.Option("fashion_mnist", help="'fashion_mnist' or 'digits'."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
) -> None:
    """Train a deep tanh MLP per cell (SGD), map its training accuracy over the plane,
    and rank it against the mean-field chi_w and the closeness to the edge of chaos
    (seed 002, Fig. 3). Finished cells are kept in OUT/cells/ and not retrained."""
    from crackle.experiments.trainability import TrainabilityConfig, trainability_map
    from crackle.report.figures import save_figure

    cfg = TrainabilityConfig(
        sigma_w2=_floats(sigma_w2, "--sigma-w2"),
        sigma_b2=_floats(sigma_b2, "--sigma-b2"),
        depth=depth,
        width=width,
        epochs=epochs,
        batches_per_epoch=batches_per_epoch,
        batch_size=batch_size,
        lr=lr,
        dataset=dataset,
        seed=seed,
    )
    n_cells = len(cfg.sigma_w2) * len(cfg.sigma_b2)
    with progress_bar() as progress:
        task = progress.add_task("training cells", total=n_cells)
        res = trainability_map(cfg, out=out, progress=lambda d: progress.update(task, completed=d))
    path = save_figure(res.plot(), out / "figures" / "trainability.png")
    for name, (rho, p) in res.correlations.items():
        console.print(f"Spearman ρ(accuracy, {name}) = {rho:+.3f} (p = {p:.2g})")
    console.print(f"wrote {out}/trainability.json and {path}")

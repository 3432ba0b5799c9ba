"""``crackle experiment trainability``: accuracy over the (sigma_w^2, sigma_b^2) plane."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


@experiment_app.command("epochs")
@clean_errors
def epochs(
    out: Path = typer.Option(Path("runs/epochs"), "--out", "-o", help="Run directory."),
    widths: str = typer.Option("32,64,128", help="Widths, comma-separated."),
    sigma_w2: str = typer.Option("0.7,0.85,1,1.2,1.5,2", "--sigma-w2", help="Grid of σ_w²."),
    sigma_b2: float = typer.Option(0.05, "--sigma-b2", help="Bias variance (fixed)."),
    target: float = typer.Option(0.85, help="Target training accuracy, in (0, 1]."),
    max_epochs: int = typer.Option(12, help="Give up after this many epochs."),
    depth: int = typer.Option(20, help="Hidden layers."),
    dataset: str = typer.Option("fashion_mnist", help="'fashion_mnist' or 'digits'."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
) -> None:
    """Epochs to a target training accuracy against sigma_w^2 for several widths
    (seed 002, Fig. 3f). Finished pairs are kept in OUT/cells/ and not retrained."""
    from crackle.experiments.epochs_to_target import EpochsConfig, epochs_to_target
    from crackle.report.figures import new_axes, save_figure

    cfg = EpochsConfig(
        widths=tuple(int(w) for w in _floats(widths, "--widths")),
        sigma_w2=_floats(sigma_w2, "--sigma-w2"),
        sigma_b2=sigma_b2,
        target=target,
        max_epochs=max_epochs,
        depth=depth,
        dataset=dataset,
        seed=seed,
    )
    n = len(cfg.widths) * len(cfg.sigma_w2)
    with progress_bar() as progress:
        task = progress.add_task("training", total=n)
        res = epochs_to_target(cfg, out=out, progress=lambda d: progress.update(task, completed=d))
    ax = res.plot(new_axes())
    path = save_figure(ax.figure, out / "figures" / "epochs.png")
    for w, e, win in zip(cfg.widths, res.epochs, res.window(), strict=True):
        cells = " ".join("  -" if not np.isfinite(v) else f"{v:3.0f}" for v in e)
        console.print(f"width {w:5d}: epochs {cells}   ({win} of {len(cfg.sigma_w2)} reached)")
    console.print(f"wrote {out}/epochs.json and {path}")

"""``crackle experiment zoo``: accuracy against distance from criticality on Fashion-MNIST."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import (
    clean_errors,
    console,
    progress_bar,
    split_ints,
    split_names,
)
from crackle.cli.experiment import experiment_app

_SHORT = {
    "dist_log_sigma": "|log σ|",
    "dist_lyapunov": "|λ₀|",
    "dist_log_sigma_hidden": "|log σ| hid",
    "dist_lyapunov_hidden": "|λ₀| hid",
    "dist_log_sigma_gauss": "|log σ| G",
    "dist_lyapunov_gauss": "|λ₀| G",
}


def _num(v: float, fmt: str) -> str:
    return "n/a" if v != v else format(v, fmt)


@experiment_app.command("zoo")
@clean_errors
def zoo(
    out: Path = typer.Option(Path("runs/zoo"), "--out", "-o", help="Run directory."),
    archs: str = typer.Option(
        "mlp-tanh-ordered,mlp-tanh,mlp-tanh-chaotic,mlp-relu,cnn",
        help="Built-in 28 x 28 architectures, comma-separated.",
    ),
    steps: str = typer.Option(
        "10,30,100,300,1000,3000",
        help="Step counts at which each architecture is kept (comma-separated).",
    ),
    optimizer: str = typer.Option("sgd", help="'sgd' (momentum 0.9) or 'adam'."),
    lr: float = typer.Option(0.01, help="Learning rate."),
    batch_size: int = typer.Option(64, help="Images per training step."),
    train_subset: int = typer.Option(20_000, help="Training images used."),
    test_subset: int = typer.Option(10_000, help="Test images for the accuracy."),
    probe_n: int = typer.Option(256, help="Test images (and Gaussian inputs) for the probes."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    device: str = typer.Option("cpu", help="'cpu' or 'cuda'."),
    threads: int = typer.Option(1, help="torch threads (1 is fastest on a busy machine)."),
    fashion_root: Path | None = typer.Option(None, help="Folder with Fashion-MNIST IDX files."),
) -> None:
    """Train small Fashion-MNIST models to different accuracies, probe them on
    held-out images, and correlate accuracy with the distance from criticality
    (|log σ|, |λ₀|). Writes OUT/zoo.csv, OUT/zoo.json, OUT/figures/zoo.png and
    OUT/models/ARCH@STEPS.{pt,json}; finished architectures are skipped on a re-run.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rich.table import Table

    from crackle.experiments.zoo import ZooConfig, train_zoo

    cfg = ZooConfig(
        archs=split_names(archs),
        steps=split_ints(steps, "--steps"),
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,
        train_subset=train_subset,
        test_subset=test_subset,
        probe_n=probe_n,
        seed=seed,
        device=device,
        num_threads=threads,
        fashion_root=None if fashion_root is None else str(fashion_root),
    )
    with progress_bar() as progress:
        bar = progress.add_task("zoo", total=len(cfg.archs) * max(cfg.steps))

        def tick(stage: str, k: int) -> None:
            progress.update(bar, advance=k, description=stage)

        res = train_zoo(cfg, out=out, progress=tick)
    fig = res.plot()
    fig_path = out / "figures" / "zoo.png"
    fig.savefig(fig_path, dpi=130)
    plt.close(fig)

    table = Table(title="trained models (probes on test images)", title_justify="left")
    table.add_column("model", no_wrap=True)
    for col in ("test acc", "σ", "λ₀", "σ hid", "λ₀ hid", "Δ (dB)"):
        table.add_column(col, justify="right")
    for r in res.table.to_dict(orient="records"):
        table.add_row(
            r["name"],
            _num(r["test_accuracy"], ".4f"),
            _num(r["branching"], ".3f"),
            _num(r["lyapunov"], "+.3f"),
            _num(r["branching_hidden"], ".3f"),
            _num(r["lyapunov_hidden"], "+.3f"),
            _num(r["dynamic_range_db"], ".1f"),
        )
    console.print(table)
    console.print(
        "probes on held-out test images; hid: hidden layers only (no readout); "
        "G: standard Gaussian inputs (all columns in zoo.csv)"
    )
    corr = Table(title="correlation of test accuracy with distance", title_justify="left")
    for col in ("distance", "n", "Pearson r", "p", "Spearman ρ", "p", "partial ρ", "p"):
        corr.add_column(col, justify="right")
    for c in res.correlations:
        corr.add_row(
            _SHORT[c.distance],
            str(c.n),
            _num(c.pearson_r, "+.3f"),
            _num(c.pearson_p, ".2g"),
            _num(c.spearman_rho, "+.3f"),
            _num(c.spearman_p, ".2g"),
            _num(c.partial_rho, "+.3f"),
            _num(c.partial_p, ".2g"),
        )
    console.print(corr)
    console.print("partial ρ: rank correlation given the training steps (see ZooResult)")
    within = Table(
        title="across architectures at one training length: Spearman ρ (p)", title_justify="left"
    )
    within.add_column("steps", justify="right")
    shown = [c.distance for c in res.correlations if not c.distance.endswith("_gauss")]
    for d in shown:
        within.add_column(_SHORT[d], justify="right")
    for s in sorted(cfg.steps):
        cells = [
            f"{_num(c.spearman_rho, '+.2f')} ({_num(c.spearman_p, '.2g')})"
            for c in res.within_steps
            if c.steps == s and c.distance in shown
        ]
        within.add_row(str(s), *cells)
    console.print(within)
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"wrote {out}/zoo.csv, {out}/zoo.json, {fig_path} and the models in {out}/models/"
    )

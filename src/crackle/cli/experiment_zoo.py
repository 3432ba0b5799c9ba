"""``crackle experiment zoo``: a zoo of trained Fashion-MNIST models against criticality."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from crackle.cli._common import (
    WAIT_HELP,
    clean_errors,
    console,
    locks_out,
    progress_bar,
    split_floats,
    split_ints,
    split_names,
)
from crackle.cli.experiment import experiment_app


def _num(v: float, fmt: str) -> str:
    return "n/a" if v is None or v != v else format(v, fmt)


def _ci(row: dict, key: str) -> str:
    if key not in row:
        return "n/a"
    return f"{row[key]:+.2f} [{_num(row[key + '_lo'], '+.2f')}, {_num(row[key + '_hi'], '+.2f')}]"


@experiment_app.command("zoo")
@clean_errors
@locks_out
def zoo(
    out: Path = typer.Option(Path("runs/zoo"), "--out", "-o", help="Run directory (resumable)."),
    families: str = typer.Option(
        "mlp,rnn,cnn,vgg,resnet,densenet,mobilenet,vit,mixer",
        help="Architecture families (crackle.nn.families), comma-separated.",
    ),
    variants: str = typer.Option(
        "base,wide,deep,small-init,high-lr", help="Variants of every family, comma-separated."
    ),
    seeds: str = typer.Option("0,1", help="Seeds, comma-separated."),
    penalty_families: str = typer.Option(
        "mlp,rnn,cnn,vgg,resnet,densenet,mobilenet,vit,mixer",
        help="Families whose base variant is also trained with the criticality penalty "
        "('' for none).",
    ),
    penalty_weight: float = typer.Option(10.0, help="Weight of lambda_max^2 in the loss."),
    steps: int = typer.Option(300, help="Training steps (the same budget for every model)."),
    batch_size: int = typer.Option(64, help="Images per step."),
    train_subset: int = typer.Option(60_000, help="Training images drawn from."),
    test_subset: int = typer.Option(10_000, help="Test images for the accuracy."),
    probe_n: int = typer.Option(128, help="Test images for the probes."),
    robust_n: int = typer.Option(2000, help="Test images for the accuracy under noise."),
    noise: str = typer.Option("0.25,0.5,1.0", help="Input noise strengths (std, comma-separated)."),
    n_boot: int = typer.Option(2000, help="Bootstrap resamples per interval."),
    lyapunov_iter: int = typer.Option(20, help="Most iterations of the λ_max search."),
    device: str = typer.Option("auto", help="'auto' (a GPU when there is one), 'cpu', 'cuda'."),
    threads: int = typer.Option(1, help="torch threads (1 is fastest on a busy machine)."),
    fashion_root: Path | None = typer.Option(None, help="Folder with Fashion-MNIST IDX files."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Train small models of nine families (several widths, depths, initialisations,
    learning rates and seeds, the same budget each) on Fashion-MNIST, probe each at its
    blocks (σ, λ_max, Δ on held-out images), and test the claims: accuracy against
    distance from criticality (bootstrap intervals; controls for size and family),
    later families nearer criticality, criticality-penalised models more robust to
    input noise. Writes OUT/zoo.csv, OUT/zoo.json, OUT/figures/zoo.png and
    OUT/models/NAME.{pt,json}; stored models are skipped on a re-run.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rich.table import Table

    from crackle.experiments.zoo import ZooConfig, train_zoo
    from crackle.report.phase_diagram import save_figure_atomic

    cfg = ZooConfig(
        families=split_names(families),
        variants=split_names(variants),
        seeds=split_ints(seeds, "--seeds"),
        penalty_families=split_names(penalty_families),
        penalty_weight=penalty_weight,
        steps=steps,
        batch_size=batch_size,
        train_subset=train_subset,
        test_subset=test_subset,
        probe_n=probe_n,
        robust_n=robust_n,
        noise=split_floats(noise, "--noise"),
        n_boot=n_boot,
        lyapunov_iter=lyapunov_iter,
        device=device,
        num_threads=threads,
        fashion_root=None if fashion_root is None else str(fashion_root),
    )
    with progress_bar() as progress:
        bar = progress.add_task("zoo", total=len(cfg.specs()))

        def tick(name: str, done: int, total: int) -> None:
            progress.update(bar, completed=done, description=name)

        res = train_zoo(cfg, out=out, progress=tick)
        progress.update(bar, completed=len(cfg.specs()), description="done")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    fig = res.plot()
    fig_path = save_figure_atomic(fig, out / "figures" / "zoo.png")
    plt.close(fig)

    fam = Table(title="families (models without penalty; means)", title_justify="left")
    for col in ("family", "year", "models", "test acc", "σ", "λ_max", "|λ_max|", "Δ defined"):
        fam.add_column(col, justify="left" if col == "family" else "right")
    for r in res.history["families"]:
        fam.add_row(
            r["family"],
            str(r["year"]),
            str(r["models"]),
            _num(r["test_accuracy"], ".3f"),
            _num(r["branching"], ".3f"),
            _num(r["lyapunov"], "+.3f"),
            _num(r["dist_lyapunov"], ".3f"),
            f"{r['dynamic_range_defined']}/{r['models']}",
        )
    console.print(fam)
    corr = Table(title="Spearman ρ of test accuracy with each metric [95 % bootstrap]")
    for col in ("metric", "n", "ρ", "given size", "given size and family"):
        corr.add_column(col, justify="right")
    for c in res.correlations:
        corr.add_row(c["label"], str(c["n"]), _ci(c, "spearman"), _ci(c, "partial_params"),
                     _ci(c, "partial_family"))  # fmt: skip
    console.print(corr)
    hist = Table(title="Spearman ρ with the family's year of introduction [95 % bootstrap]")
    for col in ("quantity", "n", "ρ"):
        hist.add_column(col, justify="right")
    for k, h in res.history["year_spearman"].items():
        hist.add_row(k, str(h["n"]), f"{h['rho']:+.2f} [{h['lo']:+.2f}, {h['hi']:+.2f}]")
    console.print(hist)
    rob = Table(title="criticality penalty minus plain twin (mean over pairs [95 % bootstrap])")
    for col in ("quantity", "pairs", "plain", "penalty", "difference"):
        rob.add_column(col, justify="right")
    for r in res.robustness:
        rob.add_row(
            r["column"],
            str(r["n_pairs"]),
            f"{r['plain_mean']:.3f}",
            f"{r['penalty_mean']:.3f}",
            f"{r['mean_difference']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]",
        )
    console.print(rob)
    for note in res.notes:
        console.print(Text.assemble(("note:", "yellow"), " ", str(note)))
    console.print(
        f"wrote {out}/zoo.csv, {out}/zoo.json, {fig_path} and the models in {out}/models/"
    )

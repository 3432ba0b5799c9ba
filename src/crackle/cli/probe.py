"""``crackle probe``: criticality metrics of PyTorch models, one table and one figure."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import clean_errors, console, progress_bar
from crackle.cli.main import app


def _parse_models(specs: list[str]) -> list[tuple[str, str, Path | None]]:
    """``NAME`` or ``NAME=CHECKPOINT`` -> (label, architecture, checkpoint)."""
    out = []
    for spec in specs:
        arch, sep, path = spec.partition("=")
        if sep and not path:
            raise ValueError(f"model {spec!r}: give a checkpoint path after '='")
        label = f"{arch}@{Path(path).stem}" if sep else arch
        out.append((label, arch, Path(path) if sep else None))
    labels = [lab for lab, _, _ in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"model labels must be distinct; got {labels}")
    return out


def _parse_accuracy(items: list[str]) -> dict[str, float]:
    acc = {}
    for item in items:
        label, sep, value = item.rpartition("=")
        try:
            acc[label] = float(value)
        except ValueError:
            sep = ""
        if not sep or not label:
            raise ValueError(f"--accuracy takes LABEL=VALUE (e.g. cnn=0.91); got {item!r}")
    return acc


@app.command("probe")
@clean_errors
def probe(
    models: list[str] = typer.Argument(
        ...,
        help="Model names (mlp-tanh, mlp-tanh-ordered, mlp-tanh-chaotic, mlp-relu, cnn, "
        "resnet18/34/50, resnet18-cifar, ..., torchvision:NAME, timm:NAME), or "
        "NAME=CHECKPOINT to load weights into that architecture.",
    ),
    out: Path = typer.Option(Path("runs/probe"), "--out", "-o", help="Output directory."),
    n: int = typer.Option(128, "--n", help="Gaussian random inputs per model.", min=2),
    seed: int = typer.Option(0, "--seed", help="Seed of inputs, directions, weights.", min=0),
    device: str = typer.Option("cpu", "--device", help="Torch device (cpu, cuda)."),
    accuracy: list[str] = typer.Option(
        [], "--accuracy", help="LABEL=VALUE, repeatable: plotted against |λ₀|."
    ),
    batch_size: int = typer.Option(64, "--batch-size", help="Inputs per forward pass.", min=1),
) -> None:
    """Branching parameter, Lyapunov exponent and dynamic range of each model.

    Inputs are standard Gaussian samples of each model's input shape. Writes
    OUT/probe.csv, OUT/figures/probe.png and OUT/config.json.
    """
    import matplotlib.pyplot as plt

    from crackle.io.atomic import atomic_path, write_json
    from crackle.io.rundir import versions
    from crackle.nn.checkpoint import load_checkpoint
    from crackle.nn.zoo import build_model, plot_probe_table, probe_table
    from crackle.report.phase_diagram import save_figure_atomic
    from crackle.sim._torch import resolve_device

    dev = resolve_device(device, "probe")
    parsed = _parse_models(models)
    acc = _parse_accuracy(accuracy)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory; choose another --out")
    built = {}
    for label, arch, ckpt in parsed:
        model = build_model(arch, seed=seed)
        if ckpt is not None:
            load_checkpoint(ckpt, model)
        built[label] = model.to(dev)
    with progress_bar() as progress:
        task = progress.add_task("probing", total=len(built))

        def step(label: str) -> None:
            progress.update(
                task, description=f"probing {label}", completed=list(built).index(label)
            )

        df = probe_table(built, n=n, seed=seed, accuracy=acc, batch_size=batch_size, progress=step)
        progress.update(task, completed=len(built), description="writing")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    csv = out / "probe.csv"
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False)
    fig = plot_probe_table(df)
    png = save_figure_atomic(fig, out / "figures" / "probe.png")
    plt.close(fig)
    params = {
        "command": "probe",
        "models": [{"label": lab, "architecture": a, "checkpoint": c} for lab, a, c in parsed],
        "n": n,
        "seed": seed,
        "device": str(dev),
        "batch_size": batch_size,
        "inputs": "standard Gaussian of each model's input_shape",
    }
    write_json(out / "config.json", {"parameters": params, "versions": versions()})

    from rich.table import Table

    table = Table(title="crackle probe (critical: σ = 1, λ₀ = 0, Δ maximal)", title_justify="left")
    for col in ("model", "σ", "λ₀ (per layer)", "Δ (dB)", "accuracy"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for _, r in df.iterrows():
        a = "" if r["accuracy"] != r["accuracy"] else f"{r['accuracy']:.3f}"
        table.add_row(
            r["model"],
            f"{r['branching']:.3f}",
            f"{r['lyapunov']:+.4f} ± {r['lyapunov_stderr']:.4f}",
            f"{r['dynamic_range_db']:.1f}",
            a,
        )
    console.print(table)
    console.print(f"wrote {csv}, {png} and {out / 'config.json'}")

"""``crackle experiment resnet``: crackling noise in ResNets at initialisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    split_names,
)
from crackle.cli.experiment import experiment_app


def _cell(v: float | None, e: float | None, s: float | None) -> str:
    import math

    if v is None or not math.isfinite(v):
        return "–"
    err = "" if e is None or not math.isfinite(e) else f" ± {e:.2f}"
    sys = "" if s is None or not math.isfinite(s) else f" ± {s:.2f}"
    return f"{v:.2f}{err}{sys}"


@experiment_app.command("resnet")
@clean_errors
@locks_out
def resnet(
    out: Path = typer.Option(Path("runs/resnet"), "--out", "-o", help="Run directory."),
    paper_scale: bool = typer.Option(
        False,
        "--paper-scale",
        help="Closer to Ghavasieh et al.: 224 x 224 inputs (upsampled), all 60,000 "
        "training images, 10,000 test images for the thresholds, 16 perturbations of "
        "20,000 images; on --device cuda by default. Options given explicitly override it.",
    ),
    depths: str | None = typer.Option(None, help="ResNet depths (18, 34, 50), comma-separated."),
    ks: str | None = typer.Option(
        None, help="Threshold levels k in mu_l + k s_l, comma-separated."
    ),
    n_images: int | None = typer.Option(None, help="Training images analysed."),
    n_perturbed: int | None = typer.Option(None, help="Of these, the images perturbed."),
    n_calibration: int | None = typer.Option(None, help="Test images for the thresholds."),
    n_calibration_perturbed: int | None = typer.Option(
        None, help="Of these, the images perturbed (thresholds of the difference signal)."
    ),
    perturbations: int | None = typer.Option(None, help="Perturbations per perturbed image."),
    eps: float | None = typer.Option(None, help="Perturbation size relative to the image's norm."),
    input_size: int | None = typer.Option(None, help="Side of the network's input (>= 28)."),
    resize: str | None = typer.Option(None, help="'pad' or 'upsample' the 28 x 28 images."),
    style: str | None = typer.Option(None, help="'imagenet' or 'cifar' widths and stem."),
    grains: str | None = typer.Option(None, help="'layers' (every operation), 'blocks'."),
    signals: str | None = typer.Option(
        None, help="'activity' (norm of the output), 'difference' (norm of its change)."
    ),
    sizes: str | None = typer.Option(
        None, help="'total' (sum of the normalised signal), 'excess' (over the threshold)."
    ),
    normalise: str | None = typer.Option(
        None, help="Per-layer normalisation of the signal: 'mean', 'rms' or 'none'."
    ),
    batch_norm: str | None = typer.Option(None, help="'batch' statistics or 'running' (eval)."),
    batch_size: int | None = typer.Option(None, help="Images per forward pass."),
    n_boot: int | None = typer.Option(None, help="Bootstrap replicates of the goodness of fit."),
    seed: int | None = typer.Option(None, min=0, help="Random seed."),
    device: str | None = typer.Option(None, help="'cpu' or 'cuda'."),
    threads: int | None = typer.Option(None, help="torch CPU threads."),
    fashion_root: Path | None = typer.Option(None, help="Folder with Fashion-MNIST IDX files."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Avalanches in pre-activation ResNet-18, -34, -50 at initialisation on
    Fashion-MNIST images, per-layer thresholds mu_l + k s_l, for a scan of k
    (Ghavasieh et al. 2025, Fig. 4).

    For each model, observable (grain / signal / size definition) and k: tau, alpha and
    the <S>(T) slope 1/(σνz) (value ± statistical ± systematic error), the nearest
    class and the calibrated verdict. Writes OUT/resnet.json, OUT/exponents.csv and
    OUT/figures/resnet_exponents.png; the recorded signals are kept in
    OUT/models/ and reused by a rerun with the same signal parameters.
    """
    from crackle.experiments.resnet import ResNetConfig, resnet_crackling

    given: dict[str, Any] = {
        "depths": None if depths is None else split_ints(depths, "--depths"),
        "ks": None if ks is None else split_floats(ks, "--ks"),
        "n_images": n_images,
        "n_perturbed": n_perturbed,
        "n_calibration": n_calibration,
        "n_calibration_perturbed": n_calibration_perturbed,
        "perturbations": perturbations,
        "eps": eps,
        "input_size": input_size,
        "resize": resize,
        "style": style,
        "grains": None if grains is None else split_names(grains),
        "signals": None if signals is None else split_names(signals),
        "sizes": None if sizes is None else split_names(sizes),
        "normalise": normalise,
        "batch_norm": batch_norm,
        "batch_size": batch_size,
        "n_boot": n_boot,
        "seed": seed,
        "device": device,
        "threads": threads,
    }
    given = {k: v for k, v in given.items() if v is not None}
    cfg = ResNetConfig.paper_scale(**given) if paper_scale else ResNetConfig(**given)
    per_model = cfg.n_images + cfg.n_calibration
    with progress_bar() as progress:
        task = progress.add_task("resnet", total=per_model * len(cfg.depths))

        def tick(stage: str, k: int) -> None:
            progress.update(task, advance=k, description=stage)

        res = resnet_crackling(cfg, out=out, fashion_root=fashion_root, progress=tick)
    from rich.table import Table

    table = Table(
        title="ResNets at initialisation (value ± stat ± sys); mean-field DP: τ 1.5, α 2, "
        "1/(σνz) 2",
        title_justify="left",
    )
    for col in ("model", "observable", "k", "n", "τ", "α", "1/(σνz) <S>(T)", "class", "verdict"):
        table.add_column(col, justify="left" if col in ("model", "observable") else "right")
    for r in res.rows:
        table.add_row(
            r.model,
            r.observable,
            f"{r.k:g}",
            str(r.n),
            _cell(r.tau, r.tau_err, r.tau_sys),
            _cell(r.alpha, r.alpha_err, r.alpha_sys),
            _cell(r.inv_snz_fitted, r.inv_snz_fitted_err, r.inv_snz_fitted_sys),
            r.nearest_class or "–",
            r.verdict,
        )
    console.print(table)
    for line in res.notes:
        note(line)
    console.print(
        f"wrote {out}/resnet.json, {out}/exponents.csv and {out}/figures/resnet_exponents.png"
    )

"""``crackle experiment trainability``: accuracy over the (sigma_w^2, sigma_b^2) plane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from crackle.cli._common import (
    WAIT_HELP,
    clean_errors,
    console,
    locks_out,
    progress_bar,
    split_floats,
    split_ints,
)
from crackle.cli.experiment import experiment_app


@experiment_app.command("trainability")
@clean_errors
@locks_out
def trainability(
    out: Path = typer.Option(Path("runs/trainability"), "--out", "-o", help="Run directory."),
    sigma_w2: str = typer.Option("0.5,1,1.5,2,3,4,5", "--sigma-w2", help="Grid of σ_w²."),
    sigma_b2: str = typer.Option("0,0.1,0.3,1,2", "--sigma-b2", help="Grid of σ_b²."),
    depth: str = typer.Option("50,100", help="Hidden layers; one map per depth, comma-separated."),
    width: int = typer.Option(64, help="Neurons per hidden layer."),
    epochs: int = typer.Option(3, help="Epochs (the paper: 10)."),
    batches_per_epoch: int = typer.Option(200, help="Batches per epoch (the paper: 200)."),
    batch_size: int = typer.Option(128, help="Batch size (the paper: 128)."),
    lr: float = typer.Option(0.01, help="SGD learning rate."),
    dataset: str = typer.Option("fashion_mnist", help="'fashion_mnist' or 'digits'."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    n_seeds: int = typer.Option(3, help="Networks trained per cell (seeds)."),
    n_boot: int = typer.Option(2000, help="Bootstrap draws for the confidence intervals."),
    paper_scale: bool = typer.Option(
        False,
        "--paper-scale",
        help="The paper's protocol: 10 epochs, σ_w² 0.25..5 by 0.25, ten σ_b² from 0 to 2, "
        "width 200, 3 seeds (grid and epoch options are then ignored).",
    ),
    workers: int = typer.Option(1, help="Processes training at once (one torch thread each)."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Train deep tanh MLPs (several seeds) per cell (SGD), map their training accuracy
    over the plane, and rank it (Spearman, bootstrap CIs, pooled and per σ_b²) against the
    closeness to the edge of chaos, to both Widom ridges (d√q*/dσ_w² and d√q*/dσ_w) and
    to χ₁ = 1 (Ghavasieh et al. 2025, Fig. 3). Each depth is kept in OUT/depth<L>/; finished
    cells are kept in its cells/ and not retrained."""
    from crackle.experiments.trainability import TrainabilityConfig, trainability_map
    from crackle.report.figures import save_figure
    from crackle.report.trainability_figures import trainability_figure

    depths = split_ints(depth, "--depth")
    common: dict[str, Any] = {
        "lr": lr, "dataset": dataset, "seed": seed, "n_seeds": n_seeds, "n_boot": n_boot
    }  # fmt: skip
    if paper_scale:
        cfgs = [TrainabilityConfig.paper_scale(d, **common) for d in depths]
    else:
        cfgs = [
            TrainabilityConfig(
                sigma_w2=split_floats(sigma_w2, "--sigma-w2"),
                sigma_b2=split_floats(sigma_b2, "--sigma-b2"),
                depth=d,
                width=width,
                epochs=epochs,
                batches_per_epoch=batches_per_epoch,
                batch_size=batch_size,
                **common,
            )
            for d in depths
        ]
    results = []
    with progress_bar() as progress:
        for cfg in cfgs:
            n = len(cfg.sigma_w2) * len(cfg.sigma_b2) * cfg.n_seeds
            task = progress.add_task(f"depth {cfg.depth}", total=n)

            def advance(done: int, task: Any = task) -> None:
                progress.update(task, completed=done)

            res = trainability_map(cfg, out=out / f"depth{cfg.depth}", progress=advance,
                                   workers=workers)  # fmt: skip
            results.append(res)
    path = save_figure(trainability_figure(results), out / "figures" / "trainability.png")
    pct = f"{100 * cfgs[0].confidence:g}%"
    for res in results:
        console.print(f"depth {res.config.depth}: Spearman ρ(accuracy, predictor), {pct} CI")
        for scope, tests in res.rank_tests.items():
            cells = "  ".join(
                f"{name} {ci.rho:+.2f} [{ci.low:+.2f}, {ci.high:+.2f}]"
                for name, ci in tests.items()
                if name != "susceptibility_w"
            )
            console.print(f"  {scope}: {cells}")
        for name, ci in res.differences["pooled"].items():
            console.print(f"  pooled {name}: {ci.rho:+.2f} [{ci.low:+.2f}, {ci.high:+.2f}]")
    console.print(f"wrote {out}/depth<L>/trainability.json and {path}")


@experiment_app.command("epochs")
@clean_errors
@locks_out
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
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Epochs to a target training accuracy against sigma_w^2 for several widths
    (Ghavasieh et al. 2025, Fig. 3f). Finished pairs are kept in OUT/cells/ and not retrained."""
    from crackle.experiments.epochs_to_target import EpochsConfig, epochs_to_target
    from crackle.report.figures import new_axes, save_figure

    cfg = EpochsConfig(
        widths=split_ints(widths, "--widths"),
        sigma_w2=split_floats(sigma_w2, "--sigma-w2"),
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


@experiment_app.command("continual")
@clean_errors
@locks_out
def continual(
    out: Path = typer.Option(Path("runs/continual"), "--out", "-o", help="Run directory."),
    n_tasks: int = typer.Option(200, help="Permuted tasks, learned one after the other."),
    examples_per_task: int = typer.Option(6000, help="Examples per task (one pass)."),
    depth: int = typer.Option(3, help="Hidden layers."),
    width: int = typer.Option(256, help="Neurons per hidden layer."),
    activation: str = typer.Option("tanh", help="'tanh' or 'relu'."),
    sigma_w2: float = typer.Option(
        1.0, "--sigma-w2", help="Initial weight variance (critical: 1 for tanh, 2 for ReLU)."
    ),
    lr: float = typer.Option(0.01, help="SGD learning rate."),
    arms: str = typer.Option("plain,branching", help="Arms: plain, branching, lyapunov."),
    penalty_weight: float = typer.Option(1.0, help="Weight of the criticality penalty."),
    dataset: str = typer.Option("fashion_mnist", help="'fashion_mnist' or 'digits'."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Continual learning on permuted images with and without the criticality penalty
    (Vock & Meisel 2025; Dohare et al. 2024): accuracy and distance from criticality per task.
    Each arm saves itself after every task; run again to resume."""
    from crackle.experiments.continual import ContinualConfig, continual_learning
    from crackle.report.figures import save_figure

    cfg = ContinualConfig(
        n_tasks=n_tasks,
        examples_per_task=examples_per_task,
        depth=depth,
        width=width,
        activation=activation,
        sigma_w2=sigma_w2,
        lr=lr,
        arms=tuple(a.strip() for a in arms.split(",") if a.strip()),
        penalty_weight=penalty_weight,
        dataset=dataset,
        seed=seed,
    )
    with progress_bar() as progress:
        task = progress.add_task("tasks", total=cfg.n_tasks * len(cfg.arms))
        res = continual_learning(
            cfg, out=out, progress=lambda d: progress.update(task, completed=d)
        )
    path = save_figure(res.plot(), out / "figures" / "continual.png")
    for arm, s in res.summary().items():
        console.print(
            f"{arm:10s} accuracy first tenth {s['first_tenth']:.3f}, last tenth "
            f"{s['last_tenth']:.3f} ({s['slope_per_100_tasks']:+.3f} per 100 tasks); "
            f"|log σ| last tenth {s['log_sigma_last_tenth']:.3f}; ρ(acc, |log σ|) = "
            f"{s['rho_accuracy_log_sigma']:+.2f} (p = {s['p_accuracy_log_sigma']:.2g})"
        )
    console.print(f"wrote {out}/continual.json and {path}")


def _corners(text: str) -> tuple[tuple[str, float, float], ...]:
    """'name:sigma_w2:sigma_b2,...' -> triples."""
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            out.append((parts[0], float(parts[1]), float(parts[2])))
        except ValueError:
            raise ValueError(
                f"--corners must be comma-separated name:sigma_w2:sigma_b2; got {item!r}"
            ) from None
    return tuple(out)


@experiment_app.command("rescue")
@clean_errors
@locks_out
def rescue(
    out: Path = typer.Option(Path("runs/rescue"), "--out", "-o", help="Run directory."),
    corners: str = typer.Option(
        "ordered:0.5:0,chaotic:4:0.5,near-critical:1:0",
        help="Initialisations, comma-separated name:σ_w²:σ_b².",
    ),
    kinds: str = typer.Option("branching,lyapunov", help="Penalty kinds (arms besides plain)."),
    weights: str = typer.Option("10,30", help="One penalty weight per kind."),
    penalty_every: int = typer.Option(1, help="Add the penalty every k steps."),
    penalty_batch: int = typer.Option(32, help="Samples of the batch the penalty sees."),
    depth: int = typer.Option(20, help="Hidden layers."),
    width: int = typer.Option(64, help="Neurons per hidden layer."),
    steps: int = typer.Option(1500, help="SGD steps."),
    eval_every: int = typer.Option(100, help="Measure accuracy and distance every k steps."),
    batch_size: int = typer.Option(128, help="Batch size."),
    lr: float = typer.Option(0.01, help="SGD learning rate."),
    momentum: float = typer.Option(0.9, help="SGD momentum."),
    dataset: str = typer.Option("fashion_mnist", help="'fashion_mnist' or 'digits'."),
    seeds: str = typer.Option("0,1", help="Seeds, comma-separated."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Train deep tanh MLPs from the ordered and chaotic corners (and a near-critical
    reference), plainly and with the criticality penalty, and compare accuracy and
    distance from criticality. Finished runs are kept in OUT/cells/ and not retrained."""
    from crackle.experiments.rescue import RescueConfig
    from crackle.experiments.rescue import rescue as run_rescue
    from crackle.report.figures import save_figure

    cfg = RescueConfig(
        corners=_corners(corners),
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()),
        weights=split_floats(weights, "--weights"),
        penalty_every=penalty_every,
        penalty_batch=penalty_batch,
        depth=depth,
        width=width,
        steps=steps,
        eval_every=eval_every,
        batch_size=batch_size,
        lr=lr,
        momentum=momentum,
        dataset=dataset,
        seeds=split_ints(seeds, "--seeds"),
    )
    n = len(cfg.corners) * len(cfg.arms) * len(cfg.seeds)
    with progress_bar() as progress:
        task = progress.add_task("training", total=n)
        res = run_rescue(cfg, out=out, progress=lambda d: progress.update(task, completed=d))
    path = save_figure(res.plot(), out / "figures" / "rescue.png")
    console.print("corner         arm        train  test   |log σ| start→end   |λ₀| start→end")
    for r in res.table():
        console.print(
            f"{r['corner']:<14} {r['arm']:<10} {r['train_acc']:.3f}  {r['test_acc']:.3f}  "
            f"{r['log_sigma_start']:.3f} → {r['log_sigma_end']:.3f}      "
            f"{r['lyapunov_start']:.3f} → {r['lyapunov_end']:.3f}"
        )
    console.print(f"wrote {out}/rescue.json and {path}")

"""``crackle experiment lstm``: LSTM hidden-state criticality along training."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import (
    WAIT_HELP,
    clean_errors,
    console,
    locks_out,
    progress_bar,
    split_ints,
    split_names,
)
from crackle.cli.experiment import experiment_app


@experiment_app.command("lstm")
@clean_errors
@locks_out
def lstm(
    out: Path = typer.Option(Path("runs/lstm"), "--out", "-o", help="Run directory."),
    tasks: str = typer.Option("fmnist,text", help="Tasks: fmnist, text, digits (comma-separated)."),
    hidden_sizes: str = typer.Option("8,32,128,512", help="LSTM hidden sizes, comma-separated."),
    steps: int = typer.Option(2000, help="Training steps per model."),
    checkpoint_every: int = typer.Option(100, help="Steps between checkpoints."),
    batch_size: int = typer.Option(32, help="Sequences per training step."),
    lr: float = typer.Option(3e-3, help="Adam learning rate."),
    train_subset: int = typer.Option(20_000, help="Training images (image tasks)."),
    eval_sequences: int = typer.Option(1000, help="Held-out images analysed per checkpoint."),
    text_eval_sequences: int = typer.Option(8, help="Held-out text windows analysed."),
    text_eval_len: int = typer.Option(1000, help="Characters per held-out text window."),
    text_path: Path | None = typer.Option(None, help="UTF-8 text (default: the Jargon File)."),
    fashion_root: Path | None = typer.Option(None, help="Folder with Fashion-MNIST IDX files."),
    theta: float = typer.Option(2.0, help="A unit is active when |z| > theta."),
    percentile: float = typer.Option(
        50.0, help="Avalanche threshold: percentile of A_t (0 for A_t > 0)."
    ),
    n_boot: int = typer.Option(20, help="Bootstrap replicas of the MR estimate."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    threads: int = typer.Option(1, help="torch threads (1 is fastest on a busy machine)."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Train LSTMs of several sizes, checkpoint them, and measure hidden-state
    avalanches, branching parameter m and exponents at every checkpoint (Ren & Feng
    2026). Writes OUT/metrics.csv, OUT/metrics.parquet, OUT/lstm.json and
    OUT/figures/lstm_<task>.png; finished models are kept and skipped on a re-run.
    """
    from crackle.experiments.lstm import LSTMConfig, lstm_criticality

    cfg = LSTMConfig(
        tasks=split_names(tasks),
        hidden_sizes=split_ints(hidden_sizes, "--hidden-sizes"),
        steps=steps,
        checkpoint_every=checkpoint_every,
        batch_size=batch_size,
        lr=lr,
        train_subset=train_subset,
        eval_sequences=eval_sequences,
        text_eval_sequences=text_eval_sequences,
        text_eval_len=text_eval_len,
        text_path=None if text_path is None else str(text_path),
        fashion_root=None if fashion_root is None else str(fashion_root),
        theta=theta,
        percentile=None if percentile == 0 else percentile,
        n_boot=n_boot,
        seed=seed,
        num_threads=threads,
    )
    total = len(cfg.tasks) * len(cfg.hidden_sizes) * cfg.steps
    with progress_bar() as progress:
        bar = progress.add_task("lstm", total=total)

        def tick(stage: str, k: int) -> None:
            progress.update(bar, advance=k, description=stage)

        res = lstm_criticality(cfg, out=out, progress=tick)
    from rich.table import Table

    table = Table(title="best validation step of each model", title_justify="left")
    for col in ("task", "H", "step", "val loss", "val acc", "m (MR)", "τ", "α", "DFA H"):
        table.add_column(col, justify="right")

    def num(v: float, fmt: str = ".3f") -> str:
        return "n/a" if v != v else format(v, fmt)

    for row in res.best().to_dict(orient="records"):
        table.add_row(
            row["task"],
            str(row["hidden_size"]),
            str(row["step"]),
            num(row["val_loss"]),
            num(row["val_acc"]),
            f"{num(row['m'], '.3f')} ± {num(row['m_stderr'], '.3f')}"
            if row["m_valid"]
            else ("b < 0.05" if row["m_success"] else "fit failed"),
            num(row["tau"], ".2f"),
            num(row["alpha"], ".2f"),
            num(row["dfa_h"], ".2f"),
        )
    console.print(table)
    console.print(f"wrote {out}/metrics.csv, {out}/lstm.json and figures in {out}/figures/")

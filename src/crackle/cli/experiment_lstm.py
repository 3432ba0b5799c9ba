"""``crackle experiment lstm``: LSTMs (and matched transformers) near their best step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from crackle.cli._common import (
    WAIT_HELP,
    clean_errors,
    console,
    locks_out,
    progress_bar,
    split_ints,
)
from crackle.cli.experiment import experiment_app


@experiment_app.command("lstm")
@clean_errors
@locks_out
def lstm(
    out: Path = typer.Option(Path("runs/lstm"), "--out", "-o", help="Run directory."),
    paper_scale: bool = typer.Option(
        False,
        "--paper-scale",
        help="Hidden sizes 8 to 512, 5 seeds, up to 20 000 steps, 128 held-out sequences of "
        "1024 characters (hours on a CPU); other options override it.",
    ),
    hidden_sizes: str | None = typer.Option(
        None, help="LSTM hidden sizes, comma-separated [default: 8,32,128]."
    ),
    seeds: int | None = typer.Option(None, help="Seeds per size [default: 3]."),
    transformer: bool = typer.Option(
        True, "--transformer/--no-transformer", help="Also train parameter-matched transformers."
    ),
    max_steps: int | None = typer.Option(None, help="Most training steps [default: 4000]."),
    patience: int | None = typer.Option(
        None, help="Stop this many steps after the validation minimum [default: 1000]."
    ),
    checkpoint_every: int | None = typer.Option(None, help="Steps between checkpoints [100]."),
    train_chars: int | None = typer.Option(
        None, help="Training characters (0: the whole 90 %) [default: 50000]."
    ),
    eval_sequences: int | None = typer.Option(None, help="Held-out sequences analysed [64]."),
    eval_len: int | None = typer.Option(None, help="Characters per held-out sequence [512]."),
    kmax: int | None = typer.Option(None, help="Largest MR lag [default: 50]."),
    text_path: Path | None = typer.Option(None, help="UTF-8 text (default: the Jargon File)."),
    theta: float = typer.Option(2.0, help="A unit is active when |z| > theta."),
    percentile: float = typer.Option(50.0, help="Avalanches: runs of A_t above this percentile."),
    n_boot: int | None = typer.Option(None, help="Bootstrap replicas of m [default: 50]."),
    seed: int = typer.Option(0, min=0, help="Random seed."),
    workers: int = typer.Option(2, help="Models trained at once, one process each."),
    threads: int = typer.Option(1, help="torch threads per process."),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Train character-level LSTMs of several sizes (several seeds each) past their
    validation minimum, and parameter-matched causal transformers on the same text;
    at every checkpoint measure the stationary-mean MR branching parameter m of the
    hidden-state activity with its consistency checks, at the untrained and best steps
    the avalanche exponents and the per-unit m_i against the 1/f spectrum (Ren & Feng
    2026). Writes OUT/metrics.csv, OUT/summary.csv, OUT/units.json, OUT/lstm.json and
    OUT/figures/; finished models are kept and skipped on a re-run.
    """
    from crackle.experiments.lstm import LSTMConfig, lstm_criticality
    from crackle.experiments.lstm import paper_scale as paper

    given: dict[str, Any] = {
        "n_seeds": seeds,
        "max_steps": max_steps,
        "patience": patience,
        "checkpoint_every": checkpoint_every,
        "eval_sequences": eval_sequences,
        "eval_len": eval_len,
        "kmax": kmax,
        "n_boot": n_boot,
    }
    ov = {k: v for k, v in given.items() if v is not None}
    if hidden_sizes is not None:
        ov["hidden_sizes"] = split_ints(hidden_sizes, "--hidden-sizes")
    if train_chars is not None:
        ov["train_chars"] = None if train_chars == 0 else train_chars
    ov |= {
        "transformer": transformer,
        "text_path": None if text_path is None else str(text_path),
        "theta": theta,
        "percentile": percentile,
        "seed": seed,
        "workers": workers,
        "num_threads": threads,
    }
    cfg = paper(**ov) if paper_scale else LSTMConfig(**ov)
    n_models = len(cfg.hidden_sizes) * cfg.n_seeds * (2 if cfg.transformer else 1)
    with progress_bar() as progress:
        bar = progress.add_task("lstm", total=n_models * cfg.max_steps)

        def tick(stage: str, k: int) -> None:
            progress.update(bar, advance=k, description=stage)

        res = lstm_criticality(cfg, out=out, progress=tick)
    from rich.table import Table

    table = Table(title="at the best validation step (mean over seeds)", title_justify="left")
    for col in ("model", "size", "params", "best step", "m (best)", "valid", "m (untrained)",
                "m_i median", "β units", "β from m_i"):  # fmt: skip
        table.add_column(col, justify="right")

    def num(v: float, fmt: str = ".3f") -> str:
        return "n/a" if v != v else format(v, fmt)

    for row in res.summary.to_dict(orient="records"):
        table.add_row(
            row["model"],
            str(row["size"]),
            str(row["n_params"]),
            num(row["best_step_mean"], ".0f"),
            f"{num(row['m_best'])} ± {num(row['m_best_err'])}",
            f"{row['m_best_valid']}/{row['n_seeds']}",
            f"{num(row['m_untrained'])} ± {num(row['m_untrained_err'])}",
            num(row["m_i_median"]),
            num(row["beta_units"], ".2f"),
            num(row["beta_from_m_i"], ".2f"),
        )
    console.print(table)
    for kind, d in res.decision.items():
        console.print(f"{kind}: claim {d['verdict']}" + "".join(f"\n  {r}" for r in d["numbers"]))
    console.print(f"wrote {out}/metrics.csv, {out}/summary.csv, {out}/lstm.json, {out}/figures/")

"""Criticality of LSTMs along training, at several sizes (Ren & Feng 2026).

For each task (sequential Fashion-MNIST row by row; character-level language
modelling on English prose; sklearn digits row by row for tests) and each hidden size,
an LSTM is trained with Adam; every ``checkpoint_every`` steps its weights are saved
and its validation loss and accuracy measured. Then, on held-out sequences, every
checkpoint gets the analysis of :func:`crackle.nn.recurrent.checkpoint_criticality`:
hidden-state avalanches, MR branching parameter m, avalanche exponents, PSD slope
and DFA exponent of A_t. The best validation step (lowest loss) of each model is
marked. The claim under test: small models approach m = 1 near their best step,
large ones stay below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crackle._threads import torch_threads
from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.io.atomic import atomic_path, write_json
from crackle.io.rundir import RunDir

__all__ = ["LSTMConfig", "LSTMResult", "lstm_criticality"]

_FUNC = "lstm_criticality"
TASKS = ("fmnist", "text", "digits")
#: Columns plotted against the training step, with their axis labels.
PANELS = (
    ("val_loss", "validation loss (nats)"),
    ("val_acc", "validation accuracy"),
    ("m", "branching parameter m (MR)"),
    ("m_residual", "m, time course over sequences removed"),
    ("tau", "size exponent τ"),
    ("alpha", "duration exponent α"),
    ("dfa_h", "DFA exponent H of A_t"),
    ("psd_beta", "PSD slope β of A_t"),
)
#: A plotted m needs a valid MR fit: not on the edge of its range, amplitude b >= 0.05.
_MASKED = {"m": "m_valid", "m_residual": "m_residual_valid"}


@dataclass(frozen=True)
class LSTMConfig:
    """Parameters of the experiment. The defaults are the configuration documented in
    docs/recurrent.md (about 12 minutes on one thread of a shared 2-core machine)."""

    tasks: tuple[str, ...] = ("fmnist", "text")
    hidden_sizes: tuple[int, ...] = (8, 32, 128, 512)
    steps: int = 2_000
    checkpoint_every: int = 100
    batch_size: int = 32
    lr: float = 3e-3
    clip: float = 1.0
    train_subset: int = 20_000
    val_size: int = 2_000
    eval_sequences: int = 1_000
    text_seq_len: int = 64
    val_size_text: int = 64
    text_eval_sequences: int = 8
    text_eval_len: int = 1_000
    text_min_count: int = 50
    text_max_chars: int | None = None
    text_path: str | None = None
    fashion_root: str | None = None
    theta: float = 2.0
    percentile: float | None = 50.0
    min_avalanches: int = 200
    n_boot: int = 20
    seed: int = 0
    num_threads: int = 1

    def __post_init__(self) -> None:
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise param_error("tasks", _FUNC, f"distinct names among {TASKS}", self.tasks)
        for t in self.tasks:
            check_choice(t, "tasks", _FUNC, TASKS)
        if not self.hidden_sizes or len(set(self.hidden_sizes)) != len(self.hidden_sizes):
            raise param_error("hidden_sizes", _FUNC, "distinct sizes", self.hidden_sizes)
        for h in self.hidden_sizes:
            check_int(h, "hidden_sizes", _FUNC, low=1)
        for name in ("steps", "checkpoint_every", "batch_size", "train_subset", "val_size",
                     "eval_sequences", "val_size_text", "text_eval_sequences",
                     "min_avalanches", "num_threads", "text_min_count"):  # fmt: skip
            check_int(getattr(self, name), name, _FUNC, low=1)
        check_int(self.text_seq_len, "text_seq_len", _FUNC, low=2)
        check_int(self.text_eval_len, "text_eval_len", _FUNC, low=10)
        check_int(self.n_boot, "n_boot", _FUNC, low=0)
        check_int(self.seed, "seed", _FUNC, low=0)
        check_real(self.lr, "lr", _FUNC, low=0.0, low_open=True)
        check_real(self.clip, "clip", _FUNC, low=0.0, low_open=True)
        check_real(self.theta, "theta", _FUNC, low=0.0, low_open=True)
        if self.percentile is not None:
            check_real(self.percentile, "percentile", _FUNC, low=0, high=100, low_open=True,
                       high_open=True)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["tasks"], out["hidden_sizes"] = list(self.tasks), list(self.hidden_sizes)
        return out


@dataclass(frozen=True)
class LSTMResult:
    """The metrics table (one row per task, hidden size and checkpoint) and summaries.

    ``table`` columns: task, hidden_size, step, val_loss, val_acc, best (the lowest
    validation loss of that model), then the columns of
    :meth:`crackle.nn.recurrent.RecurrentCriticality.summary` and ``notes``.
    """

    config: LSTMConfig
    table: Any = field(repr=False)  # pandas.DataFrame
    tasks: dict[str, dict[str, Any]] = field(repr=False)

    def best(self) -> Any:
        """The rows of the best validation step of each model."""
        return self.table[self.table["best"]].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        cols = ["task", "hidden_size", "step", "val_loss", "val_acc", "m", "m_stderr", "tau",
                "alpha", "dfa_h", "psd_beta", "n_avalanches"]  # fmt: skip
        best = self.best()[cols]
        return {
            "config": self.config.to_dict(),
            "tasks": self.tasks,
            "best_steps": [
                {
                    k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                    for k, v in row.items()
                }
                for row in best.to_dict(orient="records")
            ],
        }

    def plot(self, task: str) -> Any:
        """Figure: each panel of ``PANELS`` against the step, one line per hidden size,
        the best validation step marked with a star."""
        import matplotlib.pyplot as plt

        sub = self.table[self.table["task"] == task]
        fig, axes = plt.subplots(2, 4, figsize=(16, 7), sharex=True)
        sizes = sorted(sub["hidden_size"].unique())
        colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(len(sizes), 1)))
        for ax, (col, label) in zip(axes.ravel(), PANELS, strict=True):
            for color, h in zip(colors, sizes, strict=True):
                rows = sub[sub["hidden_size"] == h].sort_values("step")
                y = (
                    rows[col].where(rows[_MASKED[col]].astype(bool))
                    if col in _MASKED
                    else rows[col]
                )
                ax.plot(rows["step"], y, "o-", ms=3, lw=1, color=color, label=f"H = {h}")
                best = rows["best"].to_numpy(bool)
                ax.plot(rows["step"][best], y[best], "*", ms=13, color=color, mec="k", mew=0.6)
            if col in _MASKED:
                ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel("training step")
        axes[0, 0].legend(frameon=False, fontsize=8)
        info = self.tasks.get(task, {})
        fig.suptitle(
            f"LSTM hidden-state criticality along training: {task} "
            f"(θ = {self.config.theta}, ★ = best validation step; "
            f"{info.get('steps_per_sequence', '?')} steps per held-out sequence; "
            "m drawn only for valid MR fits: inside the range, b ≥ 0.05)",
            fontsize=10,
        )
        fig.tight_layout()
        return fig


def _model_rows(
    task: Any, hidden: int, cfg: LSTMConfig, out: Path, tick: Callable[[str, int], None]
) -> Any:
    """Train one model, analyse its checkpoints; the rows, also kept in a part file."""
    import pandas as pd

    from crackle.experiments._lstm_models import build_model, train_model
    from crackle.nn.recurrent import checkpoint_criticality

    part = out / "parts" / f"{task.name}_h{hidden}.csv"
    if part.exists():
        tick(f"{task.name} H={hidden} (kept)", cfg.steps)
        return pd.read_csv(part, keep_default_na=True)
    seed = cfg.seed * 1000 + hidden
    rows = train_model(
        task, hidden, cfg, out / "checkpoints" / f"{task.name}_h{hidden}", seed,
        lambda k: tick(f"{task.name} H={hidden}", k),
    )  # fmt: skip
    model = build_model(task, hidden)
    crit = checkpoint_criticality(
        model,
        {r["step"]: r["path"] for r in rows},
        task.eval_x,
        cfg.theta,
        percentile=cfg.percentile,
        min_avalanches=cfg.min_avalanches,
        n_boot=cfg.n_boot,
        seed=cfg.seed,
    )
    train = pd.DataFrame(rows).drop(columns="path")
    df = train.merge(crit.rename(columns={"checkpoint": "step"}), on="step")
    df.insert(0, "hidden_size", hidden)
    df.insert(0, "task", task.name)
    df.insert(5, "best", df["val_loss"] == df["val_loss"].min())
    with atomic_path(part) as tmp:
        df.to_csv(tmp, index=False)
    return df


def lstm_criticality(
    config: LSTMConfig | None = None,
    *,
    out: str | Path = "runs/lstm",
    progress: Callable[[str, int], None] | None = None,
) -> LSTMResult:
    """Run the experiment and write its run directory.

    Writes ``OUT/config.json``, ``OUT/metrics.csv`` and ``OUT/metrics.parquet`` (the
    table of :class:`LSTMResult`), ``OUT/lstm.json`` (config, task data, best steps),
    ``OUT/figures/lstm_<task>.png`` and the checkpoints in ``OUT/checkpoints/``.
    Finished models are kept in ``OUT/parts/`` and skipped when the experiment is run
    again with the same configuration, so an interrupted run resumes.

    Parameters
    ----------
    config : LSTMConfig, optional
        Default :class:`LSTMConfig`.
    out : str or Path
        Run directory.
    progress : callable, optional
        ``progress(stage, n_steps)`` after each training step.

    Returns
    -------
    LSTMResult
    """
    import pandas as pd

    from crackle.experiments._lstm_models import make_task

    cfg = LSTMConfig() if config is None else config
    if not isinstance(cfg, LSTMConfig):
        raise param_error("config", _FUNC, "an LSTMConfig", type(cfg).__name__)
    run = RunDir.create(out)
    params = cfg.to_dict()
    if run.config.exists():
        import json

        old = json.loads(run.config.read_text()).get("parameters")
        if old != json.loads(json.dumps(params)) and (run.path / "parts").exists():
            raise FileExistsError(
                f"{run.path} holds a run with another configuration; choose another --out"
            )
    run.write_config(params)
    tick = progress or (lambda _s, _k: None)
    rng = np.random.default_rng(cfg.seed)
    frames, infos = [], {}
    with torch_threads(cfg.num_threads):
        for name in cfg.tasks:
            task = make_task(name, cfg, rng)
            infos[name] = task.info
            for hidden in cfg.hidden_sizes:
                frames.append(_model_rows(task, hidden, cfg, run.path, tick))
    table = pd.concat(frames, ignore_index=True)
    table["best"] = table["best"].astype(bool)
    res = LSTMResult(cfg, table, infos)
    with atomic_path(run.path / "metrics.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(run.path / "metrics.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    write_json(run.path / "lstm.json", res.to_dict())
    import matplotlib.pyplot as plt

    for name in cfg.tasks:
        fig = res.plot(name)
        with atomic_path(run.figures / f"lstm_{name}.png") as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
    return res

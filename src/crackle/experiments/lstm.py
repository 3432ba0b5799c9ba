"""Criticality of LSTMs near their best step, and of matched transformers (Ren & Feng 2026).

Claim under test (Ren & Feng, arXiv 2606.10384): small LSTMs near their best
validation step approach a branching parameter m ~ 1 with scale-free hidden-state
avalanches; large ones stay subcritical; a mixture of subcritical branching
processes (per-unit m_i) accounts for the 1/f spectrum of the hidden activity.

For every hidden size and seed a character-level LSTM language model is trained
with Adam past its validation minimum (early-stopping patience); at every checkpoint
(step 0, the untrained network, included) the hidden states of held-out sequences
give A_t and the stationary-mean multistep-regression m with its consistency checks
(:mod:`crackle.experiments._recurrent_analysis`). At step 0 and at the best step the
avalanches get the crackling battery and every unit its own m_i, compared with the
spectrum of the hidden activity through ``fit_mixture_spectrum``. The same is done
for small causal transformers (:mod:`crackle.experiments._transformer`) on the same
text, their widths chosen so that parameter counts match the LSTMs, per layer.
:func:`decide_claim` turns the numbers into "supported", "not supported" or
"undecided", with the error bars it used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from crackle._threads import torch_threads
from crackle._validation import check_int, check_real, param_error
from crackle.experiments._lstm_claim import decide_claim, summarise
from crackle.io.atomic import atomic_path, write_json
from crackle.io.rundir import RunDir

__all__ = ["LSTMConfig", "LSTMResult", "decide_claim", "lstm_criticality", "paper_scale"]

_FUNC = "lstm_criticality"
MODELS = ("lstm", "transformer")
#: The paper-scale sizes (Ren & Feng scan LSTMs from 8 to 512 hidden units).
PAPER_SIZES = (8, 16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class LSTMConfig:
    """Parameters of the experiment.

    The defaults (LSTMs of 8, 32 and 128 units, 3 seeds each, matched transformers)
    are the configuration documented in docs/recurrent.md, about 25 minutes on one
    thread of a shared 2-core machine; :func:`paper_scale` gives the larger one.

    Trials: ``eval_sequences`` held-out windows of ``eval_len`` characters. m is
    fitted over lags 1..``kmax``; every trial must be longer than 2 kmax, and kmax must
    be several autocorrelation times (tau = -1/ln m is 10 steps at m = 0.9, 50 at
    0.98), hence kmax = 50 and 512-step trials.
    """

    hidden_sizes: tuple[int, ...] = (8, 32, 128)
    n_seeds: int = 3
    transformer: bool = True
    transformer_layers: int = 2
    transformer_heads: int = 2
    max_steps: int = 4_000
    checkpoint_every: int = 100
    patience: int = 1_000
    batch_size: int = 32
    lr: float = 3e-3
    clip: float = 1.0
    seq_len: int = 64
    train_chars: int | None = 50_000
    val_windows: int = 256
    eval_sequences: int = 64
    eval_len: int = 512
    text_min_count: int = 50
    text_max_chars: int | None = None
    text_path: str | None = None
    theta: float = 2.0
    percentile: float = 50.0
    kmax: int = 50
    n_boot: int = 50
    min_avalanches: int = 200
    seed: int = 0
    num_threads: int = 1
    workers: int = 2

    def __post_init__(self) -> None:
        if not self.hidden_sizes or len(set(self.hidden_sizes)) != len(self.hidden_sizes):
            raise param_error("hidden_sizes", _FUNC, "distinct sizes", self.hidden_sizes)
        for h in self.hidden_sizes:
            check_int(h, "hidden_sizes", _FUNC, low=1)
        for name in ("n_seeds", "max_steps", "checkpoint_every", "patience", "batch_size",
                     "val_windows", "eval_sequences", "min_avalanches", "num_threads",
                     "text_min_count", "transformer_layers", "transformer_heads",
                     "kmax", "workers"):  # fmt: skip
            check_int(getattr(self, name), name, _FUNC, low=1)
        check_int(self.seq_len, "seq_len", _FUNC, low=2)
        check_int(self.n_boot, "n_boot", _FUNC, low=0)
        check_int(self.seed, "seed", _FUNC, low=0)
        if self.train_chars is not None:
            check_int(self.train_chars, "train_chars", _FUNC, low=self.seq_len + 2)
        check_int(self.eval_len, "eval_len", _FUNC, low=2 * self.kmax + 1)
        check_real(self.lr, "lr", _FUNC, low=0.0, low_open=True)
        check_real(self.clip, "clip", _FUNC, low=0.0, low_open=True)
        check_real(self.theta, "theta", _FUNC, low=0.0, low_open=True)
        check_real(self.percentile, "percentile", _FUNC, low=0, high=100, low_open=True,
                   high_open=True)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["hidden_sizes"] = list(self.hidden_sizes)
        return out


def paper_scale(**overrides: Any) -> LSTMConfig:
    """The paper-scale configuration: hidden sizes 8 to 512, 5 seeds, up to 20 000
    steps with 3000 steps of patience, the whole training text, 128 held-out
    sequences of 1024 characters (several hours on a CPU; use a GPU machine).

    Examples
    --------
    >>> cfg = paper_scale(n_seeds=3)
    >>> cfg.hidden_sizes, cfg.n_seeds, cfg.eval_len > 2 * cfg.kmax
    ((8, 16, 32, 64, 128, 256, 512), 3, True)
    """
    base = LSTMConfig(
        hidden_sizes=PAPER_SIZES,
        n_seeds=5,
        max_steps=20_000,
        checkpoint_every=250,
        patience=3_000,
        train_chars=None,
        eval_sequences=128,
        eval_len=1_024,
        kmax=100,
        n_boot=100,
    )
    return replace(base, **overrides)


@dataclass(frozen=True)
class LSTMResult:
    """The metrics table, the per-unit spectra account and the decision.

    ``table``: one row per model kind, size, seed, checkpoint and layer (one layer for
    an LSTM): model, size (hidden units or d_model), n_params, seed, step, layer,
    val_loss, val_acc, best, last_step, then A_t statistics, m (stationary-mean MR),
    m_stderr, m_b, m_valid, m_reasons, avalanche counts and, at step 0 and the best
    step, tau, alpha and the power-law verdicts. ``units``: one dict per model, seed
    and state (untrained / best) with the m_i distribution and the mixture account.
    ``summary``: per model kind and size at the best step and untrained.
    """

    config: LSTMConfig
    table: Any = field(repr=False)  # pandas.DataFrame
    units: list[dict[str, Any]] = field(repr=False)
    summary: Any = field(repr=False)  # pandas.DataFrame
    decision: dict[str, Any] = field(repr=False)
    data: dict[str, Any] = field(repr=False)

    def best(self) -> Any:
        """Rows of the best validation step of each model (top layer)."""
        t = self.table
        return t[t["best"] & t["top"]].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not np.isfinite(v):
                return None
            return v

        return clean({
            "config": self.config.to_dict(),
            "data": self.data,
            "summary": self.summary.to_dict(orient="records"),
            "decision": self.decision,
            "units": [{k: v for k, v in u.items() if k not in ("m_i", "m_i_valid")}
                      for u in self.units],
        })  # fmt: skip

    def plot(self) -> Any:
        """Figures: m against the training step, m against size, the m_i distributions."""
        from crackle.report.lstm_figures import (
            lstm_size_figure,
            lstm_training_figure,
            lstm_units_figure,
        )

        return lstm_training_figure(self), lstm_size_figure(self), lstm_units_figure(self)


def _seed(cfg: LSTMConfig, kind: str, size: int, s: int) -> int:
    return cfg.seed * 1_000_003 + 10_007 * s + size + (500_000 if kind == "transformer" else 0)


def _states(kind: str, model: Any, x: Any) -> list[Any]:
    """Hidden states per layer, each (n, T, units)."""
    if kind == "lstm":
        from crackle.nn.recurrent import hidden_states

        return [hidden_states(model, x, batch_size=64)]
    from crackle.experiments._transformer import layer_states

    return list(layer_states(model, x))


def _train_and_analyse(
    task: Any, kind: str, size: int, s: int, cfg: LSTMConfig, out: Path,
    tick: Callable[[str, int], None],
) -> tuple[Any, list[dict[str, Any]]]:  # fmt: skip
    """One model: train, analyse every checkpoint; rows and per-unit records (kept in
    part files so that a re-run resumes)."""
    import pandas as pd
    import torch

    from crackle.experiments._lstm_models import train_model
    from crackle.experiments._recurrent_analysis import analyse_states, mixture_account
    from crackle.experiments._transformer import n_parameters

    name = f"{kind}_{size}_s{s}"
    part, upart = out / "parts" / f"{name}.csv", out / "parts" / f"{name}_units.json"
    if part.exists() and upart.exists():
        tick(f"{name} (kept)", 0)
        return pd.read_csv(part, keep_default_na=True), json.loads(upart.read_text())
    seed = _seed(cfg, kind, size, s)
    model, rows, weights = train_model(task, kind, size, cfg, seed, lambda k: tick(name, k))
    steps = [r["step"] for r in rows]
    losses = np.array([r["val_loss"] for r in rows])
    best_step = steps[int(np.argmin(losses))]
    ckpt = out / "checkpoints" / name
    ckpt.mkdir(parents=True, exist_ok=True)
    for label, step in (("untrained", 0), ("best", best_step)):
        with atomic_path(ckpt / f"{label}.pt") as tmp:
            torch.save(weights[step], tmp)
    records, units = [], []
    for r in rows:
        model.load_state_dict(weights[r["step"]])
        key = r["step"] in (0, best_step)
        layers = _states(kind, model, task.eval_x)
        for layer, h in enumerate(layers):
            row = analyse_states(
                h, theta=cfg.theta, percentile=cfg.percentile, kmax=cfg.kmax,
                n_boot=cfg.n_boot, seed=cfg.seed, min_avalanches=cfg.min_avalanches,
                crackling=key,
            )  # fmt: skip
            records.append({**r, "layer": layer, "top": layer == len(layers) - 1, **row})
        if key:
            account = mixture_account(layers[-1], cfg.kmax)
            for state in ("untrained",) * (r["step"] == 0) + ("best",) * (r["step"] == best_step):
                info = {"model": kind, "size": size, "seed": s, "state": state}
                units.append({**info, "step": r["step"], **account})
    df = pd.DataFrame(records)
    df.insert(0, "n_params", n_parameters(model))
    df.insert(0, "seed", s)
    df.insert(0, "size", size)
    df.insert(0, "model", kind)
    df["best"] = df["step"] == best_step
    df["last_step"] = steps[-1]
    with atomic_path(part) as tmp:
        df.to_csv(tmp, index=False)
    write_json(upart, units)
    return df, units


_WORKER_TASK: dict[str, Any] = {}


def _init_worker(cfg: LSTMConfig) -> None:
    """Build the text task once per worker process."""
    from crackle.experiments._lstm_models import make_text_task

    _WORKER_TASK["task"] = make_text_task(cfg)


def _worker(job: tuple[str, int, int], cfg: LSTMConfig, out: Path) -> tuple[Any, Any]:
    """One model in a worker process."""
    with torch_threads(cfg.num_threads):
        task = _WORKER_TASK["task"]
        return _train_and_analyse(task, *job, cfg, out, lambda _s, _k: None)


def _parallel(
    jobs: list[tuple[str, int, int]], cfg: LSTMConfig, out: Path,
    tick: Callable[[str, int], None],
) -> list[tuple[Any, Any]]:  # fmt: skip
    """The models on ``cfg.workers`` processes (spawned: no forked torch state);
    ``tick`` advances by a model's ``max_steps`` as each finishes. Results in job order."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: dict[int, tuple[Any, Any]] = {}
    # Largest models first, so that the last to finish is a short one.
    from crackle.experiments._transformer import lstm_parameters, transformer_parameters

    def cost(job: tuple[str, int, int]) -> int:
        kind, size, _ = job
        if kind == "lstm":
            return lstm_parameters(100, size)
        return 2 * transformer_parameters(100, size, cfg.transformer_layers)

    order = sorted(range(len(jobs)), key=lambda i: -cost(jobs[i]))
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(cfg.workers, ctx, _init_worker, (cfg,)) as pool:
        futs = {pool.submit(_worker, jobs[i], cfg, out): i for i in order}
        for fut in as_completed(futs):
            i = futs[fut]
            results[i] = fut.result()
            kind, size, s = jobs[i]
            tick(f"{kind}_{size}_s{s}", cfg.max_steps)
    return [results[i] for i in range(len(jobs))]


def lstm_criticality(
    config: LSTMConfig | None = None,
    *,
    out: str | Path = "runs/lstm",
    progress: Callable[[str, int], None] | None = None,
) -> LSTMResult:
    """Run the experiment and write its run directory.

    Writes ``OUT/config.json``, ``OUT/metrics.csv`` and ``OUT/metrics.parquet`` (the
    table of :class:`LSTMResult`), ``OUT/units.json`` (m_i distributions and the
    mixture account), ``OUT/summary.csv``, ``OUT/lstm.json`` (config, data,
    summary, decision) and three figures in ``OUT/figures/``; the weights of the
    untrained and best checkpoints of every model in ``OUT/checkpoints/``. Finished
    models are kept in ``OUT/parts/`` and skipped when the experiment runs again with
    the same configuration, so an interrupted run resumes.

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

    References
    ----------
    Ren & Feng, "Towards Critical Branching Mechanism in Recurrent Neural Networks",
    arXiv 2606.10384 (2026); Wilting & Priesemann, Nat. Commun. 9, 2325 (2018);
    Press, Smith & Lewis, arXiv 2108.12409 (2022) (ALiBi).
    """
    import pandas as pd

    from crackle.experiments._lstm_models import make_text_task
    from crackle.experiments._transformer import lstm_parameters, matched_width

    cfg = LSTMConfig() if config is None else config
    if not isinstance(cfg, LSTMConfig):
        raise param_error("config", _FUNC, "an LSTMConfig", type(cfg).__name__)
    run = RunDir.create(out)
    params = cfg.to_dict()
    if run.config.exists():
        old = json.loads(run.config.read_text()).get("parameters")
        if old != json.loads(json.dumps(params)) and (run.path / "parts").exists():
            raise FileExistsError(
                f"{run.path} holds a run with another configuration; choose another --out"
            )
    run.write_config(params)
    tick = progress or (lambda _s, _k: None)
    frames, units = [], []
    with torch_threads(cfg.num_threads):
        task = make_text_task(cfg)
        plan = [("lstm", h) for h in cfg.hidden_sizes]
        if cfg.transformer:
            plan += [("transformer", matched_width(task.vocab, lstm_parameters(task.vocab, h),
                                                   n_layers=cfg.transformer_layers,
                                                   n_heads=cfg.transformer_heads))
                     for h in cfg.hidden_sizes]  # fmt: skip
        jobs = [(kind, size, s) for kind, size in plan for s in range(cfg.n_seeds)]
        if cfg.workers == 1 or len(jobs) == 1:
            done = [_train_and_analyse(task, *job, cfg, run.path, tick) for job in jobs]
        else:
            done = _parallel(jobs, cfg, run.path, tick)
        for df, u in done:
            frames.append(df)
            units.extend(u)
    table = pd.concat(frames, ignore_index=True)
    for col in ("best", "top", "m_valid", "sizes_power_law", "durations_power_law"):
        table[col] = table[col].astype(bool)
    table["m_reasons"] = table["m_reasons"].fillna("").astype(str)
    table["verdict"] = table["verdict"].fillna("").astype(str)
    summary = summarise(table, units)
    decision = {k: decide_claim(summary, k) for k in MODELS if (summary["model"] == k).any()}
    res = LSTMResult(cfg, table, units, summary, decision, task.info)
    with atomic_path(run.path / "metrics.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(run.path / "metrics.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    with atomic_path(run.path / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    write_json(run.path / "units.json", units)
    write_json(run.path / "lstm.json", res.to_dict())
    import matplotlib.pyplot as plt

    for label, fig in zip(("lstm_training", "lstm_sizes", "lstm_units"), res.plot(), strict=True):
        with atomic_path(run.figures / f"{label}.png") as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
    return res

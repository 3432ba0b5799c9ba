"""Accuracy against distance from criticality on Fashion-MNIST (issue 5, seed 001).

Built-in 28 x 28 architectures (tanh MLPs initialised in the ordered, critical and
chaotic phase, a ReLU MLP, a small CNN) are trained with one optimiser on a subset
of Fashion-MNIST; each is stopped at several step counts, so the zoo spans a range
of test accuracies. Every stopped model is probed on held-out test images (and, for
comparison, on standard Gaussian inputs via :func:`crackle.nn.probe_table`):
branching parameter sigma, Lyapunov exponent lambda_0, dynamic range Delta. The
claim under test (Vock & Meisel 2025): accuracy is higher the closer a network is
to criticality, i.e. falls with |log sigma| and |lambda_0|. Training length varies
accuracy and criticality together, hence the correlations at fixed step count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crackle._threads import torch_threads
from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.experiments import _zoo_train as _zt
from crackle.experiments._rank_tests import exact_spearman_p, partial_rank
from crackle.io.atomic import atomic_path, write_json
from crackle.io.rundir import RunDir

__all__ = [
    "ARCHS",
    "DISTANCES",
    "EXACT_MAX_N",
    "Correlation",
    "ZooConfig",
    "ZooResult",
    "train_zoo",
]

_FUNC = "train_zoo"
#: Built-in models with 1 x 28 x 28 inputs (:func:`crackle.nn.build_model`).
ARCHS = ("mlp-tanh-ordered", "mlp-tanh", "mlp-tanh-chaotic", "mlp-relu", "cnn")
#: Distance columns of the table, with their axis labels.
DISTANCES = (
    ("dist_log_sigma", "|log σ| (test images)"),
    ("dist_lyapunov", "|λ₀| (test images)"),
    ("dist_log_sigma_hidden", "|log σ| (test images, hidden layers)"),
    ("dist_lyapunov_hidden", "|λ₀| (test images, hidden layers)"),
    ("dist_log_sigma_gauss", "|log σ| (Gaussian inputs)"),
    ("dist_lyapunov_gauss", "|λ₀| (Gaussian inputs)"),
)
_N_TRAIN, _N_TEST = 60_000, 10_000
#: Up to this many models, the Spearman p-value is exact (all n! orderings).
EXACT_MAX_N = 8
_ROW_FORMAT = 2  # the columns of a stored model's row; older rows are not reused


@dataclass(frozen=True)
class ZooConfig:
    """Parameters of the experiment. The defaults are the configuration documented in
    docs/nn.md (a few minutes on 2 CPU cores).

    Each architecture of ``archs`` is trained once, for ``max(steps)`` steps of
    ``optimizer`` ("sgd": SGD with momentum 0.9; "adam") on mini-batches of
    ``batch_size`` from ``train_subset`` training images; its weights at every step
    count of ``steps`` are one model of the zoo, named ``ARCH@STEPS``. Test accuracy
    is measured on ``test_subset`` test images, the probes on the first ``probe_n``
    of them.
    """

    archs: tuple[str, ...] = ARCHS
    steps: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000)
    optimizer: str = "sgd"
    lr: float = 0.01
    batch_size: int = 64
    train_subset: int = 20_000
    test_subset: int = 10_000
    probe_n: int = 256
    seed: int = 0
    device: str = "cpu"
    num_threads: int = 1
    fashion_root: str | None = None

    def __post_init__(self) -> None:
        if not self.archs or len(set(self.archs)) != len(self.archs):
            raise param_error("archs", _FUNC, f"distinct names among {ARCHS}", self.archs)
        for a in self.archs:
            check_choice(a, "archs", _FUNC, ARCHS)
        if not self.steps or len(set(self.steps)) != len(self.steps):
            raise param_error("steps", _FUNC, "distinct positive step counts", self.steps)
        for s in self.steps:
            check_int(s, "steps", _FUNC, low=1)
        check_choice(self.optimizer, "optimizer", _FUNC, ("sgd", "adam"))
        check_real(self.lr, "lr", _FUNC, low=0.0, low_open=True)
        check_int(self.batch_size, "batch_size", _FUNC, low=1)
        check_int(self.train_subset, "train_subset", _FUNC, low=self.batch_size, high=_N_TRAIN)
        check_int(self.test_subset, "test_subset", _FUNC, low=2, high=_N_TEST)
        check_int(self.probe_n, "probe_n", _FUNC, low=2, high=self.test_subset)
        check_int(self.seed, "seed", _FUNC, low=0)
        check_int(self.num_threads, "num_threads", _FUNC, low=1, high=2)
        if not isinstance(self.device, str) or not self.device.startswith(("cpu", "cuda")):
            raise param_error("device", _FUNC, "'cpu' or 'cuda[:N]'", self.device)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["archs"], out["steps"] = list(self.archs), sorted(self.steps)
        return out

    def model_params(self) -> dict[str, Any]:
        """What a stored model's numbers depend on (compared on resume)."""
        out = self.to_dict()
        for k in ("archs", "steps", "device", "num_threads", "fashion_root"):
            out.pop(k)
        out["row_format"] = _ROW_FORMAT
        return out


@dataclass(frozen=True)
class Correlation:
    """Pearson and Spearman correlation of test accuracy with one distance column, over
    all models (``steps`` None) or over the models stopped at one step count.

    p-values are two-sided, from ``scipy.stats.pearsonr`` and ``spearmanr``, except
    ``spearman_p`` for n <= ``EXACT_MAX_N``: then the exact permutation p-value (the
    fraction of the n! orderings with |rho| at least as large), since scipy's t
    approximation is far off for a handful of points (it gives 1e-24 for a perfect
    rank correlation of 5 points, whose exact p is 1/60).

    ``partial_rho`` (over all models only; NaN at one step count) is the rank partial
    correlation of accuracy and distance controlling for the number of training
    steps: the Pearson correlation of the residuals of the ranks of both after a
    linear fit on the rank of the step count; ``partial_p`` its two-sided p-value
    from Student's t with n - 3 degrees of freedom. The models of one architecture
    are not independent (they share a training run), so read p-values as rough.
    """

    distance: str
    n: int
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float
    steps: int | None = None
    partial_rho: float = float("nan")
    partial_p: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ZooResult:
    """The table (one row per trained model) and the correlations.

    ``table`` columns: name, arch, steps, test_accuracy, train_loss (mean of the last
    50 steps), branching, branching_geometric, lyapunov, lyapunov_stderr,
    dynamic_range_db (probes on test images, the default layers: the model's blocks),
    branching_hidden and lyapunov_hidden (the mean of the same per-layer ratios and
    log rates without the last layer, the readout), the probes with suffix ``_gauss``
    (:func:`crackle.nn.probe_table`, Gaussian inputs), and the distances of
    :data:`DISTANCES`: dist_log_sigma = |log sigma|, dist_lyapunov = |lambda_0|, and
    the same with suffixes ``_hidden`` and ``_gauss``.
    """

    config: ZooConfig
    table: Any = field(repr=False)  # pandas.DataFrame
    correlations: tuple[Correlation, ...]
    within_steps: tuple[Correlation, ...]
    notes: tuple[str, ...]

    def correlation(self, distance: str) -> Correlation:
        """The correlation of accuracy with one distance column."""
        for c in self.correlations:
            if c.distance == distance:
                return c
        raise param_error("distance", "ZooResult.correlation", f"one of {DISTANCES}", distance)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "models": self.table.to_dict(orient="records"),
            "correlations": [c.to_dict() for c in self.correlations],
            "within_steps": [c.to_dict() for c in self.within_steps],
            "notes": list(self.notes),
        }

    def plot(self, fig: Any = None) -> Any:
        """Test accuracy against each distance of :data:`DISTANCES` (one panel each,
        one colour per architecture, labels the step counts), correlations in the titles."""
        import matplotlib.pyplot as plt

        if fig is None:
            fig = plt.figure(figsize=(14, 8.5))
        axes = fig.subplots(2, 3).T.ravel()
        df = self.table
        colors = plt.get_cmap("tab10")
        for ax, (col, label) in zip(axes, DISTANCES, strict=True):
            for i, arch in enumerate(self.config.archs):
                sub = df[df["arch"] == arch].sort_values("steps")
                ax.plot(sub[col], sub["test_accuracy"], "o-", lw=0.8, color=colors(i), label=arch)
                for _, r in sub.iterrows():
                    ax.annotate(str(r["steps"]), (r[col], r["test_accuracy"]), fontsize=6)
            c = self.correlation(col)
            ax.set_title(
                f"Spearman ρ = {c.spearman_rho:+.2f} (p = {c.spearman_p:.2g})\n"
                f"Pearson r = {c.pearson_r:+.2f} (p = {c.pearson_p:.2g}), n = {c.n}\n"
                f"given steps: partial ρ = {c.partial_rho:+.2f} (p = {c.partial_p:.2g})",
                fontsize=9,
            )
            ax.set_xlabel(f"distance from criticality {label}")
            ax.set_ylabel("test accuracy")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7, frameon=False)
        fig.suptitle(
            f"Fashion-MNIST: accuracy against distance from criticality "
            f"({self.config.optimizer}, labels = training steps)",
            fontsize=10,
        )
        fig.tight_layout()
        return fig


def _paths(out: Path, arch: str, steps: int) -> tuple[Path, Path]:
    stem = out / "models" / f"{arch}@{steps}"
    return stem.with_suffix(".pt"), stem.with_suffix(".json")


def _stored(cfg: ZooConfig, arch: str, out: Path | None) -> list[dict[str, Any]] | None:
    """The stored rows of one architecture when every one of its models is on disk."""
    import json

    if out is None:
        return None
    files = [_paths(out, arch, s) for s in sorted(cfg.steps)]
    if not all(pt.exists() and js.exists() for pt, js in files):
        return None
    rows = [json.loads(js.read_text()) for _, js in files]
    want = json.loads(json.dumps(cfg.model_params()))
    for row, (_, js) in zip(rows, files, strict=True):
        if row.pop("params") != want:
            raise FileExistsError(
                f"{js} holds a model trained with other parameters; use another --out or remove it"
            )
    return [{k: (np.nan if v is None else v) for k, v in r.items()} for r in rows]


def _arch_rows(
    arch: str, cfg: ZooConfig, data: dict[str, Any], out: Path | None, tick: Callable[[int], None]
) -> list[dict[str, Any]]:
    import torch

    from crackle.nn.zoo import build_model

    kept = _stored(cfg, arch, out)
    if kept is not None:
        tick(max(cfg.steps))
        return kept
    rows = []
    x_probe = data["x_test"][: cfg.probe_n]
    for steps, state, loss in _zt.train(arch, cfg, data, tick):
        model = build_model(arch, seed=cfg.seed)
        model.load_state_dict(state)
        model = model.to(cfg.device).eval()
        row = {"name": f"{arch}@{steps}", "arch": arch, "steps": steps}
        row["test_accuracy"] = _zt.accuracy(model, data["x_test"], data["y_test"], cfg.device)
        row["train_loss"] = loss
        row.update(_zt.probe(model, x_probe, cfg))
        if out is not None:
            pt, js = _paths(out, arch, steps)
            with atomic_path(pt) as tmp:
                torch.save(state, tmp)
            write_json(js, {**row, "params": cfg.model_params()})  # last: marks it done
        rows.append(row)
    return rows


def _correlations(df: Any, steps: int | None = None) -> tuple[tuple[Correlation, ...], list[str]]:
    import warnings

    from scipy import stats

    out, notes = [], []
    where = "" if steps is None else f" at {steps} steps"
    acc = df["test_accuracy"].to_numpy(dtype=float)
    for col, _ in DISTANCES:
        d = df[col].to_numpy(dtype=float)
        ok = np.isfinite(d) & np.isfinite(acc)
        n = int(ok.sum())
        r = p = rho = sp = pr = pp = float("nan")
        if n >= 3 and np.ptp(d[ok]) > 0 and np.ptp(acc[ok]) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r, p = (float(v) for v in stats.pearsonr(d[ok], acc[ok]))
                rho, sp = (float(v) for v in stats.spearmanr(d[ok], acc[ok]))
            if n <= EXACT_MAX_N:
                sp = exact_spearman_p(d[ok], acc[ok])
            if steps is None:
                pr, pp = partial_rank(d[ok], acc[ok], df["steps"].to_numpy()[ok])
        elif steps is None:
            notes.append(f"{col}: fewer than 3 finite, non-constant values; no correlation")
        if n < len(d):
            notes.append(f"{col}{where}: {len(d) - n} model(s) with a non-finite value left out")
        out.append(Correlation(col, n, r, p, rho, sp, steps, pr, pp))
    return tuple(out), notes


def train_zoo(
    config: ZooConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ZooResult:
    """Train a zoo of small Fashion-MNIST models and relate accuracy to criticality.

    For each architecture of ``config.archs``: build it from ``config.seed``
    (:func:`crackle.nn.build_model`), train it (cross-entropy, ``config.optimizer``,
    seeded mini-batch order), and at each step count of ``config.steps`` keep its
    weights as one model. Each model gets its test accuracy and the probes
    :func:`~crackle.nn.branching_parameter`, :func:`~crackle.nn.lyapunov_exponent`
    and :func:`~crackle.nn.dynamic_range` on ``probe_n`` held-out test images
    (standardised like the training images), plus :func:`crackle.nn.probe_table` on
    as many standard Gaussian inputs. Then the Pearson and Spearman correlation
    (``scipy.stats.pearsonr``, ``spearmanr``, two-sided p-values) of test accuracy
    with each distance from criticality of :data:`DISTANCES` (|log sigma|,
    |lambda_0|; all layers, hidden layers, Gaussian inputs) over all models, with
    the rank partial correlation given the step count (``correlations``), and the
    same across architectures at each step count (``within_steps``), see
    :class:`Correlation`.

    Parameters
    ----------
    config : ZooConfig, optional
        The experiment; default :class:`ZooConfig()`.
    out : path, optional
        Run directory. Each model is written to ``out/models/ARCH@STEPS.pt`` (its
        state_dict) and ``.json`` (its row and parameters); an architecture whose
        models are all there is not trained again. ``out/zoo.csv``, ``out/zoo.json``
        and ``out/config.json`` hold the result.
    progress : callable, optional
        Called with (architecture, number of new training steps).

    Returns
    -------
    ZooResult

    References
    ----------
    Vock & Meisel, "Critical dynamics governs deep learning", arXiv 2507.08527 (2025);
    Xiao, Rasul & Vollgraf, "Fashion-MNIST", arXiv 1708.07747 (2017).
    """
    import pandas as pd

    cfg = ZooConfig() if config is None else config
    if not isinstance(cfg, ZooConfig):
        raise param_error("config", _FUNC, "a ZooConfig", cfg)
    run = None if out is None else RunDir.create(out)
    with torch_threads(cfg.num_threads):
        data = _zt.load_data(cfg)
        rows: list[dict[str, Any]] = []
        for arch in cfg.archs:

            def tick(k: int, a: str = arch) -> None:
                if progress is not None:
                    progress(a, k)

            rows += _arch_rows(arch, cfg, data, None if run is None else run.path, tick)
    df = pd.DataFrame(rows)
    corr, notes = _correlations(df)
    within: list[Correlation] = []
    for s in sorted(cfg.steps):  # across architectures at one training length
        c, more = _correlations(df[df["steps"] == s], s)
        within += c
        notes += more
    result = ZooResult(cfg, df, corr, tuple(within), tuple(notes))
    if run is not None:
        run.write_config({"experiment": "zoo", **cfg.to_dict()})
        with atomic_path(run.path / "zoo.csv") as tmp:
            df.to_csv(tmp, index=False)
        write_json(run.path / "zoo.json", result.to_dict())
    return result

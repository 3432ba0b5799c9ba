"""A zoo of trained Fashion-MNIST models that can test whether accuracy goes with
criticality (Vock & Meisel 2025, arXiv 2507.08527).

Nine architecture families built in crackle (:mod:`crackle.nn.families`: MLP, GRU-style
recurrent network, LeNet-style CNN, VGG-, ResNet-, DenseNet-, MobileNetV2-, ViT- and
MLP-Mixer-style networks), each in several variants (width, depth, initialisation,
learning rate) and seeds, all trained with the same budget (``steps`` mini-batches of
``batch_size`` images) with the recipe of their era (optimiser, label smoothing,
augmentation: :data:`RECIPES`). Each model is probed on held-out test images at its
blocks: the branching parameter sigma, the largest Lyapunov exponent lambda_max and
the dynamic range Delta. Over the models trained without a penalty the experiment
asks

- whether test accuracy falls with the distance from criticality (|log sigma|,
  |lambda_max|) or rises with Delta: Spearman correlations with bootstrap confidence
  intervals over models, and partial rank correlations given the parameter count, and
  given the parameter count and the family;
- whether the later families (by year of introduction, with their architectural and
  training innovations) sit nearer criticality at equal budget;

and, for pairs of models that differ only in a criticality penalty during training
(:class:`crackle.train.CriticalityPenalty`, ``kind="lyapunov"``; same initial
weights, same batches), whether the penalised ones are more accurate under Gaussian
input noise of several strengths.
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

__all__ = [
    "METRICS",
    "RECIPES",
    "VARIANTS",
    "ModelSpec",
    "ZooConfig",
    "ZooResult",
    "train_zoo",
]

_FUNC = "train_zoo"
_ROW_FORMAT = 3

#: Per family: base width and depth, and the training recipe of its era.
RECIPES: dict[str, dict[str, Any]] = {
    "mlp": {"width": 128, "depth": 3, "optimizer": "sgd", "lr": 0.02},
    "rnn": {"width": 64, "depth": 1, "optimizer": "adam", "lr": 2e-3},
    "cnn": {"width": 8, "depth": 2, "optimizer": "sgd", "lr": 0.02},
    "vgg": {"width": 8, "depth": 2, "optimizer": "sgd", "lr": 0.02},
    "resnet": {"width": 8, "depth": 2, "optimizer": "sgd", "lr": 0.05},
    "densenet": {"width": 8, "depth": 4, "optimizer": "sgd", "lr": 0.05},
    "mobilenet": {"width": 8, "depth": 4, "optimizer": "adam", "lr": 2e-3},
    "vit": {"width": 32, "depth": 2, "optimizer": "adamw", "lr": 2e-3},
    "mixer": {"width": 32, "depth": 2, "optimizer": "adamw", "lr": 2e-3},
}
for _f, _r in RECIPES.items():
    _late = _f in ("vit", "mixer")
    _r.setdefault("label_smoothing", 0.1 if _late else 0.0)
    _r.setdefault("augmentation", _late)

#: Variants of every family: (width factor, extra depth, init, learning-rate factor).
VARIANTS: dict[str, tuple[int, int, str, float]] = {
    "base": (1, 0, "default", 1.0),
    "wide": (2, 0, "default", 1.0),
    "deep": (1, 2, "default", 1.0),
    "small-init": (1, 0, "small", 1.0),
    "high-lr": (1, 0, "default", 3.0),
}

#: The metrics correlated with accuracy, with their labels.
METRICS = (
    ("dist_log_sigma", "|log σ|"),
    ("dist_lyapunov", "|λ_max|"),
    ("dynamic_range_db", "Δ (dB)"),
)


@dataclass(frozen=True)
class ModelSpec:
    """One model of the zoo: family, variant, seed, and whether it trains with the
    criticality penalty."""

    family: str
    variant: str
    seed: int
    penalty: bool

    @property
    def name(self) -> str:
        return f"{self.family}-{self.variant}-s{self.seed}" + ("-pen" if self.penalty else "")

    @property
    def recipe(self) -> dict[str, Any]:
        return RECIPES[self.family]

    @property
    def width(self) -> int:
        return int(self.recipe["width"] * VARIANTS[self.variant][0])

    @property
    def depth(self) -> int:
        return int(self.recipe["depth"] + VARIANTS[self.variant][1])

    @property
    def init(self) -> str:
        return VARIANTS[self.variant][2]

    @property
    def lr(self) -> float:
        return float(self.recipe["lr"] * VARIANTS[self.variant][3])


@dataclass(frozen=True)
class ZooConfig:
    """The experiment. The defaults are the run documented in docs/nn.md (about an hour
    on 2 CPU cores).

    Every family of ``families`` is trained in every variant of ``variants`` with
    every seed of ``seeds`` (no penalty), and the ``"base"`` variant of every family
    of ``penalty_families`` also with the criticality penalty
    (``penalty_weight * lambda_max^2`` on the first ``penalty_n`` images of each
    batch, ``penalty_iter`` iterations of the top-direction search). Training:
    ``steps`` mini-batches of ``batch_size`` from ``train_subset`` training images
    (drawn with ``data_seed``). Test accuracy on ``test_subset`` test images; the
    probes on the first ``probe_n`` of them; the accuracy under noise on the first
    ``robust_n`` with Gaussian pixel noise of each std in ``noise`` (standardised
    pixel units). ``n_boot`` bootstrap resamples for every confidence interval.
    ``device="auto"`` uses a GPU when there is one.
    """

    families: tuple[str, ...] = tuple(RECIPES)
    variants: tuple[str, ...] = tuple(VARIANTS)
    seeds: tuple[int, ...] = (0, 1)
    penalty_families: tuple[str, ...] = tuple(RECIPES)
    penalty_weight: float = 10.0
    penalty_n: int = 8
    penalty_iter: int = 2
    steps: int = 300
    batch_size: int = 64
    train_subset: int = 60_000
    test_subset: int = 10_000
    probe_n: int = 128
    robust_n: int = 2000
    noise: tuple[float, ...] = (0.25, 0.5, 1.0)
    lyapunov_iter: int = 20
    n_boot: int = 2000
    data_seed: int = 0
    device: str = "auto"
    num_threads: int = 1
    fashion_root: str | None = None

    def __post_init__(self) -> None:
        from crackle.nn.families import FAMILIES

        for name, values, allowed in (
            ("families", self.families, tuple(FAMILIES)),
            ("variants", self.variants, tuple(VARIANTS)),
            ("penalty_families", self.penalty_families, tuple(FAMILIES)),
        ):
            if len(set(values)) != len(values) or (name != "penalty_families" and not values):
                raise param_error(name, _FUNC, f"distinct names among {allowed}", values)
            for v in values:
                check_choice(v, name, _FUNC, allowed)
        if not set(self.penalty_families) <= set(self.families):
            raise param_error(
                "penalty_families", _FUNC, "a subset of families", self.penalty_families
            )
        if self.penalty_families and "base" not in self.variants:
            raise param_error(
                "variants", _FUNC, "to include 'base' when a penalty is asked", self.variants
            )
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise param_error("seeds", _FUNC, "distinct non-negative integers", self.seeds)
        for s in self.seeds:
            check_int(s, "seeds", _FUNC, low=0)
        check_real(self.penalty_weight, "penalty_weight", _FUNC, low=0.0)
        check_int(self.penalty_n, "penalty_n", _FUNC, low=1, high=self.batch_size)
        check_int(self.penalty_iter, "penalty_iter", _FUNC, low=1)
        check_int(self.steps, "steps", _FUNC, low=1)
        check_int(self.batch_size, "batch_size", _FUNC, low=1)
        check_int(self.train_subset, "train_subset", _FUNC, low=self.batch_size, high=60_000)
        check_int(self.test_subset, "test_subset", _FUNC, low=2, high=10_000)
        check_int(self.probe_n, "probe_n", _FUNC, low=2, high=self.test_subset)
        check_int(self.robust_n, "robust_n", _FUNC, low=1, high=self.test_subset)
        for level in self.noise:
            check_real(level, "noise", _FUNC, low=0.0, low_open=True)
        check_int(self.lyapunov_iter, "lyapunov_iter", _FUNC, low=1)
        check_int(self.n_boot, "n_boot", _FUNC, low=10)
        check_int(self.data_seed, "data_seed", _FUNC, low=0)
        check_int(self.num_threads, "num_threads", _FUNC, low=1)
        if not isinstance(self.device, str) or not self.device.startswith(("auto", "cpu", "cuda")):
            raise param_error("device", _FUNC, "'auto', 'cpu' or 'cuda[:N]'", self.device)

    def specs(self) -> list[ModelSpec]:
        """Every model of the zoo, in training order."""
        out = [
            ModelSpec(f, v, s, False)
            for s in self.seeds
            for f in self.families
            for v in self.variants
        ]
        out += [ModelSpec(f, "base", s, True) for s in self.seeds for f in self.penalty_families]
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("families", "variants", "seeds", "penalty_families", "noise"):
            out[k] = list(out[k])
        return out

    def model_params(self) -> dict[str, Any]:
        """What one stored model's numbers depend on (compared on resume)."""
        keep = ("penalty_weight", "penalty_n", "penalty_iter", "steps", "batch_size",
                "train_subset", "test_subset", "probe_n", "robust_n", "noise",
                "lyapunov_iter", "data_seed")  # fmt: skip
        out = {k: getattr(self, k) for k in keep}
        out["noise"] = list(self.noise)
        out["row_format"] = _ROW_FORMAT
        return out


@dataclass(frozen=True)
class ZooResult:
    """The table (one row per trained model) and the analysis.

    ``correlations``: per metric of :data:`METRICS` (models without penalty), the
    Spearman rho of test accuracy with it, its bootstrap 95 % interval over models,
    and the partial rank correlations given log parameter count (``partial_params``)
    and given log parameter count and family (``partial_family``), with intervals.
    ``history``: Spearman rho of the family's year of introduction with each metric
    and with accuracy, and the per-family means. ``robustness``: per noise strength,
    the mean over (family, seed) pairs of the penalised minus the plain model's
    accuracy, with a bootstrap interval over pairs, and the same for the clean
    accuracy and for |lambda_max|.
    """

    config: ZooConfig
    table: Any = field(repr=False)  # pandas.DataFrame
    correlations: tuple[dict[str, Any], ...]
    history: dict[str, Any]
    robustness: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        from crackle.experiments._zoo_analysis import json_safe

        return json_safe(
            {
                "config": self.config.to_dict(),
                "models": self.table.to_dict(orient="records"),
                "correlations": list(self.correlations),
                "history": self.history,
                "robustness": list(self.robustness),
                "notes": list(self.notes),
            }
        )

    def plot(self, fig: Any = None) -> Any:
        """Accuracy against each metric, the metrics against the year, and robustness."""
        from crackle.report.nn_figures import plot_zoo

        return plot_zoo(self, fig, metrics=METRICS)


def _paths(out: Path, spec: ModelSpec) -> tuple[Path, Path]:
    stem = out / "models" / spec.name
    return stem.with_suffix(".pt"), stem.with_suffix(".json")


def _stored(cfg: ZooConfig, spec: ModelSpec, out: Path | None) -> dict[str, Any] | None:
    import json

    if out is None:
        return None
    pt, js = _paths(out, spec)
    if not (pt.exists() and js.exists()):
        return None
    row = json.loads(js.read_text())
    if row.pop("params") != json.loads(json.dumps(cfg.model_params())):
        raise FileExistsError(
            f"{js} holds a model trained with other parameters; use another --out or remove it"
        )
    return {k: (np.nan if v is None else v) for k, v in row.items()}


def _model_row(
    spec: ModelSpec, cfg: ZooConfig, data: dict[str, Any], device: str, out: Path | None
) -> dict[str, Any]:
    import torch

    from crackle.experiments import _zoo_train as zt
    from crackle.nn.families import FAMILIES

    kept = _stored(cfg, spec, out)
    if kept is not None:
        return kept
    res = zt.train(spec, cfg, data, device)
    model = zt.build(spec)
    model.load_state_dict(res["state"])
    model = model.to(device).eval()
    fam = FAMILIES[spec.family]
    innov = list(fam["innovations"])
    row: dict[str, Any] = {
        "name": spec.name,
        "family": spec.family,
        "variant": spec.variant,
        "seed": spec.seed,
        "penalty": spec.penalty,
        "year": fam["year"],
        "innovations": ";".join(innov),
        "batch_norm": "batch_norm" in innov,
        "residual": "residual" in innov,
        "optimizer": spec.recipe["optimizer"],
        "label_smoothing": spec.recipe["label_smoothing"],
        "augmentation": bool(spec.recipe["augmentation"]),
        "width": spec.width,
        "depth": spec.depth,
        "init": spec.init,
        "lr": spec.lr,
        "n_params": int(sum(p.numel() for p in model.parameters())),
        "train_loss": res["train_loss"],
        "train_seconds": res["train_seconds"],
        "penalty_skipped": res["penalty_skipped"],
    }
    row["test_accuracy"] = zt.accuracy(model, data["x_test"], data["y_test"], device)
    xr, yr = data["x_test"][: cfg.robust_n], data["y_test"][: cfg.robust_n]
    for s in cfg.noise:
        row[f"acc_noise_{s:g}"] = zt.accuracy(model, xr, yr, device, s, zt.spec_seed(spec, "noise"))
    row.update(zt.probe(model, data["x_test"][: cfg.probe_n].to(device), cfg))
    if out is not None:
        pt, js = _paths(out, spec)
        with atomic_path(pt) as tmp:
            torch.save(res["state"], tmp)
        write_json(js, {**row, "params": cfg.model_params()})  # last: marks it done
    return row


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def train_zoo(
    config: ZooConfig | None = None,
    *,
    out: str | Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ZooResult:
    """Train the zoo, probe every model, and analyse (see the module docstring).

    Parameters
    ----------
    config : ZooConfig, optional
        The experiment; default :class:`ZooConfig()`.
    out : path, optional
        Run directory. Each model is written to ``out/models/NAME.pt`` (its
        state_dict) and ``NAME.json`` (its row and parameters) as soon as it is done;
        a re-run skips every stored model (resume). ``out/zoo.csv``, ``out/zoo.json``
        and ``out/config.json`` hold the result.
    progress : callable, optional
        Called with (model name, models done, models in all) before each model.

    Returns
    -------
    ZooResult

    References
    ----------
    Vock & Meisel, "Critical dynamics governs deep learning", arXiv 2507.08527 (2025);
    Xiao, Rasul & Vollgraf, "Fashion-MNIST", arXiv 1708.07747 (2017).
    """
    import pandas as pd

    from crackle.experiments._zoo_analysis import analyse

    cfg = ZooConfig() if config is None else config
    if not isinstance(cfg, ZooConfig):
        raise param_error("config", _FUNC, "a ZooConfig", cfg)
    run = None if out is None else RunDir.create(out)
    device = _device(cfg.device)
    specs = cfg.specs()
    with torch_threads(cfg.num_threads):
        data = _zoo_data(cfg)
        rows = []
        for i, spec in enumerate(specs):
            if progress is not None:
                progress(spec.name, i, len(specs))
            rows.append(_model_row(spec, cfg, data, device, None if run is None else run.path))
    df = pd.DataFrame(rows)
    corr, history, robust, notes = analyse(df, cfg)
    result = ZooResult(cfg, df, corr, history, robust, notes)
    if run is not None:
        run.write_config({"experiment": "zoo", **cfg.to_dict()})
        with atomic_path(run.path / "zoo.csv") as tmp:
            df.to_csv(tmp, index=False)
        write_json(run.path / "zoo.json", result.to_dict())
    return result


def _zoo_data(cfg: ZooConfig) -> dict[str, Any]:
    from crackle.experiments import _zoo_train as zt

    return zt.load_data(cfg)

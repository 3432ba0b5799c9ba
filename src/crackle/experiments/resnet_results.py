"""Configuration and results of the ResNet crackling experiment (see
:mod:`crackle.experiments.resnet`); numpy only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.stats.crackling import CracklingReport

__all__ = [
    "GRAINS",
    "NORMALISATIONS",
    "SIGNALS",
    "SIZE_DEFINITIONS",
    "ExponentRow",
    "ResNetConfig",
    "ResNetResult",
]

_FUNC = "resnet_crackling"
DEPTHS = (18, 34, 50)
#: Where the signal is read: every operation a layer, or the blocks.
GRAINS = ("layers", "blocks")
#: What is read: the norm of a layer's output, or of its change under a perturbation.
SIGNALS = ("activity", "difference")
#: Avalanche size: the sum of the normalised signal over the avalanche (Ghavasieh et
#: al.'s accumulated signal strength), or of its excess over the threshold.
SIZE_DEFINITIONS = ("total", "excess")
#: Per-layer normalisation of the signal: by the layer's calibration mean mu_l, by the
#: square root of its number of entries (a root mean square), or none (the raw norm).
NORMALISATIONS = ("mean", "rms", "none")
_TRAIN, _TEST = 60_000, 10_000


def _tuple(value: Any, name: str, item: Any) -> tuple[Any, ...]:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise param_error(name, _FUNC, "a non-empty list", value)
    out = tuple(item(v) for v in value)
    if not out:
        raise param_error(name, _FUNC, "a non-empty list", value)
    if len(set(out)) != len(out):
        raise param_error(name, _FUNC, "a list without repeats", value)
    return out


@dataclass(frozen=True)
class ResNetConfig:
    """Parameters of the experiment; defaults: the run of docs/resnet.md (under 30
    minutes on 2 CPU cores).

    Attributes
    ----------
    depths : tuple of int
        ResNet depths among 18, 34, 50 (pre-activation, :func:`crackle.nn.preact_resnet`).
    style, width : str, float
        ``"imagenet"`` (64-512 channels, 7x7 stride-2 stem and max pool) or ``"cifar"``
        widths, times ``width``.
    input_size, resize : int, str
        Fashion-MNIST images (28 x 28, grey) padded (``"pad"``) or upsampled
        (``"upsample"``) to ``input_size``, replicated to 3 channels.
    n_images : int
        Training-split images analysed (at most 60,000).
    n_perturbed : int
        Of these, the images that are also perturbed (``perturbations`` times each).
    n_calibration, n_calibration_perturbed : int
        Test-split images for the thresholds mu_l and s_l (at most 10,000), and of
        these the perturbed ones (for the difference signal).
    perturbations, eps : int, float
        Perturbations per perturbed image and their size relative to the image's norm.
    ks : tuple of float
        Threshold levels: theta_l = mu_l + k s_l.
    grains, signals, sizes : tuple of str
        Observables: every combination of a grain (:data:`GRAINS`), a signal
        (:data:`SIGNALS`) and a size definition (:data:`SIZE_DEFINITIONS`).
    normalise : str
        Per-layer normalisation of the signal (:data:`NORMALISATIONS`); durations do not
        depend on it (it scales signal and threshold alike), sizes and shapes do.
    batch_norm : str
        ``"batch"``: batch statistics of each batch of unperturbed images (a freshly
        built network); ``"running"``: eval mode (identity at initialisation).
    batch_size, seed, device, threads : int, int, str, int
        Images per forward pass; the seed of the initialisation, the image choice and
        the perturbations; where the networks run; torch CPU threads.
    n_boot, min_tail_fraction : int, float
        Bootstrap replicates of the goodness of fit per window, and the smallest share
        of the avalanches a fitted tail must keep (``crackling_report``).
    """

    depths: tuple[int, ...] = DEPTHS
    style: str = "imagenet"
    width: float = 1.0
    input_size: int = 28
    resize: str = "pad"
    n_images: int = 4_000
    n_perturbed: int = 400
    n_calibration: int = 1_000
    n_calibration_perturbed: int = 100
    perturbations: int = 8
    eps: float = 0.01
    ks: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 2.5)
    grains: tuple[str, ...] = GRAINS
    signals: tuple[str, ...] = SIGNALS
    sizes: tuple[str, ...] = SIZE_DEFINITIONS
    normalise: str = "mean"
    batch_norm: str = "batch"
    batch_size: int = 128
    seed: int = 0
    device: str = "cpu"
    threads: int = 2
    n_boot: int = 20
    min_tail_fraction: float = 0.1

    def __post_init__(self) -> None:
        f = _FUNC
        depths = _tuple(self.depths, "depths", lambda d: check_int(d, "depths", f))
        for d in depths:
            if d not in DEPTHS:
                raise param_error("depths", f, "depths among 18, 34, 50", self.depths)
        object.__setattr__(self, "depths", depths)
        check_choice(self.style, "style", f, ("imagenet", "cifar"))
        check_real(self.width, "width", f, low=0.0, low_open=True)
        check_int(self.input_size, "input_size", f, low=28)
        check_choice(self.resize, "resize", f, ("pad", "upsample"))
        check_int(self.n_images, "n_images", f, low=2, high=_TRAIN)
        check_int(self.n_perturbed, "n_perturbed", f, low=0, high=self.n_images)
        check_int(self.n_calibration, "n_calibration", f, low=2, high=_TEST)
        check_int(
            self.n_calibration_perturbed,
            "n_calibration_perturbed",
            f,
            low=0,
            high=self.n_calibration,
        )
        check_int(self.perturbations, "perturbations", f, low=0)
        check_real(self.eps, "eps", f, low=0.0, low_open=True)
        ks = _tuple(self.ks, "ks", lambda k: float(check_real(k, "ks", f)))
        object.__setattr__(self, "ks", ks)
        for name, allowed in (
            ("grains", GRAINS),
            ("signals", SIGNALS),
            ("sizes", SIZE_DEFINITIONS),
        ):
            vals = _tuple(
                getattr(self, name), name, lambda v, n=name, a=allowed: check_choice(v, n, f, a)
            )
            object.__setattr__(self, name, vals)
        if "difference" in self.signals:
            needs = {
                "perturbations": self.perturbations,
                "n_perturbed": self.n_perturbed,
                "n_calibration_perturbed": self.n_calibration_perturbed,
            }
            for name, value in needs.items():
                if value < 2 if name == "n_calibration_perturbed" else value < 1:
                    raise param_error(
                        name,
                        f,
                        "positive (at least 2 calibration images) when the "
                        "'difference' signal is measured",
                        value,
                    )
        check_choice(self.normalise, "normalise", f, NORMALISATIONS)
        check_choice(self.batch_norm, "batch_norm", f, ("batch", "running"))
        check_int(self.batch_size, "batch_size", f, low=2 if self.batch_norm == "batch" else 1)
        check_int(self.seed, "seed", f, low=0)
        if not isinstance(self.device, str) or not self.device:
            raise param_error("device", f, "a device name such as 'cpu' or 'cuda'", self.device)
        check_int(self.threads, "threads", f, low=1)
        check_int(self.n_boot, "n_boot", f, low=0)
        check_real(self.min_tail_fraction, "min_tail_fraction", f, low=0.0, high=1.0)

    @classmethod
    def paper_scale(cls, **overrides: Any) -> ResNetConfig:
        """Closer to Ghavasieh et al.'s run, for a GPU: 224 x 224 inputs (upsampled),
        every training image, every test image for the thresholds, 16 perturbations of
        20,000 images (320,000 difference trajectories), integer and half-integer k."""
        base: dict[str, Any] = {
            "input_size": 224,
            "resize": "upsample",
            "n_images": _TRAIN,
            "n_perturbed": 20_000,
            "n_calibration": _TEST,
            "n_calibration_perturbed": 4_000,
            "perturbations": 16,
            "batch_size": 128,
            "device": "cuda",
            "n_boot": 100,
        }
        base.update(overrides)
        return cls(**base)

    def observables(self) -> list[tuple[str, str, str]]:
        """(grain, signal, sizes) of every observable, in table order."""
        return [(g, s, z) for g in self.grains for s in self.signals for z in self.sizes]

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in ("depths", "ks", "grains", "signals", "sizes"):
            out[k] = list(out[k])
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResNetConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise param_error("config", "ResNetConfig.from_dict", "known keys", unknown)
        kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kw)


#: Numbers of a row, in ``to_dict`` order (each exponent with its statistical and
#: systematic error).
ROW_NUMBERS = (
    "n",
    "n_censored",
    "n_empty",
    "tau",
    "tau_err",
    "tau_sys",
    "alpha",
    "alpha_err",
    "alpha_sys",
    "inv_snz_fitted",
    "inv_snz_fitted_err",
    "inv_snz_fitted_sys",
    "inv_snz_predicted",
    "inv_snz_predicted_err",
    "inv_snz_predicted_sys",
    "inv_snz_collapse",
    "inv_snz_collapse_err",
    "inv_snz_collapse_sys",
    "scaling_mismatch",
    "dcc_err",
)


@dataclass(frozen=True)
class ExponentRow:
    """The crackling battery on one model, observable and threshold level k.

    ``report`` (not serialised) is the full :class:`~crackle.CracklingReport` when the
    row was computed in this process; ``note`` says why a report could not be made.
    """

    model: str
    grain: str
    signal: str
    sizes: str
    k: float
    n_layers: int
    n: int
    n_censored: int
    n_empty: int
    tau: float = math.nan
    tau_err: float = math.nan
    tau_sys: float = math.nan
    alpha: float = math.nan
    alpha_err: float = math.nan
    alpha_sys: float = math.nan
    inv_snz_fitted: float = math.nan
    inv_snz_fitted_err: float = math.nan
    inv_snz_fitted_sys: float = math.nan
    inv_snz_predicted: float = math.nan
    inv_snz_predicted_err: float = math.nan
    inv_snz_predicted_sys: float = math.nan
    inv_snz_collapse: float = math.nan
    inv_snz_collapse_err: float = math.nan
    inv_snz_collapse_sys: float = math.nan
    scaling_mismatch: float = math.nan
    dcc_err: float = math.nan
    nearest_class: str = ""
    verdict: str = "inconclusive"
    reasons: tuple[str, ...] = ()
    note: str = ""
    report: CracklingReport | None = field(default=None, repr=False, compare=False)

    @property
    def observable(self) -> str:
        return f"{self.grain}/{self.signal}/{self.sizes}"

    @classmethod
    def from_report(cls, key: dict[str, Any], n_layers: int, rep: CracklingReport) -> ExponentRow:
        nums: dict[str, Any] = {
            k: int(v) if k in ("n", "n_censored", "n_empty") else float(v)
            for k, v in ((k, getattr(rep, k)) for k in ROW_NUMBERS)
        }
        return cls(
            **key,
            n_layers=n_layers,
            **nums,
            nearest_class="" if rep.nearest is None else rep.nearest.name,
            verdict=rep.verdict.outcome,
            reasons=tuple(rep.verdict.reasons),
            note="; ".join(rep.notes),
            report=rep,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "report":
                continue
            v = getattr(self, f.name)
            if isinstance(v, float) and not np.isfinite(v):
                v = None
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExponentRow:
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "report" or f.name not in d:
                continue
            v = d[f.name]
            if v is None:
                v = math.nan
            kw[f.name] = tuple(v) if isinstance(v, list) else v
        return cls(**kw)


@dataclass(frozen=True)
class ResNetResult:
    """Exponents of three ResNets at initialisation against the threshold level k.

    Attributes
    ----------
    config : ResNetConfig
    rows : tuple of ExponentRow
        One per (model, observable, k).
    layers : dict
        ``{model: {grain: number of layers}}``.
    seconds : dict
        Wall-clock seconds: ``{model: seconds of forward passes}`` and ``"analysis"``.
    notes : tuple of str
    """

    config: ResNetConfig
    rows: tuple[ExponentRow, ...]
    layers: dict[str, dict[str, int]]
    seconds: dict[str, float]
    notes: tuple[str, ...] = ()

    def table(self) -> Any:
        """A tidy pandas DataFrame, one row per (model, observable, k)."""
        import pandas as pd

        return pd.DataFrame([{**r.to_dict(), "observable": r.observable} for r in self.rows])

    def select(self, **where: Any) -> list[ExponentRow]:
        """The rows whose attributes equal ``where`` (``model="resnet18", k=1.0``...)."""
        return [r for r in self.rows if all(getattr(r, k) == v for k, v in where.items())]

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": "resnet",
            "config": self.config.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            "layers": {m: dict(g) for m, g in self.layers.items()},
            "seconds": dict(self.seconds),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ResNetResult:
        """Read back what :meth:`to_dict` wrote (the rows without their full reports)."""
        return cls(
            ResNetConfig.from_dict(d["config"]),
            tuple(ExponentRow.from_dict(r) for r in d["rows"]),
            {m: dict(g) for m, g in d["layers"].items()},
            dict(d["seconds"]),
            tuple(d.get("notes", ())),
        )

    def plot(self, observables: list[str] | None = None) -> Any:
        """Exponents against k with their errors (statistical and systematic in
        quadrature), one row of panels per observable (tau, alpha, fitted
        1/(sigma nu z)), mean-field directed percolation as dotted lines."""
        from crackle.report.resnet_figures import resnet_figure

        return resnet_figure(self, observables)

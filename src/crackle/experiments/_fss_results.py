"""Results and configuration of the finite-size-scaling experiment (see
:mod:`crackle.experiments.fss`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.events.avalanches import Avalanches
from crackle.stats.crackling import CracklingReport
from crackle.stats.finite_size import FiniteSizeExtrapolation, Straightness
from crackle.stats.powerlaw import PowerLawFit
from crackle.stats.scaling import ScalingFit
from crackle.stats.universality import ClassMatch

__all__ = ["EXPONENTS", "FSSConfig", "FSSResult", "ScanPoint", "WidthResult"]

_FUNC = "finite_size_scaling"
#: Exponents extrapolated to N -> infinity (keys of ``FSSResult.extrapolations``).
EXPONENTS = (
    "tau",
    "tau_total",
    "alpha",
    "inv_snz_fitted",
    "inv_snz_total",
    "inv_snz_collapse",
)


@dataclass(frozen=True)
class FSSConfig:
    """Parameters of the experiment (defaults: the configuration documented in
    docs/fss.md, under 30 minutes on 2 CPU cores)."""

    widths: tuple[int, ...] = (50, 100, 200, 400, 800)
    depth: int = 400
    offsets: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
    n_avalanches: int = 1_000_000
    n_scan: int = 100_000
    q0: float = 1e-3
    sigma_b2: float = 0.0
    activation: str = "tanh"
    method: str = "marginal"
    resample_every: int = 1024
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    min_tail_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not self.widths:
            raise param_error("widths", _FUNC, "a non-empty list of widths", self.widths)
        for w in self.widths:
            check_int(w, "widths", _FUNC, low=2)
        if len(set(self.widths)) != len(self.widths):
            raise param_error("widths", _FUNC, "distinct widths", self.widths)
        if not self.offsets:
            raise param_error("offsets", _FUNC, "a non-empty list of offsets c", self.offsets)
        for c in self.offsets:
            check_real(c, "offsets", _FUNC, low=-1.0, low_open=True)
        check_int(self.depth, "depth", _FUNC, low=2)
        check_int(self.n_avalanches, "n_avalanches", _FUNC, low=100)
        check_int(self.n_scan, "n_scan", _FUNC, low=100)
        check_real(self.q0, "q0", _FUNC, low=0.0, low_open=True)
        check_real(self.sigma_b2, "sigma_b2", _FUNC, low=0.0)
        from crackle.sim.gaussian import METHODS  # torch, only when a config is made

        check_choice(self.method, "method", _FUNC, METHODS)
        check_int(self.resample_every, "resample_every", _FUNC, low=1)
        check_int(self.seed, "seed", _FUNC, low=0)
        check_real(self.min_tail_fraction, "min_tail_fraction", _FUNC, low=0.0, high=1.0)

    def sigma_w2(self, width: int, offset: float) -> float:
        """sigma_w^2 = 1 + c / N."""
        return 1.0 + offset / width

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["widths"], out["offsets"] = list(self.widths), list(self.offsets)
        return out


@dataclass(frozen=True)
class ScanPoint:
    """One sigma_w^2 of the scan at one width: counts and the duration straightness."""

    width: int
    offset: float
    sigma_w2: float
    n: int
    n_censored: int
    n_empty: int
    durations: Straightness

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("width", "offset", "sigma_w2", "n")}
        out.update(n_censored=self.n_censored, n_empty=self.n_empty)
        out["durations_straightness"] = self.durations.to_dict()
        return out


@dataclass(frozen=True)
class WidthResult:
    """The crackling battery at one width, at the straightest sigma_w^2.

    ``report`` is the crackling report of the excess avalanches: size
    S - q0 T = sum over the avalanche of (q^l - q0), profile q^l - q0 (the area
    between the signal and the threshold; tau = 4/3 and 1/(sigma nu z) = 3/2 for an
    unbiased random walk of q). ``total_fit`` and ``total_scaling`` fit the total size
    S = sum of q^l (SCIENCE.md's definition) and <S>(T) over the same durations.
    """

    width: int
    offset: float
    sigma_w2: float
    scan: tuple[ScanPoint, ...]
    report: CracklingReport = field(repr=False)
    total_fit: PowerLawFit = field(repr=False)
    total_scaling: ScalingFit | None = field(repr=False)
    avalanches: Avalanches = field(repr=False)

    def exponent(self, name: str) -> tuple[float, float]:
        """(value, standard error) of one of ``EXPONENTS``."""
        r, ts = self.report, self.total_scaling
        return {
            "tau": (r.tau, r.tau_err),
            "tau_total": (self.total_fit.alpha, self.total_fit.sigma),
            "alpha": (r.alpha, r.alpha_err),
            "inv_snz_fitted": (r.inv_snz_fitted, r.inv_snz_fitted_err),
            "inv_snz_total": (ts.exponent, ts.stderr) if ts else (float("nan"), float("nan")),
            "inv_snz_collapse": (r.inv_snz_collapse, r.inv_snz_collapse_err),
        }[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "offset": self.offset,
            "sigma_w2": self.sigma_w2,
            "exponents": {
                k: dict(zip(("value", "err"), self.exponent(k), strict=True)) for k in EXPONENTS
            },
            "scan": [p.to_dict() for p in self.scan],
            "report": self.report.to_dict(),
            "total_size_fit": self.total_fit.to_dict(),
            "total_size_duration": None
            if self.total_scaling is None
            else self.total_scaling.to_dict(),
        }


@dataclass(frozen=True)
class FSSResult:
    """Per-width results, exponents extrapolated to N -> infinity, the nearest class."""

    config: FSSConfig
    widths: tuple[WidthResult, ...]
    extrapolations: dict[str, FiniteSizeExtrapolation]
    nearest: ClassMatch | None
    notes: tuple[str, ...]

    def table(self) -> list[dict[str, float]]:
        """One row per width (and one for N -> infinity): the exponents and errors."""
        rows: list[dict[str, float]] = []
        for w in self.widths:
            row: dict[str, float] = {"width": w.width, "sigma_w2": w.sigma_w2}
            for k in EXPONENTS:
                row[k], row[k + "_err"] = w.exponent(k)
            rows.append(row)
        inf: dict[str, float] = {"width": float("inf"), "sigma_w2": 1.0}
        for k in EXPONENTS:
            e = self.extrapolations.get(k)
            inf[k], inf[k + "_err"] = (e.intercept, e.intercept_err) if e else (np.nan, np.nan)
        rows.append(inf)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "widths": [w.to_dict() for w in self.widths],
            "extrapolations": {k: v.to_dict() for k, v in self.extrapolations.items()},
            "nearest_class": None if self.nearest is None else self.nearest.to_dict(),
            "notes": list(self.notes),
        }

    def plot(self, fig: Any = None) -> Any:
        """The seed-002 Fig. 2 layout: P(S), P(T), <S>(T), exponents against 1/N,
        the scan, the collapse of the largest width."""
        from crackle.report.fss_figures import fss_figure

        return fss_figure(self, fig=fig)

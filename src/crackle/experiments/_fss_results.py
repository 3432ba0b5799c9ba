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
from crackle.stats.universality import ClassMatch

__all__ = ["EXPONENTS", "FSSConfig", "FSSResult", "ScanPoint", "WidthResult"]

_FUNC = "finite_size_scaling"
#: Exponents extrapolated to N -> infinity (keys of ``FSSResult.extrapolations``):
#: tau and 1/(sigma nu z) fitted from <S>(T) for both size definitions (excess
#: S = N sum (q^l - q0), total S = N sum q^l), alpha, and 1/(sigma nu z) from the
#: collapse of the profiles of the configuration's size definition.
EXPONENTS = (
    "tau_excess",
    "tau_total",
    "alpha",
    "inv_snz_excess",
    "inv_snz_total",
    "inv_snz_collapse",
)
# Where each exponent is read: which report (the configuration's size definition,
# "own", or the other one) and which of its fields.
_SOURCES = {
    "alpha": ("own", "alpha"),
    "inv_snz_collapse": ("own", "inv_snz_collapse"),
}


def _source(name: str, sizes: str) -> tuple[str, str]:
    if name in _SOURCES:
        return _SOURCES[name]
    kind, definition = name.rsplit("_", 1)
    field_name = "tau" if kind == "tau" else "inv_snz_fitted"
    return ("own" if definition == sizes else "other"), field_name


def report_exponent(rep: CracklingReport, field_name: str) -> tuple[float, float, float]:
    """(value, statistical error, systematic error from the fitting window) of one of a
    crackling report's exponents; the systematic error is 0 for reports that have none."""
    return (
        float(getattr(rep, field_name)),
        float(getattr(rep, field_name + "_err")),
        float(getattr(rep, field_name + "_sys", 0.0)),
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
    sizes: str = "excess"
    offset_tolerance: float = 0.2

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
        # torch, only when a config is made
        from crackle.sim.gaussian import METHODS, SIZE_DEFINITIONS

        check_choice(self.method, "method", _FUNC, METHODS)
        check_choice(self.sizes, "sizes", _FUNC, tuple(SIZE_DEFINITIONS))
        check_real(self.offset_tolerance, "offset_tolerance", _FUNC, low=0.0)
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

    def run_config(self) -> dict[str, Any]:
        """What a run directory's config.json records: the parameters and the unit of
        the sizes, so that a run of an earlier version (sizes without the width factor
        N) or of the other definition is refused, not resumed."""
        from crackle.sim.gaussian import SIZE_DEFINITIONS

        return {
            "experiment": "fss",
            **self.to_dict(),
            "size_definition": SIZE_DEFINITIONS[self.sizes],
        }


@dataclass(frozen=True)
class ScanPoint:
    """One sigma_w^2 of the scan at one width: counts, the duration straightness and,
    for the offsets on the plateau (straightness rms within ``offset_tolerance`` of the
    best), the exponents measured on the scan's own avalanches (empty elsewhere)."""

    width: int
    offset: float
    sigma_w2: float
    n: int
    n_censored: int
    n_empty: int
    durations: Straightness
    plateau: bool = False
    exponents: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("width", "offset", "sigma_w2", "n")}
        out.update(n_censored=self.n_censored, n_empty=self.n_empty)
        out["durations_straightness"] = self.durations.to_dict()
        out["plateau"] = self.plateau
        out["exponents"] = {k: _finite(v) for k, v in self.exponents.items()}
        return out


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


@dataclass(frozen=True)
class WidthResult:
    """The crackling battery at one width, at the straightest sigma_w^2.

    ``report`` is the crackling report of the avalanches in the configuration's size
    definition (``sizes``): excess S = N sum over the avalanche of (q^l - q0), profile
    N (q^l - q0) (the area between the signal and the threshold; tau = 4/3 and
    1/(sigma nu z) = 3/2 for an unbiased random walk of q), or total S = N sum q^l,
    profile N q^l (Ghavasieh et al.'s accumulated signal strength). ``other_report``
    fits the other definition's sizes over the same avalanches (no shapes, no collapse).
    ``offset_sys`` holds, per exponent, the systematic error from the choice of
    sigma_w^2: half the spread of the exponent over the scan's plateau offsets.
    """

    width: int
    offset: float
    sigma_w2: float
    scan: tuple[ScanPoint, ...]
    report: CracklingReport = field(repr=False)
    other_report: CracklingReport = field(repr=False)
    avalanches: Avalanches = field(repr=False)
    sizes: str = "excess"
    offset_sys: dict[str, float] = field(default_factory=dict)
    q0: float = 1e-3

    def _report(self, which: str) -> CracklingReport:
        return self.report if which == "own" else self.other_report

    def exponent(self, name: str) -> tuple[float, float]:
        """(value, statistical error) of one of ``EXPONENTS``."""
        which, field_name = _source(name, self.sizes)
        v, err, _ = report_exponent(self._report(which), field_name)
        return v, err

    def systematic(self, name: str) -> tuple[float, float]:
        """(from the fitting window, from the choice of sigma_w^2) systematic errors of
        one of ``EXPONENTS``; NaN in the report's counts as 0."""
        which, field_name = _source(name, self.sizes)
        window = report_exponent(self._report(which), field_name)[2]
        window = window if np.isfinite(window) else 0.0
        return window, float(self.offset_sys.get(name, 0.0))

    def sys(self, name: str) -> float:
        """The systematic error of one of ``EXPONENTS``: both parts in quadrature."""
        return float(np.hypot(*self.systematic(name)))

    def sizes_of(self, definition: str) -> np.ndarray:
        """The complete avalanches' sizes in either definition (the other one from
        total = excess + N q0 T)."""
        av = self.avalanches
        if definition == self.sizes:
            return av.sizes
        shift = self.width * self.q0 * av.durations
        return av.sizes + shift if definition == "total" else av.sizes - shift

    def to_dict(self) -> dict[str, Any]:
        exps = {}
        for k in EXPONENTS:
            v, err = self.exponent(k)
            window, offset = self.systematic(k)
            exps[k] = {
                "value": v,
                "err": err,
                "sys": self.sys(k),
                "sys_window": window,
                "sys_offset": offset,
            }
        return {
            "width": self.width,
            "offset": self.offset,
            "sigma_w2": self.sigma_w2,
            "sizes": self.sizes,
            "exponents": exps,
            "offset_sys": {k: float(v) for k, v in self.offset_sys.items()},
            "scan": [p.to_dict() for p in self.scan],
            "report": self.report.to_dict(),
            "other_report": self.other_report.to_dict(),
        }


@dataclass(frozen=True)
class FSSResult:
    """Per-width results, exponents extrapolated to N -> infinity (value, statistical
    and systematic error, chi^2/dof of the 1/N fit), the nearest class, and notes (a
    poor 1/N fit, a width whose plateau holds one offset)."""

    config: FSSConfig
    widths: tuple[WidthResult, ...]
    extrapolations: dict[str, FiniteSizeExtrapolation]
    nearest: ClassMatch | None
    notes: tuple[str, ...]

    def table(self) -> list[dict[str, float]]:
        """One row per width (and one for N -> infinity): each exponent with its
        statistical (``_err``) and systematic (``_sys``) error, and at N -> infinity the
        1/N fit's chi^2/dof (``_chi2_dof``)."""
        rows: list[dict[str, float]] = []
        for w in self.widths:
            row: dict[str, float] = {"width": w.width, "sigma_w2": w.sigma_w2}
            for k in EXPONENTS:
                row[k], row[k + "_err"] = w.exponent(k)
                row[k + "_sys"] = w.sys(k)
            rows.append(row)
        inf: dict[str, float] = {"width": float("inf"), "sigma_w2": 1.0}
        nan = float("nan")
        for k in EXPONENTS:
            e = self.extrapolations.get(k)
            inf[k], inf[k + "_err"], inf[k + "_sys"], inf[k + "_chi2_dof"] = (
                (e.intercept, e.intercept_err, e.intercept_sys, e.chi2_dof)
                if e
                else (nan, nan, nan, nan)
            )
        rows.append(inf)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "table": [{k: _finite(v) for k, v in row.items()} for row in self.table()],
            "widths": [w.to_dict() for w in self.widths],
            "extrapolations": {k: v.to_dict() for k, v in self.extrapolations.items()},
            "nearest_class": None if self.nearest is None else self.nearest.to_dict(),
            "notes": list(self.notes),
        }

    def plot(self, fig: Any = None) -> Any:
        """The layout of Ghavasieh et al. 2025 (arXiv 2509.22649), Fig. 2: P(S), P(T),
        <S>(T), exponents against 1/N, the scan, the collapse of the largest width."""
        from crackle.report.fss_figures import fss_figure

        return fss_figure(self, fig=fig)

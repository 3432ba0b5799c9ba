"""The crackling report's result object (private; public as ``crackle.CracklingReport``):
every number with its errors, the verdict, the fits and scans, and their renderings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crackle.stats.collapse import CollapseResult
from crackle.stats.powerlaw import PowerLawFit
from crackle.stats.scaling import ScalingFit
from crackle.stats.universality import ClassMatch
from crackle.stats.verdict import PowerLawVerdict, Verdict
from crackle.stats.windows import WindowScan

#: The exponents of a report with their statistical errors, in the order tables and
#: JSON list them.
EXPONENT_FIELDS = (
    "tau",
    "tau_err",
    "alpha",
    "alpha_err",
    "inv_snz_fitted",
    "inv_snz_fitted_err",
    "inv_snz_predicted",
    "inv_snz_predicted_err",
    "inv_snz_collapse",
    "inv_snz_collapse_err",
)
#: Their systematic errors (spread over the fitting windows).
SYSTEMATIC_FIELDS = (
    "tau_sys",
    "alpha_sys",
    "inv_snz_fitted_sys",
    "inv_snz_predicted_sys",
    "inv_snz_collapse_sys",
)


def _pm(v: float, e: float, s: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    sys = f" ± {s:.3f} sys" if np.isfinite(s) else ""
    return f"{v:.3f} ± {e:.3f}{sys}"


@dataclass(frozen=True)
class CracklingReport:
    """Everything the crackling-noise battery says about a set of avalanches.

    Attributes
    ----------
    tau, alpha : float
        Size and duration exponents, P(S) ~ S^-tau, P(T) ~ T^-alpha (maximum
        likelihood over the chosen window, see ``size_fit``/``duration_fit``);
        ``*_err`` statistical errors, ``*_sys`` systematic errors (half the spread of the
        exponent over the stable fitting windows, see ``size_scan``/``duration_scan``).
    inv_snz_fitted : float
        1/(sigma nu z), the slope of <S>(T) from the stable T_min on.
    inv_snz_predicted : float
        (alpha - 1)/(tau - 1), what the scaling relation predicts.
    inv_snz_collapse : float
        The shape-collapse exponent (NaN when no collapse was possible).
    scaling_mismatch : float
        inv_snz_fitted - inv_snz_predicted.
    dcc, dcc_err : float
        The deviation from criticality coefficient |scaling_mismatch| (Ma et al.
        2019) and its combined error.
    collapse_mismatch : float
        inv_snz_collapse - inv_snz_predicted.
    nearest : ClassMatch or None
        The nearest universality class (None when no exponent could be fitted).
    verdict : Verdict
        Critical, not critical or inconclusive, with the reasons.
    sizes_verdict, durations_verdict : PowerLawVerdict or None
        Whether each distribution is a power law, over which window.
    size_xmax, duration_xmax : float or None
        Upper ends of the fits (from the censored avalanches unless given).
    notes : tuple of str
        What was skipped or is doubtful, in words.
    """

    n: int
    n_censored: int
    n_empty: int
    tau: float
    tau_err: float
    tau_sys: float
    alpha: float
    alpha_err: float
    alpha_sys: float
    inv_snz_fitted: float
    inv_snz_fitted_err: float
    inv_snz_fitted_sys: float
    inv_snz_predicted: float
    inv_snz_predicted_err: float
    inv_snz_predicted_sys: float
    inv_snz_collapse: float
    inv_snz_collapse_err: float
    inv_snz_collapse_sys: float
    scaling_mismatch: float
    dcc: float
    dcc_err: float
    collapse_mismatch: float
    nearest: ClassMatch | None
    verdict: Verdict
    sizes_verdict: PowerLawVerdict | None
    durations_verdict: PowerLawVerdict | None
    size_xmax: float | None
    duration_xmax: float | None
    notes: tuple[str, ...]
    size_fit: PowerLawFit | None = field(repr=False)
    duration_fit: PowerLawFit | None = field(repr=False)
    scaling: ScalingFit | None = field(repr=False)
    collapse: CollapseResult | None = field(repr=False)
    size_scan: WindowScan | None = field(repr=False, default=None)
    duration_scan: WindowScan | None = field(repr=False, default=None)
    scaling_scan: WindowScan | None = field(repr=False, default=None)

    @property
    def critical(self) -> bool:
        """``verdict.outcome == "critical"``."""
        return self.verdict.outcome == "critical"

    def summary(self) -> list[tuple[str, str, str]]:
        """Rows (quantity, value, comment) for a printed table."""

        def window(fit: PowerLawFit | None, v: PowerLawVerdict | None) -> str:
            if fit is None or v is None:
                return "not fitted"
            top = "" if fit.xmax is None else f"–{fit.xmax:g}"
            return f"x = {fit.xmin:g}{top}, n = {fit.n_tail}; {v.reason}"

        nearest = (
            "n/a"
            if self.nearest is None
            else ("none" if not self.nearest.consistent else self.nearest.name.split(" / ")[0])
        )
        near_note = (
            ""
            if self.nearest is None
            else f"closest: {self.nearest.name.split(' / ')[0]}, distance "
            f"{self.nearest.distance:.2f}"
            + ("" if self.nearest.consistent else " (no class consistent)")
        )
        return [
            ("avalanches", f"{self.n}", f"{self.n_censored} censored, {self.n_empty} empty"),
            (
                "τ (sizes)",
                _pm(self.tau, self.tau_err, self.tau_sys),
                window(self.size_fit, self.sizes_verdict),
            ),
            (
                "α (durations)",
                _pm(self.alpha, self.alpha_err, self.alpha_sys),
                window(self.duration_fit, self.durations_verdict),
            ),
            (
                "1/(σνz) fitted",
                _pm(self.inv_snz_fitted, self.inv_snz_fitted_err, self.inv_snz_fitted_sys),
                "<S>(T) slope"
                + (
                    "" if self.scaling is None else f", T = {self.scaling.tmin}–{self.scaling.tmax}"
                ),
            ),
            (
                "1/(σνz) predicted",
                _pm(self.inv_snz_predicted, self.inv_snz_predicted_err, self.inv_snz_predicted_sys),
                "(α - 1)/(τ - 1)",
            ),
            (
                "1/(σνz) collapse",
                _pm(self.inv_snz_collapse, self.inv_snz_collapse_err, self.inv_snz_collapse_sys),
                "shape collapse",
            ),
            (
                "DCC",
                "n/a" if not np.isfinite(self.dcc) else f"{self.dcc:.3f} ± {self.dcc_err:.3f}",
                "|fitted - predicted| (Ma et al. 2019)",
            ),
            ("nearest class", nearest, near_note),
            ("verdict", self.verdict.outcome, "; ".join(self.verdict.reasons)),
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: every number, the verdict with its checks, the fits and
        the window scans."""
        keys: tuple[str, ...] = ("n", "n_censored", "n_empty", *EXPONENT_FIELDS)
        keys += (*SYSTEMATIC_FIELDS, "scaling_mismatch", "dcc", "dcc_err", "collapse_mismatch")
        keys += ("size_xmax", "duration_xmax")
        out: dict[str, Any] = {k: getattr(self, k) for k in keys}
        out = {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()
        }
        out["critical"] = self.critical
        out["verdict"] = self.verdict.to_dict()
        out["notes"] = list(self.notes)
        for name in (
            "nearest",
            "sizes_verdict",
            "durations_verdict",
            "size_fit",
            "duration_fit",
            "scaling",
            "collapse",
            "size_scan",
            "duration_scan",
            "scaling_scan",
        ):
            obj = getattr(self, name)
            out["nearest_class" if name == "nearest" else name] = (
                None if obj is None else obj.to_dict()
            )
        return out

    def _repr_html_(self) -> str:
        """The verdict and the exponents as value ± stat ± sys (Jupyter's display)."""
        from crackle._display import repr_html

        d = self.to_dict()
        d["outcome"] = self.verdict.outcome
        if self.nearest is not None:
            d["nearest"] = self.nearest.name + (
                "" if self.nearest.consistent else " (not consistent)"
            )
        fields: list[Any] = ["outcome", "n"]
        for key in ("tau", "alpha", "inv_snz_fitted", "inv_snz_predicted", "inv_snz_collapse"):
            fields.append((key, None, key + "_err", key + "_sys"))
        fields += [
            ("dcc", None, "dcc_err", None),
            ("nearest", "nearest universality class", None, None),
        ]
        return repr_html(
            self, "crackling report", fields, data=d, note="; ".join(self.verdict.reasons)
        )

    def plot(self, fig: Any = None) -> Any:
        """A 3 x 2 summary figure: distribution and CCDF of the sizes and of the
        durations, <S>(T), the collapse; returns the (pyplot, by default) Figure."""
        from crackle.report.figures import report_figure

        return report_figure(self, fig=fig)

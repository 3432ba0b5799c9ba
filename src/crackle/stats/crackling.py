"""The crackling-noise battery in one call: exponents, scaling relation, collapse, class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crackle._validation import check_real, param_error
from crackle.events.avalanches import Avalanches
from crackle.stats.collapse import CollapseResult, shape_collapse
from crackle.stats.powerlaw import PowerLawFit, fit_power_law
from crackle.stats.scaling import ScalingFit, fit_size_duration, predicted_exponent
from crackle.stats.universality import ClassMatch, nearest_class

__all__ = ["CracklingReport", "PowerLawVerdict", "crackling_report"]

#: The exponents of a report with their errors, in the order tables and JSON list them.
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

#: A tail must span this many decades before it is called a power law.
MIN_DECADES = 1.5


@dataclass(frozen=True)
class PowerLawVerdict:
    """Is this distribution's tail plausibly a power law?

    ``plausible`` needs the tail to span at least ``MIN_DECADES`` decades and an
    exponential not to fit significantly better (Vuong R < 0 with p < 0.1). Passing
    is necessary, not sufficient: see the bootstrap ``gof_p`` when it was computed.
    """

    plausible: bool
    decades: float
    R_exponential: float
    p_exponential: float
    R_lognormal: float
    p_lognormal: float
    gof_p: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _verdict(fit: PowerLawFit, data_max: float, n_boot: int, seed: int) -> PowerLawVerdict:
    r_exp, p_exp = fit.compare("exponential")
    r_ln, p_ln = fit.compare("lognormal")
    xmax = fit.xmax if fit.xmax is not None else data_max
    decades = float(np.log10(xmax / fit.xmin)) if xmax > fit.xmin else 0.0
    gof_p = fit.gof(n_boot=n_boot, seed=seed).p if n_boot > 0 else None
    if decades < MIN_DECADES:
        ok, reason = False, f"tail spans only {decades:.2f} decades (< {MIN_DECADES})"
    elif r_exp < 0 and p_exp < 0.1:
        ok, reason = False, f"an exponential fits better (R = {r_exp:.2f}, p = {p_exp:.2g})"
    elif gof_p is not None and gof_p < 0.1:
        ok, reason = False, f"rejected by the bootstrap goodness of fit (p = {gof_p:.2g})"
    else:
        ok, reason = True, f"power law over {decades:.2f} decades"
    return PowerLawVerdict(
        ok, decades, float(r_exp), float(p_exp), float(r_ln), float(p_ln), gof_p, reason
    )


def _drift_note(
    sizes: np.ndarray, durations: np.ndarray, scaling: ScalingFit, tmax: int | None
) -> list[str]:
    """Refit <S>(T) from twice the first duration: a slope that moves by more than its
    errors allow shows corrections to scaling at short durations."""
    try:
        upper = fit_size_duration(sizes, durations, tmin=2 * scaling.tmin, tmax=tmax)
    except ValueError:
        return []
    diff = upper.exponent - scaling.exponent
    if abs(diff) > 3 * float(np.hypot(upper.stderr, scaling.stderr)) and abs(diff) > 0.02:
        return [
            f"<S>(T) slope drifts with the range: {scaling.exponent:.3f} from T >= "
            f"{scaling.tmin}, {upper.exponent:.3f} from T >= {upper.tmin} (corrections to "
            "scaling at short durations; consider a larger tmin)"
        ]
    return []


@dataclass(frozen=True)
class CracklingReport:
    """Everything the crackling-noise battery says about a set of avalanches.

    Attributes
    ----------
    tau, alpha : float
        Size and duration exponents, P(S) ~ S^-tau, P(T) ~ T^-alpha (maximum
        likelihood, see ``size_fit`` and ``duration_fit``); ``*_err`` their errors.
    inv_snz_fitted : float
        1/(sigma nu z) from the fit of <S>(T).
    inv_snz_predicted : float
        (alpha - 1)/(tau - 1), what the scaling relation predicts.
    inv_snz_collapse : float
        The shape-collapse exponent (NaN when no collapse was possible).
    scaling_mismatch : float
        inv_snz_fitted - inv_snz_predicted: zero at criticality; its absolute value is
        the deviation from criticality coefficient (Ma et al. 2019).
    collapse_mismatch : float
        inv_snz_collapse - inv_snz_predicted.
    nearest : ClassMatch
        The nearest universality class.
    sizes_verdict, durations_verdict : PowerLawVerdict
        Whether each distribution looks like a power law at all.
    notes : tuple of str
        What was skipped or is doubtful, in words.
    """

    n: int
    n_censored: int
    n_empty: int
    tau: float
    tau_err: float
    alpha: float
    alpha_err: float
    inv_snz_fitted: float
    inv_snz_fitted_err: float
    inv_snz_predicted: float
    inv_snz_predicted_err: float
    inv_snz_collapse: float
    inv_snz_collapse_err: float
    scaling_mismatch: float
    collapse_mismatch: float
    nearest: ClassMatch
    sizes_verdict: PowerLawVerdict
    durations_verdict: PowerLawVerdict
    notes: tuple[str, ...]
    size_fit: PowerLawFit = field(repr=False)
    duration_fit: PowerLawFit = field(repr=False)
    scaling: ScalingFit | None = field(repr=False)
    collapse: CollapseResult | None = field(repr=False)

    @property
    def critical(self) -> bool:
        """Both distributions plausible power laws and the scaling relation holds
        (|mismatch| below 3 of its errors, or below 0.1 in absolute terms)."""
        err = float(np.hypot(self.inv_snz_fitted_err, self.inv_snz_predicted_err))
        holds = abs(self.scaling_mismatch) <= max(3 * err, 0.1)
        return self.sizes_verdict.plausible and self.durations_verdict.plausible and holds

    def summary(self) -> list[tuple[str, str, str]]:
        """Rows (quantity, value, comment) for a printed table."""

        def pm(v: float, e: float) -> str:
            return "n/a" if not np.isfinite(v) else f"{v:.3f} ± {e:.3f}"

        return [
            ("avalanches", f"{self.n}", f"{self.n_censored} censored, {self.n_empty} empty"),
            (
                "tau (sizes)",
                pm(self.tau, self.tau_err),
                f"xmin = {self.size_fit.xmin:g}, n_tail = {self.size_fit.n_tail}; "
                + self.sizes_verdict.reason,
            ),
            (
                "alpha (durations)",
                pm(self.alpha, self.alpha_err),
                f"xmin = {self.duration_fit.xmin:g}, n_tail = {self.duration_fit.n_tail}; "
                + self.durations_verdict.reason,
            ),
            ("1/(σνz) fitted", pm(self.inv_snz_fitted, self.inv_snz_fitted_err), "<S>(T) slope"),
            (
                "1/(σνz) predicted",
                pm(self.inv_snz_predicted, self.inv_snz_predicted_err),
                "(alpha - 1)/(tau - 1)",
            ),
            (
                "1/(σνz) collapse",
                pm(self.inv_snz_collapse, self.inv_snz_collapse_err),
                "shape collapse",
            ),
            ("scaling mismatch", f"{self.scaling_mismatch:+.3f}", "fitted - predicted"),
            (
                "nearest class",
                self.nearest.name.split(" / ")[0],
                f"distance {self.nearest.distance:.2f} "
                + ("(consistent)" if self.nearest.consistent else "(not consistent)"),
            ),
            (
                "critical?",
                "yes" if self.critical else "no",
                "power laws and the scaling relation hold"
                if self.critical
                else "see the verdicts and mismatch above",
            ),
        ]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "n",
                "n_censored",
                "n_empty",
                *EXPONENT_FIELDS,
                "scaling_mismatch",
                "collapse_mismatch",
            )
        }
        out = {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in out.items()
        }
        out["critical"] = self.critical
        out["notes"] = list(self.notes)
        out["nearest_class"] = self.nearest.to_dict()
        out["sizes_verdict"] = self.sizes_verdict.to_dict()
        out["durations_verdict"] = self.durations_verdict.to_dict()
        out["size_fit"] = self.size_fit.to_dict()
        out["duration_fit"] = self.duration_fit.to_dict()
        out["scaling"] = None if self.scaling is None else self.scaling.to_dict()
        out["collapse"] = None if self.collapse is None else self.collapse.to_dict()
        return out

    def plot(self, fig: Any = None) -> Any:
        """A 2 x 2 summary figure: both CCDFs, <S>(T), the collapse."""
        from crackle.report.figures import report_figure

        return report_figure(self, fig=fig)


def xmin_window(x: np.ndarray, fraction: float) -> tuple[float, float]:
    """The range of x_min candidates that leave at least ``fraction`` of ``x`` in the
    tail, as ``fit_power_law(..., xmin=(low, high))`` takes it."""
    return float(np.min(x)), float(np.quantile(x, 1.0 - fraction))


def crackling_report(
    av: Avalanches,
    *,
    discrete_sizes: bool | None = None,
    size_xmin: Any = "auto",
    duration_xmin: Any = "auto",
    tmin: int | None = None,
    tmax: int | None = None,
    collapse: bool = True,
    n_boot: int = 0,
    seed: int = 0,
    min_tail_fraction: float | None = None,
) -> CracklingReport:
    """Run the crackling-noise battery on a set of avalanches.

    Fits P(S) ~ S^-tau and P(T) ~ T^-alpha by maximum likelihood (x_min by minimal KS
    distance), <S>(T) ~ T^(1/(sigma nu z)) by weighted least squares, checks the
    scaling relation (alpha - 1)/(tau - 1) = 1/(sigma nu z), collapses the avalanche
    shapes, and names the nearest universality class. Censored avalanches are never
    used.

    Parameters
    ----------
    av : Avalanches
        Complete avalanches (with shape sums for the collapse).
    discrete_sizes : bool, optional
        Fit sizes as a discrete law; default: when all sizes are integers.
    size_xmin, duration_xmin : "auto", float or (lo, hi)
        Passed to :func:`fit_power_law` as ``xmin``.
    tmin, tmax : int, optional
        Durations used for <S>(T) and the collapse; default from the duration fit's
        x_min (where the power-law regime starts) to the longest duration.
    collapse : bool
        Run the shape collapse (needs ``av.shapes``).
    n_boot : int
        Bootstrap goodness-of-fit replicates per distribution (0: skip; it is costly).
    seed : int
        Seed of the bootstrap.
    min_tail_fraction : float, optional
        With ``"auto"`` x_min, scan only the candidates that leave at least this
        fraction of the avalanches in the tail (0.1 guards large samples: the minimal
        KS distance alone can prefer a steep far tail of a few hundred avalanches
        beyond a finite-size cut-off). Default: every candidate (Clauset et al.).

    Returns
    -------
    CracklingReport

    References
    ----------
    Sethna, Dahmen & Myers, Nature 410, 242 (2001); Clauset, Shalizi & Newman, SIAM
    Rev. 51, 661 (2009); Ma et al., Neuron 104, 655 (2019); Ghavasieh et al.,
    arXiv 2509.22649 (2025).

    Examples
    --------
    >>> import crackle as ck
    >>> from crackle.sim import branching_process
    >>> rep = ck.crackling_report(branching_process(m=1.0, n=100_000, seed=0))
    >>> round(rep.tau, 1), round(rep.alpha, 1)
    (1.5, 2.0)
    """
    func = "crackling_report"
    if not isinstance(av, Avalanches):
        raise param_error("av", func, "an Avalanches object", av)
    if av.n < 50:
        raise param_error(
            "av", func, "a set of at least 50 complete avalanches", f"{av.n} avalanche(s)"
        )
    notes: list[str] = []
    if av.n_censored:
        notes.append(f"{av.n_censored} censored avalanche(s) kept apart, not fitted")
    sizes, durations = av.sizes, av.durations
    if discrete_sizes is None:
        discrete_sizes = bool(np.all(sizes == np.round(sizes)))
    if min_tail_fraction is not None:
        frac = check_real(min_tail_fraction, "min_tail_fraction", func, low=0.0, high=1.0)
        if isinstance(size_xmin, str) and size_xmin == "auto":
            size_xmin = xmin_window(sizes, frac)
        if isinstance(duration_xmin, str) and duration_xmin == "auto":
            duration_xmin = xmin_window(durations, frac)
        notes.append(f"x_min searched where the tail keeps at least {frac:.0%} of the avalanches")
    size_fit = fit_power_law(sizes, discrete=discrete_sizes, xmin=size_xmin)
    duration_fit = fit_power_law(durations, discrete=True, xmin=duration_xmin)
    pred, pred_err = predicted_exponent(
        size_fit.alpha, duration_fit.alpha, size_fit.sigma, duration_fit.sigma
    )

    lo = int(np.ceil(duration_fit.xmin)) if tmin is None else int(tmin)
    scaling: ScalingFit | None
    try:
        scaling = fit_size_duration(sizes, durations, tmin=lo, tmax=tmax)
        fitted, fitted_err = scaling.exponent, scaling.stderr
    except ValueError as exc:
        scaling, fitted, fitted_err = None, float("nan"), float("nan")
        notes.append(f"<S>(T) not fitted: {exc}")
    if scaling is not None:
        notes += _drift_note(sizes, durations, scaling, tmax)

    col: CollapseResult | None = None
    g, g_err = float("nan"), float("nan")
    if collapse and av.shapes is None:
        notes.append("no shape collapse: these avalanches carry no shape sums")
    elif collapse and av.shapes is not None:
        try:
            col = shape_collapse(av, tmin=max(lo, 4), tmax=tmax)
            g, g_err = col.gamma, col.gamma_err
            if not col.success:
                notes.append(f"shape collapse: {col.message}")
        except ValueError as exc:
            notes.append(f"no shape collapse: {exc}")

    have_fit = bool(np.isfinite(fitted))
    match = nearest_class(
        tau=size_fit.alpha,
        alpha=duration_fit.alpha,
        inv_snz=fitted if have_fit else None,
        tau_err=size_fit.sigma,
        alpha_err=duration_fit.sigma,
        inv_snz_err=fitted_err if have_fit else 0.0,
    )
    return CracklingReport(
        n=av.n,
        n_censored=av.n_censored,
        n_empty=av.n_empty,
        tau=size_fit.alpha,
        tau_err=size_fit.sigma,
        alpha=duration_fit.alpha,
        alpha_err=duration_fit.sigma,
        inv_snz_fitted=fitted,
        inv_snz_fitted_err=fitted_err,
        inv_snz_predicted=pred,
        inv_snz_predicted_err=pred_err,
        inv_snz_collapse=g,
        inv_snz_collapse_err=g_err,
        scaling_mismatch=fitted - pred,
        collapse_mismatch=g - pred,
        nearest=match,
        sizes_verdict=_verdict(size_fit, float(sizes.max()), n_boot, seed),
        durations_verdict=_verdict(duration_fit, float(durations.max()), n_boot, seed + 1),
        notes=tuple(notes),
        size_fit=size_fit,
        duration_fit=duration_fit,
        scaling=scaling,
        collapse=col,
    )

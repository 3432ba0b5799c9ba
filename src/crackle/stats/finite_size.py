"""Finite-size scaling: log-log straightness of a distribution, and exponents
extrapolated to infinite width by a linear fit against 1/N (Ghavasieh et al. 2025, Fig. 2d-e)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from crackle._binning import LogBinnedDensity, log_binned_density
from crackle._validation import check_1d, check_real, param_error

__all__ = [
    "POOR_FIT_P",
    "FiniteSizeExtrapolation",
    "LogBinnedDensity",
    "Straightness",
    "extrapolate_to_infinite_size",
    "log_binned_density",
    "straightness",
]


@dataclass(frozen=True)
class Straightness:
    """How far a distribution is from a straight line on log-log axes.

    ``rms`` is the count-weighted root mean square deviation, in decades of density,
    of the log-binned density from its weighted least-squares line over
    ``[xmin, xmax]``; ``curvature`` the quadratic coefficient of a weighted quadratic
    fit in log10 x (negative: bending down, as a cut-off does; positive: bending up, as
    a supercritical excess does); ``slope`` the line's slope (about -exponent).
    """

    rms: float
    curvature: float
    slope: float
    xmin: float
    xmax: float
    n_bins: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def straightness(
    x: ArrayLike,
    *,
    xmin: float | None = None,
    discrete: bool = False,
    bins_per_decade: int = 10,
    min_count: int = 10,
) -> Straightness:
    """Straightness of the log-log distribution of ``x`` above ``xmin``.

    The paper chooses, per width, the sigma_w^2 whose distributions are straightest in
    log-log plots. crackle measures it as the weighted RMS residual of the log-binned
    density (:func:`log_binned_density`, weights = bin counts, so the noisy tail bins
    count little) around a straight line, over every bin from ``xmin`` up to the last bin
    with ``min_count`` values. A pure power law gives an rms near the noise level
    (a few 1e-3 decades at 10^5 samples); a cut-off or a bump gives much more.

    Parameters
    ----------
    x : array_like of shape (n,)
        Positive values.
    xmin : float, optional
        Lower end of the range; default the smallest value.
    discrete, bins_per_decade, min_count
        As in :func:`log_binned_density`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pl = straightness(rng.pareto(0.5, 100_000) + 1)   # exact power law
    >>> ex = straightness(rng.exponential(1.0, 100_000) + 1)
    >>> pl.rms < 0.05 < ex.rms
    True
    """
    func = "straightness"
    v = check_1d(x, "x", func, positive=True, min_size=2)
    if xmin is not None:
        lo = check_real(xmin, "xmin", func, low=0.0, low_open=True)
        v = v[v >= lo]
    d = (
        log_binned_density(
            v, bins_per_decade=bins_per_decade, min_count=min_count, discrete=discrete
        )
        if v.size >= 2
        else None
    )
    if d is None or d.centres.size < 4:
        raise param_error(
            "x",
            func,
            "spread over at least 4 logarithmic bins with min_count values each",
            f"{0 if d is None else d.centres.size} such bin(s)",
        )
    lx, ly, w = np.log10(d.centres), np.log10(d.density), d.counts.astype(float)
    line = np.polyfit(lx, ly, 1, w=np.sqrt(w))
    resid = ly - np.polyval(line, lx)
    quad = np.polyfit(lx, ly, 2, w=np.sqrt(w))
    return Straightness(
        rms=float(np.sqrt(np.sum(w * resid**2) / np.sum(w))),
        curvature=float(quad[0]),
        slope=float(line[0]),
        xmin=float(d.centres[0]),
        xmax=float(d.centres[-1]),
        n_bins=int(d.centres.size),
    )


#: A 1/N fit is called poor when a chi^2 at least this large would arise by chance in
#: fewer than this share of fits with the same degrees of freedom (p < 0.01; with five
#: widths, 3 degrees of freedom, chi^2/dof > 3.78). A p-value, not a fixed chi^2/dof,
#: because chi^2/dof scatters widely with few widths (standard deviation sqrt(2/dof),
#: 0.8 at dof = 3); 1% keeps false alarms rare while chi^2/dof of 10 (p ~ 1e-6) is
#: always flagged.
POOR_FIT_P = 0.01


@dataclass(frozen=True)
class FiniteSizeExtrapolation:
    """An exponent against 1/N and its straight-line extrapolation to N -> infinity.

    ``value = intercept + slope / N``; ``intercept`` is the infinite-size estimate,
    ``intercept_err`` its statistical and ``intercept_sys`` its systematic error (from
    ``systematic``, each size's systematic error, propagated through the fit as
    independent between sizes). Points are weighted by 1/(err^2 + sys^2) when errors
    were given; ``chi2_dof`` is computed against those variances and, when above 1,
    both errors are multiplied by ``scale`` = sqrt(chi2/dof) (never deflated).
    ``poor_fit``: the chance of so large a chi^2 (``chi2_p``) is below
    :data:`POOR_FIT_P`; the points then do not follow a + b/N within their errors
    (corrections beyond 1/N, or a wrong error estimate) and ``note`` says so.
    """

    sizes: NDArray[np.float64]
    values: NDArray[np.float64]
    errors: NDArray[np.float64] | None
    intercept: float
    intercept_err: float
    slope: float
    slope_err: float
    chi2_dof: float
    systematic: NDArray[np.float64] | None = None
    intercept_sys: float = 0.0
    slope_sys: float = 0.0
    chi2_p: float = float("nan")
    scale: float = 1.0

    @property
    def dof(self) -> int:
        """Degrees of freedom of the fit: sizes minus 2."""
        return int(self.sizes.size) - 2

    @property
    def intercept_total_err(self) -> float:
        """Statistical and systematic error combined in quadrature."""
        return float(np.hypot(self.intercept_err, self.intercept_sys))

    @property
    def poor_fit(self) -> bool:
        """Whether chi^2 is improbably large for a straight line in 1/N (p < POOR_FIT_P)."""
        return bool(np.isfinite(self.chi2_p) and self.chi2_p < POOR_FIT_P)

    @property
    def note(self) -> str:
        """A plain sentence on the fit's quality ('' when it is acceptable)."""
        if not self.poor_fit:
            return ""
        return (
            f"the 1/N fit is poor (chi^2/dof = {self.chi2_dof:.1f} with {self.dof} degrees "
            f"of freedom, p = {self.chi2_p:.1g}): the values do not follow a + b/N within "
            f"their errors; the N -> infinity errors were scaled by {self.scale:.2f}, but "
            "corrections beyond 1/N may bias the value itself"
        )

    def predict(self, n: ArrayLike) -> NDArray[np.float64]:
        """The fitted line at system sizes ``n`` (np.inf gives the intercept)."""
        return self.intercept + self.slope / np.asarray(n, dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sizes": self.sizes.tolist(),
            "values": self.values.tolist(),
            "errors": None if self.errors is None else self.errors.tolist(),
            "systematic": None if self.systematic is None else self.systematic.tolist(),
            "intercept": self.intercept,
            "intercept_err": self.intercept_err,
            "intercept_sys": self.intercept_sys,
            "slope": self.slope,
            "slope_err": self.slope_err,
            "slope_sys": self.slope_sys,
            "chi2_dof": self.chi2_dof,
            "dof": self.dof,
            "chi2_p": self.chi2_p,
            "error_scale": self.scale,
            "poor_fit": self.poor_fit,
            "note": self.note,
        }

    def plot(self, ax: Any = None, *, label: str = "exponent") -> Any:
        """The values against 1/N (bars: statistical and systematic error combined) with
        the fitted line down to 1/N = 0; returns the Axes."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax)
        inv = 1.0 / self.sizes
        bars = self.errors
        if self.systematic is not None:
            bars = np.hypot(0.0 if bars is None else bars, self.systematic)
        ax.errorbar(inv, self.values, yerr=bars, fmt="o", ms=4, capsize=2, label=label)
        xx = np.linspace(0.0, inv.max() * 1.05, 50)
        ls = "--" if self.poor_fit else "-"
        ax.plot(xx, self.intercept + self.slope * xx, ls, lw=1, color="0.3")
        ax.errorbar(
            [0.0], [self.intercept], yerr=[self.intercept_total_err], fmt="s", color="C3", capsize=3
        )
        ax.set_xlabel("inverse width 1/N")
        if not ax.get_ylabel():
            ax.set_ylabel(label)
        if not ax.get_title():
            ax.set_title("extrapolation to infinite width (square: N → ∞)", fontsize=10)
        ax.legend(frameon=False, fontsize=8)
        return ax


def extrapolate_to_infinite_size(
    sizes: ArrayLike,
    values: ArrayLike,
    errors: ArrayLike | None = None,
    systematic: ArrayLike | None = None,
) -> FiniteSizeExtrapolation:
    """Fit ``value = a + b / N`` and return ``a``, the N -> infinity estimate.

    The fit is weighted least squares with weights 1/(err^2 + sys^2). The intercept is
    linear in the values, a = sum_i g_i y_i, so its statistical error is
    sqrt(sum g_i^2 err_i^2) and its systematic one sqrt(sum g_i^2 sys_i^2) (each size's
    systematic error independent of the others'); both are multiplied by
    sqrt(chi^2/dof) when that exceeds 1, the scale factor of the Particle Data Group
    for measurements that scatter more than their errors allow. Without ``errors`` the
    fit is unweighted and the residual scatter is the statistical error.

    Parameters
    ----------
    sizes : array_like of shape (k,)
        System sizes N (widths), at least 2 distinct (3 for an error estimate without
        ``errors``).
    values : array_like of shape (k,)
        The exponent measured at each size.
    errors : array_like of shape (k,), optional
        Statistical standard errors of ``values`` (positive).
    systematic : array_like of shape (k,), optional
        Systematic errors of ``values`` (non-negative; for example from the choice of
        the control parameter at each size); needs ``errors``.

    References
    ----------
    Particle Data Group, "Review of Particle Physics", Introduction, section 5.2
    (unconstrained averaging and the scale factor S = sqrt(chi^2/dof)).

    Examples
    --------
    >>> r = extrapolate_to_infinite_size([50, 100, 200, 400], [1.7, 1.6, 1.55, 1.525])
    >>> round(r.intercept, 6), round(r.slope, 6)
    (1.5, 10.0)
    >>> r = extrapolate_to_infinite_size(
    ...     [50, 100, 200, 400], [1.7, 1.6, 1.55, 1.525], [0.01] * 4, [0.02, 0, 0, 0]
    ... )
    >>> r.intercept_sys > 0, r.poor_fit
    (True, False)
    """
    func = "extrapolate_to_infinite_size"
    n = check_1d(sizes, "sizes", func, positive=True, min_size=2)
    y = check_1d(values, "values", func, min_size=2)
    if y.size != n.size:
        raise param_error("values", func, f"of the same length as sizes ({n.size})", y.size)
    if np.unique(n).size < 2:
        raise param_error("sizes", func, "at least two distinct sizes", n)
    err = None
    if errors is not None:
        err = check_1d(errors, "errors", func, positive=True)
        if err.size != n.size:
            raise param_error("errors", func, f"of the same length as sizes ({n.size})", err.size)
    sys_err = None
    if systematic is not None:
        if err is None:
            raise param_error(
                "systematic", func, "given together with errors", "systematic errors alone"
            )
        sys_err = check_1d(systematic, "systematic", func)
        if sys_err.size != n.size:
            raise param_error(
                "systematic", func, f"of the same length as sizes ({n.size})", sys_err.size
            )
        if not (np.isfinite(sys_err).all() and (sys_err >= 0).all()):
            raise param_error("systematic", func, "finite and non-negative", sys_err)
    x = 1.0 / n
    var = None if err is None else err**2 + (0.0 if sys_err is None else sys_err**2)
    w = np.ones_like(x) if var is None else 1.0 / var
    a_mat = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(a_mat.T @ (w[:, None] * a_mat))
    gain = cov @ (a_mat.T * w)  # coefficients = gain @ y, shape (2, k)
    coef = gain @ y
    resid = y - a_mat @ coef
    dof = n.size - 2
    chi2 = float(np.sum(w * resid**2) / dof) if dof > 0 else float("nan")
    p = float(stats.chi2.sf(chi2 * dof, dof)) if dof > 0 and err is not None else float("nan")
    sys_se = np.zeros(2)
    if err is None:
        # Unweighted: the residual scatter is the only error estimate there is.
        se = np.sqrt(np.diag(cov) * chi2) if dof > 0 else np.full(2, np.nan)
        scale = 1.0
    else:
        scale = float(np.sqrt(max(chi2, 1.0))) if dof > 0 else 1.0
        se = np.sqrt((gain**2) @ err**2) * scale
        if sys_err is not None:
            sys_se = np.sqrt((gain**2) @ sys_err**2) * scale
    return FiniteSizeExtrapolation(
        n,
        y,
        err,
        float(coef[0]),
        float(se[0]),
        float(coef[1]),
        float(se[1]),
        chi2,
        sys_err,
        float(sys_se[0]),
        float(sys_se[1]),
        p,
        scale,
    )

"""Measures that neuroscience reports beside the branching ratio, and exponents vs bin.

* :func:`fano_factor`: Var(N) / E(N) of counts (1 for a Poisson process);
* :func:`shew_kappa`: Shew et al. (2009)'s kappa, the distance between the CDF of the
  avalanche sizes and that of a power law with exponent 3/2 (kappa ~ 1 at
  criticality, < 1 subcritical, > 1 supercritical);
* :func:`susceptibility`: the variance of the population activity,
  chi = N Var(rho) with rho = A / N the active fraction (Williams-Garcia et al. 2014);
* :func:`exponents_vs_bin`: tau, alpha and the scaling relation over bin widths of
  0.25-4 times the mean inter-event interval (Beggs & Plenz 2003): critical
  avalanches keep (alpha - 1)/(tau - 1) = 1/(sigma nu z) while the exponents drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_1d, check_int, check_real, param_error

__all__ = ["BinScan", "exponents_vs_bin", "fano_factor", "shew_kappa", "susceptibility"]

FloatArray = NDArray[np.float64]


def fano_factor(counts: ArrayLike) -> float | FloatArray:
    """Var(N) / E(N) (population variance) of counts, per row of a 2-D array.

    Parameters
    ----------
    counts : array_like of shape (n_bins,) or (n_units, n_bins)
        Non-negative counts per bin (a row per unit for per-unit Fano factors).

    Returns
    -------
    float or ndarray of shape (n_units,)
        NaN for a row with mean 0.

    References
    ----------
    Fano, Phys. Rev. 72, 26 (1947).

    Examples
    --------
    >>> import numpy as np
    >>> from crackle.stats.neural import fano_factor
    >>> x = np.random.default_rng(0).poisson(3.0, 100_000)
    >>> round(float(fano_factor(x)), 2)
    1.0
    """
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise param_error("counts", "fano_factor", "a non-empty 1-D or 2-D array", arr)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise param_error("counts", "fano_factor", "finite and non-negative", "other values")
    mean = arr.mean(axis=-1)
    var = arr.var(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), np.nan)
    return float(out) if arr.ndim == 1 else np.asarray(out)


def shew_kappa(
    sizes: ArrayLike, *, exponent: float = 1.5, n_points: int = 10, discrete: bool | None = None
) -> float:
    """kappa = 1 + (1/n) sum_k [F_ref(beta_k) - F(beta_k)] (Shew et al. 2009).

    F is the empirical CDF of the sizes, F_ref the CDF of P(s) ~ s^-exponent on the
    observed range [s_min, s_max] (discrete when every size is an integer), and the
    beta_k are ``n_points`` logarithmically spaced sizes from s_min to s_max. kappa ~
    1 for sizes that follow the reference law, < 1 for too few large avalanches
    (subcritical), > 1 for too many (supercritical).

    Parameters
    ----------
    sizes : array_like
        Avalanche sizes (> 0).
    exponent : float
        Reference exponent (3/2: critical branching, mean field).
    n_points : int
        The number of beta_k (10 in Shew et al. 2009).
    discrete : bool, optional
        Reference law on the integers; default when all sizes are integers.

    References
    ----------
    Shew, Yang, Petermann, Roy & Plenz, J. Neurosci. 29, 15595 (2009).

    Examples
    --------
    >>> import crackle as ck
    >>> from crackle.stats.neural import shew_kappa
    >>> s = ck.sample_power_law(1.5, 1, 20_000, discrete=True, xmax=10_000, seed=0)
    >>> round(shew_kappa(s), 1)
    1.0
    """
    func = "shew_kappa"
    s = check_1d(sizes, "sizes", func, min_size=2, positive=True)
    exponent = check_real(exponent, "exponent", func, low=0.0, low_open=True)
    n_points = check_int(n_points, "n_points", func, low=2)
    if discrete is None:
        discrete = bool(np.all(s == np.round(s)))
    lo, hi = float(s.min()), float(s.max())
    if hi <= lo:
        raise param_error("sizes", func, "of more than one value", "all sizes equal")
    beta = np.geomspace(lo, hi, n_points)
    s.sort()
    f_data = np.searchsorted(s, beta, side="right") / s.size
    if discrete:
        grid = np.arange(round(lo), round(hi) + 1, dtype=np.float64)
        pmf = grid**-exponent
        cdf = np.cumsum(pmf) / pmf.sum()
        f_ref = cdf[np.searchsorted(grid, np.floor(beta + 1e-9), side="right") - 1]
    elif exponent == 1.0:
        f_ref = np.log(beta / lo) / np.log(hi / lo)
    else:
        a = 1.0 - exponent
        f_ref = (beta**a - lo**a) / (hi**a - lo**a)
    return float(1.0 + np.mean(f_ref - f_data))


def susceptibility(counts: ArrayLike, n_units: int | None = None) -> float:
    """chi = N Var(A / N) = Var(A) / N of the population activity A_t.

    Parameters
    ----------
    counts : array_like of shape (n_bins,)
        Population activity (real values accepted).
    n_units : int, optional
        N; default 1 (then chi = Var(A)).

    References
    ----------
    Williams-Garcia, Moore, Beggs & Ortiz, Phys. Rev. E 90, 062714 (2014).

    Examples
    --------
    >>> from crackle.stats.neural import susceptibility
    >>> susceptibility([0, 2, 0, 2], n_units=4)
    0.25
    """
    x = check_1d(counts, "counts", "susceptibility", min_size=2)
    n = 1 if n_units is None else check_int(n_units, "n_units", "susceptibility", low=1)
    return float(x.var() / n)


@dataclass(frozen=True)
class BinScan:
    """Avalanche exponents against the bin width.

    Attributes
    ----------
    factors : ndarray of shape (n,)
        Bin widths in units of the mean inter-event interval.
    widths : ndarray of shape (n,)
        The bin widths, in the time unit of the spikes.
    n_avalanches, tau, tau_err, alpha, alpha_err : ndarray of shape (n,)
        Complete avalanches and the exponents of P(S) and P(T) at each width.
    inv_snz_fitted, inv_snz_predicted : ndarray of shape (n,)
        1/(sigma nu z) from <S>(T) and from (alpha - 1)/(tau - 1).
    iei : float
        The mean inter-event interval.
    """

    factors: FloatArray
    widths: FloatArray
    n_avalanches: NDArray[np.int64]
    tau: FloatArray
    tau_err: FloatArray
    alpha: FloatArray
    alpha_err: FloatArray
    inv_snz_fitted: FloatArray
    inv_snz_predicted: FloatArray
    iei: float
    notes: tuple[str, ...] = field(default=())

    @property
    def dcc(self) -> FloatArray:
        """|fitted - predicted| 1/(sigma nu z) at each width (Ma et al. 2019)."""
        return np.abs(self.inv_snz_fitted - self.inv_snz_predicted)

    def to_dict(self) -> dict[str, Any]:
        def clean(a: Any) -> list[Any]:
            return [float(v) if np.isfinite(v) else None for v in np.asarray(a, float)]

        return {
            "factors": clean(self.factors),
            "widths": clean(self.widths),
            "n_avalanches": [int(v) for v in self.n_avalanches],
            "tau": clean(self.tau),
            "tau_err": clean(self.tau_err),
            "alpha": clean(self.alpha),
            "alpha_err": clean(self.alpha_err),
            "inv_snz_fitted": clean(self.inv_snz_fitted),
            "inv_snz_predicted": clean(self.inv_snz_predicted),
            "dcc": clean(self.dcc),
            "iei": self.iei,
            "notes": list(self.notes),
        }

    def plot(self, fig: Any = None) -> Any:
        """tau, alpha and both 1/(sigma nu z) against the bin width."""
        from crackle.report.neural_figures import bin_scan_figure

        return bin_scan_figure(self, fig=fig)


def exponents_vs_bin(
    spikes: Any,
    factors: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
    *,
    min_avalanches: int = 50,
    **report_kwargs: Any,
) -> BinScan:
    """Crackling exponents of the pooled activity binned at ``factors`` x the IEI.

    Parameters
    ----------
    spikes : Spikes
        The recording.
    factors : sequence of float
        Bin widths in units of the mean inter-event interval of the pooled train.
    min_avalanches : int
        Widths with fewer complete avalanches get NaN exponents (and a note).
    **report_kwargs
        Passed to :func:`crackle.crackling_report` (``collapse`` defaults to False).

    Returns
    -------
    BinScan

    References
    ----------
    Beggs & Plenz, J. Neurosci. 23, 11167 (2003); Priesemann et al., Front. Syst.
    Neurosci. 8, 108 (2014).
    """
    from crackle.events.avalanches import avalanches_from_counts
    from crackle.events.spikes import bin_spikes
    from crackle.stats.crackling import crackling_report

    f = check_1d(factors, "factors", "exponents_vs_bin", positive=True)
    min_avalanches = check_int(min_avalanches, "min_avalanches", "exponents_vs_bin", low=2)
    report_kwargs.setdefault("collapse", False)
    rows = []
    notes = []
    widths = []
    iei = float("nan")
    for fac in f:
        b = bin_spikes(spikes, "iei", factor=float(fac))
        iei = b.iei
        widths.append(b.width)
        av = avalanches_from_counts(b.counts)
        if av.n < min_avalanches:
            notes.append(f"{fac:g} x IEI: {av.n} avalanches, fewer than {min_avalanches}")
            rows.append((av.n, *([np.nan] * 6)))
            continue
        rep = crackling_report(av, **report_kwargs)
        rows.append(
            (
                av.n,
                rep.tau,
                rep.tau_err,
                rep.alpha,
                rep.alpha_err,
                rep.inv_snz_fitted,
                rep.inv_snz_predicted,
            )
        )
    cols = list(zip(*rows, strict=True))
    return BinScan(
        factors=f,
        widths=np.asarray(widths),
        n_avalanches=np.asarray(cols[0], dtype=np.int64),
        tau=np.asarray(cols[1], float),
        tau_err=np.asarray(cols[2], float),
        alpha=np.asarray(cols[3], float),
        alpha_err=np.asarray(cols[4], float),
        inv_snz_fitted=np.asarray(cols[5], float),
        inv_snz_predicted=np.asarray(cols[6], float),
        iei=iei,
        notes=tuple(notes),
    )

"""Maximum-likelihood power-law fits (Clauset, Shalizi & Newman 2009), fast and exact.

:func:`fit_power_law` returns a :class:`PowerLawFit` with the exponent, its standard
error, the lower cut-off xmin chosen by the Kolmogorov-Smirnov criterion, and
follow-ups: :meth:`~PowerLawFit.compare` against alternative tails,
:meth:`~PowerLawFit.gof` (bootstrap goodness of fit), :meth:`~PowerLawFit.ccdf` and
:meth:`~PowerLawFit.plot`. :func:`sample_power_law` draws exact random samples.
The result objects live in ``_powerlaw_result``, the kernels in ``_powerlaw_core`` (scan),
``_powerlaw_alternatives``, ``_powerlaw_gof`` and
``_powerlaw_sampling``; ``docs/powerlaw.md`` explains every choice.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from crackle._random import SeedLike, as_generator
from crackle._validation import (
    check_1d,
    check_bool,
    check_choice,
    check_int,
    check_real,
    param_error,
)
from crackle.stats import _powerlaw_core as core
from crackle.stats._powerlaw_fitting import XminArg, fit_sorted
from crackle.stats._powerlaw_result import PowerLawComparison, PowerLawFit, PowerLawGof
from crackle.stats._powerlaw_sampling import sample_continuous, sample_discrete

__all__ = [
    "PowerLawComparison",
    "PowerLawFit",
    "PowerLawGof",
    "fit_power_law",
    "sample_power_law",
]

FloatArray = core.FloatArray

_FIT = "fit_power_law"


def _check_xmin(xmin: Any, discrete: bool) -> XminArg:
    must = "'auto', a positive number, or a (low, high) search range with 0 < low < high"
    if isinstance(xmin, str):
        if xmin != "auto":
            raise param_error("xmin", _FIT, must, xmin)
        return "auto"
    if isinstance(xmin, tuple | list):
        if len(xmin) != 2:
            raise param_error("xmin", _FIT, must, xmin)
        lo = check_real(xmin[0], "xmin", _FIT, low=0.0, low_open=True)
        hi = check_real(xmin[1], "xmin", _FIT, low=0.0, low_open=True)
        if not lo < hi:
            raise param_error("xmin", _FIT, must, xmin)
        return (lo, hi)
    v = check_real(xmin, "xmin", _FIT, low=0.0, low_open=True)
    if discrete and v != round(v):
        raise param_error("xmin", _FIT, "an integer for discrete data", xmin)
    return v


def fit_power_law(
    x: ArrayLike,
    discrete: bool = False,
    xmin: str | float | tuple[float, float] = "auto",
    xmax: float | None = None,
    *,
    min_tail: int = 10,
    ks: Literal["sup", "left"] = "sup",
) -> PowerLawFit:
    """Fit p(x) ~ x^-a to the tail x >= xmin of ``x`` by maximum likelihood.

    The result's ``exponent`` is a, ``exponent_err`` its standard error. Continuous
    data without xmax: a = 1 + n / sum(log(x / xmin)) (Clauset et al. 2009, eq. 3.1),
    standard error (a - 1) / sqrt(n). Discrete data: the exact MLE with Hurwitz-zeta
    normalisation zeta(a, xmin) (minus zeta(a, xmax + 1) with xmax), and standard
    error 1 / sqrt(n * d^2 log Z / d a^2), the observed Fisher
    information. With xmax the normalisation is truncated, for both data types.

    xmin="auto" tries every distinct value that leaves at least ``min_tail`` values
    (two of them distinct) and keeps the one whose fit has the smallest KS distance.
    For continuous data with more than 20000 such values, a subset is scanned: 10000
    evenly spaced in rank plus 10000 geometrically spaced in tail size (``message``
    says so). The scan is exact: vectorised MLEs for all candidates from cumulative
    sums, then a branch-and-bound KS search.

    Parameters
    ----------
    x : array_like of shape (n,)
        Positive, finite values (integers when ``discrete``). Not modified.
    discrete : bool
        Integer data (e.g. avalanche sizes and durations).
    xmin : "auto", float or (float, float)
        Scan all candidates, fix xmin, or scan candidates in [low, high].
    xmax : float or None
        Upper truncation; values above it are left out and counted.
    min_tail : int
        Fewest values a candidate xmin may leave (default 10).
    ks : {"sup", "left"}
        KS distance: "sup" is max over x of |S(x) - P(x)| for the empirical and model
        CDFs, both one-sided limits at every value (Clauset et al. 2009, eq. 3.9);
        "left" compares P(X < v) only, at each distinct value v, as ``powerlaw`` 2.0
        and Clauset's ``plfit.m`` do (continuous) - use it to reproduce them.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    CrackleValueError
        Empty, non-finite or non-positive data, non-integers with ``discrete``, a
        single distinct value, a tail with too few values, xmax <= xmin.

    References
    ----------
    .. [1] A. Clauset, C. R. Shalizi, M. E. J. Newman, "Power-law distributions in
       empirical data", SIAM Review 51, 661-703 (2009).
    .. [2] J. Alstott, E. Bullmore, D. Plenz, "powerlaw: a Python package for analysis
       of heavy-tailed distributions", PLoS ONE 9, e85777 (2014).
    .. [3] Q. H. Vuong, "Likelihood ratio tests for model selection and non-nested
       hypotheses", Econometrica 57, 307-333 (1989).

    Examples
    --------
    >>> from crackle.stats import fit_power_law, sample_power_law
    >>> x = sample_power_law(2.5, 1.0, 5000, seed=1)
    >>> fit = fit_power_law(x, xmin=1.0)
    >>> print(f"{fit.exponent:.2f} +- {fit.exponent_err:.2f}, n_tail = {fit.n_tail}")
    2.51 +- 0.02, n_tail = 5000
    >>> R, p = fit.compare("exponential")
    >>> bool(R > 0 and p < 0.01)
    True
    """
    discrete = check_bool(discrete, "discrete", _FIT)
    arr = check_1d(x, "x", _FIT, positive=True, integer=discrete)
    ks_v = check_choice(ks, "ks", _FIT, ("sup", "left"))
    min_tail = check_int(min_tail, "min_tail", _FIT, low=2)
    xmin_arg = _check_xmin(xmin, discrete)
    floor = (
        xmin_arg
        if isinstance(xmin_arg, float)
        else (xmin_arg[0] if isinstance(xmin_arg, tuple) else 0.0)
    )
    if xmax is not None:
        xmax = check_real(xmax, "xmax", _FIT, low=0.0, low_open=True)
        if discrete and xmax != round(xmax):
            raise param_error("xmax", _FIT, "an integer for discrete data", xmax)
        if xmax <= floor:
            raise param_error("xmax", _FIT, f"greater than xmin ({floor:g})", xmax)
    xs = np.sort(arr)
    if xs[0] == xs[-1]:
        raise param_error(
            "x",
            _FIT,
            "data with at least two distinct values (a power law cannot be fitted to a constant)",
            f"{xs.size} copies of {xs[0]:g}",
        )
    n_used = xs.size if xmax is None else int(np.searchsorted(xs, xmax, side="right"))
    if n_used == 0:
        raise param_error("xmax", _FIT, "at least the smallest value", xmax)
    res = fit_sorted(xs[:n_used], discrete, xmin_arg, xmax, min_tail, ks_v == "sup")
    return PowerLawFit(
        exponent=res["alpha"],
        xmin=res["xmin"],
        xmax=xmax,
        exponent_err=res["sigma"],
        ks=res["ks"],
        n_tail=res["n_tail"],
        n=int(xs.size),
        loglik=res["loglik"],
        discrete=discrete,
        success=res["success"],
        message=res["message"],
        xmin_mode=res["mode"],
        xmin_candidates=res["candidates"],
        ks_variant=ks_v,
        min_tail=min_tail,
        n_above_xmax=int(xs.size - n_used),
        _data=xs,
        _xmin_arg=xmin_arg,
    )


def sample_power_law(
    alpha: float,
    xmin: float,
    n: int,
    discrete: bool = False,
    xmax: float | None = None,
    seed: SeedLike = None,
) -> FloatArray:
    """Exact random draws from a power law p(x) ~ x^-alpha on [xmin, xmax].

    Continuous: inverse transform. Discrete: exact inverse transform of the
    Hurwitz-zeta CDF (a table for the first 4096 integers, then the continuous
    approximation corrected by +-1 steps; see ``_powerlaw_sampling``).

    Parameters
    ----------
    alpha : float
        Exponent, > 1.
    xmin : float
        Lower bound, > 0 (an integer >= 1 when ``discrete``).
    n : int
        Number of draws.
    discrete : bool
    xmax : float or None
        Upper bound (inclusive), > xmin.
    seed : int, numpy Generator or None

    Returns
    -------
    ndarray of shape (n,), float64 (integer-valued when ``discrete``)

    Examples
    --------
    >>> x = sample_power_law(2.0, 5, 4, discrete=True, seed=0)
    >>> x.shape, bool((x >= 5).all())
    ((4,), True)
    """
    f = "sample_power_law"
    discrete = check_bool(discrete, "discrete", f)
    alpha = check_real(alpha, "alpha", f, low=1.0, low_open=True)
    xmin = check_real(xmin, "xmin", f, low=0.0, low_open=True)
    n = check_int(n, "n", f, low=0)
    if discrete and (xmin != round(xmin) or xmin < 1):
        raise param_error("xmin", f, "an integer >= 1 for discrete draws", xmin)
    if xmax is not None:
        xmax = check_real(xmax, "xmax", f, low=xmin, low_open=True)
        if discrete and xmax != round(xmax):
            raise param_error("xmax", f, "an integer for discrete draws", xmax)
    rng = as_generator(seed, f)
    with np.errstate(over="ignore", invalid="ignore"):
        if discrete:
            x = sample_discrete(alpha, int(xmin), None if xmax is None else int(xmax), n, rng)
        else:
            x = sample_continuous(alpha, xmin, xmax, n, rng)
    bad = ~np.isfinite(x)
    if bad.any():
        raise param_error(
            "xmax",
            f,
            "given when alpha is this close to 1: the tail reaches beyond the largest "
            "float64 (1.8e308)",
            f"None, and {int(bad.sum())} of {n} draws overflowed at alpha = {alpha:g}",
        )
    return x

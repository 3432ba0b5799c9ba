"""Alternative tail distributions for :meth:`PowerLawFit.compare` (private).

Each alternative is fitted by maximum likelihood on the same tail as the power law
(xmin <= x, and x <= xmax when set), normalised on that same range; discrete data get
discrete versions, as in ``powerlaw`` (Alstott et al. 2014):

* exponential: p(x) ~ exp(-lambda x). Continuous, no xmax: lambda = 1 / mean(x - xmin);
  discrete, no xmax: a geometric law, lambda = log(1 + 1 / mean(x - xmin)); with xmax:
  a one-dimensional bounded search.
* lognormal: continuous, the density truncated to [xmin, xmax]; discrete, the mass of
  [k - 1/2, k + 1/2) divided by that of [xmin - 1/2, xmax + 1/2) (``powerlaw``'s
  ``discrete_normalization='round'``). Nelder-Mead over (mu, log sigma).
* truncated power law: p(x) ~ x^-alpha exp(-lambda x), lambda >= 0. Continuous
  normalisation by quadrature; discrete by summing the first 1000 terms and
  Euler-Maclaurin for the rest. Nelder-Mead over (alpha, sqrt(lambda xmin)), never
  worse than the power law it nests (lambda = 0).

All work on the distinct tail values ``vals`` with multiplicities ``wts``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import integrate, optimize, special

from crackle.stats._powerlaw_core import (
    ALPHA_MAX,
    FloatArray,
    log_norm_continuous,
    log_norm_discrete,
)

ALTERNATIVES = ("exponential", "lognormal", "truncated_power_law")
_K0 = 1000  # discrete truncated power law: terms summed explicitly
_LN2PI = float(np.log(2.0 * np.pi))


def power_law_loglik(
    vals: FloatArray, alpha: float, xmin: float, xmax: float | None, discrete: bool
) -> FloatArray:
    """Pointwise log-likelihood of the fitted power law at ``vals``."""
    a = np.array([alpha])
    if discrete:
        w = np.inf if xmax is None else xmax + 1.0
        lz = float(log_norm_discrete(a, np.array([xmin]), w)[0])
    else:
        lw = np.inf if xmax is None else float(np.log(xmax))
        lz = float(log_norm_continuous(a, np.array([np.log(xmin)]), lw)[0])
    out: FloatArray = -alpha * np.log(vals) - lz
    return out


def _log_diff_ndtr(a: FloatArray, b: FloatArray) -> FloatArray:
    """log(Phi(b) - Phi(a)) for a < b, accurate in both tails."""
    a, b = np.broadcast_arrays(a, b)
    upper = a > 0
    with np.errstate(divide="ignore"):
        hi = np.where(upper, special.log_ndtr(-a), special.log_ndtr(b))
        lo = np.where(upper, special.log_ndtr(-b), special.log_ndtr(a))
        out: FloatArray = hi + np.log1p(-np.exp(lo - hi))
    return out


def _nm(
    fun: Callable[[FloatArray], float],
    x0: FloatArray,
    bounds_c: tuple[float, float] | None = None,
    xatol: float = 1e-9,
    fatol: float = 1e-10,
) -> tuple[FloatArray, float, bool]:
    bounds = None if bounds_c is None else [(None, None), bounds_c]
    res = optimize.minimize(
        fun,
        x0,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": xatol, "fatol": fatol, "maxiter": 4000, "maxfev": 8000},
    )
    x = np.asarray(res.x, dtype=float)
    return x, float(res.fun), bool(res.success) and bool(np.isfinite(res.fun))


# ----------------------------------------------------------------------------- exponential
def _exp_loglik(
    lam: float, vals: FloatArray, xmin: float, xmax: float | None, discrete: bool
) -> FloatArray:
    d = vals - xmin
    if discrete:
        if xmax is None:
            lz = -np.log(-np.expm1(-lam))
        else:
            lz = np.log(-np.expm1(-lam * (xmax - xmin + 1.0))) - np.log(-np.expm1(-lam))
    elif xmax is None:
        lz = -np.log(lam)
    else:
        lz = np.log(-np.expm1(-lam * (xmax - xmin))) - np.log(lam)
    out: FloatArray = -lam * d - lz
    return out


def _fit_exponential(
    vals: FloatArray, wts: FloatArray, xmin: float, xmax: float | None, discrete: bool
) -> tuple[dict[str, float], FloatArray, bool]:
    m = float(np.sum(wts * (vals - xmin)) / np.sum(wts))
    if xmax is None:
        lam = float(np.log1p(1.0 / m)) if discrete else 1.0 / m
        return {"lambda": lam}, _exp_loglik(lam, vals, xmin, None, discrete), True

    def nll(t: float) -> float:
        return -float(np.sum(wts * _exp_loglik(float(np.exp(t)), vals, xmin, xmax, discrete)))

    t0 = float(np.log(1.0 / m))
    res = optimize.minimize_scalar(
        nll, bounds=(t0 - 30.0, t0 + 10.0), method="bounded", options={"xatol": 1e-10}
    )
    lam = float(np.exp(res.x))
    ok = bool(res.success) and bool(abs(res.x - (t0 - 30.0)) > 1e-6)
    return {"lambda": lam}, _exp_loglik(lam, vals, xmin, xmax, discrete), ok


# ----------------------------------------------------------------------------- lognormal
def _lognormal_loglik(
    mu: float, sig: float, vals: FloatArray, xmin: float, xmax: float | None, discrete: bool
) -> FloatArray:
    def z(x: FloatArray | float) -> FloatArray:
        return (np.log(np.asarray(x, dtype=float)) - mu) / sig

    if discrete:
        top = np.inf if xmax is None else z(xmax + 0.5)
        lz = _log_diff_ndtr(z(xmin - 0.5), np.asarray(top))
        out: FloatArray = _log_diff_ndtr(z(vals - 0.5), z(vals + 0.5)) - lz
        return out
    top = np.inf if xmax is None else z(xmax)
    lz = _log_diff_ndtr(z(xmin), np.asarray(top))
    zz = z(vals)
    out = -np.log(vals) - np.log(sig) - 0.5 * _LN2PI - 0.5 * zz * zz - lz
    return out


# A lognormal with sigma above this is a power law with no visible curvature over any
# range of data (curvature 1/sigma^2 of log-density in log x), so the fit stops there.
_LOGNORMAL_MAX_SIGMA = 1e3


def _fit_lognormal(
    vals: FloatArray, wts: FloatArray, xmin: float, xmax: float | None, discrete: bool
) -> tuple[dict[str, float], FloatArray, bool]:
    lx = np.log(vals)
    n = np.sum(wts)
    centre = float(np.sum(wts * lx) / n)
    s0 = float(np.sqrt(np.sum(wts * (lx - centre) ** 2) / n))

    # On power-law-like tails the MLE runs off to mu -> -inf, sigma -> inf (the power-law
    # limit), along a long flat valley in (mu, log sigma) where Nelder-Mead used to spend
    # thousands of evaluations. In (b, log c), with c = 1/sigma^2 and b = (centre - mu) c
    # (the log-density's slope and curvature in log x at the data's centre), the valley
    # is straight and the runaway is the bound c -> 1/_LOGNORMAL_MAX_SIGMA^2: on 2e5
    # branching-process sizes, 313 evaluations instead of 8000, to the same optimum.
    def params(th: FloatArray) -> tuple[float, float]:
        c = float(np.exp(th[1]))
        return centre - float(th[0]) / c, 1.0 / np.sqrt(c)

    def nll(th: FloatArray) -> float:
        mu, sig = params(th)
        with np.errstate(all="ignore"):
            ll = _lognormal_loglik(mu, sig, vals, xmin, xmax, discrete)
        v = -float(np.sum(wts * ll))
        return v if np.isfinite(v) else np.inf

    lo_c, hi_c = -2.0 * np.log(_LOGNORMAL_MAX_SIGMA), 2.0 * np.log(1e3)
    c0 = float(np.clip(-2.0 * np.log(max(s0, 1e-3)), lo_c, hi_c))
    # Tolerances at what R needs, not below the evaluation's own noise: a sum of 1e5
    # log-CDF differences at |z| ~ 1e2 is only good to ~1e-11 of its size, and a
    # tighter fatol is never met (the search then runs to maxfev, reported unconverged).
    x0 = np.array([0.0, c0])
    fatol = max(1e-7, 1e-11 * abs(nll(x0))) if np.isfinite(nll(x0)) else 1e-7
    th, _, ok = _nm(nll, x0, bounds_c=(lo_c, hi_c), xatol=1e-7, fatol=fatol)
    mu, sig = params(th)
    return {"mu": mu, "sigma": sig}, _lognormal_loglik(mu, sig, vals, xmin, xmax, discrete), ok


# ----------------------------------------------------------------------------- truncated PL
def _log_tpl_integral(a: float, lam_x: float, x0: float, x1: float | None) -> float:
    """log of the integral of x^-a exp(-lam x) over [x0, x1]; ``lam_x`` = lam * x0."""
    if lam_x == 0.0:
        if x1 is None and a <= 1.0:
            return np.inf
        lw = np.inf if x1 is None else float(np.log(x1))
        return float(log_norm_continuous(np.array([a]), np.array([np.log(x0)]), lw)[0])
    # x = x0 e^t: integral = x0^(1-a) e^-lam_x * int_0^T exp((1-a) t - lam_x (e^t - 1)) dt
    slope = max(0.0, 1.0 - a)
    t_cut = float(np.log1p((800.0 + 2.0 * slope * np.log1p(800.0 / lam_x)) / lam_x))
    t_end = t_cut if x1 is None else min(t_cut, float(np.log(x1 / x0)))
    if t_end <= 0.0:
        return -np.inf
    val, _ = integrate.quad(
        lambda t: np.exp((1.0 - a) * t - lam_x * np.expm1(t)), 0.0, t_end, limit=200
    )
    return (1.0 - a) * float(np.log(x0)) - lam_x + float(np.log(val))


def _tpl_log_norm(a: float, lam: float, xmin: float, xmax: float | None, discrete: bool) -> float:
    if not discrete:
        return _log_tpl_integral(a, lam * xmin, xmin, xmax)
    last = xmin + _K0 - 1.0 if xmax is None else min(xmax, xmin + _K0 - 1.0)
    k = np.arange(xmin, last + 1.0)
    lt = -a * np.log(k) - lam * k
    parts = [float(special.logsumexp(lt))]
    s = last + 1.0
    if xmax is None or s <= xmax:
        # Euler-Maclaurin: sum_{k>=s} f(k) = int_s f + f(s)/2 - f'(s)/12 (+ the same at xmax)
        li = _log_tpl_integral(a, lam * s, s, xmax)
        if not np.isfinite(li):
            return np.inf
        fs = np.exp(-a * np.log(s) - lam * s - li)
        corr = 0.5 * fs + fs * (a / s + lam) / 12.0
        if xmax is not None:
            fx = np.exp(-a * np.log(xmax) - lam * xmax - li)
            corr += 0.5 * fx - fx * (a / xmax + lam) / 12.0
        parts.append(li + float(np.log1p(corr)))
    return float(special.logsumexp(parts))


def _tpl_loglik(
    a: float, lam: float, vals: FloatArray, xmin: float, xmax: float | None, discrete: bool
) -> FloatArray:
    out: FloatArray = -a * np.log(vals) - lam * vals - _tpl_log_norm(a, lam, xmin, xmax, discrete)
    return out


def _fit_truncated(
    vals: FloatArray,
    wts: FloatArray,
    xmin: float,
    xmax: float | None,
    discrete: bool,
    alpha: float,
) -> tuple[dict[str, float], FloatArray, bool]:
    # The truncated power law is an exponential family in (alpha, lambda) with
    # statistics (log x, x), so its log-likelihood is concave on alpha in (0, 20),
    # lambda >= 0: one bounded quasi-Newton search from the power law (lambda = 0)
    # finds the maximum. lambda is searched as t = lambda * max(x), which keeps the two
    # parameters on comparable scales.
    top = float(np.max(vals))

    def nll(th: FloatArray) -> float:
        a, lam = float(th[0]), float(th[1]) / top
        with np.errstate(all="ignore"):
            v = -float(np.sum(wts * _tpl_loglik(a, lam, vals, xmin, xmax, discrete)))
        return v if np.isfinite(v) else 1e300

    start = np.array([min(max(alpha, 1e-3), ALPHA_MAX - 1e-3), 0.0])
    res = optimize.minimize(
        nll,
        start,
        method="L-BFGS-B",
        bounds=[(1e-6, ALPHA_MAX), (0.0, None)],
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 1000},
    )
    th, ok = np.asarray(res.x, dtype=float), bool(np.isfinite(res.fun) and res.fun < 1e300)
    if nll(th) > nll(start):
        th = start
    a, lam = float(th[0]), float(th[1]) / top
    return {"alpha": a, "lambda": lam}, _tpl_loglik(a, lam, vals, xmin, xmax, discrete), ok


def fit_alternative(
    name: str,
    vals: FloatArray,
    wts: FloatArray,
    xmin: float,
    xmax: float | None,
    discrete: bool,
    alpha: float,
) -> tuple[dict[str, float], FloatArray, bool]:
    """Fit alternative ``name``; return its parameters, pointwise log-likelihood at
    ``vals`` and whether the optimiser converged."""
    if name == "exponential":
        return _fit_exponential(vals, wts, xmin, xmax, discrete)
    if name == "lognormal":
        return _fit_lognormal(vals, wts, xmin, xmax, discrete)
    return _fit_truncated(vals, wts, xmin, xmax, discrete, alpha)


def vuong(
    ll_pl: FloatArray, ll_alt: FloatArray, wts: FloatArray, nested: bool
) -> tuple[float, float, float]:
    """Normalised ratio R, p-value and raw log-likelihood ratio (weights = multiplicities).

    Non-nested: p = erfc(|R| / sqrt 2) (Vuong 1989). Nested: p from chi^2 with one degree
    of freedom for 2 |LR| (Clauset et al. 2009, appendix C; ``powerlaw``'s ``nested=True``).
    """
    d = ll_pl - ll_alt
    n = float(np.sum(wts))
    lr = float(np.sum(wts * d))
    var = float(np.sum(wts * (d - lr / n) ** 2) / n)
    r = lr / np.sqrt(n * var) if var > 0 else 0.0
    if nested:
        p = float(special.erfc(np.sqrt(abs(lr))))
    else:
        p = float(special.erfc(abs(r) / np.sqrt(2.0)))
    return float(r), p, lr

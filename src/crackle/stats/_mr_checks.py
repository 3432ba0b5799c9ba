"""Multistep regression's consistency checks and block bootstrap (private), behind
:func:`crackle.stats.branching_ratio`.

The checks compare the fits and flag a decay that is not there (Spitzner et al. 2021,
mrestimator's consistency checks; i.i.d. noise gives r_k ~ 0 for k >= 1); the block
bootstrap over time gives the standard errors the checks use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from crackle.stats._lagsums import LagSums, slopes
from crackle.stats._mrfits import CurveFit, run_fit

FloatArray = NDArray[np.float64]
# Two fits disagree when their tau differ by more than this fraction of the smaller one
# (and, with bootstrap replicas, by more than 2 standard deviations of the difference).
_DISAGREE = 0.2


def consistency_checks(
    fits: dict[str, CurveFit],
    chosen: str,
    k: FloatArray,
    r: FloatArray,
    se1: float,
    r_se: FloatArray,
    boot: dict[str, FloatArray],
    dt: float,
) -> list[str]:
    """The consistency checks of :func:`branching_ratio`, one sentence per failure."""
    fit = fits[chosen]
    reasons = []
    kmax = int(k[-1])
    # The decay of the exponential term over the fitted lags (offset and the complex
    # model's other terms aside): b m for a decay well inside the range, ~0 for noise
    # and for the degenerate b m^k + c with m -> 1 (a straight line).
    with np.errstate(over="ignore", invalid="ignore"):
        amp = float(fit.b * (fit.m - fit.m**kmax))
    if not amp > 3.0 * se1:
        reasons.append(
            f"amplitude ~0: the fitted decay of r_k over lags 1..{kmax}, "
            f"b (m - m^kmax) = {amp:.3g}, is within 3 standard errors ({se1:.2g}) of 0; "
            "there is no autocorrelation to fit (uncorrelated, Poisson-like activity)"
        )
    if fit.m >= 1.0:
        reasons.append(f"no decay to fit: m = {fit.m:.4f} >= 1 (r_k does not fall with k)")
    elif not fit.success:
        reasons.append(
            "no decay to fit: the least-squares minimum lies on the edge of the range "
            "searched for m"
        )
    else:
        sst = float(np.sum((r - r.mean()) ** 2))
        r2 = 1.0 - fit.sse / sst if sst > 0 else 0.0
        if r2 < 0.5:
            reasons.append(
                f"no decay to fit: the {chosen} fit explains only {100 * max(r2, 0):.0f} % "
                "of the variance of r_k"
            )
    if chosen == "complex":
        if abs(fit.params["B"]) > fit.b:
            reasons.append(
                f"oscillation: the oscillating term (B = {fit.params['B']:.3g}) is larger "
                f"than the exponential one (b = {fit.b:.3g})"
            )
    else:
        # Below zero by more than z standard errors at some lag, z a 1 % Bonferroni
        # bound over the kmax lags (3.0 at kmax = 4, 3.6 at 60, 4.3 at 1000).
        # and by more than a tenth of |r_1| (the scale of the correlations).
        z = max(3.0, float(norm.isf(0.01 / kmax)))
        se = np.where(np.isfinite(r_se), r_se, se1)
        with np.errstate(divide="ignore", invalid="ignore"):  # se = 0: no test at that lag
            zk = r / se
        if ((zk < -z) & (r < -0.1 * abs(r[0]))).any():
            j = int(np.argmin(zk))
            reasons.append(
                f"oscillation: r_k dips to {r[j]:.3g} at lag {j + 1}, {-zk[j]:.1f} standard "
                f"errors below zero (more than {z:.1f}), which b m^k cannot follow "
                "(try fit='complex')"
            )
    tau = autocorrelation_time(fit.m, 1.0)
    for name, other in fits.items():
        if name == chosen:
            continue
        t2 = autocorrelation_time(other.m, 1.0)
        if _disagree(tau, t2, boot.get(f"tau_{chosen}"), boot.get(f"tau_{name}")):
            reasons.append(
                f"the fits disagree: tau = {tau * dt:.4g} ({chosen}) against "
                f"{t2 * dt:.4g} ({name}); m = {fit.m:.4f} against {other.m:.4f}"
            )
    if 0 < tau < np.inf and not 1.0 <= tau <= kmax:
        where = "above the largest lag" if tau > kmax else "below one lag"
        reasons.append(
            f"tau outside the fitted lag range: tau = {tau:.3g} lags, {where} "
            f"(lags 1..{kmax}); " + ("raise kmax" if tau > kmax else "m is set by r_1 alone")
        )
    return reasons


def _disagree(t1: float, t2: float, b1: FloatArray | None, b2: FloatArray | None) -> bool:
    """Whether two autocorrelation times (in lags) differ beyond the tolerance."""
    if not (0 < t1 < np.inf and 0 < t2 < np.inf):
        return (0 < t1 < np.inf) != (0 < t2 < np.inf)
    diff = abs(t1 - t2)
    if diff <= _DISAGREE * min(t1, t2):
        return False
    if b1 is not None and b2 is not None and b1.size >= 2:
        with np.errstate(invalid="ignore"):
            d = b1 - b2
        d = d[np.isfinite(d)]
        if d.size >= 2 and diff <= 2.0 * float(np.std(d, ddof=1)):
            return False
    return True


def pooled_slopes(sums: LagSums, per: FloatArray | None, w: FloatArray | None) -> FloatArray:
    """r_k: the mean of per-trial slopes ``per``, or the slope of pooled block sums.

    ``w`` holds bootstrap multiplicities of the trials or blocks (None: all once).
    """
    if per is not None:
        out: FloatArray = per.mean(axis=0) if w is None else (w @ per) / w.sum()
        return out
    ws = np.ones(sums.n.shape[0]) if w is None else w
    return slopes(*(ws @ a for a in (sums.n, sums.front, sums.back, sums.front_sq, sums.cross)))


def autocorrelation_time(m: float, dt: float) -> float:
    """-dt / ln m: 0 at m = 0, inf at m = 1, negative above."""
    if m <= 0.0:
        return 0.0
    return float("inf") if m == 1.0 else float(-dt / np.log(m))


def spread(a: FloatArray) -> Any:
    """Standard deviation over the bootstrap replicas (axis 0), leaving out the replicas
    that have no value (NaN: a resample without variance at some lag)."""
    if a.shape[0]:
        a = a[np.isfinite(a).reshape(a.shape[0], -1).all(axis=1)]
    if a.shape[0] < 2:
        return float("nan") if a.ndim == 1 else np.full(a.shape[1:], np.nan)
    out = np.std(a, axis=0, ddof=1)
    return float(out) if a.ndim == 1 else out


def block_bootstrap(
    stat: Any,
    nb: int,
    n_boot: int,
    rng: np.random.Generator,
    k: FloatArray,
    names: list[str],
    chosen: str,
    start: FloatArray | None,
) -> dict[str, FloatArray]:
    """Replicas of r_k ("r"), of m of the chosen fit (key ``chosen``) and of tau (in
    lags) of every fit ("tau_<name>"); the complex fit restarts from ``start``."""
    out = {"r": np.empty((n_boot, k.size)), chosen: np.empty(n_boot)}
    out |= {f"tau_{n}": np.empty(n_boot) for n in names}
    for i in range(n_boot):
        w = np.bincount(rng.integers(0, nb, nb), minlength=nb).astype(np.float64)
        r = stat(w)
        if not np.isfinite(r).all():
            # A resample whose A_t does not vary at some lag has no slope there: the
            # replica has no value (NaN) and the errors are taken over the others.
            for key in out:
                out[key][i] = np.nan
            continue
        out["r"][i] = r
        for n in names:
            f = run_fit(n, k, r, start if n == "complex" else None)
            out[f"tau_{n}"][i] = autocorrelation_time(f.m, 1.0)
            if n == chosen:
                out[chosen][i] = f.m
    return out

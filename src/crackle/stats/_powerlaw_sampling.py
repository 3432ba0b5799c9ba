"""Exact random power-law samples, continuous and discrete (private helpers).

Continuous: inverse transform, x = xmin (1 - r)^(-1/(alpha-1)), or its truncated form.

Discrete: exact inverse transform, X = k iff S(k+1) < U <= S(k) with the survival
S(k) = Z(alpha, k) / Z(alpha, xmin) and Z the (truncated) Hurwitz zeta function.
A table of S over the first ``_TABLE`` integers above xmin answers most draws by
binary search; the rest start from the continuous approximation
zeta(alpha, k) ~ (k - 1/2)^(1-alpha) / (alpha - 1) (exact normalisation kept), which is
off by less than one unit there, and are then corrected by +-1 steps until the
inequality above holds. Values above 2**53 (only for alpha near 1 without xmax)
keep the approximation, since float64 no longer resolves integers there.
"""

from __future__ import annotations

import numpy as np

from crackle.stats._powerlaw_core import FloatArray, log_norm_discrete

_TABLE = 4096
_EXACT_LIMIT = 2.0**53


def sample_continuous(
    alpha: float, xmin: float, xmax: float | None, size: int, rng: np.random.Generator
) -> FloatArray:
    """``size`` draws from p(x) ~ x^-alpha on [xmin, xmax] (xmax None: infinity)."""
    r = rng.random(size)
    if xmax is None:
        out: FloatArray = xmin * (1.0 - r) ** (-1.0 / (alpha - 1.0))
        return out
    qw = (xmax / xmin) ** (1.0 - alpha)
    out = xmin * (1.0 - r * (1.0 - qw)) ** (1.0 / (1.0 - alpha))
    return np.minimum(out, xmax)


def sample_discrete(
    alpha: float, xmin: int, xmax: int | None, size: int, rng: np.random.Generator
) -> FloatArray:
    """``size`` integer draws (as float64) from p(k) ~ k^-alpha on xmin..xmax."""
    w = np.inf if xmax is None else float(xmax) + 1.0
    a1 = np.array([alpha])
    lzu = float(log_norm_discrete(a1, np.array([float(xmin)]), w)[0])
    lu = np.log(1.0 - rng.random(size))  # log U, U in (0, 1]
    top = _TABLE if xmax is None else min(_TABLE, int(xmax) - int(xmin) + 1)
    ks = float(xmin) + np.arange(top + 1, dtype=float)
    with np.errstate(divide="ignore"):  # log S(xmax + 1) = -inf
        ls = log_norm_discrete(np.full(ks.size, alpha), ks, w) - lzu  # log S(k), k >= xmin
    # largest i with log S(ks[i]) >= log U
    i = np.searchsorted(-ls, -lu, side="right") - 1
    out = ks[np.clip(i, 0, top)]
    rest = np.flatnonzero(i >= top)
    if rest.size:
        out[rest] = _invert_far(alpha, w, lzu, lu[rest], float(ks[-1]))
    return out


def _invert_far(alpha: float, w: float, lzu: float, lu: FloatArray, kmin: float) -> FloatArray:
    """Exact inverse for draws beyond the table (k >= kmin), by approximation and +-1 steps."""
    c = (alpha - 1.0) * np.exp(lu + lzu)  # (alpha - 1) * U * Z(xmin)
    if np.isfinite(w):
        c = c + (w - 0.5) ** (1.0 - alpha)
    k = np.floor(0.5 + c ** (1.0 / (1.0 - alpha)))
    hi = np.inf if not np.isfinite(w) else w - 1.0
    k = np.clip(k, kmin, hi)
    todo = np.flatnonzero(k < _EXACT_LIMIT)
    for _ in range(64):
        if todo.size == 0:
            break
        kk = k[todo]
        a = np.full(kk.size, alpha)
        with np.errstate(divide="ignore"):
            ls_k = log_norm_discrete(a, kk, w) - lzu
            ls_k1 = log_norm_discrete(a, kk + 1.0, w) - lzu  # -inf at k = xmax
        down = (lu[todo] > ls_k) & (kk > kmin)
        up = (lu[todo] <= ls_k1) & (kk < hi)
        k[todo] = kk - down + up
        todo = todo[down | up]
    return k


def sample_sorted(
    alpha: float,
    xmin: float,
    xmax: float | None,
    size: int,
    discrete: bool,
    rng: np.random.Generator,
) -> FloatArray:
    """``size`` draws from the same law as :func:`sample_continuous` /
    :func:`sample_discrete`, returned sorted, in O(size) instead of a sort.

    Continuous: sorted uniforms from normalised cumulative sums of exponential
    spacings, through the (increasing) inverse transform. Discrete: multinomial counts
    over the table of the first ``_TABLE`` integers (which hold most of the mass),
    then exact draws beyond it, sorted (few).
    """
    if not discrete:
        e = np.cumsum(rng.standard_exponential(size + 1))
        r = e[:size] / e[size]
        if xmax is None:
            out: FloatArray = xmin * (1.0 - r) ** (-1.0 / (alpha - 1.0))
            return out
        qw = (xmax / xmin) ** (1.0 - alpha)
        return np.minimum(xmin * (1.0 - r * (1.0 - qw)) ** (1.0 / (1.0 - alpha)), xmax)
    w = np.inf if xmax is None else float(xmax) + 1.0
    lzu = float(log_norm_discrete(np.array([alpha]), np.array([float(xmin)]), w)[0])
    top = _TABLE if xmax is None else min(_TABLE, int(xmax) - int(xmin) + 1)
    ks = float(xmin) + np.arange(top + 1, dtype=float)
    with np.errstate(divide="ignore"):
        surv = np.exp(log_norm_discrete(np.full(ks.size, alpha), ks, w) - lzu)  # S(k)
    surv[0] = 1.0
    probs = np.maximum(surv[:-1] - surv[1:], 0.0)
    s_top = float(surv[-1])  # P(X >= ks[top]); zero when the table covers [xmin, xmax]
    n_far = int(rng.binomial(size, s_top)) if s_top > 0 else 0
    counts = rng.multinomial(size - n_far, probs / probs.sum())
    near = np.repeat(ks[:-1], counts)
    if n_far == 0:
        return near
    lu = np.log(s_top) + np.log(1.0 - rng.random(n_far))  # log U, U in (0, S(top)]
    far = np.sort(_invert_far(alpha, w, lzu, lu, float(ks[-1])))
    return np.concatenate([near, far])

"""Fast kernels behind :func:`crackle.stats.fit_power_law` (private).

Everything here works on one prepared, sorted sample (:class:`Prepared`) and is
vectorised over xmin candidates:

* ``log_hurwitz``: log of the Hurwitz zeta function for many (alpha, v) pairs at once
  (explicit sum below ``V0``, Euler-Maclaurin with four Bernoulli terms above);
* ``solve_alpha``: the maximum-likelihood exponent for every candidate at once, by a
  safeguarded Newton iteration on the score (bisection when Newton leaves the bracket);
* ``ks_scan``: the xmin whose Kolmogorov-Smirnov distance is smallest, found exactly
  by branch and bound: cheap lower and upper bounds on each candidate's distance from a
  coarse grid of its tail, pruning every candidate whose lower bound exceeds the best
  upper bound, refining the survivors, and computing the full distance only for the
  few left.

The slow, obvious twins of these kernels live in ``tests/unit/stats``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Below this integer the Hurwitz zeta function is summed term by term.
V0 = 32
#: Largest exponent searched; a likelihood still rising here marks the fit unsuccessful.
ALPHA_MAX = 20.0
#: Grid sizes of the branch-and-bound KS scan, coarse to fine.
KS_LEVELS = (16, 64, 256, 1024, 4096, 16384, 65536, 262144)
#: Candidates whose distance is computed in full after each level (tightens the bound).
_PROBES = 4
#: Soft cap on the number of (rows x columns) evaluated at once.
_BLOCK = 1 << 21
# Euler-Maclaurin coefficients B_2k / (2k)! for k = 1..4.
_EM = (1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0, -1.0 / 1209600.0)


def _log_hurwitz_em(a: FloatArray, v: FloatArray) -> FloatArray:
    """log zeta(a, v) by Euler-Maclaurin, accurate to ~1e-9 for v >= 32, 1 < a <= 20."""
    iv = 1.0 / v
    # bracket = v^a * zeta(a, v)
    poch = a.copy()  # (a)_1
    br = v / (a - 1.0) + 0.5 + _EM[0] * poch * iv
    ivk = iv
    for k in range(1, 4):
        poch = poch * (a + 2 * k - 1) * (a + 2 * k)  # (a)_{2k+1}
        ivk = ivk * iv * iv
        br = br + _EM[k] * poch * ivk
    out: FloatArray = -a * np.log(v) + np.log(br)
    return out


def log_hurwitz(a: FloatArray, v: FloatArray) -> FloatArray:
    """log of the Hurwitz zeta function sum_{k>=0} (k + v)^-a, for integer v >= 1, a > 1.

    ``a`` and ``v`` broadcast together; ``v = inf`` gives ``-inf``.
    """
    a, v = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(v, dtype=float))
    fin = np.isfinite(v)
    all_fin = bool(fin.all())
    with np.errstate(invalid="ignore"):
        # asarray: for 0-d inputs the expansion returns a numpy scalar, which the
        # masked assignments below cannot write into.
        out = np.asarray(
            _log_hurwitz_em(a, np.clip(v, V0, 1e300) if all_fin else np.where(fin, v, V0))
        )
    if not all_fin:
        out[~fin] = -np.inf
    small = fin & (v < V0)
    if small.any():
        av, vv = a[small], v[small]
        lv = np.log(vv)
        # zeta(a, v) = v^-a * (sum_{k=v}^{V0-1} (k/v)^-a + (V0/v)^-a * V0^a zeta(a, V0))
        acc = np.exp(_log_hurwitz_em(av, np.full(av.shape, float(V0))) + av * lv)
        for k in range(1, V0):
            m = vv <= k
            if m.any():
                acc[m] += np.exp(-av[m] * (np.log(k) - lv[m]))
        out[small] = -av * lv + np.log(acc)
    return out


def log_norm_discrete(a: FloatArray, u: FloatArray, w: float) -> FloatArray:
    """log sum_{k=u}^{w-1} k^-a (``w = inf`` for no upper cut-off)."""
    lz = log_hurwitz(a, u)
    if np.isfinite(w):
        lzw = log_hurwitz(a, np.full_like(lz, w))
        lz = lz + np.log1p(-np.exp(lzw - lz))
    return lz


def log_norm_continuous(a: FloatArray, lu: FloatArray, lw: float) -> FloatArray:
    """log of the integral of x^-a over [exp(lu), exp(lw)] (``lw = inf``: no cut-off), a > 1."""
    if not np.isfinite(lw):
        out: FloatArray = (1.0 - a) * lu - np.log(a - 1.0)
        return out
    span = lw - lu
    t = (1.0 - a) * span  # <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lfac = np.where(np.abs(t) < 1e-12, t / 2.0, np.log(-np.expm1(t)) - np.log(-t))
    out = (1.0 - a) * lu + np.log(span) + lfac
    return out


def solve_alpha(
    log_norm: Callable[[FloatArray, IntArray], FloatArray],
    mean_log: FloatArray,
    a0: FloatArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Maximise l(a) = -log Z(a) - a * mean_log for every entry at once.

    ``log_norm(a, idx)`` is log Z for the entries ``idx`` at exponents ``a``.

    The score is psi(a) - mean_log with psi(a) = -d log Z/da = E_a[log X], which falls
    with a (its slope is -Var_a[log X]), so the root is bracketed in (1, ALPHA_MAX].
    Newton steps use central differences of ``log_norm``; a step that leaves the
    bracket is replaced by bisection.

    Returns the exponents, Var_a[log X] there (the per-point observed Fisher
    information) and a flag per entry: converged inside (1, ALPHA_MAX).
    """
    a = np.clip(np.asarray(a0, dtype=float), 1.0 + 1e-6, ALPHA_MAX)
    lo = np.ones_like(a)
    hi = np.full_like(a, ALPHA_MAX)
    var = np.ones_like(a)
    done = np.zeros(a.shape, dtype=bool)
    idx = np.arange(a.size)
    for _ in range(max_iter):
        act = idx[~done]
        if act.size == 0:
            break
        x = a[act]
        h = np.minimum(2e-5 * x, (x - 1.0) / 3.0)
        f0 = log_norm(x, act)
        fp = log_norm(x + h, act)
        fm = log_norm(x - h, act)
        psi = -(fp - fm) / (2.0 * h)
        v = (fp - 2.0 * f0 + fm) / (h * h)
        g = psi - mean_log[act]
        lo[act] = np.where(g > 0, x, lo[act])
        hi[act] = np.where(g > 0, hi[act], x)
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = x + g / v
        bad = ~np.isfinite(nxt) | (nxt <= lo[act]) | (nxt >= hi[act]) | (v <= 0)
        nxt = np.where(bad, 0.5 * (lo[act] + hi[act]), nxt)
        var[act] = v
        stop = (np.abs(nxt - x) < tol * x) | (hi[act] - lo[act] < tol)
        a[act] = nxt
        done[act] = stop
    ok = done & (a < ALPHA_MAX * (1 - 1e-9)) & (a > 1.0 + 1e-9) & (var > 0)
    return a, var, ok


@dataclass(frozen=True)
class Prepared:
    """A sorted sample and its distinct values, ready for the xmin scan.

    ``first[k]`` is the index in ``xs`` of the first copy of ``uvals[k]``;
    ``first[U] = n``. ``slog[k]`` is the sum of log x over all x >= uvals[k].
    """

    xs: FloatArray
    uvals: FloatArray
    lv: FloatArray
    first: IntArray
    slog: FloatArray
    dix: IntArray  # distinct-value index of each position of xs
    discrete: bool
    w: float  # discrete: xmax + 1 or inf; continuous: xmax or inf

    @property
    def n(self) -> int:
        return int(self.xs.size)


def prepare(xs: FloatArray, discrete: bool, xmax: float | None) -> Prepared:
    """Build :class:`Prepared` from already sorted, validated values (all <= xmax)."""
    n = xs.size
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    first = np.flatnonzero(new)
    uvals = xs[first]
    lv = np.log(uvals)
    first_ext = np.append(first, n).astype(np.intp)
    if discrete:
        contrib = np.diff(first_ext) * lv
        slog = np.cumsum(contrib[::-1])[::-1]
    else:
        slog = np.cumsum(np.log(xs)[::-1])[::-1][first]
    w = np.inf if xmax is None else float(xmax) + 1.0 if discrete else float(xmax)
    dix = np.repeat(np.arange(first.size, dtype=np.intp), np.diff(first_ext))
    return Prepared(xs, uvals, lv, first_ext, np.ascontiguousarray(slog), dix, discrete, w)


def log_norm(prep: Prepared, a: FloatArray, u: FloatArray) -> FloatArray:
    """log of the power-law normalisation for exponents ``a`` and xmin ``u``."""
    if prep.discrete:
        return log_norm_discrete(a, u, prep.w)
    lw = np.log(prep.w) if np.isfinite(prep.w) else np.inf
    return log_norm_continuous(a, np.log(u), lw)


def mle(
    prep: Prepared, mean_log: FloatArray, u: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Maximum-likelihood exponents for tails with mean log ``mean_log`` and xmin ``u``
    (the normalisation's type and upper end from ``prep``).

    Returns alpha, the variance of log X at alpha (the Fisher information per value;
    inf where the closed form applies) and a success flag.
    """
    lu = np.log(u)
    if not prep.discrete and not np.isfinite(prep.w):
        with np.errstate(divide="ignore"):
            alpha = 1.0 + 1.0 / (mean_log - lu)
        ok = np.isfinite(alpha) & (alpha > 1.0)
        alpha = np.where(ok, alpha, ALPHA_MAX)
        return alpha, (alpha - 1.0) ** -2, ok
    shift = np.log(np.maximum(u - 0.5, 0.5)) if prep.discrete else lu
    with np.errstate(divide="ignore"):
        a0 = 1.0 + 1.0 / np.maximum(mean_log - shift, 1e-300)
    return solve_alpha(lambda a, idx: log_norm(prep, a, u[idx]), mean_log, a0)


def fit_candidates(
    prep: Prepared, k: IntArray, u: FloatArray | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """MLE for every candidate: tail from uvals[k] on, xmin = ``u`` (default uvals[k]).

    Returns alpha, sigma, log Z at alpha and a success flag, each of shape (len(k),).
    """
    nt = (prep.n - prep.first[k]).astype(float)
    u = prep.uvals[k] if u is None else u
    alpha, var, ok = mle(prep, prep.slog[k] / nt, u)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where(var > 0, 1.0 / np.sqrt(nt * var), np.inf)
    return alpha, sigma, log_norm(prep, alpha, u), ok


def survival(
    prep: Prepared, alpha: FloatArray, lz: FloatArray, lu: FloatArray, kg: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Model P(X >= v) and P(X > v) at v = uvals[kg] for candidates with log xmin = lu.

    ``alpha``, ``lz`` (log normalisation) and ``lu`` have shape (B, 1); ``kg`` (B, G).
    """
    lv = prep.lv[kg]
    if prep.discrete:
        s = np.exp(log_norm_discrete(alpha, prep.uvals[kg], prep.w) - lz)
        s_gt = np.maximum(s - np.exp(-alpha * lv - lz), 0.0)
        return s, s_gt
    q = np.exp((1.0 - alpha) * (lv - lu))
    if np.isfinite(prep.w):
        qw = np.exp((1.0 - alpha) * (np.log(prep.w) - lu))
        q = np.maximum((q - qw) / (1.0 - qw), 0.0)
    return q, q


def _deviations(
    prep: Prepared,
    alpha: FloatArray,
    lz: FloatArray,
    kc: IntArray,
    kg: IntArray,
    sup: bool,
    lu: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Lower bound, upper bound and exactness of the KS distance on grids ``kg`` (B, G).

    Each row of ``kg`` is a non-decreasing list of distinct-value indices starting at
    the candidate's own index and ending at the largest value.
    """
    f0 = prep.first[kc][:, None]
    nt = (prep.n - f0).astype(float)
    e_ge = (prep.n - prep.first[kg]) / nt  # empirical P(X >= v) over the tail
    e_gt = (prep.n - prep.first[kg + 1]) / nt  # empirical P(X > v)
    lu = prep.lv[kc] if lu is None else lu
    s_ge, s_gt = survival(prep, alpha[:, None], lz[:, None], lu[:, None], kg)
    dev = np.abs(s_ge - e_ge)
    if sup:
        dev = np.maximum(dev, np.abs(s_gt - e_gt))
    lower = dev.max(axis=1)
    gap = kg[:, 1:] > kg[:, :-1] + 1
    bound = np.maximum(s_gt[:, :-1] - e_ge[:, 1:], e_gt[:, :-1] - s_ge[:, 1:])
    upper = np.maximum(lower, np.where(gap, bound, 0.0).max(axis=1))
    exact: NDArray[np.bool_] = np.logical_not(gap.any(axis=1))
    return lower, upper, exact


def ks_exact(
    prep: Prepared, alpha: float, lz: float, k: int, sup: bool, u: float | None = None
) -> float:
    """KS distance of the tail from uvals[k] on (model xmin ``u``, default uvals[k]),
    over every distinct value of the tail."""
    kg = np.arange(k, prep.uvals.size, dtype=np.intp)[None, :]
    lu = None if u is None else np.array([np.log(u)])
    lo, _, _ = _deviations(
        prep, np.array([alpha]), np.array([lz]), np.array([k], dtype=np.intp), kg, sup, lu
    )
    return float(lo[0])


def _rank_grid(prep: Prepared, kc: IntArray, g: int) -> IntArray:
    """Distinct-value indices at g + 1 evenly spaced ranks of each candidate's tail."""
    f0 = prep.first[kc]
    span = (prep.n - 1 - f0).astype(float)
    steps = np.arange(g + 1, dtype=float) / g
    ranks = f0[:, None] + np.floor(span[:, None] * steps[None, :]).astype(np.intp)
    kg: IntArray = prep.dix[ranks]
    # Tails with at most g + 1 distinct values: take every one of them (exact).
    u = prep.uvals.size
    few = (u - kc) <= g + 1
    if few.any():
        direct = np.minimum(kc[few, None] + np.arange(g + 1)[None, :], u - 1)
        kg[few] = direct
    return kg


def ks_scan(
    prep: Prepared, kc: IntArray, alpha: FloatArray, lz: FloatArray, sup: bool
) -> tuple[int, float, int]:
    """Position in ``kc`` of the candidate with the smallest KS distance, that distance,
    and the number of candidates whose distance was computed in full."""
    c = kc.size
    dlo = np.zeros(c)
    dhi = np.full(c, np.inf)
    exact = np.zeros(c, dtype=bool)
    active = np.arange(c)
    for g in KS_LEVELS:
        rows = max(1, _BLOCK // (g + 1))
        for s in range(0, active.size, rows):
            sel = active[s : s + rows]
            kg = _rank_grid(prep, kc[sel], g)
            lo, hi, ex = _deviations(prep, alpha[sel], lz[sel], kc[sel], kg, sup)
            dlo[sel] = np.maximum(dlo[sel], lo)
            dhi[sel] = np.minimum(dhi[sel], hi)
            exact[sel] |= ex
        # Probe: the full distance of the most promising candidates is a tight bound.
        open_ = np.flatnonzero(~exact)
        for j in open_[np.argsort(dlo[open_] + dhi[open_])[:_PROBES]]:
            d = ks_exact(prep, float(alpha[j]), float(lz[j]), int(kc[j]), sup)
            dlo[j] = dhi[j] = d
            exact[j] = True
        thr = dhi.min() * (1 + 1e-12) + 1e-15
        active = np.flatnonzero((dlo <= thr) & ~exact)
        if active.size == 0:
            break
    for j in active:
        d = ks_exact(prep, float(alpha[j]), float(lz[j]), int(kc[j]), sup)
        dlo[j] = dhi[j] = d
        exact[j] = True
    thr = dhi.min() * (1 + 1e-12) + 1e-15
    keep = np.flatnonzero(dlo <= thr)
    best = int(keep[np.argmin(dlo[keep])])
    return best, float(dlo[best]), int(exact.sum())

"""Vectorised fixed points of the length map (q*) and of the correlation map (c*).

q* solves G(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 - q = 0 by safeguarded
Newton inside a bracket [lo, hi] with G(lo) > 0 > G(hi): a Newton step that leaves
the bracket is replaced by bisection, so every point converges, and near the
critical point (where plain iteration of the map needs ~1/|1 - chi_q| steps) it
still takes a handful of steps. With sigma_b = 0 and phi(0) = 0, q = 0 is always a
fixed point; the non-trivial one is found from H(q) = sigma_w^2 E[phi^2]/q - 1
instead, which has no root at 0.

c* solves the correlation map with Mehler's formula, E[phi(u1) phi(u2)] =
sum_k a_k^2 c^k, truncated after K terms; the rest of the series at c = 1,
R = E[phi^2] - sum_k a_k^2 (known exactly), is kept as one extra term R c^(K+1),
so the truncated map still has c = 1 as a fixed point, and bounds the error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from crackle.theory._activations import Activation
from crackle.theory._quadrature import hermite_coefficients, moments

Array = NDArray[np.float64]

__all__ = ["STATUS", "QSolution", "solve_c_star", "solve_q_star"]

# Status codes of a point (the Dataset's ``status`` variable uses the same ones).
OK, ZERO, CRITICAL, DIVERGENT, MARGINAL, UNSTABLE, SERIES = 0, 1, 2, 3, 4, 5, 6
STATUS = {
    OK: "ok",
    ZERO: "trivial_fixed_point: sigma_b = 0 and the ordered side, so q* = 0 exactly",
    CRITICAL: "critical_point: q* = 0 with chi_q = 1; chi_b and chi_w_strength are inf, "
    "chi_w jumps here (NaN)",
    DIVERGENT: "no_finite_fixed_point: F(q) > q up to q = 1e15, the signal grows without "
    "bound (q* = inf, other quantities NaN)",
    MARGINAL: "marginal: F(q) = q for every q, so q* is not determined (NaN)",
    UNSTABLE: "unstable_fixed_point: the fixed point found has chi_q > 1 (NaN)",
    SERIES: "c_star_not_converged: the Mehler series bound exceeds 1e-9 "
    "(c_star, xi_c NaN; raise n_hermite)",
}
_Q_CAP = 1e15
_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class QSolution:
    """Fixed point ``q`` (inf when divergent, NaN when undetermined) and status codes."""

    q: Array
    status: NDArray[np.int8]


def _newton(
    fun: Callable[[Array, NDArray[np.intp]], tuple[Array, Array]],
    x0: Array,
    lo: Array,
    hi: Array,
    maxiter: int = 200,
) -> Array:
    """Safeguarded Newton on a decreasing bracket: fun(lo) > 0 > fun(hi)."""
    x, lo, hi = x0.copy(), lo.copy(), hi.copy()
    active = np.ones(x.size, dtype=bool)
    for _ in range(maxiter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        xi = x[idx]
        f, df = fun(xi, idx)
        pos, neg = f > 0, f < 0
        lo[idx[pos]] = xi[pos]
        hi[idx[neg]] = xi[neg]
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = xi - f / df
        li, hi_ = lo[idx], hi[idx]
        outside = ~((xn > li) & (xn < hi_)) | ~np.isfinite(xn)
        xn = np.where(outside, 0.5 * (li + hi_), xn)
        done = (
            (f == 0)
            | (np.abs(xn - xi) <= 4 * _EPS * np.abs(xn) + 1e-300)
            | (hi_ - li <= 4 * _EPS * hi_ + 1e-300)
        )
        x[idx] = np.where(f == 0, xi, xn)
        active[idx[done]] = False
    return x


def solve_q_star(act: Activation, sw: Array, sb: Array) -> QSolution:
    """q* for flat arrays of sigma_w^2 ``sw`` and sigma_b^2 ``sb`` (finite, >= 0)."""
    n = sw.size
    q = np.full(n, np.nan)
    status = np.zeros(n, dtype=np.int8)
    phi0 = float(act.phi(np.zeros(1))[0])
    scaled = (sb == 0) & (phi0 == 0.0)
    if scaled.any():
        m0 = moments(act, np.zeros(1), need_w=True)
        w0 = float(m0.w[0])
        m1 = moments(act, np.ones(1), need_w=True)
        h0 = sw * w0 - 1.0
        flat = np.abs(sw * (float(m1.w[0]) - w0)) <= 1e-13
        crit = scaled & (np.abs(h0) <= 1e-13)
        status[crit & flat] = MARGINAL
        status[crit & ~flat] = CRITICAL
        q[crit & ~flat] = 0.0
        zero = scaled & (h0 < -1e-13)
        status[zero] = ZERO
        q[zero] = 0.0
        scaled &= h0 > 1e-13
    plain = (status == 0) & ~scaled & np.isnan(q)
    trivial = plain & (sw == 0)
    q[trivial] = sb[trivial]
    plain &= ~trivial
    todo = np.flatnonzero(plain | scaled)
    if todo.size == 0:
        return QSolution(q, status)
    s, b, sc = sw[todo], sb[todo], scaled[todo]

    def g_or_h(x: Array, idx: NDArray[np.intp]) -> tuple[Array, Array]:
        ss, bb, cc = s[idx], b[idx], sc[idx]
        m = moments(act, x, need_w=bool(cc.any()))
        g = ss * m.v + bb - x
        dg = ss * m.dv - 1.0
        xs = np.where(cc, x, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = ss * m.w - 1.0
            dh = ss * (m.dv - m.w) / xs
        return np.where(cc, h, g), np.where(cc, dh, dg)

    # Upper bracket: F(q) <= sw * bound^2 + sb for a bounded phi; otherwise doubling.
    if act.bound is not None:
        hi = s * act.bound**2 + b + 1e-300
        hi = np.maximum(hi, 1e-300)
        fhi, _ = g_or_h(hi, np.arange(todo.size))
        bad = np.zeros(todo.size, dtype=bool)
    else:
        hi = np.maximum(1.0, 2.0 * (b + s * phi0**2))
        fhi, _ = g_or_h(hi, np.arange(todo.size))
        while True:
            grow = np.flatnonzero((fhi >= 0) & (hi < _Q_CAP))
            if grow.size == 0:
                break
            hi[grow] *= 4.0
            fhi[grow], _ = g_or_h(hi[grow], grow)
        bad = fhi >= 0
    ok = ~bad
    lo = np.zeros(todo.size)
    # One application of the map from hi stays in [q*, hi] when F is increasing.
    m = moments(act, hi)
    x0 = np.clip(s * m.v + b, lo, hi)
    x0 = np.where(ok, x0, 1.0)
    sol = _newton(g_or_h, x0, lo, np.where(ok, hi, 2.0))
    sol[bad] = np.inf
    out_status = np.where(bad, DIVERGENT, OK).astype(np.int8)
    q[todo] = sol
    status[todo] = out_status
    return QSolution(q, status)


def solve_c_star(
    act: Activation, sw: Array, sb: Array, q: Array, chi1: Array, kmax: int
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """c* and chi_c at c* for points with finite q > 0.

    Ordered points (chi_1 <= 1) have c* = 1 and chi_c = chi_1. Returns
    ``(c_star, chi_c, converged)``; ``converged`` is False where the Mehler series
    bound on the error of c* or chi_c exceeds 1e-9.
    """
    n = sw.size
    c = np.ones(n)
    chic = chi1.copy()
    conv = np.ones(n, dtype=bool)
    chaos = np.flatnonzero(chi1 > 1.0)
    if chaos.size == 0:
        return c, chic, conv
    s, b, qq = sw[chaos], sb[chaos], q[chaos]
    a = hermite_coefficients(act, qq, kmax)
    bk = a * a
    m = moments(act, qq)
    k = np.arange(kmax + 1, dtype=float)
    r0 = np.maximum(m.v - bk.sum(axis=1), 0.0)
    r1 = np.maximum(qq * m.d - (k * bk).sum(axis=1), 0.0)
    coef = np.concatenate([bk, r0[:, None]], axis=1)  # tail lumped into c^(K+1)
    scale = s / qq

    # Only the non-zero powers enter Horner's scheme (odd phi: odd powers only).
    used = np.flatnonzero(coef.any(axis=0))
    stride = 2 if used.size and np.all(used % 2 == used[0] % 2) and used.size > 1 else 1
    first = int(used[0]) if used.size else 0
    powers = np.arange(first, kmax + 2, stride)
    cpow = coef[:, powers]

    def poly(x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array]:
        # p(x) = x^first * r(x^stride), r evaluated by Horner; dp by the product rule.
        cf = cpow[rows]
        y = x**stride
        r = np.zeros(rows.size)
        dr = np.zeros(rows.size)
        for j in range(powers.size - 1, -1, -1):
            dr = dr * y + r
            r = r * y + cf[:, j]
        dy = stride * x ** (stride - 1)
        xf = x**first
        dxf = first * x ** (first - 1) if first > 0 else np.zeros(rows.size)
        return xf * r, dxf * r + xf * dr * dy

    x = np.zeros(chaos.size)
    active = np.ones(chaos.size, dtype=bool)
    for _ in range(2000):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        p, dp = poly(x[rows], rows)
        g = scale[rows] * p + b[rows] / qq[rows] - x[rows]
        dg = scale[rows] * dp - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(g > 0, -g / dg, 0.0)
        step = np.where(np.isfinite(step) & (step >= 0), step, 0.0)
        xn = np.minimum(x[rows] + step, 1.0)
        done = (step <= 2 * _EPS * np.maximum(xn, 1e-300)) | (g <= 0)
        x[rows] = xn
        active[rows[done]] = False
    _, dp = poly(x, np.arange(chaos.size))
    cc = scale * dp
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tail_f = scale * r0 * x ** (kmax + 1)
        err_c = tail_f / np.maximum(1.0 - cc, 1e-300)
        err_chi = scale * np.maximum(r1, (kmax + 1) * r0) * x**kmax
    good = (err_c <= 1e-9) & (err_chi <= 1e-9) & ~active
    c[chaos] = x
    chic[chaos] = cc
    conv[chaos] = good
    return c, chic, conv

"""Gaussian expectations E[g(sqrt(q) z)], z ~ N(0, 1), to machine precision for any q.

Plain Gauss-Hermite fails for saturating activations at large ``q``: tanh(sqrt(q) z)
turns into a step of width 1/sqrt(q), and 201 nodes leave an error of 1e-5 at
q = 10 and 5e-3 at q = 50 (see docs/meanfield.md). crackle therefore integrates
against the Gaussian with one *composite Gauss-Legendre* rule per call, shared by
every point of that call: panels on octaves ``z0 * 2^k`` from
``z0 = 0.5 / sqrt(q_max)`` up to ``z = 1`` (so any feature of ``phi`` at the scale
``|u| >= 0.5`` meets a panel boundary, whatever ``q <= q_max``), then panels of
width 1 (moments) or 0.5 (Hermite coefficients, which oscillate) out to ``z = 12``,
12 Legendre nodes per panel. The Gaussian tail beyond 12 is below 1e-32.
Odd or even integrands use the half line. Measured error against
``scipy.integrate.quad``: below 1e-15 relative for q in [1e-8, 1e5].
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from crackle.theory._activations import Activation

Array = NDArray[np.float64]

__all__ = ["Moments", "Rule", "gaussian_rule", "hermite_coefficients", "moments"]

_NODES_PER_PANEL = 12
_Z_MAX = 12.0
# Below this q the rule for "tiny q" is used (u-features far outside the Gaussian).
_Q_FLOOR = 1e-300


@dataclass(frozen=True)
class Rule:
    """Nodes ``z`` and weights ``w`` (Gaussian density included) of a quadrature rule."""

    z: Array
    w: Array
    half: bool

    @property
    def size(self) -> int:
        return int(self.z.size)


@lru_cache(maxsize=64)
def _rule_cached(octaves: int, outer_width: float, half: bool) -> Rule:
    t, wt = np.polynomial.legendre.leggauss(_NODES_PER_PANEL)
    inner = 2.0 ** -np.arange(octaves, -1, -1, dtype=float)  # z0 ... 1
    outer = np.arange(1.0 + outer_width, _Z_MAX + 1e-9, outer_width)
    edges = np.concatenate([[0.0], inner, outer])
    a, b = edges[:-1, None], edges[1:, None]
    z = ((a + b) / 2 + (b - a) / 2 * t).ravel()
    w = ((b - a) / 2 * wt).ravel() * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    if half:
        return Rule(z, 2.0 * w, True)
    return Rule(np.concatenate([-z[::-1], z]), np.concatenate([w[::-1], w]), False)


def gaussian_rule(q_max: float, *, half: bool, oscillatory: bool = False) -> Rule:
    """The composite rule for variances up to ``q_max`` (see the module docstring)."""
    z0 = 0.5 / np.sqrt(max(q_max, 1e-12))
    octaves = max(0, int(np.ceil(np.log2(1.0 / z0)))) if z0 < 1.0 else 0
    return _rule_cached(octaves, 0.5 if oscillatory else 1.0, half)


_BLOCK_ELEMENTS = 1 << 18  # ~2 MB per temporary array: stays in cache


def _run_blocks(block: Callable[[int, int], None], n: int, width: int) -> None:
    """Call ``block(lo, hi)`` over row blocks, on a few threads when the work is large.

    numpy releases the GIL inside ufuncs and matrix products, so threads use the
    machine's cores; each block writes its own rows, so results do not depend on
    the thread count.
    """
    rows = max(1, _BLOCK_ELEMENTS // max(width, 1))
    starts = list(range(0, n, rows))
    workers = min(len(starts), os.cpu_count() or 1, 8)
    if workers <= 1:
        for lo in starts:
            block(lo, min(lo + rows, n))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda lo: block(lo, min(lo + rows, n)), starts))


@dataclass(frozen=True)
class Moments:
    """Gaussian moments at variance ``q`` (each of shape (n,)).

    ``v = E[phi(u)^2]``, ``d = E[phi'(u)^2]``, ``dv = dv/dq = E[phi'^2 + phi phi'']``,
    ``w = v / q`` (finite as q -> 0 when phi(0) = 0), u = sqrt(q) z.
    """

    v: Array
    d: Array
    dv: Array
    w: Array


def moments(act: Activation, q: Array, *, need_w: bool = False) -> Moments:
    """Gaussian moments of ``act`` at each variance in ``q`` (q >= 0, finite)."""
    q = np.asarray(q, dtype=float)
    qe = np.maximum(q, _Q_FLOOR)  # q = 0 is evaluated as its limit q -> 0+
    if act.moments is not None:
        v, d, dv = act.moments(qe)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = v / qe
        return Moments(v, d, dv, w)
    if q.size == 0:
        e = np.empty(0)
        return Moments(e, e, e, e)
    half = act.parity != "none"
    rule = gaussian_rule(float(qe.max()), half=half)
    n = q.size
    v, d, dv, w = (np.empty(n) for _ in range(4))

    def block(lo: int, hi: int) -> None:
        sq = np.sqrt(qe[lo:hi])[:, None]
        u = sq * rule.z[None, :]
        p, p1, p2 = act.derivs(u)
        p1 *= p1
        v[lo:hi] = (p * p) @ rule.w
        d[lo:hi] = p1 @ rule.w
        p2 *= p
        p2 += p1
        dv[lo:hi] = p2 @ rule.w
        if need_w:
            p /= sq
            w[lo:hi] = (p * p) @ rule.w
        else:
            w[lo:hi] = v[lo:hi] / qe[lo:hi]

    _run_blocks(block, n, rule.size)
    return Moments(v, d, dv, w)


def hermite_coefficients(act: Activation, q: Array, kmax: int) -> Array:
    """Normalised Hermite coefficients ``E[phi(sqrt(q) z) He_k(z)] / sqrt(k!)``.

    Returns an array of shape (n, kmax + 1). By Mehler's formula the correlation
    map is ``E[phi(u1) phi(u2)] = sum_k a_k^2 c^k`` for unit-variance inputs with
    correlation ``c``, scaled by ``q``.
    """
    q = np.maximum(np.asarray(q, dtype=float), _Q_FLOOR)
    if act.hermite is not None:
        return act.hermite(q, kmax)
    half = act.parity != "none"
    rule = gaussian_rule(float(q.max()) if q.size else 1.0, half=half, oscillatory=True)
    hn = _normalised_hermite(rule.z, kmax)  # (N, K+1)
    out = np.empty((q.size, kmax + 1))

    def block(lo: int, hi: int) -> None:
        vals = act.phi(np.sqrt(q[lo:hi])[:, None] * rule.z[None, :])
        vals *= rule.w[None, :]
        out[lo:hi] = vals @ hn

    _run_blocks(block, q.size, rule.size)
    if act.parity == "odd":
        out[:, 0::2] = 0.0
    elif act.parity == "even":
        out[:, 1::2] = 0.0
    return np.asarray(out, dtype=float)


@lru_cache(maxsize=16)
def _hermite_table(z_bytes: bytes, kmax: int) -> Array:
    z = np.frombuffer(z_bytes, dtype=float)
    hn = np.empty((z.size, kmax + 1))
    hn[:, 0] = 1.0
    if kmax >= 1:
        hn[:, 1] = z
    for k in range(2, kmax + 1):
        hn[:, k] = (z * hn[:, k - 1] - np.sqrt(k - 1.0) * hn[:, k - 2]) / np.sqrt(k)
    hn.setflags(write=False)
    return hn


def _normalised_hermite(z: Array, kmax: int) -> Array:
    """``He_k(z) / sqrt(k!)`` for k = 0..kmax, shape (len(z), kmax + 1)."""
    return _hermite_table(np.ascontiguousarray(z, dtype=float).tobytes(), kmax)

"""Least-squares fit of r_k = b m^k, exact to machine precision.

b is profiled out in closed form; m is found on a grid and refined by Brent's root
search on the derivative of the profile residual, so the result is the least-squares
minimum itself, not an optimiser's stopping point (``mrestimator`` fits the same
family with ``curve_fit``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

FloatArray = NDArray[np.float64]


def _profile_sse(m: FloatArray, k: FloatArray, r: FloatArray) -> FloatArray:
    """Least-squares residual of r_k = b m^k with b at its optimum, for each m."""
    mk = m[:, None] ** k[None, :]
    num = np.maximum(mk @ r, 0.0)  # b >= 0
    den = np.einsum("ij,ij->i", mk, mk)
    out: FloatArray = r @ r - num**2 / den
    return out


def _profile_slope(m: float, k: FloatArray, r: FloatArray) -> float:
    """Sign-carrying derivative of the profile residual: N D' - 2 N' D.

    N = sum r_k m^k, D = sum m^2k and primes are d/dm; d SSE/dm = (N D' - 2 N' D) N / D^2
    has its sign wherever N > 0.
    """
    mk = m**k
    n, d = float(mk @ r), float(mk @ mk)
    dn, dd = float((k * mk / m) @ r), float(2.0 * (k * mk / m) @ mk)
    return n * dd - 2.0 * dn * d


def fit_exponential(k: FloatArray, r: FloatArray) -> tuple[float, float, bool]:
    """Unweighted least squares of r_k = b m^k over b >= 0, m > 0.

    b is profiled out in closed form (b = sum r_k m^k / sum m^2k); the residual is
    scanned over a grid of m (dense near 1) and refined by Brent's root search on its
    derivative between the neighbours of the best grid point. Returns (b, m, success);
    success is False when the minimum lies on the edge of the range searched.
    """
    m_hi = min(1.5, float(np.exp(300.0 / k[-1])))  # keep sum m^2k finite
    grid = np.unique(
        np.concatenate(
            [
                np.linspace(1e-3, 0.9, 60),
                1.0 - np.geomspace(0.1, 1e-7, 150),
                1.0 + np.geomspace(1e-7, m_hi - 1.0, 60),
            ]
        )
    )
    sse = _profile_sse(grid, k, r)
    i = int(np.argmin(sse))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    # Refine: the root of d SSE / dm, whose sign is that of N D' - 2 N' D (below).
    ga, gb = _profile_slope(lo, k, r), _profile_slope(hi, k, r)
    m = float(grid[i])
    if ga < 0 < gb:
        m = float(brentq(_profile_slope, lo, hi, args=(k, r), xtol=1e-15, rtol=1e-15))
    mk = m**k
    b = max(float(mk @ r / (mk @ mk)), 0.0)
    return b, m, bool(0 < i < grid.size - 1)

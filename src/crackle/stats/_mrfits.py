"""Fits of the MR coefficients r_k beyond b m^k: with an offset, and the "complex" model.

Both follow the definitions of the ``mrestimator`` package (Spitzner et al. 2021):

* ``exp_offset``: r_k = b m^k + c, unweighted least squares over b >= 0 and any c.
  For fixed m the model is linear in (b, c), so (b, c) are profiled out in closed
  form (centred normal equations, no cancellation near m = 1); the profile residual
  is scanned on the grid of :mod:`._expfit` and the best point is polished by
  Levenberg-Marquardt on (b, m, c) to machine tolerance.
* ``complex``: r_k = b e^(-k/tau) + B e^(-(k/tau_osc)^gamma) cos(2 pi nu k)
  + C e^(-(k/tau_gs)^2) + c, with m = e^(-1/tau): an exponential decay plus an
  oscillation and a short Gaussian peak. Bounded least squares (trust region) from
  the starting points published with ``mrestimator`` (its 22 less the repeats) and
  one from the offset fit;
  the smallest residual wins. Bounds, in lags: tau and tau_osc in [5, 5000],
  b in [0, 1], c in [-1, 1], B and C in [-5, 5], gamma in [1/3, 3], nu in
  [0.002, 0.05] cycles per lag, tau_gs in [0, 30].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from crackle.stats._expfit import fit_exponential

FloatArray = NDArray[np.float64]

COMPLEX_NAMES = ("tau", "b", "c", "tau_osc", "B", "gamma", "nu", "tau_gs", "C")
COMPLEX_LOWER = np.array([5.0, 0.0, -1.0, 5.0, -5.0, 1.0 / 3.0, 0.002, 0.0, -5.0])
COMPLEX_UPPER = np.array([5000.0, 1.0, 1.0, 5000.0, 5.0, 3.0, 0.05, 30.0, 5.0])
# Starting points (tau, b, c, tau_osc, B, gamma, nu, tau_gs, C) published with
# mrestimator 0.1.x/0.2.x (its defaults for the complex fit).
COMPLEX_STARTS = np.array(
    [
        (10, 0.1, 0, 300, 0.03, 1.0, 1.0 / 200, 10, 0.03),
        (400, 0.1, 0, 200, 0.03, 2.5, 1.0 / 250, 25, 0.03),
        (20, 0.1, 0.03, 100, 0.03, 1.5, 1.0 / 50, 10, 0.03),
        (300, 0.1, 0.03, 100, 0.03, 1.5, 1.0 / 50, 10, 0.03),
        (20, 0.03, 0.01, 100, 0.03, 1.0, 1.0 / 150, 5, 0.03),
        (10, 0.05, 0.03, 300, 0.03, 1.5, 1.0 / 100, 5, 0.1),
        (300, 0.05, 0.03, 300, 0.03, 1.5, 1.0 / 100, 10, 0.1),
        (56, 0.029, 0.010, 116, 0.010, 2.0, 1.0 / 466, 5, 0.03),
        (19, 0.078, 0.044, 107, 0.017, 1.0, 1.0 / 478, 5, 0.1),
        (10, 0.029, 0.045, 300, 0.067, 2.0, 1.0 / 127, 10, 0.03),
        (210, 0.029, 0.012, 50, 0.03, 1.0, 1.0 / 150, 10, 0.1),
        (210, 0.029, 0.012, 50, 0.03, 1.0, 1.0 / 150, 10, 0.03),
        (310, 0.029, 0.002, 50, 0.08, 1.0, 1.0 / 34, 5, 0.03),
        (310, 0.029, 0.002, 50, 0.08, 1.0, 1.0 / 64, 5, 0.03),
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class CurveFit:
    """One fitted model of r_k: m, the parameters by name, the residual sum of squares."""

    name: str
    m: float
    params: dict[str, float] = field(default_factory=dict)
    sse: float = float("nan")
    success: bool = True

    @property
    def b(self) -> float:
        return self.params.get("b", float("nan"))

    @property
    def offset(self) -> float:
        return self.params.get("c", 0.0)


def model(name: str, params: dict[str, float], k: FloatArray) -> FloatArray:
    """The fitted curve of model ``name`` at lags ``k``."""
    k = np.asarray(k, dtype=np.float64)
    if name == "naive":
        return np.asarray(params["m"] ** k)
    if name in ("exp", "exp_offset"):
        return np.asarray(params["b"] * params["m"] ** k + params.get("c", 0.0))
    p = np.array([params[n] for n in COMPLEX_NAMES])
    return _complex(p, k)


def _complex(p: FloatArray, k: FloatArray) -> FloatArray:
    tau, b, c, tosc, big_b, gamma, nu, tgs, big_c = p
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        out = (
            b * np.exp(-k / tau)
            + big_b * np.exp(-((k / tosc) ** gamma)) * np.cos(2.0 * np.pi * nu * k)
            + big_c * np.exp(-((k / tgs) ** 2))
            + c
        )
    return np.asarray(np.nan_to_num(out, nan=0.0))


def fit_exp(k: FloatArray, r: FloatArray) -> CurveFit:
    """r_k = b m^k (the closed-form profile of :mod:`._expfit`)."""
    b, m, ok = fit_exponential(k, r)
    return CurveFit("exp", m, {"b": b, "m": m}, float(np.sum((r - b * m**k) ** 2)), ok)


def _offset_profile(m: FloatArray, k: FloatArray, r: FloatArray) -> tuple[FloatArray, ...]:
    """Best (b, c) and residual for each m of r_k = b m^k + c, with b >= 0."""
    with np.errstate(over="ignore", under="ignore"):
        mk = m[:, None] ** k[None, :]
    u = mk - mk.mean(axis=1, keepdims=True)
    rc = r - r.mean()
    suu = np.einsum("ij,ij->i", u, u)
    sur = u @ rc
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(suu > 0, sur / suu, 0.0)
    b = np.maximum(b, 0.0)
    c = r.mean() - b * mk.mean(axis=1)
    sse = rc @ rc - np.where(b > 0, sur * b, 0.0)
    return b, c, sse


def fit_offset(k: FloatArray, r: FloatArray) -> CurveFit:
    """r_k = b m^k + c by unweighted least squares (b >= 0, m > 0, c free)."""
    m_hi = min(1.5, float(np.exp(300.0 / k[-1])))
    grid = np.unique(
        np.concatenate(
            [
                np.linspace(1e-3, 0.9, 60),
                1.0 - np.geomspace(0.1, 1e-6, 150),
                1.0 + np.geomspace(1e-6, m_hi - 1.0, 60),
            ]
        )
    )
    b, c, sse = _offset_profile(grid, k, r)
    i = int(np.argmin(sse))
    x0 = np.array([b[i], grid[i], c[i]])
    best = CurveFit("exp_offset", float(grid[i]), {"b": b[i], "m": grid[i], "c": c[i]}, sse[i])
    if b[i] > 0:

        def resid(p: FloatArray) -> FloatArray:
            return np.asarray(p[0] * p[1] ** k + p[2] - r)

        def jac(p: FloatArray) -> FloatArray:
            mk = p[1] ** k
            return np.column_stack([mk, p[0] * k * p[1] ** (k - 1.0), np.ones_like(k)])

        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            sol = least_squares(resid, x0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
            sse_sol = float(np.sum(sol.fun**2))
        if np.isfinite(sse_sol) and sse_sol <= best.sse and sol.x[0] >= 0 and sol.x[1] > 0:
            bb, mm, cc = (float(v) for v in sol.x)
            best = CurveFit("exp_offset", mm, {"b": bb, "m": mm, "c": cc}, sse_sol)
    edge = not 0 < i < grid.size - 1
    return CurveFit(
        "exp_offset",
        float(best.m),
        {key: float(v) for key, v in best.params.items()},
        float(best.sse),
        not edge,
    )


def _complex_fit_from(k: FloatArray, r: FloatArray, x0: FloatArray, max_nfev: int) -> tuple:
    def resid(p: FloatArray) -> FloatArray:
        return _complex(p, k) - r

    x0 = np.clip(x0, COMPLEX_LOWER, COMPLEX_UPPER)
    with np.errstate(all="ignore"):
        sol = least_squares(
            resid, x0, bounds=(COMPLEX_LOWER, COMPLEX_UPPER), method="trf", max_nfev=max_nfev
        )
    return sol.x, float(np.sum(sol.fun**2))


def fit_complex(k: FloatArray, r: FloatArray, start: FloatArray | None = None) -> CurveFit:
    """The complex model of the module docstring, best of several starting points.

    With ``start`` (a parameter vector, e.g. the full-data optimum in a bootstrap
    replica) only that starting point is used.
    """
    if start is not None:
        starts = [start]
    else:
        off = fit_offset(k, r)
        tau0 = -1.0 / np.log(off.m) if 0 < off.m < 1 else 100.0
        own = np.array([tau0, off.b, off.offset, 100.0, 0.0, 1.0, 0.01, 5.0, 0.0])
        starts = [*COMPLEX_STARTS, own]
    best_p, best_sse = None, np.inf
    for x0 in starts:
        p, sse = _complex_fit_from(k, r, np.asarray(x0, dtype=np.float64), 1000)
        if sse < best_sse:
            best_p, best_sse = p, sse
    assert best_p is not None
    params = {n: float(v) for n, v in zip(COMPLEX_NAMES, best_p, strict=True)}
    params["m"] = float(np.exp(-1.0 / params["tau"]))
    at_bound = bool(
        np.isclose(params["tau"], COMPLEX_LOWER[0]) or np.isclose(params["tau"], COMPLEX_UPPER[0])
    )
    return CurveFit("complex", params["m"], params, best_sse, not at_bound)


def complex_vector(fit: CurveFit) -> FloatArray:
    """The parameter vector of a complex fit, in the order of COMPLEX_NAMES."""
    return np.array([fit.params[n] for n in COMPLEX_NAMES])


def run_fit(name: str, k: FloatArray, r: FloatArray, start: FloatArray | None = None) -> CurveFit:
    """Dispatch on the fit name: "exp", "exp_offset" or "complex"."""
    if name == "exp":
        return fit_exp(k, r)
    if name == "exp_offset":
        return fit_offset(k, r)
    return fit_complex(k, r, start)

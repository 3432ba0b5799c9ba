"""Benchmark of the mean-field phase diagram against a scipy.integrate.quad baseline.

    python benchmarks/bench_meanfield.py [--n 256]

1. ``crackle.meanfield.phase_diagram`` on an n x n tanh grid (sigma_w^2 in [0.5, 4],
   sigma_b^2 in [0, 1]), best of 3. Target: under 2 s on 2 cores for n = 256.
2. The same quantities point by point with ``scipy.integrate.quad`` for every
   Gaussian expectation, ``scipy.optimize.brentq`` for q*, and ``dblquad`` for the
   correlation map (the obvious slow way), timed on a few points of the same grid in
   the same run; ratio per point. Target: at least 1000x.
3. Largest absolute difference between the two on those points. Target: 1e-8.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy import integrate, optimize

from crackle.theory import meanfield as mf
from crackle.theory._activations import resolve_activation
from crackle.theory._fixedpoint import solve_q_star
from crackle.theory._quadrature import moments

_SQ2PI = np.sqrt(2 * np.pi)


def gauss(f, q: float) -> float:
    """E[f(sqrt(q) z)] by adaptive quadrature in u = sqrt(q) z."""
    s = np.sqrt(q)
    val, _ = integrate.quad(
        lambda u: f(u) * np.exp(-0.5 * (u / s) ** 2) / (s * _SQ2PI),
        -12 * s,
        12 * s,
        points=[0.0],
        epsabs=1e-14,
        epsrel=1e-13,
        limit=400,
    )
    return val


def quad_point(sw: float, sb: float, with_c: bool = True) -> dict[str, float]:
    """Every quantity at one point with quad/brentq/dblquad (tanh, sigma_b^2 > 0)."""
    t = np.tanh

    def F(q: float) -> float:
        return sw * gauss(lambda u: t(u) ** 2, q) + sb

    q = optimize.brentq(lambda x: F(x) - x, 1e-300, sw + sb + 1.0, xtol=1e-15, rtol=1e-15)
    d1 = lambda u: 1 - t(u) ** 2  # noqa: E731
    v = gauss(lambda u: t(u) ** 2, q)
    d = gauss(lambda u: d1(u) ** 2, q)
    dv = gauss(lambda u: d1(u) ** 2 - 2 * t(u) ** 2 * d1(u), q)
    chi_q, chi_1 = sw * dv, sw * d
    out = {
        "q_star": q,
        "chi_q": chi_q,
        "chi_1": chi_1,
        "chi_w": v / (1 - chi_q),
        "chi_b": 1 / (1 - chi_q),
        "xi_q": -1 / np.log(chi_q),
    }
    if with_c:
        out["c_star"] = 1.0
        if chi_1 > 1:

            def cmap(c: float) -> float:
                s = np.sqrt(1 - c * c)
                val, _ = integrate.dblquad(
                    lambda z2, z1: (
                        t(np.sqrt(q) * z1)
                        * t(np.sqrt(q) * (c * z1 + s * z2))
                        * np.exp(-0.5 * (z1 * z1 + z2 * z2))
                        / (2 * np.pi)
                    ),
                    -10,
                    10,
                    -10,
                    10,
                    epsabs=1e-13,
                    epsrel=1e-12,
                )
                return (sw * val + sb) / q - c

            out["c_star"] = optimize.brentq(cmap, 0.0, 1 - 1e-6, xtol=1e-13)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--points", type=int, default=12, help="quad baseline points")
    args = ap.parse_args()
    n = args.n
    sw = np.linspace(0.5, 4.0, n)
    sb = np.linspace(0.0, 1.0, n)
    mf.phase_diagram(sw[:4], sb[:4])  # warm-up (imports, rule cache)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        ds = mf.phase_diagram(sw, sb)
        times.append(time.perf_counter() - t0)
    fast = min(times)
    per_fast = fast / (n * n)
    # The first stage of phase_diagram alone (q* by root finding, then the moments behind
    # chi_q, chi_1, chi_w, chi_b): the like-for-like twin of the quad baseline below.
    act = resolve_activation("tanh", "bench")
    gw, gb = (a.ravel() for a in np.meshgrid(sw, sb, indexing="ij"))
    t_stage = []
    for _ in range(3):
        t0 = time.perf_counter()
        sol = solve_q_star(act, gw, gb)
        fin = np.isfinite(sol.q)
        moments(act, sol.q[fin])
        t_stage.append(time.perf_counter() - t0)
    per_stage = min(t_stage) / (n * n)
    print(f"cores available: {os.cpu_count()}")
    print(f"phase_diagram {n}x{n} tanh: best of 3 = {fast:.3f} s ({per_fast * 1e6:.1f} us/point)")
    print(
        f"  of which q* and chi's (first stage): {min(t_stage):.3f} s "
        f"({per_stage * 1e6:.1f} us/point)"
    )
    rng = np.random.default_rng(0)
    iw = rng.integers(0, n, args.points)
    ib = rng.integers(1, n, args.points)  # sigma_b^2 > 0: the generic case
    worst: dict[str, float] = {}
    t_1d, t_c, n_c = 0.0, 0.0, 0
    for i, j in zip(iw, ib, strict=True):
        t0 = time.perf_counter()
        ref = quad_point(float(sw[i]), float(sb[j]), with_c=False)
        dt1 = time.perf_counter() - t0
        t_1d += dt1
        if n_c < 3 and ref["chi_1"] > 1:  # c* by dblquad on a few chaotic points
            t0 = time.perf_counter()
            ref["c_star"] = quad_point(float(sw[i]), float(sb[j]))["c_star"]
            t_c += time.perf_counter() - t0 - dt1  # the c* part alone
            n_c += 1
        for name, val in ref.items():
            got = float(ds[name].values[i, j])
            worst[name] = max(worst.get(name, 0.0), abs(got - val))
    per_1d = t_1d / args.points
    print(f"quad baseline, q*/chi's only: {per_1d * 1e3:.1f} ms/point ({args.points} points)")
    print(
        f"speed-up per point, q* and chi's, like for like: {per_1d / per_stage:.0f}x "
        "(target >= 1000x)"
    )
    print(f"  (whole diagram, c* included, against this q*/chi baseline: {per_1d / per_fast:.0f}x)")
    if n_c:
        per_c = t_c / n_c
        print(f"dblquad baseline for c*: {per_c * 1e3:.0f} ms/point ({n_c} chaotic points)")
        print(
            f"speed-up per point, whole Dataset, like for like: {(per_1d + per_c) / per_fast:.0f}x"
        )
    print("largest |fast - quad|: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))


if __name__ == "__main__":
    main()

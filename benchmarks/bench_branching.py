"""Benchmarks of crackle.branching_ratio (MR) and crackle.dfa against their peers.

    python benchmarks/bench_branching.py           # 10^6 steps
    python benchmarks/bench_branching.py --quick   # 10^5 steps

BLAS is pinned to one thread (OPENBLAS_NUM_THREADS=1, unless already set) for both
sides: on a shared machine with more busy processes than cores, OpenBLAS threads spin
and make thin matrix products up to 10x slower, which would measure the machine.

1. MR coefficients r_k, k = 1..kmax, on one trial of a driven branching process
   (m = 0.99, h = 10, 10 % subsampling): ``crackle.branching_ratio(x, kmax=kmax,
   n_boot=0)`` (validation, r_k and the exponential fit) against
   ``mrestimator.coefficients(x, method="ts", steps=(1, kmax), numboot=0)`` (r_k
   only). Target: >= 5x at kmax = 100.
2. DFA-1 of 10^6 samples of white noise: ``crackle.dfa(x)`` against
   ``MFDFA.MFDFA(x, lag=scales, q=2, order=1)`` with the same scales. Target: faster,
   with the same exponent.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from _common import best_of
from crackle import branching_ratio, dfa
from crackle.sim import driven_branching_process


def timed(func, repeat):
    t = best_of(func, repeat=repeat)
    return t, func()


def mr(n: int) -> None:
    import mrestimator as mre

    logging.getLogger("mrestimator").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    x = driven_branching_process(0.99, 10.0, n, subsample=0.1, seed=0).observed.astype(float)
    print(f"simulated {n:.0e} steps in {time.perf_counter() - t0:.1f} s")
    for kmax in (100, 1000):
        t_c, est = timed(lambda k=kmax: branching_ratio(x, kmax=k, n_boot=0), 3)
        t_m, rk = timed(lambda k=kmax: mre.coefficients(x, method="ts", steps=(1, k), numboot=0), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its curve_fit overflows on far start values
            fit = mre.fit(rk, fitfunc="exponential")
        diff = np.max(np.abs(est.r_k - rk.coefficients))
        print(f"MR, n = {n:.0e}, kmax = {kmax}:")
        print(f"  crackle (r_k + fit)   {t_c:8.3f} s   m = {est.m:.10f}")
        print(f"  mrestimator (r_k)     {t_m:8.3f} s   m = {fit.mre:.10f} (its fit)")
        print(f"  ratio                 {t_m / t_c:8.1f} x   max |r_k diff| = {diff:.1e}")
    t_b = best_of(lambda: branching_ratio(x, kmax=100, n_boot=100), repeat=1)
    print(f"  crackle with 100 block-bootstrap refits (kmax = 100): {t_b:.3f} s")


def dfa_vs_mfdfa(n: int) -> None:
    from MFDFA import MFDFA

    x = np.random.default_rng(1).normal(size=n)
    t_c, res = timed(lambda: dfa(x), 3)
    t_m, (lag, f) = timed(lambda: MFDFA(x, lag=res.scales, q=2, order=1), 2)
    h_m = np.polyfit(np.log(lag), np.log(f[:, 0]), 1)[0]
    rel = np.max(np.abs(res.fluctuation / f[:, 0] - 1))
    print(f"DFA-1, n = {n:.0e}, {res.scales.size} scales {res.scales[0]}..{res.scales[-1]}:")
    print(f"  crackle   {t_c:8.3f} s   H = {res.exponent:.6f}")
    print(f"  MFDFA     {t_m:8.3f} s   H = {h_m:.6f}")
    print(f"  ratio     {t_m / t_c:8.1f} x   max relative F(n) diff = {rel:.1e}")


def main() -> None:
    n = 100_000 if "--quick" in sys.argv else 1_000_000
    print(f"OPENBLAS_NUM_THREADS = {os.environ['OPENBLAS_NUM_THREADS']}")
    mr(n)
    dfa_vs_mfdfa(n)


if __name__ == "__main__":
    main()

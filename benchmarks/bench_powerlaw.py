"""Benchmarks of crackle.stats.fit_power_law.

    python benchmarks/bench_powerlaw.py           # full: includes powerlaw at 10^6 (minutes)
    python benchmarks/bench_powerlaw.py --quick   # powerlaw baseline at 10^5 only

Data: a discrete power law (alpha = 2.5, xmin = 10, 80 % of the values) above
uniform integers on [1, 9] (20 %), so that the full xmin scan has real work to do.

1. Discrete fit with the full xmin scan, crackle vs ``powerlaw.Fit(data,
   discrete=True)`` (its defaults) at n = 10^5 and 10^6, timed in this run; the ratio
   is printed. Target: >= 100x at 10^6.
2. n = 4 x 10^6: discrete (alpha 2.5 and 1.5, full scan) and continuous (alpha 2.0).
   Target: discrete under 5 s.
3. Bootstrap goodness of fit, n_boot = 1000 at n = 10^4 (discrete and continuous).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from _common import best_of
from crackle.stats import fit_power_law, sample_power_law


def mixture(n: int, alpha: float, discrete: bool, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tail = sample_power_law(alpha, 10, int(0.8 * n), discrete=discrete, seed=seed + 1)
    low = rng.integers(1, 10, n - tail.size) if discrete else rng.uniform(1, 10, n - tail.size)
    x = np.concatenate([tail, np.asarray(low, dtype=float)])
    rng.shuffle(x)
    return x


def vs_powerlaw(n: int) -> None:
    import powerlaw

    x = mixture(n, 2.5, True)
    t_c = best_of(lambda: fit_power_law(x, discrete=True), repeat=3)
    fit = fit_power_law(x, discrete=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        ref = powerlaw.Fit(x, discrete=True, verbose=0)
        t_p = time.perf_counter() - t0
    print(f"discrete, full xmin scan, n = {n:.0e} ({fit.xmin_candidates} candidates):")
    print(f"  crackle   {t_c:8.3f} s   xmin = {fit.xmin:g}, exponent = {fit.exponent:.4f}")
    print(f"  powerlaw  {t_p:8.3f} s   xmin = {ref.xmin:g}, alpha = {ref.power_law.alpha:.4f}")
    print(f"  ratio     {t_p / t_c:8.0f} x   (target >= 100 x at 1e6)")


def big(n: int = 4_000_000) -> None:
    for discrete, alpha in [(True, 2.5), (True, 1.5), (False, 2.0)]:
        x = mixture(n, alpha, discrete, seed=3)
        t = best_of(lambda x=x, d=discrete: fit_power_law(x, discrete=d), repeat=3)
        fit = fit_power_law(x, discrete=discrete)
        kind = "discrete  " if discrete else "continuous"
        print(
            f"  {kind} alpha = {alpha}: {t:6.2f} s   xmin = {fit.xmin:.4g}, "
            f"exponent = {fit.exponent:.4f}, {fit.xmin_candidates} candidates"
            + ("" if discrete else " (subset)")
        )


def bootstrap() -> None:
    for discrete in (True, False):
        x = mixture(10_000, 2.5, discrete, seed=5)
        fit = fit_power_law(x, discrete=discrete)
        t0 = time.perf_counter()
        g = fit.gof(n_boot=1000, seed=0)
        t = time.perf_counter() - t0
        kind = "discrete" if discrete else "continuous"
        print(f"gof(n_boot=1000) at n = 1e4, {kind}: {t:.1f} s (p = {g.p:.3f})")


def main() -> None:
    quick = "--quick" in sys.argv
    vs_powerlaw(100_000)
    if quick:
        print("(--quick: powerlaw at 1e6 skipped)")
    else:
        vs_powerlaw(1_000_000)
    print("n = 4e6, full fit including sorting (target discrete < 5 s):")
    big()
    bootstrap()


if __name__ == "__main__":
    main()

"""Benchmarks of the events stage and shape collapse.

    python benchmarks/bench_events.py

1. Shape collapse of 10^6 avalanches (profiles -> shape sums -> gamma), against a plain
   Python loop that accumulates mean profiles one avalanche at a time (timed on a
   subsample and scaled, the baseline of this run). Target: under 2 s.
2. Peak memory of streaming 10^7 avalanches through AvalancheAccumulator with
   keep_events=False, against keeping every event (keep_events=True) in the same run.
   Target: under 500 MB.
"""

from __future__ import annotations

import time

import numpy as np

from _common import best_of, peak_rss_mb
from crackle.events import ShapeSums
from crackle.stats.collapse import shape_collapse


def profiles_of_branching(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Flat (avalanche id, step, activity) records of n critical branching avalanches."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    act = np.ones(n)
    rec = [(ids, np.zeros(n, np.int64), act)]
    dur = np.ones(n, np.int64)
    for t in range(1, 1000):
        nxt = rng.poisson(act).astype(float)
        keep = nxt > 0
        ids, act = ids[keep], nxt[keep]
        if not ids.size:
            break
        dur[ids] += 1
        rec.append((ids, np.full(ids.size, t), act))
    alive = np.zeros(n, bool)
    alive[ids] = True
    i = np.concatenate([r[0] for r in rec])
    t = np.concatenate([r[1] for r in rec])
    a = np.concatenate([r[2] for r in rec])
    keep = ~alive[i]
    return i[keep], t[keep], a[keep], dur, alive


def collapse_benchmark(n: int = 1_000_000) -> None:
    ids, steps, act, dur, alive = profiles_of_branching(n)
    complete = ~alive

    def fast() -> None:
        shapes = ShapeSums.from_flat(dur[ids], steps, act, dur[complete], 1000)
        shape_collapse(shapes, tmin=8)

    t_fast = best_of(fast, repeat=3)

    # Baseline: dict of per-duration running sums, one avalanche at a time.
    order = np.argsort(ids, kind="stable")
    ids_s, act_s = ids[order], act[order]
    bounds = np.searchsorted(ids_s, np.arange(n + 1))
    sub = 50_000
    t0 = time.perf_counter()
    sums: dict[int, np.ndarray] = {}
    counts: dict[int, int] = {}
    for k in range(sub):
        if alive[k]:
            continue
        prof = act_s[bounds[k] : bounds[k + 1]]
        t = prof.size
        if t in sums:
            sums[t] += prof
            counts[t] += 1
        else:
            sums[t] = prof.copy()
            counts[t] = 1
    t_loop = (time.perf_counter() - t0) * n / sub
    print(f"shape collapse of {n:.0e} avalanches ({ids.size:.2e} profile points):")
    print(f"  crackle (shape sums + gamma scan): {t_fast:.3f} s   (target < 2 s)")
    print(f"  python loop, accumulation only (scaled from {sub}): {t_loop:.2f} s")
    print(f"  ratio loop / crackle: {t_loop / t_fast:.1f}x")


STREAM = """
import numpy as np
from crackle.events import AvalancheAccumulator
keep = {keep}
acc = AvalancheAccumulator(max_shape_duration=200, keep_events=keep)
rng = np.random.default_rng(0)
chunk, total = 100_000, 10_000_000
for _ in range(total // chunk):
    # Random-walk trajectories of log q (in place), starting above threshold.
    q = rng.standard_normal((chunk, 64))
    q *= 0.3
    np.cumsum(q, axis=1, out=q)
    np.exp(q, out=q)
    q[:, 0] = 2.0
    acc.update_trajectories(q, 1.0)
RESULT = {{"n": acc.n, "n_censored": acc.n_censored, "n_empty": acc.n_empty}}
"""


def memory_benchmark() -> None:
    t0 = time.perf_counter()
    lean = peak_rss_mb(STREAM.format(keep=False))
    t_lean = time.perf_counter() - t0
    full = peak_rss_mb(STREAM.format(keep=True))
    total = lean["n"] + lean["n_censored"] + lean["n_empty"]
    print(
        f"streaming {total:.0e} trajectories ({lean['n']:.3e} complete avalanches) "
        f"in chunks of 1e5, {t_lean:.1f} s:"
    )
    print(f"  peak RSS, keep_events=False: {lean['peak_rss_mb']:.0f} MB   (target < 500 MB)")
    print(f"  peak RSS, keep_events=True:  {full['peak_rss_mb']:.0f} MB")
    print(f"  ratio: {full['peak_rss_mb'] / lean['peak_rss_mb']:.2f}x")


if __name__ == "__main__":
    collapse_benchmark()
    memory_benchmark()

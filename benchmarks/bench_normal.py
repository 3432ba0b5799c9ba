"""Benchmark of the CPU normal sampler the 'marginal' simulator draws from.

    python benchmarks/bench_normal.py [--n 2097152]

Nanoseconds per standard normal number (float32) of the compiled sampler
(src/crackle/sim/_normal.c, through NormalStream) against torch's CPU generator, timed
alternately in the same run: on one thread, and with one stream per core in parallel
threads (as the simulator runs its blocks). Prints the speed-up. Where gcc is present,
also each instruction-set build alone (-DCRACKLE_NO_CLONES), to show what a machine
without AVX-512 or AVX2 gets.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from crackle.sim import _normal_stream as ns

CPU = torch.device("cpu")


def ns_per_number(fills: list, n: int, reps: int) -> float:
    bufs = [torch.empty(n) for _ in fills]

    def run(i: int) -> None:
        for _ in range(reps):
            fills[i](bufs[i])

    for i in range(len(fills)):
        fills[i](bufs[i])
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(fills)) as pool:
        list(pool.map(run, range(len(fills))))
    return (time.perf_counter() - t0) / (reps * n * len(fills)) * 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1 << 21, help="numbers per call")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if ns.compiled_sampler() is None:
        raise SystemExit("the compiled sampler is not built here (no C compiler at install?)")
    n = args.n
    cores = torch.get_num_threads()
    for threads in sorted({1, cores}):
        ratios = []
        for r in range(args.rounds):
            gens = [torch.Generator().manual_seed(r * 100 + i) for i in range(threads)]
            torch_fills = [lambda t, g=g: t.normal_(generator=g) for g in gens]
            ours = [ns.NormalStream(r * 100 + i, CPU, torch.float32).fill_ for i in range(threads)]
            t_torch = ns_per_number(torch_fills, n, 10)
            t_ours = ns_per_number(ours, n, 40)
            ratios.append(t_torch / t_ours)
            print(
                f"{threads} thread(s), round {r}: torch {t_torch:.2f} ns per number (wall, all threads), "
                f"compiled {t_ours:.2f} ns/number: {t_torch / t_ours:.1f}x faster"
            )
        print(f"{threads} thread(s): {min(ratios):.1f}-{max(ratios):.1f}x faster than torch")
    if shutil.which("gcc") is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        for march in ns.single_isa_marches():
            lib = ns.build_single_isa(march, Path(tmp))
            state = ns.lane_state(0)
            out = np.empty(n, np.float32)
            lib.crackle_fill_normal_f32(state.ctypes.data, out.ctypes.data, n)
            t0 = time.perf_counter()
            for _ in range(20):
                lib.crackle_fill_normal_f32(state.ctypes.data, out.ctypes.data, n)
            per = (time.perf_counter() - t0) / (20 * n) * 1e9
            print(f"build {march} alone, 1 thread: {per:.2f} ns/number")


if __name__ == "__main__":
    main()

"""Benchmark of the Gaussian-network avalanche simulator.

    python benchmarks/bench_gaussian.py [--device cuda] [--widths 256 512 1024] [--quick]

For each width, at criticality (sigma_w^2 = 1 + 1/N, sigma_b = 0, q0 = 1e-3):
1. useful FLOP/s of the simulator (2 N^2 per live sample per layer) against the dense
   product of the same shapes as the simulator's first layer (on a GPU a group of G
   weight draws: (G, batch, N) @ (G, N, N) with torch.baddbmm; on a CPU one draw,
   batch x N by N x N), timed in the same run: ratio (target >= 0.7 at width >= 256);
2. compaction against full-depth propagation of the same inputs (every input through
   every layer): speed-up;
3. method='gram' (each layer drawn from its exact joint law given the live inputs: N m
   random numbers and O(N m^2) work instead of N^2 numbers and 2 N^2 m) on the same
   inputs: useful FLOP/s against the same dense GEMM; and the bounds that random numbers
   put on any exact sampler: N normal numbers per input and, per draw and layer,
   min(m, N) N for its m live inputs, at the generator's rate measured in the same run;
4. method='marginal' (each input's exact conditional law, as if every input had its own
   weights: N random numbers and O(N) work per input and layer, no matrix product):
   useful FLOP/s against the same dense GEMM, the bound that its N normal numbers per
   input and layer put on it (at the rate of the sampler it draws from: the compiled one
   on a CPU where it is built), and the speed-up over 'matrix';
5. memory flat in n: peak memory (GPU: max allocated; CPU: peak RSS growth) at n and 4n
   with keep_events=False.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from crackle.sim import _gaussian_kernel as gk
from crackle.sim import gaussian as g


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def gemm_flops(groups: int, k: int, n: int, dev: torch.device, dt: torch.dtype, reps: int) -> float:
    a = torch.randn(groups, k, n, device=dev, dtype=dt)
    w = torch.randn(groups, n, n, device=dev, dtype=dt)
    b = torch.randn(groups, 1, n, device=dev, dtype=dt)
    for _ in range(3):
        torch.baddbmm(b, a, w.transpose(1, 2))
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.baddbmm(b, a, w.transpose(1, 2))
    sync(dev)
    return 2.0 * groups * k * n * n * reps / (time.perf_counter() - t0)


def normals_per_second(
    dev: torch.device, dt: torch.dtype, workers: int, stream: bool = False
) -> float:
    """Throughput of torch's normal generator, or with ``stream`` of the NormalStream the
    'marginal' method draws from (the compiled sampler on a CPU where it is built): one
    stream per worker thread on a CPU (as the simulator runs its blocks), one on a GPU."""
    from concurrent.futures import ThreadPoolExecutor

    from crackle.sim._normal_stream import NormalStream

    n = 1 << 24 if dev.type == "cuda" else 1 << 21
    if stream:
        fills = [NormalStream(i, dev, dt).fill_ for i in range(workers)]
    else:
        gens = [torch.Generator(device=dev).manual_seed(i) for i in range(workers)]
        fills = [lambda t, gen=gen: t.normal_(generator=gen) for gen in gens]
    bufs = [torch.empty(n, device=dev, dtype=dt) for _ in range(workers)]
    # About 0.1 s per thread on a CPU (shorter runs scattered by 1.7x); the compiled
    # sampler is about 4x faster, so it gets 4x the repetitions.
    reps = 80 if stream else 20

    def fill(i: int) -> None:
        for _ in range(reps):
            fills[i](bufs[i])

    fill(0)
    sync(dev)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fill, range(workers)))
    sync(dev)
    return workers * n * reps / (time.perf_counter() - t0)


def rows_processed(av_chunks: list, depth: int) -> int:
    # Each input costs one matrix row per layer it enters: T + 1 layers for a complete
    # avalanche (the layer where it falls below threshold), depth for a censored one,
    # one for an empty one.
    rows = 0
    for c in av_chunks:
        rows += int(np.minimum(c.durations + 1, depth).sum())
        rows += depth * c.n_censored + c.n_empty
    return rows


def timed_run(
    width: int, depth: int, sw: float, method: str, dev: torch.device, kw: dict
) -> tuple[float, list]:
    """Seconds for the simulator to stream its avalanches, and the avalanches per draw."""
    sync(dev)
    t0 = time.perf_counter()
    chunks = [c for _, c in g.iter_gaussian_avalanches(width, depth, sw, method=method, **kw)]
    sync(dev)
    return time.perf_counter() - t0, chunks


def normals_needed(av_chunks: list, width: int, depth: int) -> int:
    """The fewest standard normal numbers that any exact sampler built on them (a linear
    map of normal numbers, as every method here) draws for these avalanches: N per input,
    and per draw and layer min(m, N) x N for the m live inputs, the rank of their
    pre-activations' joint law (N columns, each N(0, C) with C of rank min(m, N))."""
    total = 0
    for c in av_chunks:
        rows = np.concatenate(
            [
                np.minimum(c.durations + 1, depth),
                np.full(c.n_censored, depth),
                np.ones(c.n_empty, dtype=np.int64),
            ]
        )
        # m_l = inputs still in the batch at layer l = those with more than l rows.
        at_least = np.bincount(rows, minlength=depth + 1)[::-1].cumsum()[::-1]
        live = at_least[1 : depth + 1]
        total += width * (len(rows) + int(np.minimum(live, width).sum()))
    return total


def full_depth(
    groups: int,
    k: int,
    width: int,
    depth: int,
    sw: float,
    dev: torch.device,
    dt: torch.dtype,
    seed: int,
) -> None:
    """Every input of a group of draws through every layer: no compaction."""
    from crackle.sim._normal_stream import NormalStream

    gen = NormalStream(seed, dev, dt)
    h = gk._inputs(groups * k, width, 1e-3, gen).view(groups, k, width)
    for layer in range(depth):
        w, b = gk._layer(gen, width, sw, 0.0, groups)
        z = torch.baddbmm(b, h, w.transpose(1, 2))
        z.pow(2).mean(dim=2)
        h = torch.tanh(z) if layer + 1 < depth else z
    sync(dev)


def main() -> None:
    # Imported here, not at the top: ab_trees.py imports this module's helpers into
    # trees older than the module.
    from crackle.sim._normal_stream import sampler_name

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--widths", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--depth", type=int, default=400)
    ap.add_argument("--batch", type=int, default=None, help="inputs per weight draw")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--no-full-depth",
        action="store_true",
        help="skip the full-depth baseline (minutes with tens of thousands of inputs per draw)",
    )
    ap.add_argument(
        "--group-elements",
        type=int,
        default=None,
        help="numbers per layer in one group of draws on a GPU (default: the simulator's)",
    )
    args = ap.parse_args()
    if args.group_elements:
        gk._GROUP_ELEMENTS["other"] = args.group_elements
        gk._MAX_GROUP = max(gk._MAX_GROUP, args.group_elements)
    dev = torch.device(args.device)
    dt = torch.float32
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # plain float32, as the simulator
    print(
        f"device: {torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}, "
        f"float32, depth {args.depth}"
    )
    for width in args.widths:
        k = args.batch or 1024
        groups = gk._group_size(dev, k, width, "matrix")
        gram_groups = gk._group_size(dev, k, width, "gram")
        n = args.n or (k * max(groups, gram_groups) * (4 if args.quick else 16))
        sw = 1.0 + 1.0 / width
        kw = dict(n=n, q0=1e-3, resample_every=k, seed=0, device=dev, dtype=dt)
        warm = k * groups  # one whole group, so the batched kernels are warm too
        list(g.iter_gaussian_avalanches(width, 20, sw, n=warm, resample_every=k, device=dev))
        gemm_reps = 50 if dev.type == "cuda" else 10

        t_sim, chunks = timed_run(width, args.depth, sw, "matrix", dev, kw)
        rows = rows_processed(chunks, args.depth)
        useful = 2.0 * width * width * rows / t_sim
        peak = gemm_flops(groups, k, width, dev, dt, reps=gemm_reps)
        n_groups = -(-n // (k * groups))
        t0 = time.perf_counter()
        for d in range(0 if args.no_full_depth else min(n_groups, 2)):
            full_depth(groups, k, width, args.depth, sw, dev, dt, gk._draw_seed(0, d))
        t_full = (time.perf_counter() - t0) * n_groups / min(n_groups, 2)
        mean_rows = rows / n
        print(
            f"width {width}: n = {n}, {k} inputs per draw, {groups} draws per batched "
            f"product, {mean_rows:.1f} layers per input on average (of {args.depth})"
        )
        print(
            f"  simulator {t_sim:.2f} s, useful {useful / 1e12:.3f} TFLOP/s; dense GEMM "
            f"same shapes {peak / 1e12:.3f} TFLOP/s; ratio {useful / peak:.2f} "
            f"(target >= 0.7)"
        )
        if not args.no_full_depth:
            print(
                f"  full-depth propagation {t_full:.2f} s; compaction speed-up "
                f"{t_full / t_sim:.1f}x"
            )
        t_gram, gram = timed_run(width, args.depth, sw, "gram", dev, kw)
        flops_gram = 2.0 * width * width * rows_processed(gram, args.depth)
        useful_gram = flops_gram / t_gram
        # The baseline again (the machine is shared): the larger of the two measurements.
        peak = max(peak, gemm_flops(groups, k, width, dev, dt, reps=gemm_reps))
        workers = torch.get_num_threads() if dev.type == "cpu" else 1
        # Every method draws from NormalStream (on a CPU the compiled sampler, where built).
        rng = normals_per_second(dev, dt, workers, stream=True)
        rng_torch = normals_per_second(dev, dt, workers)
        # Seconds the useful work takes at the GEMM's rate, and the fewest normal numbers
        # take at the generator's: their quotient bounds any exact sampler's ratio; a
        # sampler that also does the useful work as dense products gets at most
        # t_gemm / (t_gemm + t_rng).
        t_gemm = flops_gram / peak
        t_rng = normals_needed(gram, width, args.depth) / rng
        print(
            f"  method='gram': {t_gram:.2f} s ({gram_groups} draws per step), useful "
            f"{useful_gram / 1e12:.3f} TFLOP/s; ratio {useful_gram / peak:.2f} (target >= 0.7); "
            f"{t_sim / t_gram:.1f}x faster than 'matrix'"
        )
        print(
            f"  normal numbers ({sampler_name(dev, dt)}) {rng / 1e9:.2f} G/s "
            f"(torch's generator {rng_torch / 1e9:.2f} G/s): the fewest an exact sampler draws "
            f"take {t_rng:.2f} s, the useful work at the GEMM's rate {t_gemm:.2f} s: "
            f"random numbers alone bound the ratio by {t_gemm / t_rng:.2f}, and with the "
            f"useful work done as dense products by {t_gemm / (t_gemm + t_rng):.2f}"
        )
        # A block of 'marginal' (one random stream, one core) holds many batches of
        # inputs: two blocks per worker, so that every core works, as at 10^6 inputs.
        per_block = gk.marginal_block(dev, width)[0]
        n_marg = max(n, 2 * per_block * (torch.get_num_threads() if dev.type == "cpu" else 1))
        t_marg, marg = timed_run(width, args.depth, sw, "marginal", dev, {**kw, "n": n_marg})
        rows_marg = rows_processed(marg, args.depth)
        useful_marg = 2.0 * width * width * rows_marg / t_marg
        # Its inputs are independent: N normal numbers per input and layer is the rank of
        # each layer's law; the input itself is not drawn (only |x| enters).
        bound_marg = (2.0 * width * width * rows_marg / peak) / (width * rows_marg / rng)
        print(
            f"  method='marginal' (exact per-input law, O(N) per layer): n = {n_marg}, "
            f"{t_marg:.2f} s, "
            f"useful {useful_marg / 1e12:.3f} TFLOP/s; ratio {useful_marg / peak:.2f} "
            f"(target >= 0.7; its normal numbers alone bound it by {bound_marg:.2f}); "
            f"{useful_marg / useful:.1f}x faster than 'matrix' "
            f"({rows_marg / t_marg / 1e6:.1f} M input-layers/s)"
        )
    # Memory flat in n (smallest width): the streaming path keeps shapes and counts only.
    width = args.widths[0]
    k = args.batch or 1024
    k *= gk._group_size(dev, k, width, "matrix")  # whole groups
    peaks = []
    for mult in (1, 4):
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats(dev)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        g.gaussian_avalanches(
            width,
            args.depth,
            1 + 1 / width,
            n=k * 4 * mult,
            resample_every=k,
            seed=1,
            device=dev,
            keep_events=False,
        )
        if dev.type == "cuda":
            peaks.append(torch.cuda.max_memory_allocated(dev) / 2**20)
        else:
            peaks.append((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024)
    what = "GPU max allocated" if dev.type == "cuda" else "RSS growth"
    print(
        f"memory ({what}), keep_events=False, width {width}: n = {k * 4}: "
        f"{peaks[0]:.0f} MB; n = {k * 16}: {peaks[1]:.0f} MB"
    )


if __name__ == "__main__":
    main()

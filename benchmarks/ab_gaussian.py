"""A/B timing of the Gaussian simulator's kernel against the kernel of a git revision.

    python benchmarks/ab_gaussian.py --rev HEAD~1 --width 256 --method gram --reps 3

One benchmark run scatters by ~15% on a shared machine, more than most changes to the
kernel are worth. This loads ``src/crackle/sim/_gaussian_kernel.py`` as it was at
``--rev`` next to the current one and alternates them in one process, on the same seeds
(critical tanh network, depth 400, ``--batch`` inputs per draw, default 1024), timing each against a dense
GEMM measured just before it. It prints the useful-FLOP/s ratio of each (2 N^2 per live
input and layer, as bench_gaussian.py) summed over the repetitions, and their quotient.
The revision's ``_run_group`` must take the current arguments; group sizes and the
rest of the simulator are the current ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_gaussian import gemm_flops, rows_processed
from crackle.sim import _gaussian_kernel as current
from crackle.sim import gaussian as g

KERNEL = "src/crackle/sim/_gaussian_kernel.py"


def kernel_at(rev: str) -> object:
    text = subprocess.run(
        ["git", "show", f"{rev}:{KERNEL}"], capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "kernel_at_rev.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("kernel_at_rev", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", required=True, help="git revision of the baseline kernel")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--method", default="gram", choices=["matrix", "gram", "marginal"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1024, help="inputs per weight draw")
    args = ap.parse_args()
    dev, k, width = torch.device("cpu"), args.batch, args.width
    kernels = {"current": current, args.rev: kernel_at(args.rev)}
    per_group = current._group_size(dev, k, width, args.method)
    n = 2 * max(per_group, 4) * k
    useful = {name: 0.0 for name in kernels}  # seconds of dense GEMM the useful work takes
    spent = {name: 0.0 for name in kernels}
    for rep in range(args.reps):
        for name, kernel in kernels.items():
            g._run_group = kernel._run_group  # type: ignore[attr-defined]
            peak = gemm_flops(1, k, width, dev, torch.float32, reps=5)
            t0 = time.perf_counter()
            chunks = [
                c
                for _, c in g.iter_gaussian_avalanches(
                    width, 400, 1 + 1 / width, n=n, resample_every=k, seed=rep, method=args.method
                )
            ]
            dt = time.perf_counter() - t0
            flops = 2.0 * width * width * rows_processed(chunks, 400)
            useful[name] += flops / peak
            spent[name] += dt
            print(f"rep {rep} {name:>10}: {dt:.2f} s, ratio {flops / peak / dt:.3f}")
    ratios = {name: useful[name] / spent[name] for name in kernels}
    for name, r in ratios.items():
        print(f"{name:>10}: useful / dense GEMM {r:.3f}")
    print(f"current / {args.rev}: {ratios['current'] / ratios[args.rev]:.2f}x")


if __name__ == "__main__":
    main()

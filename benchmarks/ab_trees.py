"""A/B timing of the whole Gaussian simulator at a git revision against the working tree.

    python benchmarks/ab_trees.py --rev b9c0336 --method marginal --widths 256 512 1024 --reps 3

``ab_gaussian.py`` swaps one kernel file inside one process; when a change spans
modules (block sizes in ``gaussian.py``, a kernel in its own module) that is no longer
the old simulator. This checks the revision out into a temporary git worktree and runs
both trees' own ``iter_gaussian_avalanches`` (critical tanh network, depth 400, the
default 1024 inputs per weight draw) in fresh child processes, alternating A, B, A, B,
... on the same seeds, each child timing a dense GEMM of the first layer's shape right
after it (the machine is shared and noisy). It prints, per width, each tree's useful
FLOP/s (2 N^2 per live input and layer) over the GEMM's, summed over the repetitions,
and the speed-up of the working tree in seconds per input-layer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Runs in the child, against whichever tree is on its PYTHONPATH: the tree's public
# simulator, counted and timed by this checkout's bench_gaussian.
CHILD = r"""
import json, sys, time
import torch
sys.path.insert(0, sys.argv[5])
from bench_gaussian import gemm_flops, rows_processed
from crackle.sim.gaussian import iter_gaussian_avalanches

width, method, n, seed = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
depth, cpu = 400, torch.device("cpu")
list(iter_gaussian_avalanches(width, 20, 1 + 1 / width, n=4096, method=method, seed=1))
t0 = time.perf_counter()
chunks = [c for _, c in iter_gaussian_avalanches(
    width, depth, 1 + 1 / width, n=n, q0=1e-3, method=method, seed=seed)]
seconds = time.perf_counter() - t0
rows = rows_processed(chunks, depth)
gemm = gemm_flops(1, 1024, width, cpu, torch.float32, reps=10)
print(json.dumps({"seconds": seconds, "rows": rows, "gemm": gemm}))
"""


def run_child(tree: Path, width: int, method: str, n: int, seed: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(width), method, str(n), str(seed), str(HERE)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", required=True, help="git revision of the baseline")
    ap.add_argument("--method", default="marginal", choices=["matrix", "gram", "marginal"])
    ap.add_argument("--widths", type=int, nargs="+", default=[256, 512, 1024])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=131072, help="inputs per run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.rev],
            check=True,
            capture_output=True,
        )
        try:
            trees = {args.rev: base, "current": ROOT}
            for width in args.widths:
                useful = dict.fromkeys(trees, 0.0)  # GEMM-seconds of useful work
                spent = dict.fromkeys(trees, 0.0)
                per_row = {name: [] for name in trees}  # seconds per input-layer
                for rep in range(args.reps):
                    for name, tree in trees.items():
                        r = run_child(tree, width, args.method, args.n, seed=rep)
                        useful[name] += 2.0 * width * width * r["rows"] / r["gemm"]
                        spent[name] += r["seconds"]
                        per_row[name].append(r["seconds"] / r["rows"])
                        print(
                            f"N = {width} rep {rep} {name:>10}: {r['seconds']:.2f} s, "
                            f"ratio {2.0 * width * width * r['rows'] / r['gemm'] / r['seconds']:.2f}",
                            flush=True,
                        )
                ratio = {name: useful[name] / spent[name] for name in trees}
                speed = sum(per_row[args.rev]) / sum(per_row["current"])
                print(
                    f"N = {width}: useful / dense GEMM {ratio[args.rev]:.2f} ({args.rev}) -> "
                    f"{ratio['current']:.2f} (current); current {speed:.2f}x as fast"
                )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                check=False,
                capture_output=True,
            )


if __name__ == "__main__":
    main()

"""Overhead of crackle.nn.record on a forward pass of a ResNet-18.

    python benchmarks/bench_recorder.py [--quick]

Pre-activation ResNet-18 with ImageNet widths (crackle.nn.resnet18, 11.2 M parameters,
eval mode, no_grad), CPU, a batch of 16 x 3 x 64 x 64. The same forward pass is timed
with no hooks and inside ``record(model, modules=...)``, strictly alternating, best of
40 each, in the same run. Two selections: every operation
(``"leaves"``, 68 layers: what the avalanche analysis records) and the default
(leaf modules with parameters, 41 layers). Target: at most 10% added.
"""

from __future__ import annotations

import sys
import time

import torch

import crackle as ck


def timed(func, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    batch, side, rounds = (8, 32, 10) if quick else (16, 64, 40)
    model = ck.nn.resnet18(num_classes=10, seed=0).eval()
    x = torch.randn(batch, 3, side, side, generator=torch.Generator().manual_seed(0))
    print(
        f"ResNet-18 (ImageNet widths), batch {batch} x 3 x {side} x {side}, CPU, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )

    def plain() -> None:
        model(x)

    with torch.no_grad():
        for _ in range(3):  # warm-up
            plain()
        for selection in ("leaves", None):
            base, hooked = [], []
            n_layers = 0
            for _ in range(rounds):  # strictly alternating, so load changes hit both
                base += timed(plain, 1)
                with ck.nn.record(model, modules=selection) as rec:
                    hooked += timed(plain, 1)
                n_layers = len(rec.names)
            b, h = min(base), min(hooked)
            label = (
                "every operation ('leaves')" if selection else "default (leaves with parameters)"
            )
            print(f"  {label}, {n_layers} layers:")
            print(
                f"    no hooks {b * 1e3:.1f} ms, recording {h * 1e3:.1f} ms, "
                f"ratio {h / b:.3f} (target <= 1.10)"
            )


if __name__ == "__main__":
    main()

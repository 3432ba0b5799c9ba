"""Cost of the criticality penalty in a training step.

    python benchmarks/bench_regularizer.py [--quick]

One SGD step (forward, cross-entropy, backward, update) of two small models on a
Fashion-MNIST-sized batch (128 x 1 x 28 x 28, random pixels: the cost does not
depend on the values), CPU, timed without the penalty and with
``CriticalityPenalty`` of each kind, computed on the whole batch or on a 32-sample
slice, strictly alternating, best of ``rounds`` each, in the same run. Models: an MLP
784-256-256-256-10 (tanh) and a CNN (two 3x3 conv + ReLU + 2x2 max-pool blocks of 16
and 32 channels, a 10-way linear readout). Printed: milliseconds per step and the
ratio to the plain step. Expected: about 2-4x on the full batch (the penalty is one
forward-mode pass and its backward, a few times a plain pass).
"""

from __future__ import annotations

import sys
import time

import torch
from torch import nn

from crackle.train import CriticalityPenalty


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Sequential(nn.Linear(784, 256), nn.Tanh()),
        nn.Sequential(nn.Linear(256, 256), nn.Tanh()),
        nn.Sequential(nn.Linear(256, 256), nn.Tanh()),
        nn.Linear(256, 10),
    )


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, 10)),
    )


def train_step(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    reg: CriticalityPenalty | None,
    n: int,
) -> None:
    loss = nn.functional.cross_entropy(model(x), y)
    if reg is not None:
        loss = loss + reg(model, x[:n])
    opt.zero_grad()
    loss.backward()
    opt.step()


def main() -> None:
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 20
    batch = 128
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (batch,), generator=gen)
    print(
        f"batch {batch} x 1 x 28 x 28, CPU, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, best of {rounds}"
    )
    for label, build in (("MLP 784-256x3-10 (tanh)", mlp), ("CNN 2 conv blocks", cnn)):
        torch.manual_seed(0)
        model = build()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        variants: dict[str, tuple[CriticalityPenalty | None, int]] = {"plain": (None, batch)}
        for kind in ("branching", "lyapunov"):
            pen = CriticalityPenalty(kind, weight=0.1)
            variants[f"{kind}, full batch"] = (pen, batch)
            variants[f"{kind}, 32 samples"] = (pen, 32)
        for reg, n in variants.values():  # warm-up
            train_step(model, opt, x, y, reg, n)
        times: dict[str, float] = dict.fromkeys(variants, float("inf"))
        for _ in range(rounds):
            for name, (reg, n) in variants.items():
                t0 = time.perf_counter()
                train_step(model, opt, x, y, reg, n)
                times[name] = min(times[name], time.perf_counter() - t0)
        base = times["plain"]
        print(f"  {label}:")
        for name, t in times.items():
            print(f"    {name:22s} {t * 1e3:7.2f} ms/step  ratio {t / base:5.2f}")


if __name__ == "__main__":
    main()

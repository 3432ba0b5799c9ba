"""Training and probing for :mod:`crackle.experiments.zoo`: data, the training loop,
test accuracy, the probes of one trained model."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle._validation import param_error

if TYPE_CHECKING:
    from crackle.experiments.zoo import ZooConfig

_FUNC = "train_zoo"


def load_data(cfg: ZooConfig) -> dict[str, Any]:
    """Standardised train and test subsets as tensors of shape (n, 1, 28, 28)."""
    import torch

    from crackle.train.data import load_fashion_mnist

    xtr, ytr = load_fashion_mnist("train", root=cfg.fashion_root)
    xte, yte = load_fashion_mnist("test", root=cfg.fashion_root)
    for name, n, have in (("train_subset", cfg.train_subset, len(xtr)),
                          ("test_subset", cfg.test_subset, len(xte))):  # fmt: skip
        if n > have:
            raise param_error(name, _FUNC, f"at most the {have} images of the split", n)
    rng = np.random.default_rng(cfg.seed)
    tr = rng.choice(len(xtr), cfg.train_subset, replace=False)
    te = rng.choice(len(xte), cfg.test_subset, replace=False)
    train = xtr[tr].astype(np.float32) / 255.0
    mean, std = float(train.mean()), float(train.std())

    def tensor(x: Any) -> Any:
        return torch.from_numpy((x.astype(np.float32) / 255.0 - mean) / std)[:, None]

    return {
        "x_train": tensor(xtr[tr]),
        "y_train": torch.from_numpy(ytr[tr]),
        "x_test": tensor(xte[te]),
        "y_test": torch.from_numpy(yte[te]),
    }


def _arch_seed(seed: int, arch: str) -> int:
    ss = np.random.SeedSequence([seed, zlib.crc32(arch.encode())])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def train(
    arch: str, cfg: ZooConfig, data: dict[str, Any], tick: Callable[[int], None]
) -> list[tuple[int, dict[str, Any], float]]:
    """Train one architecture; (steps, state_dict, mean loss of the last 50 steps) at
    every step count of the config."""
    import torch
    import torch.nn.functional as F

    from crackle.nn.zoo import build_model

    model = build_model(arch, seed=cfg.seed).to(cfg.device).train()
    if cfg.optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(_arch_seed(cfg.seed, arch))
    x, y = data["x_train"], data["y_train"]
    n, bs = x.shape[0], cfg.batch_size
    targets, snaps, losses = set(cfg.steps), [], []
    perm, pos = torch.randperm(n, generator=gen), 0
    for step in range(1, max(cfg.steps) + 1):
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos : pos + bs]
        pos += bs
        loss = F.cross_entropy(model(x[idx].to(cfg.device)), y[idx].to(cfg.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if step in targets:
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            snaps.append((step, state, float(np.mean(losses[-50:]))))
        if step % 10 == 0:
            tick(10)
    tick(max(cfg.steps) % 10)
    return snaps


def accuracy(model: Any, x: Any, y: Any, device: str) -> float:
    import torch

    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            out = model(x[i : i + 1000].to(device))
            correct += int((out.argmax(1).cpu() == y[i : i + 1000]).sum())
    return correct / x.shape[0]


def probe(model: Any, x: Any, cfg: ZooConfig) -> dict[str, float]:
    from crackle.nn.probes import branching_parameter, dynamic_range, lyapunov_exponent
    from crackle.nn.zoo import probe_table

    br = branching_parameter(model, x, seed=cfg.seed, batch_size=128)
    ly = lyapunov_exponent(model, x, seed=cfg.seed, batch_size=128)
    dr = dynamic_range(model, x, batch_size=128)
    g = probe_table({"m": model}, n=cfg.probe_n, seed=cfg.seed, batch_size=128).iloc[0]
    # hidden layers only: the per-layer results without the last layer (the readout)
    br_hidden = float(np.mean(br.per_layer[:-1])) if br.per_layer.size > 1 else math.nan
    ly_hidden = float(np.mean(ly.per_layer[:-1])) if ly.per_layer.size > 1 else math.nan
    return {
        "branching": br.value,
        "branching_geometric": br.geometric,
        "lyapunov": ly.value,
        "lyapunov_stderr": ly.stderr,
        "dynamic_range_db": dr.value,
        "branching_hidden": br_hidden,
        "lyapunov_hidden": ly_hidden,
        "branching_gauss": float(g["branching"]),
        "branching_geometric_gauss": float(g["branching_geometric"]),
        "lyapunov_gauss": float(g["lyapunov"]),
        "lyapunov_stderr_gauss": float(g["lyapunov_stderr"]),
        "dynamic_range_db_gauss": float(g["dynamic_range_db"]),
        "dist_log_sigma": abs(math.log(br.value)),
        "dist_lyapunov": abs(ly.value),
        "dist_log_sigma_hidden": abs(math.log(br_hidden)),
        "dist_lyapunov_hidden": abs(ly_hidden),
        "dist_log_sigma_gauss": abs(math.log(float(g["branching"]))),
        "dist_lyapunov_gauss": abs(float(g["lyapunov"])),
    }

"""Training, evaluation and probing of one zoo model (:mod:`crackle.experiments.zoo`)."""

from __future__ import annotations

import math
import time
import warnings
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle._validation import param_error

if TYPE_CHECKING:
    from crackle.experiments.zoo import ModelSpec, ZooConfig

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
    rng = np.random.default_rng(cfg.data_seed)
    tr = rng.choice(len(xtr), cfg.train_subset, replace=False)
    te = rng.choice(len(xte), cfg.test_subset, replace=False)
    train = xtr[tr].astype(np.float32) / 255.0
    mean, std = float(train.mean()), float(train.std())

    def tensor(x: Any) -> Any:
        return torch.from_numpy((x.astype(np.float32) / 255.0 - mean) / std)[:, None]

    return {
        "x_train": tensor(xtr[tr]),
        "y_train": torch.from_numpy(ytr[tr].astype(np.int64)),
        "x_test": tensor(xte[te]),
        "y_test": torch.from_numpy(yte[te].astype(np.int64)),
    }


def spec_seed(spec: ModelSpec, salt: str) -> int:
    """A 63-bit seed for one model and one use (weights, batches, noise, penalty)."""
    key = f"{spec.family}/{spec.variant}/{int(spec.penalty)}/{salt}"
    ss = np.random.SeedSequence([spec.seed, zlib.crc32(key.encode())])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _shift(x: Any, gen: Any) -> Any:
    """Random translation by up to 2 pixels per image (zero padding)."""
    import torch
    import torch.nn.functional as F

    b = x.shape[0]
    dy = torch.randint(0, 5, (b,), generator=gen)
    dx = torch.randint(0, 5, (b,), generator=gen)
    xp = F.pad(x, (2, 2, 2, 2))
    ar = torch.arange(28)
    rows = (ar[None, :] + dy[:, None]).to(x.device)
    cols = (ar[None, :] + dx[:, None]).to(x.device)
    bi = torch.arange(b, device=x.device)[:, None, None]
    return xp[bi, 0, rows[:, :, None], cols[:, None, :]][:, None]


def build(spec: ModelSpec) -> Any:
    from crackle.nn.families import build_family

    # the weights depend on the seed and architecture, not on the penalty: a pair of
    # models with and without the penalty starts from the same weights
    base = spec.__class__(spec.family, spec.variant, spec.seed, False)
    return build_family(
        spec.family,
        width=spec.width,
        depth=spec.depth,
        init=spec.init,
        seed=spec_seed(base, "weights") % 2**31,
    )


def train(spec: ModelSpec, cfg: ZooConfig, data: dict[str, Any], device: str) -> dict[str, Any]:
    """Train one model; its state_dict, mean loss of the last 50 steps, seconds."""
    import torch
    import torch.nn.functional as F

    from crackle.train.regularizer import CriticalityPenalty

    t0 = time.perf_counter()
    recipe = spec.recipe
    model = build(spec).to(device).train()
    params = model.parameters()
    if recipe["optimizer"] == "sgd":
        opt: Any = torch.optim.SGD(params, lr=spec.lr, momentum=0.9)
    elif recipe["optimizer"] == "adam":
        opt = torch.optim.Adam(params, lr=spec.lr)
    else:
        opt = torch.optim.AdamW(params, lr=spec.lr, weight_decay=0.05)
    base = spec.__class__(spec.family, spec.variant, spec.seed, False)
    gen = torch.Generator().manual_seed(spec_seed(base, "batches"))  # same batches in a pair
    aug = torch.Generator().manual_seed(spec_seed(base, "augment"))
    penalty = (
        CriticalityPenalty(
            "lyapunov",
            weight=cfg.penalty_weight,
            n_iter=cfg.penalty_iter,
            tol=0.0,
            seed=torch.Generator().manual_seed(spec_seed(spec, "penalty")),
        )
        if spec.penalty
        else None
    )
    x, y = data["x_train"], data["y_train"]
    n, bs = x.shape[0], cfg.batch_size
    perm, pos, losses = torch.randperm(n, generator=gen), 0, []
    bad = 0
    for _ in range(cfg.steps):
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos : pos + bs]
        pos += bs
        xb = x[idx]
        if recipe["augmentation"]:
            xb = _shift(xb, aug)
        xb, yb = xb.to(device), y[idx].to(device)
        loss = F.cross_entropy(model(xb), yb, label_smoothing=recipe["label_smoothing"])
        total = loss
        if penalty is not None:
            try:
                total = loss + penalty(model, xb[: cfg.penalty_n])
            except ValueError:  # a dead Jacobian on this slice: skip the penalty once
                bad += 1
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        losses.append(float(loss.detach()))
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {
        "state": state,
        "train_loss": float(np.mean(losses[-50:])),
        "train_seconds": time.perf_counter() - t0,
        "penalty_skipped": bad,
    }


def accuracy(model: Any, x: Any, y: Any, device: str, noise: float = 0.0, seed: int = 0) -> float:
    """Test accuracy, optionally with i.i.d. Gaussian pixel noise of std ``noise`` (in
    units of the standardised pixels), drawn from ``seed``."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 1000):
            xb = x[i : i + 1000]
            if noise > 0:
                xb = xb + noise * torch.randn(xb.shape, generator=gen)
            out = model(xb.to(device))
            correct += int((out.argmax(1).cpu() == y[i : i + 1000]).sum())
    return correct / x.shape[0]


def probe(model: Any, x: Any, cfg: ZooConfig) -> dict[str, Any]:
    """The three probes on held-out images, at the model's blocks."""
    from crackle.nn.probes import branching_parameter, dynamic_range, lyapunov_exponent

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a probe's messages about modes or fallbacks
        br = branching_parameter(model, x, seed=cfg.data_seed, batch_size=64)
        ly = lyapunov_exponent(
            model, x, seed=cfg.data_seed, batch_size=64, n_iter=cfg.lyapunov_iter, tol=1e-4
        )
        dr = dynamic_range(model, x, batch_size=64, intensities=np.logspace(-2, 3, 26))
    return {
        "n_blocks": len(ly.names),
        "branching": br.value,
        "branching_stderr": br.stderr,
        "lyapunov": ly.value,
        "lyapunov_stderr": ly.stderr,
        "lyapunov_converged": bool(ly.converged),
        "dynamic_range_db": dr.value,
        "dynamic_range_reason": dr.reason or "",
        "dist_log_sigma": abs(math.log(br.value)) if br.value > 0 else math.nan,
        "dist_lyapunov": abs(ly.value),
    }

"""Deep tanh MLPs from the Gaussian ensemble, trained with plain SGD: what the
trainability experiments share."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def check_sgd_setup(cfg: Any, func: str) -> None:
    """The training fields the trainability experiments share: depth, batches per
    epoch, batch size and evaluation size (>= 1), learning rate (> 0), data set, seed."""
    from crackle._validation import check_choice, check_int, check_real

    for name in ("depth", "batches_per_epoch", "batch_size", "n_eval"):
        check_int(getattr(cfg, name), name, func, low=1)
    check_real(cfg.lr, "lr", func, low=0.0, low_open=True)
    check_choice(cfg.dataset, "dataset", func, ("fashion_mnist", "digits"))
    check_int(cfg.seed, "seed", func, low=0)


def load_flat(dataset: str) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Images as standardised flat vectors (unit-variance pixels) and labels."""
    from crackle.train.data import load_digits, load_fashion_mnist

    x, y = load_fashion_mnist("train") if dataset == "fashion_mnist" else load_digits()
    flat = x.reshape(len(x), -1).astype(np.float32) / 255.0
    return (flat - flat.mean()) / flat.std(), y


def gaussian_mlp(
    fan_in: int, depth: int, width: int, sigma_w2: float, sigma_b2: float, gen: Any
) -> Any:
    """fan_in -> ``depth`` tanh layers of ``width`` -> 10; W ~ N(0, sigma_w^2/fan_in),
    b ~ N(0, sigma_b^2), drawn from the torch generator ``gen``."""
    import torch
    from torch import nn

    layers: list[nn.Module] = []
    for i in range(depth + 1):
        out = 10 if i == depth else width
        lin = nn.Linear(fan_in, out)
        with torch.no_grad():
            lin.weight.normal_(0.0, float(np.sqrt(sigma_w2 / fan_in)), generator=gen)
            if sigma_b2 > 0:
                lin.bias.normal_(0.0, float(np.sqrt(sigma_b2)), generator=gen)
            else:
                lin.bias.zero_()
        layers.append(lin)
        if i < depth:
            layers.append(nn.Tanh())
        fan_in = out
    return nn.Sequential(*layers)


def sgd_start(
    cfg: Any,
    x: NDArray[np.float32],
    y: NDArray[np.int64],
    width: int,
    sw: float,
    sb: float,
    seed: int,
) -> tuple[Any, Any, Any, Any, Any]:
    """A fresh :func:`gaussian_mlp` of ``cfg.depth`` layers, plain SGD at ``cfg.lr`` on
    it, the data as tensors, and the generator that drew the weights and goes on to
    draw the batches: ``(model, opt, xt, yt, gen)``."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    model = gaussian_mlp(x.shape[1], cfg.depth, width, sw, sb, gen)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    return model, opt, torch.from_numpy(x), torch.from_numpy(y), gen


def sgd_epoch(
    model: Any, opt: Any, xt: Any, yt: Any, batches: int, batch_size: int, gen: Any
) -> None:
    """``batches`` SGD steps on batches drawn from a fresh permutation."""
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(len(xt), generator=gen)
    for b in range(batches):
        idx = order[(b * batch_size) % len(xt) :][:batch_size]
        loss = loss_fn(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def accuracy(model: Any, xt: Any, yt: Any, n_eval: int) -> float:
    """Accuracy on the first ``n_eval`` examples; chance (0.1) when the output is not
    finite (a diverged network)."""
    import torch

    with torch.no_grad():
        sub = torch.arange(min(n_eval, len(xt)))
        logits = model(xt[sub])
        if not torch.isfinite(logits).all():
            return 0.1
        return float((logits.argmax(1) == yt[sub]).float().mean())

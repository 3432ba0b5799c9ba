"""What the perturbation probes share: result helpers, input preparation, batching."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from crackle._validation import check_int
from crackle.nn._modules import ModuleSpec, as_input_tensor, select_modules, shape_error


def to_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in obj.__dataclass_fields__:
        v = getattr(obj, k)
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, tuple):
            v = list(v)
        elif isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out


def plot_per_layer(values: NDArray[Any], ylabel: str, ref: float, ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3))
    ax.plot(np.arange(1, values.size + 1), values, "o-", ms=3)
    ax.axhline(ref, color="0.5", ls="--", lw=1)
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    return ax


def prepare(
    model: nn.Module, inputs: Any, modules: ModuleSpec, batch_size: int, func: str
) -> tuple[torch.Tensor, list[tuple[str, nn.Module]], int]:
    named = select_modules(model, modules, func)
    bs = check_int(batch_size, "batch_size", func, low=1)
    x = as_input_tensor(inputs, model, func)
    return x, named, bs


def as_seed(seed: Any, func: str) -> int:
    return check_int(seed, "seed", func, low=0)


def run_model(model: nn.Module, x: torch.Tensor, func: str) -> Any:
    try:
        return model(x)
    except RuntimeError as exc:
        clear = shape_error(exc, model, x, func)
        if clear is None:
            raise
        raise clear from exc


def unit_directions(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random unit vectors (per sample, over all input entries), drawn on the CPU."""
    u = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    u /= torch.linalg.vector_norm(u.reshape(u.shape[0], -1), dim=1).reshape(-1, *[1] * (u.ndim - 1))
    return u.to(device=x.device, dtype=x.dtype)


@contextmanager
def full_precision() -> Iterator[None]:
    """No TF32 in cuDNN convolutions for the block: a finite difference of two passes
    needs more than TF32's ~1e-3 relative precision (flags restored after)."""
    cudnn = torch.backends.cudnn
    with cudnn.flags(
        enabled=cudnn.enabled,
        benchmark=cudnn.benchmark,
        deterministic=cudnn.deterministic,
        allow_tf32=False,
    ):
        yield


def chunks(x: torch.Tensor, bs: int) -> Iterator[torch.Tensor]:
    for i in range(0, x.shape[0], bs):
        yield x[i : i + bs]


def bcast(v: torch.Tensor, ndim: int) -> torch.Tensor:
    return v.reshape(-1, *[1] * (ndim - 1))

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
from crackle.nn._modules import (
    ModuleSpec,
    as_input_tensor,
    select_modules,
    shape_error,
    warn_mode_switch,
)


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


def plot_per_layer(
    values: NDArray[Any], ylabel: str, ref: float, ax: Any, title: str | None = None
) -> Any:
    """A probe's per-layer values (:func:`crackle.report.figures.plot_per_layer`)."""
    from crackle.report.figures import plot_per_layer as draw

    return draw(values, ylabel=ylabel, ref=ref, title=title, ax=ax)


def resolve_modules(
    model: nn.Module, modules: ModuleSpec, func: str
) -> tuple[nn.Module, list[tuple[str, nn.Module]]]:
    """The module to run and the layers to hook, for the probes' selection rule.

    ``None`` (the probes' default): the blocks found by torch.fx when the model traces
    (:mod:`crackle.nn._blocks`; for an ``nn.Sequential`` of blocks these are its
    children), else the recorder's default (children of a Sequential, else leaves with
    parameters). ``"blocks"``: the blocks, falling back on the module structure with a
    warning. Anything else: :func:`crackle.nn._modules.select_modules`.
    """
    from crackle.nn._blocks import block_view

    if modules is None or (isinstance(modules, str) and modules == "blocks"):
        if not isinstance(model, nn.Module):
            select_modules(model, None, func)  # raises the usual error
        runner, named, how = block_view(model, func, explicit=modules is not None)
        if how != "none":
            return runner, named
    return model, select_modules(model, modules, func)


def prepare(
    model: nn.Module, inputs: Any, modules: ModuleSpec, batch_size: int, func: str
) -> tuple[nn.Module, torch.Tensor, list[tuple[str, nn.Module]], int]:
    """(module to run, inputs as a tensor, layers, batch size), all checked; warns
    (pointing at the caller's line) when the probe will switch the model to eval mode."""
    runner, named = resolve_modules(model, modules, func)
    bs = check_int(batch_size, "batch_size", func, low=1)
    x = as_input_tensor(inputs, model, func)
    warn_mode_switch(model, func)
    return runner, x, named, bs


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

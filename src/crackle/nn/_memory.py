"""Memory of a probe's batch, estimated before it is allocated.

One input goes through the model first (no gradients, eval mode, modes restored):
forward hooks on every submodule measure the bytes of each output tensor per input,
``largest`` (the biggest one) and ``total`` (every distinct one together). A pass
without a graph holds about the input and a few of the largest tensors at a time; a
pass that keeps its autograd graph (the Lyapunov probes' orthogonal iteration) holds
every output, and several times as much saved for the backward sweeps and tangents
(factors measured with the peak resident memory of resnet18-cifar and cnn probes,
within 1.5x).
The estimate for a batch is then

    no graph:  batch x copies x (input + 4 x largest)
    graph:     batch x copies x (input + 5 x total)

(``copies``: the samples a batch is run as, e.g. 2 for x and x + dx), compared with
:func:`crackle._validation.check_memory`'s limit (the GPU's own memory for a model on
a GPU). Too large a batch is refused with the estimate and the limit, before anything
of its size is allocated.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from crackle._validation import check_memory
from crackle.nn._modules import evaluating
from crackle.nn._probe_utils import run_model


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, list | tuple):
        return [t for t in out if isinstance(t, torch.Tensor)]
    if isinstance(out, dict):
        return [t for t in out.values() if isinstance(t, torch.Tensor)]
    return []


def per_input_bytes(
    model: nn.Module, runner: nn.Module, x1: torch.Tensor, func: str
) -> tuple[int, int]:
    """(largest, total) bytes of the module outputs of one input ``x1`` (batch of 1)."""
    seen: dict[tuple[int, int], int] = {}

    def hook(module: nn.Module, args: Any, out: Any) -> None:
        for t in _tensors(out):
            key = (int(t.untyped_storage().data_ptr()), int(t.storage_offset()))
            seen[key] = max(seen.get(key, 0), t.numel() * t.element_size())

    handles = [m.register_forward_hook(hook) for m in runner.modules()]
    try:
        with evaluating(model), evaluating(runner), torch.no_grad():
            run_model(runner, x1, func)
    finally:
        for h in handles:
            h.remove()
    sizes = list(seen.values()) or [0]
    return max(sizes), sum(sizes)


def check_batch_memory(
    model: nn.Module,
    runner: nn.Module,
    x: torch.Tensor,
    batch_size: int,
    func: str,
    *,
    copies: int = 1,
    graph: bool = False,
) -> None:
    """Refuse, before the first batch, a batch whose activations cannot fit."""
    if x.shape[0] == 0:
        return
    largest, total = per_input_bytes(model, runner, x[:1], func)
    one_input = x[0].numel() * x.element_size()
    per = one_input + (5 * total if graph else 4 * largest)
    batch = min(batch_size, int(x.shape[0]))
    limit = None
    if x.device.type == "cuda":
        limit = int(0.9 * torch.cuda.get_device_properties(x.device).total_memory)
    check_memory(
        float(batch) * copies * per,
        f"the activations of a batch of {batch} input(s)"
        + (f" run as {copies} copies" if copies > 1 else "")
        + f" (about {per / 2**20:.3g} MiB per input and copy)",
        func,
        limit=limit,
        hint="Use a smaller batch_size.",
    )

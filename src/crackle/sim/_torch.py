"""What the torch simulators share: activations and device/dtype checks."""

from __future__ import annotations

from collections.abc import Callable

import torch

from crackle._validation import param_error

__all__ = ["TORCH_ACTIVATIONS", "TORCH_ACTIVATIONS_INPLACE", "resolve_device", "resolve_dtype"]

TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "erf": torch.erf,
    "linear": lambda x: x,
    "hard_tanh": lambda x: torch.clamp(x, -1.0, 1.0),
    "selu": torch.nn.functional.selu,
    "gelu": torch.nn.functional.gelu,
}

# The same functions, overwriting their argument where torch can (a simulator's layer
# buffer): no allocation per layer, and the output stays in cache.
TORCH_ACTIVATIONS_INPLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh_,
    "relu": torch.relu_,
    "erf": torch.erf_,
    "linear": lambda x: x,
    "hard_tanh": lambda x: x.clamp_(-1.0, 1.0),
    "selu": lambda x: torch.nn.functional.selu(x, inplace=True),
    "gelu": torch.nn.functional.gelu,
}


def resolve_device(device: str | torch.device, func: str) -> torch.device:
    """A torch device that exists here, or a clear error naming it."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise param_error("device", func, "a torch device such as 'cpu' or 'cuda'", device) from exc
    if dev.type not in ("cpu", "cuda", "mps"):
        raise param_error("device", func, "'cpu', 'cuda', 'cuda:N' or 'mps'", str(device))
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise param_error(
            "device",
            func,
            "a device present on this machine; no CUDA GPU is available here (use 'cpu')",
            str(device),
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise param_error(
            "device",
            func,
            f"one of the {torch.cuda.device_count()} CUDA device(s) present",
            str(device),
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise param_error("device", func, "a device present on this machine", str(device))
    return dev


def resolve_dtype(dtype: str | torch.dtype, func: str) -> torch.dtype:
    """float32 or float64 (by name or as a torch dtype)."""
    table = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, torch.dtype) and dtype in table.values():
        return dtype
    if isinstance(dtype, str) and dtype in table:
        return table[dtype]
    raise param_error("dtype", func, "'float32' or 'float64'", dtype)

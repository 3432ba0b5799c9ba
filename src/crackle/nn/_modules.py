"""What the model-side tools share: choosing layers, input checks, clean forward passes.

Layer selection (``modules=``), used by :func:`crackle.nn.record` and the probes:

- ``None``: the default layers. For an :class:`torch.nn.Sequential`, its top-level
  children; for any other module, every leaf module (no children) that holds
  parameters (Linear, convolutions, batch norm, ...).
- ``"leaves"``: every leaf module, with or without parameters (ReLU, pooling,
  :class:`crackle.nn.Add`, ...): "every operation a layer".
- ``"blocks"``: the network's blocks (a layer with its normalisation and activation,
  a whole residual block, a transformer sub-block), found from the traced graph with
  torch.fx, so that functional activations and residual sums are seen
  (:mod:`crackle.nn._blocks`). The probes' default (``None`` there) is the blocks
  whenever the model traces.
- a module class or a tuple of classes: every submodule that is an instance.
- a string: a glob pattern (:func:`fnmatch.fnmatchcase`) on the qualified names of
  ``model.named_modules()``, for example ``"layer1.*.conv*"``;
- a compiled :class:`re.Pattern`: a regular expression, matched with ``fullmatch``.
- a list of any of these: their union.

The model itself (name ``""``) is never selected. Layers are ordered as they first
run in a forward pass (see :class:`crackle.nn.record`).
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from crackle._validation import CrackleValueError, param_error

__all__ = [
    "BatchNormTrainingWarning",
    "ModuleSpec",
    "ProbeModeWarning",
    "as_input_tensor",
    "evaluating",
    "expected_input_shape",
    "model_device_dtype",
    "select_modules",
    "shape_error",
    "warn_if_training_batch_norm",
    "warn_mode_switch",
]

ModuleSpec = (
    None
    | str
    | re.Pattern[str]
    | type[nn.Module]
    | tuple[type[nn.Module], ...]
    | Sequence[str | re.Pattern[str] | type[nn.Module]]
)

_BATCH_NORMS = (nn.modules.batchnorm._BatchNorm,)


class BatchNormTrainingWarning(UserWarning):
    """A model with batch norm was run in training mode while recording."""


class ProbeModeWarning(UserWarning):
    """A probe ran a model that was in training mode in eval mode (and restored it)."""


_MODE_DEPENDENT = (nn.modules.batchnorm._NormBase, nn.modules.dropout._DropoutNd)


def warn_mode_switch(model: nn.Module, func: str) -> bool:
    """Warn, at the user's line, that ``func`` switches ``model`` to eval mode: it is in
    training mode and holds modules that behave differently there. True if warned."""
    from crackle.nn._blocks import user_stacklevel

    which = sorted(
        {type(m).__name__ for m in model.modules() if isinstance(m, _MODE_DEPENDENT) and m.training}
    )
    if not which:
        return False
    warnings.warn(
        f"{func} runs the model in eval mode, but it is in training mode ({', '.join(which)} "
        "behave differently there: batch norm with running statistics, dropout off); the "
        "probe measures the network as deployed and restores every module's mode after. "
        "Call model.eval() before probing to say that this is what you want.",
        ProbeModeWarning,
        stacklevel=user_stacklevel(),
    )
    return True


def _check_model(model: Any, func: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise param_error("model", func, "a torch.nn.Module", type(model).__name__)
    return model


def _matches(name: str, module: nn.Module, spec: Any) -> bool:
    if isinstance(spec, str):
        return fnmatch.fnmatchcase(name, spec)
    if isinstance(spec, re.Pattern):
        return spec.fullmatch(name) is not None
    return isinstance(module, spec)


def _valid_item(spec: Any) -> bool:
    if isinstance(spec, str | re.Pattern):
        return True
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        return True
    return (
        isinstance(spec, tuple)
        and len(spec) > 0
        and all(isinstance(t, type) and issubclass(t, nn.Module) for t in spec)
    )


def select_modules(model: nn.Module, modules: ModuleSpec, func: str) -> list[tuple[str, nn.Module]]:
    """The ``(name, module)`` pairs chosen by ``modules``, in ``named_modules()`` order."""
    _check_model(model, func)
    named = [(n, m) for n, m in model.named_modules() if n]
    if modules is None:
        if isinstance(model, nn.Sequential):
            chosen = list(model.named_children())
        else:
            chosen = [
                (n, m)
                for n, m in named
                if not list(m.children()) and any(True for _ in m.parameters(recurse=False))
            ]
        what = "the default layers (children of a Sequential, else leaf modules with parameters)"
    elif isinstance(modules, str) and modules == "leaves":
        chosen = [(n, m) for n, m in named if not list(m.children())]
        what = "the leaf modules"
    else:
        items = (
            [modules]
            if _valid_item(modules)
            else list(modules)
            if isinstance(modules, Sequence) and not isinstance(modules, str)
            else None
        )
        if not items or not all(_valid_item(s) for s in items):
            raise param_error(
                "modules",
                func,
                "None, 'leaves', 'blocks', a module class (or tuple of classes), a glob "
                "pattern, a compiled regular expression, or a list of these",
                modules,
            )
        chosen = [(n, m) for n, m in named if any(_matches(n, m, s) for s in items)]
        what = repr(modules)
    if not chosen:
        avail = [n for n, _ in named]
        few = ", ".join(repr(n) for n in avail[:8]) + (", ..." if len(avail) > 8 else "")
        raise param_error(
            "modules",
            func,
            f"a selection matching at least one submodule; available names: {few or 'none'}",
            f"no match for {what}",
        )
    return chosen


def model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the model's first parameter (CPU float32 if none)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def expected_input_shape(model: nn.Module) -> str | None:
    """The per-sample input shape the model expects, as text, when it can be told.

    An ``input_shape`` attribute wins (crackle's built-in models set it); otherwise the
    first Linear or convolution gives the feature or channel count.
    """
    shape = getattr(model, "input_shape", None)
    if shape is not None:
        return "(N, " + ", ".join(str(int(s)) for s in shape) + ")"
    for m in model.modules():
        if isinstance(m, nn.Linear):
            return f"(N, {m.in_features})"
        if isinstance(m, nn.Conv1d):
            return f"(N, {m.in_channels}, L)"
        if isinstance(m, nn.Conv2d):
            return f"(N, {m.in_channels}, H, W)"
        if isinstance(m, nn.Conv3d):
            return f"(N, {m.in_channels}, D, H, W)"
    return None


_SHAPE_WORDS = ("shape", "size", "mat1", "dimension", "channels", "expected input")


def shape_error(
    exc: RuntimeError, model: nn.Module, got: Any, func: str
) -> CrackleValueError | None:
    """A clear error for a RuntimeError that looks like a shape mismatch, else None."""
    text = str(exc)
    if not any(w in text.lower() for w in _SHAPE_WORDS):
        return None
    want = expected_input_shape(model)
    must = f"of the model's input shape {want}" if want else "of the shape the model expects"
    got_desc = f"shape {tuple(got.shape)}" if hasattr(got, "shape") else repr(got)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    err = param_error("inputs", func, must, got_desc)
    return CrackleValueError(f"{err} The model said: {first}")


def as_input_tensor(
    inputs: Any, model: nn.Module, func: str, *, min_samples: int = 1
) -> torch.Tensor:
    """``inputs`` as a finite tensor on the model's device and dtype, samples first."""
    device, dtype = model_device_dtype(model)
    try:
        x = torch.as_tensor(np.asarray(inputs) if not torch.is_tensor(inputs) else inputs)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise param_error("inputs", func, "an array or tensor of numbers", inputs) from exc
    if x.ndim < 2:
        want = expected_input_shape(model) or "(N, ...)"
        raise param_error(
            "inputs",
            func,
            f"a batch with samples first, of shape {want}",
            f"shape {tuple(x.shape)}",
        )
    if x.shape[0] < min_samples:
        raise param_error(
            "inputs",
            func,
            f"a batch of at least {min_samples} sample(s)",
            f"shape {tuple(x.shape)}",
        )
    if not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64, torch.uint8)):
        raise param_error("inputs", func, "real numbers", f"dtype {x.dtype}")
    x = x.detach().to(device=device, dtype=dtype)
    bad = ~torch.isfinite(x.flatten(1)).all(dim=1)
    if bool(bad.any()):
        raise param_error(
            "inputs",
            func,
            "finite (no NaN or inf)",
            f"non-finite values in {int(bad.sum())} sample(s), the first is "
            f"sample {int(torch.nonzero(bad)[0, 0])}",
        )
    return x


def warn_if_training_batch_norm(model: nn.Module, stacklevel: int = 3) -> bool:
    """Warn when ``model`` runs batch norm in training mode; True if it does."""
    if any(isinstance(m, _BATCH_NORMS) and m.training for m in model.modules()):
        warnings.warn(
            "the model is in training mode and has batch norm: each forward pass normalises "
            "with the statistics of its own batch (so a sample's signal depends on its "
            "batch) and updates the running statistics. Call model.eval() first to record "
            "the network as deployed.",
            BatchNormTrainingWarning,
            stacklevel=stacklevel,
        )
        return True
    return False


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block; restore every module's flag after."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, was in flags:
            m.training = was

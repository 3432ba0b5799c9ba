"""Load checkpoints without running code from them (``torch.load(weights_only=True)``)."""

from __future__ import annotations

import pickle
import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from crackle._validation import CrackleValueError, check_bool, param_error

__all__ = ["UnsafeCheckpointError", "load_checkpoint"]

_STATE_KEYS = ("state_dict", "model_state_dict", "model")


class UnsafeCheckpointError(CrackleValueError):
    """A checkpoint holds Python objects that would run code when unpickled."""


def _state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for key in _STATE_KEYS:
            inner = obj.get(key)
            if (
                isinstance(inner, Mapping)
                and inner
                and all(torch.is_tensor(v) for v in inner.values())
            ):
                obj = inner
                break
        if obj and all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()):
            sd = dict(obj)
            if all(k.startswith("module.") for k in sd):  # saved from DataParallel
                sd = {k[len("module.") :]: v for k, v in sd.items()}
            return sd
    raise CrackleValueError(
        f"{path} holds no state_dict (a mapping of parameter names to tensors, at the top "
        f"level or under one of {', '.join(repr(k) for k in _STATE_KEYS)}); got "
        f"{type(obj).__name__}"
    )


def load_checkpoint(
    path: str | Path,
    model: nn.Module | None = None,
    *,
    strict: bool = True,
    map_location: str | torch.device = "cpu",
) -> Any:
    """Load a checkpoint safely; fill ``model`` with it when given.

    The file is read with ``torch.load(..., weights_only=True)``: only tensors and
    plain containers are unpickled. A file that holds other Python objects (which
    could run arbitrary code while loading) is refused with
    :class:`UnsafeCheckpointError`, before any of its code runs.

    Parameters
    ----------
    path : str or Path
        A file written by ``torch.save``: a state_dict, or a dict holding one under
        ``"state_dict"``, ``"model_state_dict"`` or ``"model"``. A ``"module."`` prefix
        on every key (DataParallel) is removed.
    model : torch.nn.Module, optional
        Receives the weights (``load_state_dict``); returned.
    strict : bool
        Passed to ``load_state_dict``: every key must match.
    map_location : str or torch.device
        Where tensors are loaded (default the CPU).

    Returns
    -------
    torch.nn.Module or object
        ``model`` with the weights loaded, or (no model) whatever the file holds.

    Raises
    ------
    FileNotFoundError
        No such file.
    UnsafeCheckpointError
        The file would run code when unpickled (a subclass of ``ValueError``).
    CrackleValueError
        Not a checkpoint, or its weights do not fit ``model``.

    Examples
    --------
    >>> import tempfile, os, torch, crackle as ck
    >>> net = torch.nn.Linear(3, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.pt")
    >>> torch.save(net.state_dict(), path)
    >>> other = ck.nn.load_checkpoint(path, torch.nn.Linear(3, 2))
    >>> torch.equal(other.weight, net.weight)
    True
    """
    func = "load_checkpoint"
    if not isinstance(path, str | Path):
        raise param_error("path", func, "a file path", path)
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no checkpoint file at {p}")
    if model is not None and not isinstance(model, nn.Module):
        raise param_error("model", func, "a torch.nn.Module or None", type(model).__name__)
    strict = check_bool(strict, "strict", func)
    if isinstance(map_location, str):
        try:
            torch.device(map_location)
        except RuntimeError:
            raise param_error(
                "map_location", func, "a torch device such as 'cpu' or 'cuda:0'", map_location
            ) from None
    elif not (isinstance(map_location, torch.device | dict) or callable(map_location)):
        raise param_error(
            "map_location", func, "a torch device, a dict of devices or a function", map_location
        )
    try:
        obj = torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found is None:  # not a refused global: a damaged or foreign file
            why = re.search(r"WeightsUnpickler error: *([^\n]+)", str(exc))
            raise CrackleValueError(
                f"{p} is not a readable torch checkpoint (a file written by torch.save)"
                + (f": {why.group(1).strip()}" if why and why.group(1).strip() else "")
            ) from exc
        what = f"it calls {found.group(1)}"
        raise UnsafeCheckpointError(
            f"refused to load {p}: it holds Python objects that would run code when "
            "unpickled, and crackle loads only tensors and plain containers "
            f"(torch.load(weights_only=True)) [{what}]. If you "
            "trust its source, re-save just the weights: torch.save(model.state_dict(), ...)"
        ) from exc
    except (RuntimeError, EOFError, KeyError, ValueError, IndexError, struct.error) as exc:
        raise CrackleValueError(f"{p} is not a readable torch checkpoint: {exc}") from exc
    if model is None:
        return obj
    sd = _state_dict(obj, p)
    try:
        model.load_state_dict(sd, strict=strict)
    except RuntimeError as exc:
        missing = sorted(set(model.state_dict()) - set(sd))
        extra = sorted(set(sd) - set(model.state_dict()))
        raise CrackleValueError(
            f"the weights in {p} do not fit the model ({type(model).__name__}): "
            f"{len(missing)} missing key(s) {missing[:3]}, {len(extra)} unexpected key(s) "
            f"{extra[:3]}; check the architecture name and its options (width, classes, "
            "input channels)" + ("" if missing or extra else f"; torch said: {exc}")
        ) from exc
    return model

"""Criticality of recurrent networks (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) from their
hidden states, one network or a series of training checkpoints (Ren & Feng 2026).

:func:`hidden_states` records the output sequence of the network's recurrent module
with a forward hook; :func:`recurrent_criticality` adds the analysis of
:func:`hidden_state_criticality` (avalanches, MR branching parameter, exponents, PSD
and DFA of A_t); :func:`checkpoint_criticality` runs it on every checkpoint of a
training run and returns one table row per checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from crackle._random import SeedLike
from crackle._validation import check_int, param_error
from crackle.nn._hidden_avalanches import (
    RecurrentCriticality,
    active_counts,
    hidden_state_criticality,
)
from crackle.nn.checkpoint import load_checkpoint

__all__ = [
    "RecurrentCriticality",
    "active_counts",
    "checkpoint_criticality",
    "find_recurrent",
    "hidden_state_criticality",
    "hidden_states",
    "recurrent_criticality",
]


def find_recurrent(
    model: nn.Module, module: str | nn.Module | None = None, *, func: str = "find_recurrent"
) -> tuple[str, nn.RNNBase]:
    """The recurrent module of ``model``: (its name, the module).

    ``model`` may itself be an ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (name ""). A model
    holding several recurrent modules needs ``module``: a name from
    ``model.named_modules()`` or the module itself.
    """
    if not isinstance(model, nn.Module):
        raise param_error("model", func, "a torch.nn.Module", type(model).__name__)
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.RNNBase)]
    if module is not None:
        for n, m in found:
            if m is module or n == module:
                return n, m
        names = ", ".join(repr(n) for n, _ in found) or "none"
        raise param_error("module", func, f"one of the model's recurrent modules ({names})", module)
    if not found:
        raise param_error(
            "model",
            func,
            "an nn.LSTM, nn.GRU or nn.RNN, or a module containing one",
            f"a {type(model).__name__} with no recurrent module",
        )
    if len(found) > 1:
        names = ", ".join(repr(n) for n, _ in found)
        raise param_error(
            "module", func, f"given when the model holds several recurrent modules ({names})", None
        )
    return found[0]


@torch.no_grad()
def hidden_states(
    model: nn.Module,
    sequences: Any,
    *,
    module: str | nn.Module | None = None,
    batch_size: int = 256,
) -> NDArray[np.float32]:
    """Hidden-state sequences of a recurrent network, shape (n_sequences, T, n_units).

    A forward hook on the recurrent module keeps its output sequence (the top
    layer's hidden states; both directions side by side for a bidirectional module;
    for an LSTM h_t, not the cell state). The model runs in eval mode (its mode is
    restored afterwards). Calls of the module within one forward pass (a model that
    steps through time itself) are joined along time.

    Parameters
    ----------
    model : torch.nn.Module
        An ``nn.LSTM``/``nn.GRU``/``nn.RNN`` or a model containing one.
    sequences : tensor or array_like
        Input as the model takes it. It is cut into batches along dimension 0, or
        dimension 1 for a bare recurrent module with ``batch_first=False``.
    module : str or torch.nn.Module, optional
        Which recurrent module, when the model holds several.
    batch_size : int
        Sequences per forward pass.

    Returns
    -------
    ndarray of float32, shape (n_sequences, T, n_units)

    Examples
    --------
    >>> import torch
    >>> lstm = torch.nn.LSTM(3, 5, batch_first=True)
    >>> hidden_states(lstm, torch.zeros(4, 7, 3)).shape
    (4, 7, 5)
    """
    func = "hidden_states"
    name, rnn = find_recurrent(model, module, func=func)
    batch_size = check_int(batch_size, "batch_size", func, low=1)
    x = sequences if torch.is_tensor(sequences) else torch.as_tensor(np.asarray(sequences))
    bare = model is rnn
    dim = 1 if bare and not rnn.batch_first else 0
    if bare and (x.ndim != 3 or x.shape[2] != rnn.input_size):
        order = "(n, T, input_size)" if rnn.batch_first else "(T, n, input_size)"
        raise param_error(
            "sequences",
            func,
            f"of shape {order} with input_size = {rnn.input_size} for this {type(rnn).__name__}",
            f"shape {tuple(x.shape)}",
        )
    if x.ndim < 1 or x.shape[dim] == 0:
        raise param_error(
            "sequences", func, "a non-empty batch of sequences", f"shape {tuple(x.shape)}"
        )
    param = next(model.parameters(), None)
    if param is not None:
        x = x.to(param.device, param.dtype if x.is_floating_point() else x.dtype)
    captured: list[torch.Tensor] = []

    def hook(_m: nn.Module, _inp: Any, out: Any) -> None:
        seq = out[0] if isinstance(out, tuple) else out
        if isinstance(seq, PackedSequence):
            raise param_error(
                "sequences", func, "padded tensors, not a PackedSequence", "a PackedSequence"
            )
        if seq.ndim == 2:  # unbatched input: (T, H)
            seq = seq[None]
        elif not rnn.batch_first:
            seq = seq.transpose(0, 1)
        captured.append(seq.detach().to("cpu", torch.float32))

    was_training = model.training
    handle = rnn.register_forward_hook(hook)
    batches: list[torch.Tensor] = []
    try:
        model.eval()
        for start in range(0, x.shape[dim], batch_size):
            captured.clear()
            model(x.narrow(dim, start, min(batch_size, x.shape[dim] - start)))
            if not captured:
                raise param_error(
                    "model",
                    func,
                    f"a model whose forward pass calls its recurrent module {name!r}",
                    "no call",
                )
            batches.append(torch.cat(captured, dim=1))
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(batches, dim=0).numpy()


def recurrent_criticality(
    model: nn.Module,
    sequences: Any,
    theta: float = 2.0,
    *,
    module: str | nn.Module | None = None,
    batch_size: int = 256,
    percentile: float | None = None,
    zscore: str = "pooled",
    kmax: int | None = None,
    min_avalanches: int = 200,
    n_boot: int = 100,
    seed: SeedLike = 0,
    coefficients: str = "sm",
) -> RecurrentCriticality:
    """Hidden-state avalanches and branching parameter of a recurrent network.

    Records the hidden states with :func:`hidden_states`, then z-scores each unit,
    counts A_t = the number of units with |z| > theta, cuts avalanches (runs of
    A_t > 0, or above the ``percentile``-th percentile of A_t), and measures the MR
    branching parameter (sequences as trials, stationary-mean coefficients by default,
    with its consistency checks), the avalanche exponents (when there
    are at least ``min_avalanches``), the PSD slope and the DFA exponent of A_t. See
    :func:`hidden_state_criticality` for every parameter after ``batch_size``.

    Returns
    -------
    RecurrentCriticality

    References
    ----------
    Ren & Feng, arXiv 2606.10384 (2026).

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> lstm = torch.nn.LSTM(2, 16, batch_first=True)
    >>> res = recurrent_criticality(lstm, torch.randn(8, 100, 2), theta=1.5, n_boot=0)
    >>> res.n_sequences, res.n_steps, res.n_units, res.branching is not None
    (8, 100, 16, True)
    """
    h = hidden_states(model, sequences, module=module, batch_size=batch_size)
    return hidden_state_criticality(
        h,
        theta,
        percentile=percentile,
        zscore=zscore,
        kmax=kmax,
        min_avalanches=min_avalanches,
        n_boot=n_boot,
        seed=seed,
        coefficients=coefficients,
    )


def _items(checkpoints: Any) -> list[tuple[Any, Any]]:
    if (
        isinstance(checkpoints, Mapping)
        and checkpoints
        and all(torch.is_tensor(v) for v in checkpoints.values())
    ):
        return [(0, checkpoints)]  # one state dict
    if isinstance(checkpoints, Mapping):
        return list(checkpoints.items())
    if isinstance(checkpoints, str | Path):
        return [(str(checkpoints), checkpoints)]
    if isinstance(checkpoints, Sequence):
        return [(str(c) if isinstance(c, str | Path) else i, c) for i, c in enumerate(checkpoints)]
    raise param_error(
        "checkpoints",
        "checkpoint_criticality",
        "paths, state dicts, or a mapping from a label (e.g. the training step) to either",
        type(checkpoints).__name__,
    )


def checkpoint_criticality(
    model: nn.Module,
    checkpoints: Any,
    sequences: Any,
    theta: float = 2.0,
    **kwargs: Any,
) -> Any:
    """:func:`recurrent_criticality` for every checkpoint of a training run.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture; it receives each checkpoint's weights in turn and gets its
        own weights back at the end.
    checkpoints : mapping or sequence
        ``{label: checkpoint}`` (label e.g. the training step) or a list; each
        checkpoint a file written by ``torch.save`` (read with
        ``torch.load(weights_only=True)``, see :func:`crackle.nn.load_checkpoint`) or a
        state dict.
    sequences : tensor or array_like
        Held-out input sequences, as for :func:`hidden_states`.
    theta : float
        Threshold on |z|.
    **kwargs
        Passed to :func:`recurrent_criticality`.

    Returns
    -------
    pandas.DataFrame
        One row per checkpoint: ``checkpoint`` (the label) and the columns of
        :meth:`RecurrentCriticality.summary`, plus ``notes`` (joined by "; ").
    """
    import pandas as pd

    func = "checkpoint_criticality"
    items = _items(checkpoints)
    if not items:
        raise param_error("checkpoints", func, "at least one checkpoint", "none")
    find_recurrent(model, kwargs.get("module"), func=func)
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    rows = []
    try:
        for label, ckpt in items:
            if isinstance(ckpt, str | Path):
                load_checkpoint(ckpt, model)
            elif isinstance(ckpt, Mapping):
                model.load_state_dict(dict(ckpt))
            else:
                raise param_error(
                    "checkpoints", func, "made of paths or state dicts", type(ckpt).__name__
                )
            res = recurrent_criticality(model, sequences, theta, **kwargs)
            rows.append({"checkpoint": label, **res.summary(), "notes": "; ".join(res.notes)})
    finally:
        model.load_state_dict(original)
    return pd.DataFrame(rows)

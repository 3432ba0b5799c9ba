"""Record the signal strength of chosen layers of any PyTorch model, by forward hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from crackle._validation import CrackleValueError, check_choice
from crackle.nn._modules import (
    ModuleSpec,
    select_modules,
    shape_error,
    warn_if_training_batch_norm,
)

__all__ = ["Recording", "record"]

STATS = ("mean_square", "norm")
_HALF = (torch.float16, torch.bfloat16)


def output_tensor(out: Any, name: str) -> torch.Tensor:
    """The tensor a module produced: itself, or the first tensor of a tuple or list."""
    if torch.is_tensor(out):
        t = out
    elif isinstance(out, tuple | list) and out and torch.is_tensor(out[0]):
        t = out[0]
    else:
        raise CrackleValueError(
            f"module {name!r} returned {type(out).__name__}, not a tensor (or a tuple whose "
            "first element is a tensor); select other modules"
        )
    if t.ndim == 0:
        raise CrackleValueError(
            f"module {name!r} returned a scalar; recorded outputs need samples first"
        )
    return t


def signal_strength(t: torch.Tensor, stat: str) -> torch.Tensor:
    """Per-sample mean square (``stat="mean_square"``) or L2 norm of ``t``, shape (B,)."""
    flat = (t.detach() if t.requires_grad else t).reshape(t.shape[0], -1)
    if flat.dtype in _HALF:
        norm = torch.linalg.vector_norm(flat, dim=1, dtype=torch.float32)
    else:
        norm = torch.linalg.vector_norm(flat, dim=1)
    if stat == "norm":
        return norm
    return norm.square() / flat.shape[1]


class _Collector:
    """Hooks that turn each selected module's output into one number per sample.

    ``reduce(tensor, name)`` maps a module's output to shape (B,). A forward pre-hook
    on the model starts a pass; its forward hook stacks the pass's values (one column
    per module call, in call order), applies ``finalize(block, sizes)`` (``sizes``:
    entries per sample of each column's tensor) and moves the result to the CPU in
    one transfer.
    """

    def __init__(
        self,
        model: nn.Module,
        named: list[tuple[str, nn.Module]],
        reduce: Callable[[torch.Tensor, str], torch.Tensor],
        finalize: Callable[[torch.Tensor, list[int]], torch.Tensor] | None = None,
    ) -> None:
        self.model = model
        self.named = named
        self.reduce = reduce
        self.finalize = finalize
        self.names: list[str] | None = None
        self.rows: list[NDArray[np.float64]] = []
        self.last_input: Any = None
        self._pending: list[tuple[str, torch.Tensor, int]] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def attach(self) -> None:
        self._handles.append(self.model.register_forward_pre_hook(self._start))
        for name, module in self.named:
            self._handles.append(module.register_forward_hook(self._hook(name)))
        self._handles.append(self.model.register_forward_hook(self._finish))

    def detach(self) -> None:
        while self._handles:
            self._handles.pop().remove()

    def _hook(self, name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            t = out if type(out) is torch.Tensor and out.ndim else output_tensor(out, name)
            self._pending.append((name, self.reduce(t, name), t.numel() // max(t.shape[0], 1)))

        return hook

    def _start(self, module: nn.Module, args: Any) -> None:
        self._pending = []
        self.last_input = args[0] if args else None

    def _finish(self, module: nn.Module, args: Any, out: Any) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        seen: dict[str, int] = {}
        names = []
        for name, _, _ in pending:
            seen[name] = seen.get(name, 0) + 1
            names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
        if self.names is None:
            self.names = names
        elif names != self.names:
            raise CrackleValueError(
                f"this forward pass ran the recorded modules in a different order or number "
                f"({len(names)} calls) than the first one ({len(self.names)} calls); "
                "record models whose layer sequence does not depend on the input"
            )
        lead = {v.shape[0] for _, v, _ in pending}
        if len(lead) != 1:
            raise CrackleValueError(
                "the recorded modules produced outputs with different leading sizes "
                f"{sorted(lead)}; the first dimension must be the sample dimension"
            )
        block = torch.stack([v for _, v, _ in pending], dim=1)
        if self.finalize is not None:
            block = self.finalize(block, [n for _, _, n in pending])
        arr = block.to("cpu", torch.float64).numpy()
        check_finite(arr, names, sum(r.shape[0] for r in self.rows))
        self.rows.append(arr)


class Recording:
    """What :func:`record` captured; filled while the ``with`` block runs.

    Attributes
    ----------
    names : list of str
        The recorded layers in the order they ran (a module called twice in one pass
        appears twice, the second time as ``"name#2"``).
    stat : str
        ``"mean_square"`` or ``"norm"``.
    training_batch_norm : bool
        The model ran batch norm in training mode (batch statistics) while recording.
    """

    def __init__(self, collector: _Collector, stat: str, training_batch_norm: bool) -> None:
        self._collector = collector
        self.stat = stat
        self.training_batch_norm = training_batch_norm

    def __repr__(self) -> str:
        return (
            f"Recording(n_samples={self.n_samples}, n_layers={len(self.names)}, stat={self.stat!r})"
        )

    @property
    def names(self) -> list[str]:
        return list(self._collector.names or [])

    @property
    def signals(self) -> NDArray[np.float64]:
        """Signal strengths, of shape (n_samples, n_layers), one row per sample seen."""
        rows = self._collector.rows
        if not rows:
            return np.zeros((0, len(self.names)))
        return np.concatenate(rows, axis=0)

    @property
    def n_samples(self) -> int:
        return int(sum(r.shape[0] for r in self._collector.rows))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: names, statistic, and the signals as nested lists."""
        return {
            "names": list(self.names),
            "stat": self.stat,
            "training_batch_norm": self.training_batch_norm,
            "signals": self.signals.tolist(),
        }


@contextmanager
def record(
    model: nn.Module, modules: ModuleSpec = None, *, stat: str = "mean_square"
) -> Iterator[Recording]:
    """Record each chosen module's output signal strength during forward passes.

    Inside the block, call the model as usual; every call of ``model`` itself adds one
    row per sample (a pass is delimited by hooks on ``model``, so calling one of its
    submodules alone records nothing). Hooks read outputs only (``detach()``, reduced
    on the model's device, moved to the CPU once per forward pass): the model's
    outputs are unchanged, bit for bit. All hooks are removed when the block ends,
    also on error.

    Parameters
    ----------
    model : torch.nn.Module
        Any module. Its first output dimension must be the sample dimension.
    modules : selection, optional
        Which submodules to record: ``None`` (the default layers: the children of an
        ``nn.Sequential``, else every leaf module with parameters), ``"leaves"`` (every
        leaf module), ``"blocks"`` (the network's blocks, residual sums and functional
        activations included, found with torch.fx; see :mod:`crackle.nn._blocks`: while
        the block is open, the model's ``forward`` is its traced graph, which runs the
        same operations), a module class or tuple of classes, a glob pattern on qualified
        names (``"layer1.*.conv*"``, :func:`fnmatch.fnmatchcase`), a compiled regular
        expression (``re.compile(r"layer\\d\\.0\\..*")``, matched with ``fullmatch``), or
        a list of these. A module returning a tuple (an LSTM) is recorded through the
        first tensor of the tuple.
    stat : {"mean_square", "norm"}
        Per-sample statistic of a module's output tensor ``y`` of ``n`` entries:
        ``"mean_square"`` is ``|y|^2 / n`` (Ghavasieh et al.'s q for Gaussian networks),
        ``"norm"`` is the L2 norm ``|y|`` (Ghavasieh et al.'s signal strength for ResNets).

    Yields
    ------
    Recording
        ``rec.signals`` of shape (n_samples, n_layers) and ``rec.names``.

    Raises
    ------
    CrackleValueError
        No module matches ``modules`` (the message lists available names); a recorded
        output is NaN or infinite; the model rejects the input's shape (the model's
        RuntimeError is re-raised as this error, naming the expected input shape).

    Warns
    -----
    BatchNormTrainingWarning
        The model is in training mode and has batch norm. The recorder does not change
        the mode (hooks never change the model): batch statistics are used and running
        statistics updated, as in any training-mode pass; ``rec.training_batch_norm``
        says so. Call ``model.eval()`` first to record the network as deployed.

    Examples
    --------
    >>> import torch, crackle as ck
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    >>> with ck.nn.record(net, modules=torch.nn.Linear) as rec:
    ...     _ = net(torch.ones(5, 4))
    >>> rec.signals.shape, rec.names
    ((5, 2), ['0', '2'])
    """
    func = "record"
    stat = check_choice(stat, "stat", func, STATS)
    runner: nn.Module = model
    if isinstance(modules, str) and modules == "blocks":
        from crackle.nn._probe_utils import resolve_modules

        runner, named = resolve_modules(model, modules, func)
    else:
        named = select_modules(model, modules, func)
    training_bn = warn_if_training_batch_norm(model)

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        return signal_strength(t, "norm")

    def finalize(block: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        # The norm in the hook, the square and mean once per pass: fewer kernels per layer.
        block = block.double()
        if stat == "norm":
            return block
        return block.square() / torch.tensor(sizes, dtype=block.dtype, device=block.device)

    collector = _Collector(model, named, reduce, finalize)
    rec = Recording(collector, stat, training_bn)
    collector.attach()
    if runner is not model:  # blocks found by torch.fx: run the traced graph (same ops)
        model.forward = runner.forward
    try:
        yield rec
    except RuntimeError as exc:
        clear = shape_error(exc, model, collector.last_input, func)
        if clear is None:
            raise
        raise clear from exc
    finally:
        collector.detach()
        if runner is not model:
            del model.forward


def check_finite(signals: NDArray[np.float64], names: list[str], offset: int = 0) -> None:
    """Raise a clear error naming the first layer with a NaN or infinite signal."""
    bad = ~np.isfinite(signals)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise CrackleValueError(
            f"the output of layer {names[col]!r} is NaN or infinite for sample {int(row) + offset} "
            f"({int(bad.any(axis=1).sum())} sample(s) affected): the model overflowed or "
            "its weights or inputs hold non-finite values; check them or scale the input down"
        )

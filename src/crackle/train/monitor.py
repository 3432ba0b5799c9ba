"""Log a network's criticality while it trains: plain loops, TensorBoard, Lightning.

:class:`CriticalityMonitor` measures the probes of :mod:`crackle.nn.probes` on a fixed
batch of probe inputs every ``every`` steps and writes one CSV row per measurement
(with any scalars passed along, such as the loss). TensorBoard events are written too
when the ``tensorboard`` package is installed; it is never required. A Lightning
callback, ``CriticalityCallback``, exists when ``lightning`` or ``pytorch_lightning``
can be imported (``from crackle.train.monitor import CriticalityCallback``); it logs
through the trainer's own loggers (TensorBoard, CSV, ...) instead of files of its own.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from numpy.typing import ArrayLike
from torch import nn

from crackle._extras import MissingExtraError
from crackle._validation import CrackleValueError, check_int, param_error
from crackle.nn._modules import ModuleSpec, ProbeModeWarning, as_input_tensor, evaluating
from crackle.nn._probe_utils import resolve_modules, run_model
from crackle.nn.probes import branching_parameter, lyapunov_exponent

__all__ = ["METRICS", "CriticalityMonitor"]

METRICS = ("branching", "lyapunov")


def _check_probe_inputs(model: nn.Module, probe_inputs: Any, func: str) -> torch.Tensor:
    """The probe batch as a tensor, after one no-grad forward pass of it."""
    try:
        x = as_input_tensor(probe_inputs, model, func)
        with torch.no_grad(), evaluating(model):
            run_model(model, x, func)
    except CrackleValueError as exc:  # name the parameter as this class calls it
        raise CrackleValueError(
            str(exc).replace("'inputs' parameter", "'probe_inputs' parameter")
        ) from exc
    return x


def _number(value: Any, name: str, func: str) -> float:
    if torch.is_tensor(value) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # numpy scalars
        except (TypeError, ValueError):
            must = "a real number (or a one-element tensor)"
            raise param_error(name, func, must, value) from None
    return float(value)


class CriticalityMonitor:
    """Measure branching parameter and Lyapunov exponent every ``every`` training steps.

    At each step that is a multiple of ``every``, :meth:`step` runs the chosen probes
    on ``probe_inputs`` (eval mode, the same random directions every time, so a change
    reflects the model only) and appends a row ``step, <metrics>, <scalars>`` to
    ``log_dir/criticality.csv``. The file is rewritten whole into a temporary file and
    moved into place (:func:`os.replace`), so an interruption leaves either the old or
    the new file, never a partial row. Logging step s first drops the rows of steps
    >= s: a run resumed from a checkpoint (a new monitor on the same ``log_dir``)
    continues the file without duplicated steps, replacing the rows the interrupted
    run wrote after that checkpoint (their number is in ``n_discarded``).

    Columns: ``branching`` is :attr:`BranchingResult.value` (1 at criticality),
    ``lyapunov`` is :attr:`LyapunovResult.value`, the largest Lyapunov exponent
    lambda_max per layer (0 at criticality), as in :class:`CriticalityPenalty`.

    Parameters
    ----------
    model : torch.nn.Module
    probe_inputs : array_like or tensor of shape (n, *input_shape)
        A fixed batch, e.g. a few hundred held-out inputs.
    every : int
        Log every ``every`` steps (steps 0, every, 2 every, ...), >= 1.
    log_dir : str or path
        Folder of the CSV (created at the first log) and of the TensorBoard events.
    metrics : sequence of {"branching", "lyapunov"}
    modules : selection, optional
        The layers, as in the probes (default: the model's blocks).
    n_directions : int
        Directions per probe input (branching parameter).
    seed : int
        Seed of the probes' directions.
    tensorboard : bool
        Also write TensorBoard scalars (``criticality/<metric>`` and the scalars) when
        the ``tensorboard`` package is installed; skipped silently when it is not.

    Notes
    -----
    The arguments are checked (one forward pass of the probe inputs) and stored.

    Examples
    --------
    >>> import tempfile, torch
    >>> from crackle.train import CriticalityMonitor
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     mon = CriticalityMonitor(net, torch.randn(8, 4), every=2, log_dir=d)
    ...     for step in range(5):
    ...         _ = mon.step(step, loss=1.0 / (step + 1))
    ...     mon.close()
    ...     [r["step"] for r in mon.history()], sorted(mon.history()[0])
    (['0', '2', '4'], ['branching', 'loss', 'lyapunov', 'step'])
    """

    def __init__(
        self,
        model: nn.Module,
        probe_inputs: ArrayLike | torch.Tensor,
        *,
        every: int = 100,
        log_dir: str | os.PathLike[str],
        metrics: Sequence[str] = METRICS,
        modules: ModuleSpec = None,
        n_directions: int = 1,
        seed: int = 0,
        tensorboard: bool = True,
    ) -> None:
        func = "CriticalityMonitor"
        self.every = check_int(every, "every", func, low=1)
        if isinstance(metrics, str) or not all(m in METRICS for m in metrics) or not metrics:
            raise param_error("metrics", func, f"a non-empty sequence of {METRICS}", metrics)
        self.metrics = tuple(dict.fromkeys(metrics))
        if not isinstance(log_dir, str | os.PathLike):
            raise param_error("log_dir", func, "a path", log_dir)
        self.log_dir = Path(log_dir)
        resolve_modules(model, modules, func)
        self.model = model
        self.probe_inputs = _check_probe_inputs(model, probe_inputs, func)
        self.modules = modules
        self.n_directions = check_int(n_directions, "n_directions", func, low=1)
        self.seed = check_int(seed, "seed", func, low=0)
        self.tensorboard = bool(tensorboard)
        self.n_discarded = 0
        self._rows: list[dict[str, str]] | None = None
        self._writer: Any = None

    @property
    def path(self) -> Path:
        """The CSV file."""
        return self.log_dir / "criticality.csv"

    def measure(self) -> dict[str, float]:
        """The chosen metrics now, without logging."""
        kw: dict[str, Any] = {"modules": self.modules, "seed": self.seed}
        out: dict[str, float] = {}
        with warnings.catch_warnings():
            # measuring in eval mode in the middle of training is the point here
            warnings.simplefilter("ignore", ProbeModeWarning)
            if "branching" in self.metrics:
                out["branching"] = branching_parameter(
                    self.model, self.probe_inputs, n_directions=self.n_directions, **kw
                ).value
            if "lyapunov" in self.metrics:
                out["lyapunov"] = lyapunov_exponent(self.model, self.probe_inputs, **kw).value
        return out

    def step(self, step: int, **scalars: Any) -> dict[str, float] | None:
        """Measure and log at multiples of ``every``; return the row, else None.

        ``scalars`` (numbers or one-element tensors) are logged beside the metrics.
        """
        func = "CriticalityMonitor.step"
        step = check_int(step, "step", func, low=0)
        if step % self.every:
            return None
        extra = {k: _number(v, k, func) for k, v in scalars.items()}
        clash = sorted(set(extra) & {"step", *METRICS})
        if clash:
            raise param_error("scalars", func, "named other than 'step' and the metrics", clash)
        row: dict[str, float] = {"step": float(step), **self.measure(), **extra}
        rows = self._load()
        kept = [r for r in rows if int(r["step"]) < step]
        self.n_discarded += len(rows) - len(kept)
        text = {k: str(step) if k == "step" else repr(v) for k, v in row.items()}
        self._rows = [*kept, text]
        self._save(self._rows)
        self._log_tensorboard(step, row)
        return row

    def history(self) -> list[dict[str, str]]:
        """The rows of the CSV file as written (strings; empty fields for missing values)."""
        if not self.path.exists():
            return []
        with self.path.open(newline="") as f:
            return [dict(r) for r in csv.DictReader(f)]

    def close(self) -> None:
        """Flush and close the TensorBoard writer, if any."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> CriticalityMonitor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _load(self) -> list[dict[str, str]]:
        if self._rows is None:
            self._rows = self.history()
        return self._rows

    def _save(self, rows: list[dict[str, str]]) -> None:
        header: dict[str, None] = {}
        for r in rows:
            header.update(dict.fromkeys(r))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(header), restval="")
            writer.writeheader()
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def _log_tensorboard(self, step: int, row: dict[str, float]) -> None:
        if not self.tensorboard or importlib.util.find_spec("tensorboard") is None:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step: a resumed run hides the events the interrupted one wrote later.
            self._writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=step)
        for k, v in row.items():
            if k != "step" and math.isfinite(v):
                tag = f"criticality/{k}" if k in METRICS else k
                self._writer.add_scalar(tag, v, step)


def _lightning() -> Any:
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _make_callback(pl: Any) -> type:
    class CriticalityCallback(pl.Callback):
        """Lightning callback: the criticality probes, logged through ``trainer.logger``.

        Measures the branching parameter and the Lyapunov exponent of the
        LightningModule on ``probe_inputs`` (as :meth:`CriticalityMonitor.measure`: eval
        mode, the same directions every time) when training starts (step 0, or the
        step a resumed run starts from) and after each training batch that leaves
        ``trainer.global_step`` at a multiple of ``every``, and hands them to every
        logger of the trainer (``logger.log_metrics({"criticality/branching": ...,
        "criticality/lyapunov": ...}, step)``): a TensorBoardLogger writes them as
        scalars beside the module's own ``self.log`` values, a CSVLogger as columns of
        its metrics.csv. Nothing is written by the callback itself; with no logger the
        measurements are only kept in :attr:`history`. Global rank 0 only.

        Parameters
        ----------
        probe_inputs : array_like or tensor of shape (n, *input_shape)
            A fixed batch, e.g. a few hundred held-out inputs.
        every : int
            Measure every ``every`` optimizer steps (``trainer.global_step``), >= 1.
        metrics, modules, n_directions, seed
            As for :class:`CriticalityMonitor`.
        prefix : str
            Prepended to the metric names in the logger (default ``"criticality/"``).

        Attributes
        ----------
        history : list of dict
            One ``{"step": int, <metric>: float}`` per measurement, in order.
        """

        def __init__(
            self,
            probe_inputs: Any,
            *,
            every: int = 100,
            metrics: Sequence[str] = METRICS,
            modules: ModuleSpec = None,
            n_directions: int = 1,
            seed: int = 0,
            prefix: str = "criticality/",
        ) -> None:
            super().__init__()
            func = "CriticalityCallback"
            self.every = check_int(every, "every", func, low=1)
            if isinstance(metrics, str) or not metrics or not all(m in METRICS for m in metrics):
                raise param_error("metrics", func, f"a non-empty sequence of {METRICS}", metrics)
            if not isinstance(prefix, str):
                raise param_error("prefix", func, "a string", prefix)
            self.probe_inputs = probe_inputs
            self.prefix = prefix
            self.kwargs: dict[str, Any] = {
                "metrics": tuple(metrics),
                "modules": modules,
                "n_directions": check_int(n_directions, "n_directions", func, low=1),
                "seed": check_int(seed, "seed", func, low=0),
            }
            self.monitor: CriticalityMonitor | None = None
            self.history: list[dict[str, float]] = []
            self._last_step: int | None = None

        def _log(self, trainer: Any, pl_module: Any) -> None:
            step = int(trainer.global_step)
            if step == self._last_step or not getattr(trainer, "is_global_zero", True):
                return
            self._last_step = step
            if self.monitor is None:  # checks the probe inputs against the model, once
                root = getattr(trainer, "default_root_dir", None) or os.getcwd()
                self.monitor = CriticalityMonitor(
                    pl_module,
                    self.probe_inputs,
                    every=self.every,
                    log_dir=root,  # never written: the trainer's loggers do the writing
                    tensorboard=False,
                    **self.kwargs,
                )
            values = self.monitor.measure()
            self.history.append({"step": step, **values})
            named = {self.prefix + k: v for k, v in values.items()}
            for logger in getattr(trainer, "loggers", None) or []:
                logger.log_metrics(named, step=step)

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self._log(trainer, pl_module)

        def on_train_batch_end(
            self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
        ) -> None:
            if int(trainer.global_step) % self.every == 0:
                self._log(trainer, pl_module)

    return CriticalityCallback


def __getattr__(name: str) -> Any:
    """``CriticalityCallback`` is defined on first use, when Lightning is importable."""
    if name == "CriticalityCallback":
        pl = _lightning()
        if pl is None:
            raise MissingExtraError(
                "CriticalityCallback needs pytorch-lightning: pip install 'crackle[lightning]'; "
                "CriticalityMonitor works in any plain PyTorch loop"
            )
        cls = _make_callback(pl)
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

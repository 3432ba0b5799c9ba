"""Avalanches in engineered networks: every operation a layer, calibrated thresholds.

Ghavasieh et al. 2025 (arXiv 2509.22649), on ResNets: in a ResNet each operation
(convolution, batch norm, ReLU, pooling, the residual sum) is a layer, and the signal
strength of a layer is the norm of the tensor it produces. Layer widths and operations
differ, so the threshold is per layer, theta_l = mu_l + k s_l, with mu_l and s_l the
mean and standard deviation of layer l's signal strength over calibration inputs. An
input's avalanche lasts from the first layer while its signal stays above threshold; its
size is the sum of its signal strengths up to the first layer below threshold
(:func:`crackle.avalanches_from_trajectories`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.events.avalanches import Avalanches, avalanches_from_trajectories
from crackle.nn._memory import check_batch_memory
from crackle.nn._modules import (
    BatchNormTrainingWarning,
    ModuleSpec,
    as_input_tensor,
    select_modules,
)
from crackle.nn.record import record
from crackle.stats.crackling import EXPONENT_FIELDS, CracklingReport, crackling_report

__all__ = [
    "NetworkAvalanches",
    "avalanche_exponents",
    "gaussian_inputs",
    "layer_signals",
    "network_avalanches",
]

BATCH_NORM_MODES = ("batch", "running")


def gaussian_inputs(
    shape: Sequence[int], n: int, *, seed: int = 0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``n`` standard Gaussian inputs of per-sample ``shape``, drawn on the CPU from ``seed``.

    The default input data of crackle's model probes (and of ``crackle probe``).
    """
    func = "gaussian_inputs"
    n = check_int(n, "n", func, low=1)
    seed = check_int(seed, "seed", func, low=0)
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((n, *(int(s) for s in shape)), generator=gen, dtype=dtype)


def _runner(model: nn.Module, batch_norm: str) -> nn.Module:
    """The module to run: the model in eval mode, or a copy whose batch norms use batch
    statistics (the copy keeps the caller's running statistics untouched)."""
    if batch_norm == "running":
        return model
    twin = copy.deepcopy(model).eval()
    for m in twin.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.train()
    return twin


def layer_signals(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = "leaves",
    stat: str = "norm",
    batch_size: int = 64,
    batch_norm: str = "running",
) -> tuple[NDArray[np.float64], list[str]]:
    """Signal strength of every layer for every input, shape (n, L), and the layer names.

    Parameters
    ----------
    model : torch.nn.Module
    inputs : array_like or tensor of shape (n, *input_shape)
    modules : selection
        Default ``"leaves"``: every operation is a layer (Ghavasieh et al. 2025).
    stat : {"norm", "mean_square"}
        Default the L2 norm of the tensor a layer produces (Ghavasieh et al. 2025 for ResNets).
    batch_size : int
        Inputs per forward pass. With ``batch_norm="batch"`` it sets the statistics.
    batch_norm : {"running", "batch"}
        ``"running"``: the model in eval mode (running statistics; each input is
        independent of its batch). ``"batch"``: batch norm normalises with each batch's
        own statistics, as a freshly built network does in training mode; run on a copy,
        so the model's running statistics are not changed. Other modules stay in eval
        mode (no dropout).
    """
    func = "layer_signals"
    bn = check_choice(batch_norm, "batch_norm", func, BATCH_NORM_MODES)
    bs = check_int(batch_size, "batch_size", func, low=1)
    select_modules(model, modules, func)
    x = as_input_tensor(inputs, model, func)
    was = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        runner = _runner(model, bn)
        check_batch_memory(model, runner, x, bs, func)
        with warnings.catch_warnings():
            # Batch statistics are what batch_norm="batch" asks for: no warning.
            warnings.simplefilter("ignore", BatchNormTrainingWarning)
            with torch.no_grad(), record(runner, modules=modules, stat=stat) as rec:
                for i in range(0, x.shape[0], bs):
                    runner(x[i : i + bs])
    finally:
        for m, flag in was:
            m.training = flag
    return rec.signals, rec.names


@dataclass(frozen=True)
class NetworkAvalanches:
    """Avalanches of one network at one threshold level k.

    Attributes
    ----------
    avalanches : Avalanches
        From :func:`crackle.avalanches_from_trajectories` with ``thresholds``.
    thresholds, mu, sd : ndarray of shape (L,)
        theta_l = mu_l + k sd_l, from the calibration inputs.
    names : tuple of str
        The layers (every operation, in the order they run).
    """

    avalanches: Avalanches
    thresholds: NDArray[np.float64]
    mu: NDArray[np.float64]
    sd: NDArray[np.float64]
    k: float
    names: tuple[str, ...]
    n_calibration: int

    def report(self, **kwargs: Any) -> CracklingReport:
        """:func:`crackle.crackling_report` of the avalanches."""
        return crackling_report(self.avalanches, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "avalanches": self.avalanches.to_dict(),
            "thresholds": self.thresholds.tolist(),
            "k": self.k,
            "names": list(self.names),
            "n_calibration": self.n_calibration,
        }


def _thresholds(cal: NDArray[np.float64], k: float) -> tuple[NDArray[np.float64], ...]:
    mu, sd = cal.mean(axis=0), cal.std(axis=0, ddof=1)
    return mu + k * sd, mu, sd


def network_avalanches(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    calibration: ArrayLike | torch.Tensor,
    *,
    k: float = 1.0,
    modules: ModuleSpec = "leaves",
    stat: str = "norm",
    batch_size: int = 64,
    batch_norm: str = "running",
    max_shape_duration: int | None = 1000,
) -> NetworkAvalanches:
    """Avalanches of signal strength through the layers of an engineered network.

    Thresholds theta_l = mu_l + k s_l from the signals of ``calibration`` inputs, then
    one trajectory per input of ``inputs`` (see the module docstring).

    Parameters
    ----------
    model, inputs, modules, stat, batch_size, batch_norm
        As in :func:`layer_signals`.
    calibration : array_like or tensor of shape (n_cal, *input_shape)
        Inputs for mu_l and s_l (at least 2); separate from ``inputs``.
    k : float
        Threshold level in standard deviations (Ghavasieh et al. 2025 use integers).
    max_shape_duration : int or None
        Passed to :func:`crackle.avalanches_from_trajectories`.

    Returns
    -------
    NetworkAvalanches

    References
    ----------
    Ghavasieh et al., arXiv 2509.22649 (2025), Methods
    ("ResNet statistics") and Fig. 4.

    Examples
    --------
    >>> import crackle as ck
    >>> net = ck.nn.resnet18(style="cifar", width=0.25, input_size=8, seed=0)
    >>> x = ck.nn.gaussian_inputs(net.input_shape, 40, seed=1)
    >>> cal = ck.nn.gaussian_inputs(net.input_shape, 20, seed=2)
    >>> res = ck.nn.network_avalanches(net, x, cal, k=0)
    >>> len(res.names), res.thresholds.shape
    (65, (65,))
    """
    func = "network_avalanches"
    k = check_real(k, "k", func)
    cal_sig, names = layer_signals(
        model, calibration, modules=modules, stat=stat, batch_size=batch_size, batch_norm=batch_norm
    )
    if cal_sig.shape[0] < 2:
        raise param_error("calibration", func, "at least 2 inputs", f"{cal_sig.shape[0]}")
    sig, _ = layer_signals(
        model, inputs, modules=modules, stat=stat, batch_size=batch_size, batch_norm=batch_norm
    )
    thr, mu, sd = _thresholds(cal_sig, k)
    av = avalanches_from_trajectories(sig, thr, max_shape_duration=max_shape_duration)
    return NetworkAvalanches(av, thr, mu, sd, k, tuple(names), int(cal_sig.shape[0]))


_REPORT_COLUMNS = (*EXPONENT_FIELDS[:-1], "scaling_mismatch")  # no collapse error


def avalanche_exponents(
    models: Mapping[str, nn.Module] | None = None,
    *,
    ks: Sequence[float] = (0, 1, 2),
    n: int = 20_000,
    n_calibration: int = 2_000,
    input_size: int = 32,
    batch_size: int = 64,
    batch_norm: str = "batch",
    seed: int = 0,
) -> Any:
    """Avalanche exponents of networks at initialisation, for several k: a tidy table.

    The default models are crackle's pre-activation ResNet-18, -34 and -50 (ImageNet
    widths, 10 classes, initialised from ``seed``), the three variants of Ghavasieh et al.'s
    Fig. 4. Inputs are standard Gaussian images of 3 x ``input_size`` x ``input_size``
    (``n`` for the avalanches, ``n_calibration`` others for the thresholds). The
    signals are recorded once per model and thresholded at every k. By default batch
    norm uses batch statistics, as in a freshly built network (Ghavasieh et al. 2025 analyse
    untrained networks; running statistics at initialisation are 0 and 1).

    Returns
    -------
    pandas.DataFrame
        One row per (model, k): ``model, k, n_layers, n, n_censored, n_empty``, the
        exponents and their errors (``tau, alpha, inv_snz_fitted, inv_snz_predicted``,
        ...), ``scaling_mismatch``, ``nearest_class``, ``critical``, and ``note`` (why a
        report could not be made, else empty).
    """
    import pandas as pd

    from crackle.nn.resnet import preact_resnet

    func = "avalanche_exponents"
    n = check_int(n, "n", func, low=2)
    n_calibration = check_int(n_calibration, "n_calibration", func, low=2)
    size = check_int(input_size, "input_size", func, low=1)
    seed = check_int(seed, "seed", func, low=0)
    ks = [check_real(k, "ks", func) for k in ks]
    if models is None:
        models = {
            f"resnet{d}": preact_resnet(d, num_classes=10, input_size=size, seed=seed)
            for d in (18, 34, 50)
        }
    rows = []
    for name, model in models.items():
        shape = getattr(model, "input_shape", (3, size, size))
        x = gaussian_inputs(shape, n, seed=seed + 1)
        cal = gaussian_inputs(shape, n_calibration, seed=seed + 2)
        kw: dict[str, Any] = {"batch_size": batch_size, "batch_norm": batch_norm}
        cal_sig, names = layer_signals(model, cal, **kw)
        sig, _ = layer_signals(model, x, **kw)
        for k in ks:
            thr, _, _ = _thresholds(cal_sig, k)
            av = avalanches_from_trajectories(sig, thr)
            row: dict[str, Any] = {
                "model": name,
                "k": k,
                "n_layers": len(names),
                "n": av.n,
                "n_censored": av.n_censored,
                "n_empty": av.n_empty,
            }
            try:
                rep = crackling_report(av)
            except ValueError as exc:
                row.update({c: np.nan for c in _REPORT_COLUMNS})
                row.update({"nearest_class": "", "critical": False, "note": str(exc)})
            else:
                row.update({c: getattr(rep, c) for c in _REPORT_COLUMNS})
                row.update(
                    {
                        "nearest_class": "" if rep.nearest is None else rep.nearest.name,
                        "critical": rep.critical,
                        "note": "; ".join(rep.notes),
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows)

"""Dynamic range of a network's response to input intensity (Kinouchi & Copelli 2006)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from crackle._validation import check_1d, check_choice, param_error
from crackle.nn._modules import ModuleSpec, evaluating
from crackle.nn._probe_utils import bcast, chunks, prepare, run_model, to_dict
from crackle.nn.record import STATS, _Collector, output_tensor, signal_strength

__all__ = ["DynamicRangeResult", "dynamic_range"]


@dataclass(frozen=True)
class DynamicRangeResult:
    """Dynamic range Delta = 10 log10(s_0.9 / s_0.1) of the response F(s).

    Attributes
    ----------
    value : float
        Delta of the model's output, in dB (NaN when the response is flat).
    per_layer : ndarray of shape (L,)
        Delta of each layer's response.
    intensities : ndarray of shape (n_s,)
        The intensities s scanned.
    response : ndarray of shape (n_s,)
        F(s) of the output; ``layer_response`` of shape (n_s, L) per layer.
    s_low, s_high : float
        s_0.1 and s_0.9 of the output.
    """

    value: float
    per_layer: NDArray[np.float64]
    names: tuple[str, ...]
    intensities: NDArray[np.float64]
    response: NDArray[np.float64]
    layer_response: NDArray[np.float64]
    s_low: float
    s_high: float
    stat: str
    n_samples: int

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def plot(self, ax: Any = None) -> Any:
        """F(s) of the output against s, with s_0.1 and s_0.9 marked."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(5, 3))
        ax.semilogx(self.intensities, self.response)
        for s in (self.s_low, self.s_high):
            if np.isfinite(s):
                ax.axvline(s, color="0.5", ls="--", lw=1)
        ax.set_xlabel("input intensity s")
        ax.set_ylabel(f"response F(s) ({self.stat})")
        ax.set_title(f"Δ = {self.value:.1f} dB")
        return ax


def _crossing(s: NDArray[np.float64], f: NDArray[np.float64], level: float) -> float:
    """First s where the normalised response reaches ``level``, linear in log s."""
    idx = np.flatnonzero(f >= level)
    if idx.size == 0:
        return float("nan")
    i = int(idx[0])
    if i == 0:
        return float(s[0])
    f0, f1 = f[i - 1], f[i]
    t = (level - f0) / (f1 - f0)
    return float(np.exp(np.log(s[i - 1]) + t * (np.log(s[i]) - np.log(s[i - 1]))))


def _delta(s: NDArray[np.float64], f: NDArray[np.float64]) -> tuple[float, float, float]:
    span = f[-1] - f[0]
    if not np.isfinite(span) or span == 0:
        return float("nan"), float("nan"), float("nan")
    phi = (f - f[0]) / span
    lo, hi = _crossing(s, phi, 0.1), _crossing(s, phi, 0.9)
    return 10 * np.log10(hi / lo), lo, hi


def dynamic_range(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = None,
    intensities: ArrayLike | None = None,
    stat: str = "mean_square",
    batch_size: int = 128,
) -> DynamicRangeResult:
    """Dynamic range Delta = 10 log10(s_0.9 / s_0.1) (Kinouchi & Copelli 2006).

    Each input is first normalised to unit root mean square per entry,
    x_hat = x / sqrt(mean(x^2)); at intensity s the model sees s * x_hat, so s is the
    input's root-mean-square entry. The response F(s) of a layer (or of the output) is
    the mean over inputs of its signal strength (``stat``, as in
    :func:`crackle.nn.record`). With F_0 and F_max the responses at the smallest and
    largest intensity scanned, s_x is the first intensity where
    F(s_x) = F_0 + x (F_max - F_0) (linear interpolation in log s). A response that
    saturates inside the range gives a range-independent Delta; one that does not
    (a linear network: F ~ s^2 with the mean square) gives Delta set by the shape of
    F alone (10 log10(3) = 4.77 dB for F ~ s^2 over a wide range).

    Parameters
    ----------
    model, inputs, modules, batch_size
        As in :func:`branching_parameter`.
    intensities : array_like of shape (n_s,), optional
        Increasing positive intensities; default 61 points from 1e-3 to 1e3 (log spaced).
    stat : {"mean_square", "norm"}

    Returns
    -------
    DynamicRangeResult

    References
    ----------
    Kinouchi & Copelli, Nature Physics 2, 348 (2006); Vock & Meisel, arXiv 2507.08527.

    Examples
    --------
    >>> import torch, crackle as ck
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 8, bias=False))
    >>> res = ck.nn.dynamic_range(net, torch.randn(4, 8), intensities=[1e-3, 1.0, 10.0])
    >>> res.response.shape, res.layer_response.shape
    ((3,), (3, 1))
    """
    func = "dynamic_range"
    x, named, bs = prepare(model, inputs, modules, batch_size, func)
    stat = check_choice(stat, "stat", func, STATS)
    s = (
        np.logspace(-3, 3, 61)
        if intensities is None
        else check_1d(intensities, "intensities", func, min_size=2, positive=True)
    )
    if np.any(np.diff(s) <= 0):
        raise param_error("intensities", func, "strictly increasing", s)
    rms = torch.sqrt(x.reshape(x.shape[0], -1).square().mean(dim=1))
    if bool((rms == 0).any()):
        raise param_error("inputs", func, "non-zero samples (each is scaled by intensity)", "zeros")
    xhat = x / bcast(rms, x.ndim)

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        return signal_strength(t, stat)

    resp, layer_resp = [], []
    with evaluating(model), torch.no_grad():
        col = _Collector(model, named, reduce)
        col.attach()
        try:
            for si in s:
                col.rows.clear()
                out_sig = [
                    signal_strength(
                        output_tensor(run_model(model, xb * float(si), func), "output"), stat
                    )
                    for xb in chunks(xhat, bs)
                ]
                resp.append(float(torch.cat(out_sig).double().mean()))
                layer_resp.append(np.concatenate(col.rows).mean(axis=0))
        finally:
            col.detach()
    response, layers = np.asarray(resp), np.stack(layer_resp)
    value, lo, hi = _delta(s, response)
    per_layer = np.array([_delta(s, layers[:, j])[0] for j in range(layers.shape[1])])
    return DynamicRangeResult(
        value=float(value),
        per_layer=per_layer,
        names=tuple(col.names or ()),
        intensities=s,
        response=response,
        layer_response=layers,
        s_low=lo,
        s_high=hi,
        stat=stat,
        n_samples=int(x.shape[0]),
    )

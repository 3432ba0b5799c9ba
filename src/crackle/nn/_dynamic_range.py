"""Dynamic range of a network's response to input intensity (Kinouchi & Copelli 2006)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from crackle._validation import check_1d, check_choice, param_error
from crackle.nn._dead import Vanished, dead_reason, warn_dead
from crackle.nn._memory import check_batch_memory
from crackle.nn._modules import ModuleSpec, evaluating
from crackle.nn._probe_utils import bcast, chunks, prepare, run_model, to_dict
from crackle.nn.record import STATS, _Collector, output_tensor, signal_strength

__all__ = ["SATURATION", "DynamicRangeResult", "dynamic_range"]


@dataclass(frozen=True)
class DynamicRangeResult:
    """Dynamic range Delta = 10 log10(s_0.9 / s_0.1) of the response F(s).

    Attributes
    ----------
    value : float
        Delta of the model's output, in dB; NaN when it would not be a measurement
        (``reason`` says why): a flat response, or one that does not saturate inside
        the scanned intensities (a positively homogeneous network, F ~ s^p), whose
        Delta would be set by the scan range and p alone.
    per_layer : ndarray of shape (L,)
        Delta of each layer's response (NaN likewise).
    intensities : ndarray of shape (n_s,)
        The intensities s scanned.
    response : ndarray of shape (n_s,)
        F(s) of the output; ``layer_response`` of shape (n_s, L) per layer.
    s_low, s_high : float
        s_0.1 and s_0.9 of the output.
    top_slope : float
        d log F / d log s of the output over the top decade of intensities (0 for a
        saturated response; p for F ~ s^p).
    max_slope : float
        The largest such slope over the scan (between neighbouring intensities).
    reason : str or None
        Why ``value`` is NaN; None when it is a measurement. A dead network (a layer
        whose response is 0 at every intensity scanned: no unit active) says so, with
        a :class:`~crackle.nn.probes.DeadNetworkWarning`.
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
    top_slope: float = float("nan")
    max_slope: float = float("nan")
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def _repr_html_(self) -> str:
        """Δ in dB, or why it is not a measurement (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("value", "dynamic range Δ (dB)", None, None),
            ("s_low", "s_0.1", None, None),
            ("s_high", "s_0.9", None, None),
            ("top_slope", "slope of log F over the top decade", None, None),
            ("stat", "response statistic", None, None),
            ("n_samples", "inputs", None, None),
        ]
        return repr_html(self, "dynamic range", fields, note=self.reason or "")

    def plot(self, ax: Any = None) -> Any:
        """F(s) of the output against s, with s_0.1 and s_0.9 marked."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax, figsize=(5.5, 3.6))
        ax.semilogx(self.intensities, self.response, label="response F(s)")
        for s, name in ((self.s_low, "s_0.1"), (self.s_high, "s_0.9")):
            if np.isfinite(s):
                ax.axvline(s, color="0.5", ls="--", lw=1, label=f"{name} = {s:.3g}")
        ax.set_xlabel("input intensity s")
        ax.set_ylabel(f"response F(s) ({self.stat})")
        ax.set_title(
            f"Δ = {self.value:.1f} dB" if self.reason is None else f"Δ undefined: {self.reason}",
            fontsize=9 if self.reason else None,
        )
        ax.legend(frameon=False, fontsize=8)
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


#: A response saturates when its log-log slope over the top decade of the scan is
#: below this fraction of its largest slope.
SATURATION = 0.1


def _slopes(s: NDArray[np.float64], f: NDArray[np.float64]) -> tuple[float, float]:
    """(slope over the top decade, largest slope between neighbours) of log F vs log s."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lf, ls = np.log(f), np.log(s)
        local = np.diff(lf) / np.diff(ls)
        top = ls >= ls[-1] - np.log(10.0)
        if top.sum() < 2:
            top[-2:] = True
        slope = (lf[top][-1] - lf[top][0]) / (ls[top][-1] - ls[top][0])
    finite = local[np.isfinite(local)]
    return float(slope), float(finite.max()) if finite.size else float("nan")


def _delta(
    s: NDArray[np.float64], f: NDArray[np.float64]
) -> tuple[float, float, float, float, float, str | None]:
    """(Delta, s_0.1, s_0.9, top slope, largest slope, reason it is NaN or None)."""
    nan = float("nan")
    span = f[-1] - f[0]
    if not np.isfinite(span) or span <= 0:
        return nan, nan, nan, nan, nan, "the response does not rise over the scan"
    top, most = _slopes(s, f)
    if not (most > 0) or not (top < SATURATION * most):
        why = (
            f"the response does not saturate: F still grows as s^{top:.2f} over the top "
            f"decade (largest slope {most:.2f}), so F_max is the edge of the scan, not a "
            "saturation level, and Delta would depend on the scan alone (a positively "
            "homogeneous network, such as ReLU without biases, has F ~ s^2 everywhere)"
        )
        return nan, nan, nan, top, most, why
    phi = (f - f[0]) / span
    lo, hi = _crossing(s, phi, 0.1), _crossing(s, phi, 0.9)
    return float(10 * np.log10(hi / lo)), lo, hi, top, most, None


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
    F(s_x) = F_0 + x (F_max - F_0) (linear interpolation in log s).

    Delta measures something only when F saturates inside the scan: F_max must be
    the response's ceiling. A response still growing as a power at the top of the
    scan (a positively homogeneous network: ReLU or linear layers without biases,
    max pooling, batch norm at initialisation; F = c s^2 with the mean square) has
    Delta = 10 log10(sqrt(0.9/0.1)) = 4.77 dB for any such network and any wide
    scan, a number set by the exponent, not by the network. Such a response is
    reported as NaN with the ``reason``: the output's (and each layer's) response is
    called saturated when its log-log slope over the top decade of the scan is below
    ``SATURATION`` (0.1) times its largest slope. The slopes are in the result.

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

    Warns
    -----
    DeadNetworkWarning
        The output's response is flat because a layer is dead at every intensity
        scanned (its response is 0: no unit active); ``value`` is NaN and ``reason``
        names the layer.

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
    >>> res.value != res.value, res.reason.startswith("the response does not saturate")
    (True, True)
    >>> tanh = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh())
    >>> bool(ck.nn.dynamic_range(tanh, torch.randn(16, 8)).value > 5)
    True
    """
    func = "dynamic_range"
    runner, x, named, bs = prepare(model, inputs, modules, batch_size, func)
    stat = check_choice(stat, "stat", func, STATS)
    s = (
        np.logspace(-3, 3, 61)
        if intensities is None
        else check_1d(intensities, "intensities", func, min_size=2, positive=True)
    )
    if np.any(np.diff(s) <= 0):
        raise param_error("intensities", func, "strictly increasing", s)
    # in float64: the mean square of float32 inputs over- or underflows beyond 1e+-19
    x64 = x.double()
    rms = torch.sqrt(x64.reshape(x.shape[0], -1).square().mean(dim=1))
    if bool((rms == 0).any()):
        raise param_error("inputs", func, "non-zero samples (each is scaled by intensity)", "zeros")
    xhat = (x64 / bcast(rms, x.ndim)).to(x.dtype)
    check_batch_memory(model, runner, xhat, bs, func)

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        return signal_strength(t, stat)

    resp, layer_resp = [], []
    with evaluating(model), torch.no_grad():
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            for si in s:
                col.rows.clear()
                out_sig = [
                    signal_strength(
                        output_tensor(run_model(runner, xb * float(si), func), "output"), stat
                    )
                    for xb in chunks(xhat, bs)
                ]
                resp.append(float(torch.cat(out_sig).double().mean()))
                layer_resp.append(np.concatenate(col.rows).mean(axis=0))
        finally:
            col.detach()
    response, layers = np.asarray(resp), np.stack(layer_resp)
    value, lo, hi, top, most, reason = _delta(s, response)
    per_layer = np.array([_delta(s, layers[:, j])[0] for j in range(layers.shape[1])])
    names = tuple(col.names or ())
    silent = np.flatnonzero((layers == 0).all(axis=0))
    if silent.size and not np.isfinite(value):
        how = (
            f"its response is 0 at every intensity scanned, s = {s[0]:.3g} to {s[-1]:.3g}, "
            "and the output's response does not change"
        )
        n = int(x.shape[0])
        layer = names[int(silent[0])]
        gone = Vanished(np.ones(n, bool), layer, True)
        reason = dead_reason("the dynamic range", gone, n, n, None, how=how)
        warn_dead(reason)
    return DynamicRangeResult(
        value=float(value),
        per_layer=per_layer,
        names=names,
        intensities=s,
        response=response,
        layer_response=layers,
        s_low=lo,
        s_high=hi,
        stat=stat,
        n_samples=int(x.shape[0]),
        top_slope=top,
        max_slope=most,
        reason=reason,
    )

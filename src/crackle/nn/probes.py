"""Perturbation probes of criticality: branching parameter and Lyapunov exponents.

"Layers" are the modules chosen as in :func:`crackle.nn.record`, except the default:
the model's blocks (``modules="blocks"``: found with torch.fx where the model traces,
functional activations and residual sums included; for an ``nn.Sequential`` of blocks
these are its children), else the recorder's default (the children of an
``nn.Sequential``, else every leaf module with parameters), in the order they run.
Every probe runs the model in eval mode (batch norm uses its running statistics,
so each sample is independent of its batch) and restores each module's mode after;
nothing else about the model is touched. Inputs go to the device and dtype of the
model's parameters; random directions are drawn on the CPU from ``seed``, so a seed
gives the same directions on every device. The Lyapunov probes are defined in
``crackle.nn._lyapunov_probes`` and the dynamic range, :func:`crackle.nn.dynamic_range`,
in ``crackle.nn._dynamic_range``; both are re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from crackle._validation import check_bool, check_int, check_real
from crackle.nn._dead import DeadNetworkWarning, dead_reason, vanished, warn_dead
from crackle.nn._dynamic_range import DynamicRangeResult, dynamic_range
from crackle.nn._lyapunov_probes import (
    GrowthRateResult,
    LyapunovResult,
    LyapunovSpectrum,
    lyapunov_exponent,
    lyapunov_spectrum,
    random_direction_rate,
)
from crackle.nn._memory import check_batch_memory
from crackle.nn._modules import ModuleSpec, evaluating
from crackle.nn._probe_utils import (
    as_seed,
    bcast,
    chunks,
    full_precision,
    plot_per_layer,
    prepare,
    run_model,
    to_dict,
    unit_directions,
)
from crackle.nn.record import _Collector

__all__ = [
    "BranchingResult",
    "DeadNetworkWarning",
    "DynamicRangeResult",
    "GrowthRateResult",
    "LyapunovResult",
    "LyapunovSpectrum",
    "branching_parameter",
    "dynamic_range",
    "lyapunov_exponent",
    "lyapunov_spectrum",
    "random_direction_rate",
]


@dataclass(frozen=True)
class BranchingResult:
    """Branching parameter of a feed-forward network.

    Attributes
    ----------
    value : float
        Arithmetic mean over layers of ``per_layer``; 1 at criticality.
    geometric : float
        exp of the mean over layers and samples of log r; exp(lambda_0) for small eps.
    per_layer : ndarray of shape (L,)
        Mean over samples and directions of r_l = |dh^l| / |dh^(l-1)| (dh^0 the input
        perturbation).
    names : tuple of str
        The layers.
    n_samples, n_directions, n_undefined : int
        Inputs, directions per input, ratios left out because |dh^(l-1)| was zero.
    stderr : float
        Standard error of ``value`` over the (input, direction) pairs: of the mean over
        layers of each pair's ratios (NaN for one pair).
    reason : str or None
        None for a clean measurement; else why ``value`` is NaN or what it was taken
        over: a dead network, where the perturbation vanished at a layer (no unit
        active) for every input or for some (see :mod:`crackle.nn._dead`).
    """

    value: float
    geometric: float
    per_layer: NDArray[np.float64]
    names: tuple[str, ...]
    eps: float
    n_samples: int
    n_directions: int
    n_undefined: int
    seed: int
    stderr: float = float("nan")
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def _repr_html_(self) -> str:
        """σ ± its error (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("value", "branching parameter σ", "stderr", None),
            ("geometric", "geometric mean, exp(λ_0)", None, None),
            ("names", "layers", None, None),
            ("eps", "relative perturbation ε", None, None),
            ("n_samples", "inputs", None, None),
            ("n_directions", "directions per input", None, None),
            "seed",
        ]
        return repr_html(self, "branching parameter", fields, note="critical: σ = 1")

    def plot(self, ax: Any = None) -> Any:
        """Per-layer ratios with the critical value 1."""
        title = f"branching parameter σ = {self.value:.3f}"
        title += f" ± {self.stderr:.3f}" if np.isfinite(self.stderr) else ""
        return plot_per_layer(self.per_layer, "branching ratio r_l per layer", 1.0, ax, title)


def branching_parameter(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = None,
    eps: float = 1e-3,
    n_directions: int = 1,
    per_unit: bool = True,
    batch_size: int = 128,
    seed: int = 0,
) -> BranchingResult:
    """Branching parameter sigma: how a small input perturbation grows per layer.

    Each input x_i is perturbed by dx_i = eps |x_i| u, u a random unit vector (the
    perturbation is relative, so eps has the same meaning at every input scale; eps
    itself when x_i = 0). Both x_i and x_i + dx_i go through the model (in one batch,
    in eval mode); for each layer l the perturbation's size |dh^l| is taken over the
    whole output tensor of that sample, per unit by default: the root mean square
    |dh^l| / sqrt(n_l), n_l the entries of layer l's output per sample, so that a
    change of width (a 784 -> 256 layer, a 10-way readout, pooling) is not counted
    as damping or growth; a Gaussian layer W ~ N(0, sigma_w^2 / n_in) then has ratio
    sqrt(sigma_w^2) on average whatever its shape (the mean-field chi_1 of Poole et al.
    2016; docs/theory.md). Equal widths make both choices identical. Ratios
    r_l = |dh^l| / |dh^(l-1)|, with dh^0 = dx, are averaged over samples and
    directions per layer (``per_layer``); ``value`` is their mean over layers and
    ``geometric`` the exponential of the mean log ratio (so log ``geometric`` equals
    the Lyapunov exponent as eps -> 0).

    Parameters
    ----------
    model : torch.nn.Module
    inputs : array_like or tensor of shape (n, *input_shape)
    modules : selection, optional
        The layers, as in :func:`crackle.nn.record`.
    eps : float
        Relative size of the perturbation, > 0. In float32 keep it above ~1e-4. On
        a GPU, TF32 convolutions are switched off for the call (their ~1e-3 precision
        is the size of the perturbation), and restored after.
    n_directions : int
        Random directions per input.
    per_unit : bool
        Divide each norm by the square root of its number of entries (default), or
        use plain L2 norms.
    batch_size : int
        Inputs per forward pass (the pass holds 2 x batch_size samples).
    seed : int
        Seed of the directions.

    Returns
    -------
    BranchingResult

    Warns
    -----
    DeadNetworkWarning
        The perturbation vanished at a layer (a dead network: no unit active) for some
        inputs, whose ratios after that layer are 0/0 and left out (``n_undefined``),
        or for every input, when ``value`` is NaN. ``reason`` says the same.

    References
    ----------
    Vock & Meisel, "Critical dynamics governs deep learning", arXiv 2507.08527 (2025).

    Examples
    --------
    >>> import torch, crackle as ck
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(*[torch.nn.Linear(16, 16, bias=False) for _ in range(4)])
    >>> for m in net:
    ...     _ = torch.nn.init.orthogonal_(m.weight, gain=1.5)
    >>> res = ck.nn.branching_parameter(net, torch.randn(8, 16))
    >>> round(res.value, 4), res.per_layer.shape
    (1.5, (4,))
    """
    func = "branching_parameter"
    runner, x, named, bs = prepare(model, inputs, modules, batch_size, func)
    eps = check_real(eps, "eps", func, low=0.0, low_open=True)
    nd = check_int(n_directions, "n_directions", func, low=1)
    per_unit = check_bool(per_unit, "per_unit", func)
    seed = as_seed(seed, func)
    check_batch_memory(model, runner, x, bs, func, copies=2)
    gen = torch.Generator().manual_seed(seed)
    sums: list[NDArray[np.float64]] = []

    sizes: list[torch.Tensor] = []  # |h^l| of the unperturbed inputs, layer after layer

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        half = t.shape[0] // 2
        d = (t[half:] - t[:half]).reshape(half, -1)
        # norms accumulated in float64: float32 activations beyond ~1e19 overflow a
        # float32 sum of squares
        sizes.append(_norm(t[:half].reshape(half, -1)).cpu())
        return _norm(d) / (math.sqrt(d.shape[1]) if per_unit else 1.0)

    with evaluating(model), torch.no_grad(), full_precision():
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            for _ in range(nd):
                for xb in chunks(x, bs):
                    # in float64: |x| of float32 inputs beyond ~1e19 overflows float32
                    flat = xb.reshape(xb.shape[0], -1).double()
                    scale = torch.linalg.vector_norm(flat, dim=1)
                    scale = torch.where(scale > 0, scale, torch.ones_like(scale)) * eps
                    dx = unit_directions(xb, gen) * bcast(scale.to(xb.dtype), xb.ndim)
                    run_model(runner, torch.cat([xb, xb + dx]), func)
                    unit = math.sqrt(xb[0].numel()) if per_unit else 1.0
                    sums.append(scale.cpu().numpy().astype(np.float64) / unit)
        finally:
            col.detach()
    norms = np.concatenate([np.concatenate(sums)[:, None], np.concatenate(col.rows)], axis=1)
    names = tuple(col.names or ())
    prev, nxt = norms[:, :-1], norms[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(prev > 0, nxt / prev, np.nan)
        logs = np.log(ratios)
    per_layer = _nanmean(ratios, axis=0)
    pair = _nanmean(ratios, axis=1)
    pair = pair[np.isfinite(pair)]
    value = float(np.mean(per_layer))
    mean_log = _nanmean(logs, axis=0)
    with np.errstate(invalid="ignore"):  # -inf + inf: no finite geometric mean
        geometric = float(np.exp(np.mean(mean_log)))
    stderr = float(pair.std(ddof=1) / np.sqrt(pair.size)) if pair.size > 1 else float("nan")
    reason = None
    n_layers = len(names)
    outputs = torch.cat(
        [torch.stack(sizes[i : i + n_layers], 1) for i in range(0, len(sizes), n_layers)]
    )  # (rows, L), the rows of ``norms``
    gone = vanished(norms[:, 1:], names, outputs.double().numpy())
    if gone.rows.any():
        n = int(x.shape[0])
        n_dead = int(gone.rows.reshape(nd, n).any(axis=0).sum())  # rows: direction-major
        kw: dict[str, Any] = {"finite_difference": True}
        if np.isfinite(value):
            rest = (
                f"those ratios are left out ({int(np.isnan(ratios).sum())} in all) and the "
                "value is the mean over the others"
            )
            what = "the branching ratio after it"
            reason = dead_reason(what, gone, n_dead, n, rest, **kw)
        else:
            reason = dead_reason("the branching parameter", gone, n, n, None, **kw)
            value, geometric, stderr = float("nan"), float("nan"), float("nan")
        warn_dead(reason)
    return BranchingResult(
        value=value,
        geometric=geometric,
        per_layer=per_layer,
        names=names,
        eps=eps,
        n_samples=int(x.shape[0]),
        n_directions=nd,
        n_undefined=int(np.isnan(ratios).sum()),
        seed=seed,
        stderr=stderr,
        reason=reason,
    )


def _norm(flat: torch.Tensor) -> torch.Tensor:
    """L2 norm of each row, accumulated in float64."""
    return torch.linalg.vector_norm(flat, dim=1, dtype=torch.float64)


def _nanmean(a: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """Mean over ``axis`` of the non-NaN entries; NaN where there are none (without
    numpy's warning)."""
    ok = ~np.isnan(a)
    count = ok.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, a, 0.0).sum(axis=axis) / np.where(count > 0, count, np.nan)

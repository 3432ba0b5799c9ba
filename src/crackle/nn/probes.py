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
gives the same directions on every device. The third probe, the dynamic range,
:func:`crackle.nn.dynamic_range`, is defined in ``crackle.nn._dynamic_range`` and
re-exported here.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
from numpy.typing import ArrayLike, NDArray
from torch import nn

from crackle._validation import check_int, check_real
from crackle.nn._dynamic_range import DynamicRangeResult, dynamic_range
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
from crackle.nn.record import _Collector, output_tensor

__all__ = [
    "BranchingResult",
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

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def plot(self, ax: Any = None) -> Any:
        """Per-layer ratios with the critical value 1."""
        return plot_per_layer(self.per_layer, "branching ratio", 1.0, ax)


@dataclass(frozen=True)
class LyapunovResult:
    """Largest Lyapunov exponent (per layer) of the input-output map.

    Attributes
    ----------
    value : float
        Mean over inputs of lambda_max = (1/L) log s_1(J), s_1 the largest singular
        value of the input-output Jacobian J at the input, L the number of layers;
        0 at criticality, > 0 chaotic, < 0 ordered.
    stderr : float
        Standard error of ``value`` over the inputs (NaN for one input).
    per_sample : ndarray of shape (n,)
        lambda_max at each input.
    per_layer : ndarray of shape (L,)
        Mean over inputs of log(|J_l v| / |J_(l-1) v|) along the top right singular
        vector v (J_l the Jacobian up to layer l): where the growth happens. They add
        up to L * ``value`` when the last layer is the output.
    names : tuple of str
        The layers.
    n_iter : int
        Iterations of the orthogonal iteration used (the most over batches).
    converged : bool
        Every batch met the tolerance before ``n_iter`` ran out.
    reorthonormalized : bool
        The layers form a chain and the tangents were re-orthonormalised after each
        (else only at the input and output).
    """

    value: float
    stderr: float
    per_sample: NDArray[np.float64]
    per_layer: NDArray[np.float64]
    names: tuple[str, ...]
    n_samples: int
    n_iter: int
    converged: bool
    reorthonormalized: bool
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def plot(self, ax: Any = None) -> Any:
        """Per-layer log growth along the top direction, with the critical value 0."""
        return plot_per_layer(self.per_layer, "log growth per layer", 0.0, ax)


@dataclass(frozen=True)
class LyapunovSpectrum:
    """The k largest Lyapunov exponents (per layer) of the input-output map.

    Attributes
    ----------
    exponents : ndarray of shape (k,)
        lambda_i = mean over inputs of (1/L) log s_i(J), s_1 >= s_2 >= ... the singular
        values of the input-output Jacobian; ``exponents[0]`` is ``value`` of
        :class:`LyapunovResult`.
    stderr : ndarray of shape (k,)
        Standard errors over the inputs.
    per_sample : ndarray of shape (n, k)
    """

    exponents: NDArray[np.float64]
    stderr: NDArray[np.float64]
    per_sample: NDArray[np.float64]
    names: tuple[str, ...]
    n_samples: int
    n_iter: int
    converged: bool
    reorthonormalized: bool
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def plot(self, ax: Any = None) -> Any:
        """The exponents against their index, with error bars and the critical 0."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(5, 3))
        i = np.arange(1, self.exponents.size + 1)
        ax.errorbar(i, self.exponents, yerr=self.stderr, fmt="o-", ms=3, capsize=2)
        ax.axhline(0.0, color="0.5", ls="--", lw=1)
        ax.set_xlabel("index i")
        ax.set_ylabel("Lyapunov exponent λ_i (per layer)")
        return ax


@dataclass(frozen=True)
class GrowthRateResult:
    """Growth rate of a random direction (per layer) of the input-output map.

    Attributes
    ----------
    value : float
        Mean over inputs and random unit vectors v of (1/L) log(|J v| / |v|). This is
        (1/L) log of a typical (root-mean-square-like) singular value of J, not the
        largest: below the largest Lyapunov exponent at finite depth, equal to it as
        L -> infinity.
    stderr : float
        Standard error of ``value`` over the (input, direction) pairs.
    per_layer : ndarray of shape (L,)
        Mean of log(|J_l v| / |J_(l-1) v|), J_l the Jacobian up to layer l.
    """

    value: float
    stderr: float
    per_layer: NDArray[np.float64]
    names: tuple[str, ...]
    n_samples: int
    n_directions: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def plot(self, ax: Any = None) -> Any:
        """Per-layer log growth rates with the critical value 0."""
        return plot_per_layer(self.per_layer, "log growth per layer", 0.0, ax)


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
    sqrt(sigma_w^2) on average whatever its shape (the mean-field chi_1, SCIENCE.md
    section 1). Equal widths make both choices identical. Ratios
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
    seed = as_seed(seed, func)
    gen = torch.Generator().manual_seed(seed)
    sums: list[NDArray[np.float64]] = []

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        half = t.shape[0] // 2
        d = (t[half:] - t[:half]).reshape(half, -1)
        return torch.linalg.vector_norm(d, dim=1) / (math.sqrt(d.shape[1]) if per_unit else 1.0)

    with evaluating(model), torch.no_grad(), full_precision():
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            for _ in range(nd):
                for xb in chunks(x, bs):
                    scale = torch.linalg.vector_norm(xb.reshape(xb.shape[0], -1), dim=1)
                    scale = torch.where(scale > 0, scale, torch.ones_like(scale)) * eps
                    dx = unit_directions(xb, gen) * bcast(scale, xb.ndim)
                    run_model(runner, torch.cat([xb, xb + dx]), func)
                    unit = math.sqrt(xb[0].numel()) if per_unit else 1.0
                    sums.append(scale.cpu().numpy().astype(np.float64) / unit)
        finally:
            col.detach()
    norms = np.concatenate([np.concatenate(sums)[:, None], np.concatenate(col.rows)], axis=1)
    prev, nxt = norms[:, :-1], norms[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(prev > 0, nxt / prev, np.nan)
        logs = np.log(ratios)
    per_layer = np.nanmean(ratios, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pair with every ratio undefined
        pair = np.nanmean(ratios, axis=1)
    pair = pair[np.isfinite(pair)]
    return BranchingResult(
        value=float(np.mean(per_layer)),
        geometric=float(np.exp(np.mean(np.nanmean(logs, axis=0)))),
        per_layer=per_layer,
        names=tuple(col.names or ()),
        eps=eps,
        n_samples=int(x.shape[0]),
        n_directions=nd,
        n_undefined=int(np.isnan(ratios).sum()),
        seed=seed,
        stderr=float(pair.std(ddof=1) / np.sqrt(pair.size)) if pair.size > 1 else float("nan"),
    )


def random_direction_rate(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = None,
    n_directions: int = 1,
    per_unit: bool = True,
    batch_size: int = 128,
    seed: int = 0,
) -> GrowthRateResult:
    """Growth rate of a random direction, (1/L) log(|J v| / |v|) per layer.

    J is the input-output Jacobian at each input, v a random unit vector (per input),
    L the number of layers. This is not the largest Lyapunov exponent
    (:func:`lyapunov_exponent`): a random v grows like a typical singular value of J,
    and falls short of the largest by about (1/L) log(1 / |<v, v_1>|), v_1 the top
    right singular vector (ln(sqrt(n))/L for n inputs in general position). It is the
    quantity a mean-field chi_1 describes, and is kept for that. Norms are per unit
    by default (``per_unit``, as in :func:`branching_parameter`): |J v| / sqrt(n_out)
    against |v| / sqrt(n_in). J v is a Jacobian-vector product by forward-mode
    automatic differentiation (dual numbers, :mod:`torch.autograd.forward_ad`, the engine of
    :func:`torch.func.jvp`), so the tangent at every layer comes out of the same pass:
    ``per_layer[l]`` is the mean of log(|J_l v| / |J_(l-1) v|). The result is averaged
    over inputs and directions.

    Parameters
    ----------
    model, inputs, modules, n_directions, per_unit, batch_size, seed
        As in :func:`branching_parameter`.

    Returns
    -------
    GrowthRateResult

    References
    ----------
    Poole et al., "Exponential expressivity in deep neural networks through transient
    chaos", NeurIPS (2016), arXiv 1606.05340.

    Examples
    --------
    >>> import math, torch, crackle as ck
    >>> net = torch.nn.Sequential(*[torch.nn.Linear(16, 16, bias=False) for _ in range(4)])
    >>> for m in net:
    ...     _ = torch.nn.init.orthogonal_(m.weight, gain=0.5)
    >>> res = ck.nn.random_direction_rate(net, torch.randn(8, 16))
    >>> abs(res.value - math.log(0.5)) < 1e-5
    True
    """
    func = "random_direction_rate"
    runner, x, named, bs = prepare(model, inputs, modules, batch_size, func)
    nd = check_int(n_directions, "n_directions", func, low=1)
    seed = as_seed(seed, func)
    gen = torch.Generator().manual_seed(seed)

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        tan = fwAD.unpack_dual(t).tangent
        if tan is None:  # the layer does not depend on the input
            return torch.zeros(t.shape[0], dtype=t.dtype, device=t.device)
        flat = tan.reshape(t.shape[0], -1)
        return torch.linalg.vector_norm(flat, dim=1) / (
            math.sqrt(flat.shape[1]) if per_unit else 1.0
        )

    outs: list[NDArray[np.float64]] = []
    with evaluating(model), torch.no_grad():
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            for _ in range(nd):
                for xb in chunks(x, bs):
                    v = unit_directions(xb, gen)
                    with fwAD.dual_level(), warnings.catch_warnings():
                        # torch scripts its forward-AD decompositions on first use.
                        warnings.filterwarnings("ignore", "`torch.jit.script`", DeprecationWarning)
                        out = output_tensor(
                            run_model(runner, fwAD.make_dual(xb, v), func), "output"
                        )
                        tan = fwAD.unpack_dual(out).tangent
                    flat = tan.reshape(tan.shape[0], -1)
                    norm = torch.linalg.vector_norm(flat, dim=1)
                    if per_unit:  # |J v| / sqrt(n_out) against |v| / sqrt(n_in) = 1 / sqrt(n_in)
                        norm = norm * math.sqrt(xb[0].numel() / flat.shape[1])
                    outs.append(norm.cpu().double().numpy())
        finally:
            col.detach()
    names = tuple(col.names or ())
    v_size = 1.0 / math.sqrt(x[0].numel()) if per_unit else 1.0
    norms = np.concatenate([np.full((x.shape[0] * nd, 1), v_size), np.concatenate(col.rows)], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_layer = np.mean(np.log(norms[:, 1:] / norms[:, :-1]), axis=0)
        per_sample = np.log(np.concatenate(outs)) / len(names)
    n = per_sample.size
    return GrowthRateResult(
        value=float(per_sample.mean()),
        stderr=float(per_sample.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        per_layer=per_layer,
        names=names,
        n_samples=int(x.shape[0]),
        n_directions=nd,
        seed=seed,
    )


def _check_iteration(n_iter: Any, tol: Any, func: str) -> tuple[int, float]:
    return (
        check_int(n_iter, "n_iter", func, low=1),
        check_real(tol, "tol", func, low=0.0),
    )


def _spectrum_batches(
    model: nn.Module,
    runner: nn.Module,
    x: torch.Tensor,
    named: list[tuple[str, nn.Module]],
    k: int,
    bs: int,
    n_iter: int,
    tol: float,
    seed: int,
    per_unit: bool,
    func: str,
) -> tuple[NDArray[np.float64], list[torch.Tensor], list[str], int, bool, bool]:
    """Per-sample exponents (n, k) (per layer), the top directions (k * n, ...) in
    blocks of batches, the layer names, iterations, convergence, chain."""
    from crackle.nn._lyapunov import per_unit_shift, top_singular

    gen = torch.Generator().manual_seed(seed)
    rows, dirs, names = [], [], None
    most, conv, chain = 0, True, True
    with evaluating(model), full_precision():
        for xb in chunks(x, bs):
            v0 = torch.cat([unit_directions(xb, gen) for _ in range(k)])
            top = top_singular(runner, xb, named, k, v0, n_iter, tol, func)
            names = top.names if names is None else names
            shift = per_unit_shift(top.n_in, top.n_out) if per_unit else 0.0
            n_layers = max(len(top.names), 1)
            rows.append((top.log_s.numpy() + shift) / n_layers)
            dirs.append(top.v)
            most, conv, chain = max(most, top.n_iter), conv and top.converged, chain and top.chain
    return np.concatenate(rows), dirs, list(names or ()), most, conv, chain


def lyapunov_exponent(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = None,
    per_unit: bool = True,
    n_iter: int = 30,
    tol: float = 1e-6,
    batch_size: int = 128,
    seed: int = 0,
) -> LyapunovResult:
    """Largest Lyapunov exponent lambda_max = (1/L) log s_1(J) per layer.

    J is the input-output Jacobian at each input, s_1 its largest singular value (the
    growth of the direction that grows fastest), L the number of layers. s_1 is found
    by orthogonal (power) iteration on J^T J with Jacobian-vector and vector-Jacobian
    products through the layers, the tangent re-orthonormalised after every layer
    when the layers form a chain (Benettin et al. 1980; the default blocks always
    do), from a random start drawn from ``seed``; the iteration stops when log s_1
    changes by at most ``tol`` for every input of a batch, or after ``n_iter``
    iterations (``converged`` says which). Norms are per unit by default
    (``per_unit``, as in :func:`branching_parameter`): the value is
    (1/L) [log s_1 + (1/2) log(n_in / n_out)], the growth of the root mean square.
    lambda_max = 0 at criticality, > 0 chaotic, < 0 ordered. The mean over inputs
    is ``value``, its standard error over inputs ``stderr``; ``per_layer`` splits
    L * lambda_max over the layers along the top direction.

    A random direction grows more slowly than the top one at finite depth (see
    :func:`random_direction_rate`): for a layer W = Q diag(s) Q^T repeated L times,
    lambda_max = ln max(s) exactly, while a random direction gives
    ln max(s) - ln(sqrt(n)) / L.

    Parameters
    ----------
    model : torch.nn.Module
    inputs : array_like or tensor of shape (n, *input_shape)
    modules : selection, optional
        The layers. Default: the model's blocks (``"blocks"``, found with torch.fx,
        see :func:`crackle.nn.record`), else the recorder's default.
    per_unit : bool
        Per-unit norms (default) or plain L2 norms.
    n_iter : int
        Most iterations (each one a forward and a backward sweep through the layers).
    tol : float
        Convergence tolerance on log s_1 (not divided by L).
    batch_size : int
        Inputs per pass.
    seed : int
        Seed of the starting directions.

    Returns
    -------
    LyapunovResult

    References
    ----------
    Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15, 9 (1980); Vock & Meisel,
    "Critical dynamics governs deep learning", arXiv 2507.08527 (2025).

    Examples
    --------
    >>> import math, torch, crackle as ck
    >>> q, _ = torch.linalg.qr(torch.randn(16, 16, dtype=torch.float64))
    >>> w = q @ torch.diag(torch.tensor([1.5] + [0.5] * 15, dtype=torch.float64)) @ q.T
    >>> layers = [torch.nn.Linear(16, 16, bias=False).double() for _ in range(10)]
    >>> for m in layers:
    ...     m.weight.data = w.clone()
    >>> net = torch.nn.Sequential(*layers)
    >>> res = ck.nn.lyapunov_exponent(net, torch.randn(4, 16, dtype=torch.float64))
    >>> abs(res.value - math.log(1.5)) < 1e-9
    True
    """
    func = "lyapunov_exponent"
    runner, x, named, bs = prepare(model, inputs, modules, batch_size, func)
    n_iter, tol = _check_iteration(n_iter, tol, func)
    seed = as_seed(seed, func)
    per_sample, dirs, names, most, conv, chain = _spectrum_batches(
        model, runner, x, named, 1, bs, n_iter, tol, seed, bool(per_unit), func
    )

    # where the growth happens: per-layer tangent norms along the top direction
    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        tan = fwAD.unpack_dual(t).tangent
        if tan is None:
            return torch.zeros(t.shape[0], dtype=t.dtype, device=t.device)
        flat = tan.reshape(t.shape[0], -1)
        return torch.linalg.vector_norm(flat, dim=1) / (
            math.sqrt(flat.shape[1]) if per_unit else 1.0
        )

    with evaluating(model), torch.no_grad():
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            for xb, v in zip(chunks(x, bs), dirs, strict=True):
                with fwAD.dual_level(), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "`torch.jit.script`", DeprecationWarning)
                    run_model(runner, fwAD.make_dual(xb, v.to(xb.dtype)), func)
        finally:
            col.detach()
    v_size = 1.0 / math.sqrt(x[0].numel()) if per_unit else 1.0
    norms = np.concatenate([np.full((x.shape[0], 1), v_size), np.concatenate(col.rows)], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_layer = np.mean(np.log(norms[:, 1:] / norms[:, :-1]), axis=0)
    lam = per_sample[:, 0]
    n = lam.size
    return LyapunovResult(
        value=float(lam.mean()),
        stderr=float(lam.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        per_sample=lam,
        per_layer=per_layer,
        names=tuple(col.names or names),
        n_samples=int(n),
        n_iter=most,
        converged=conv,
        reorthonormalized=chain,
        seed=seed,
    )


def lyapunov_spectrum(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    k: int = 2,
    *,
    modules: ModuleSpec = None,
    per_unit: bool = True,
    n_iter: int = 30,
    tol: float = 1e-6,
    batch_size: int = 64,
    seed: int = 0,
) -> LyapunovSpectrum:
    """The k largest Lyapunov exponents lambda_i = (1/L) log s_i(J) per layer.

    As :func:`lyapunov_exponent`, with k orthonormal tangents per input carried
    through the layers and re-orthonormalised by QR after each one (Benettin et al.
    1980), in orthogonal iteration on J^T J until the top-k right singular vectors
    of J converge; the sum over layers of log |R_ii| is then log s_i(J). For products
    of N x N Gaussian matrices with entry variance g^2 / N the exponents tend, as
    L -> infinity, to ln g + (1/2)[psi((N - i + 1)/2) - ln(N/2)] (Newman 1986); at
    finite L the top ones lie above that by O(1/L).

    Parameters
    ----------
    model, inputs, modules, per_unit, n_iter, tol, seed
        As in :func:`lyapunov_exponent` (``tol`` applies to every log s_i).
    k : int
        Number of exponents, at most the narrowest layer's width.
    batch_size : int
        Inputs per pass (each pass holds k copies of the batch).

    Returns
    -------
    LyapunovSpectrum

    References
    ----------
    Benettin, Galgani, Giorgilli & Strelcyn, Meccanica 15, 9 (1980); Newman, "The
    distribution of Lyapunov exponents: exact results for random matrices", Commun.
    Math. Phys. 103, 121 (1986).

    Examples
    --------
    >>> import math, torch, crackle as ck
    >>> _ = torch.manual_seed(0)
    >>> q, _ = torch.linalg.qr(torch.randn(8, 8, dtype=torch.float64))
    >>> s = torch.tensor([2.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], dtype=torch.float64)
    >>> layers = [torch.nn.Linear(8, 8, bias=False).double() for _ in range(6)]
    >>> for m in layers:
    ...     m.weight.data = q @ torch.diag(s) @ q.T
    >>> spec = ck.nn.lyapunov_spectrum(torch.nn.Sequential(*layers), torch.randn(3, 8), k=2)
    >>> [round(float(e), 6) + 0.0 for e in spec.exponents], round(math.log(2.0), 6)
    ([0.693147, 0.0], 0.693147)
    """
    func = "lyapunov_spectrum"
    runner, x, named, bs = prepare(model, inputs, modules, batch_size, func)
    k = check_int(k, "k", func, low=1)
    n_iter, tol = _check_iteration(n_iter, tol, func)
    seed = as_seed(seed, func)
    per_sample, _, names, most, conv, chain = _spectrum_batches(
        model, runner, x, named, k, bs, n_iter, tol, seed, bool(per_unit), func
    )
    n = per_sample.shape[0]
    err = per_sample.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(k, np.nan)
    return LyapunovSpectrum(
        exponents=per_sample.mean(axis=0),
        stderr=err,
        per_sample=per_sample,
        names=tuple(names),
        n_samples=int(n),
        n_iter=most,
        converged=conv,
        reorthonormalized=chain,
        seed=seed,
    )

"""Lyapunov probes: the largest exponent, the top of the spectrum, and the growth
rate of a random direction (private; public through :mod:`crackle.nn.probes`).

Layers, modes, devices and seeds as in :mod:`crackle.nn.probes`. The orthogonal
iteration through the layers lives in ``crackle.nn._lyapunov``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
from numpy.typing import ArrayLike, NDArray
from torch import nn

from crackle._validation import check_bool, check_int, check_real
from crackle.nn._dead import dead_reason, vanished, warn_dead
from crackle.nn._lyapunov_results import GrowthRateResult, LyapunovResult, LyapunovSpectrum
from crackle.nn._memory import check_batch_memory
from crackle.nn._modules import ModuleSpec, evaluating
from crackle.nn._probe_utils import (
    as_seed,
    chunks,
    full_precision,
    prepare,
    run_model,
    unit_directions,
)
from crackle.nn.record import _Collector, output_tensor


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

    Warns
    -----
    DeadNetworkWarning
        J v = 0 (a dead network: no unit active at some layer) at some inputs, left
        out of the mean, or at all, when ``value`` is NaN; ``reason`` says the same.

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
    per_unit = check_bool(per_unit, "per_unit", func)
    seed = as_seed(seed, func)
    check_batch_memory(model, runner, x, bs, func, copies=2)
    gen = torch.Generator().manual_seed(seed)

    reduce, sizes = _tangent_reducer(per_unit)
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
        per_sample = np.log(np.concatenate(outs)) / len(names)
    per_sample, value, stderr, per_layer, reason = _undefined(
        per_sample, norms, names, "the growth rate", _by_layer(sizes, len(names)), nd
    )
    return GrowthRateResult(
        value=value,
        stderr=stderr,
        per_layer=per_layer,
        names=names,
        n_samples=int(x.shape[0]),
        n_directions=nd,
        seed=seed,
        reason=reason,
    )


def _tangent_reducer(
    per_unit: bool,
) -> tuple[Callable[[torch.Tensor, str], torch.Tensor], list[torch.Tensor]]:
    """A collector's reduce for dual tensors: the tangent's norm per sample (per unit
    or plain); the primal's norms are appended to the list returned with it."""
    sizes: list[torch.Tensor] = []

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        primal, tan = fwAD.unpack_dual(t)
        # the output's norm accumulated in float64 (float32 activations beyond ~1e19
        # overflow a float32 sum of squares); it only tells a dead unit from a saturated one
        flat_primal = primal.reshape(t.shape[0], -1)
        sizes.append(torch.linalg.vector_norm(flat_primal, dim=1, dtype=torch.float64).cpu())
        if tan is None:  # the layer does not depend on the input
            return torch.zeros(t.shape[0], dtype=t.dtype, device=t.device)
        # the tangent in its own dtype, as crackle.train's penalty computes it
        flat = tan.reshape(t.shape[0], -1)
        return torch.linalg.vector_norm(flat, dim=1) / (
            math.sqrt(flat.shape[1]) if per_unit else 1.0
        )

    return reduce, sizes


def _by_layer(sizes: list[torch.Tensor], n_layers: int) -> NDArray[np.float64]:
    """Per-layer values appended pass after pass, as (rows, L)."""
    if not sizes or n_layers == 0:
        return np.zeros((0, n_layers))
    blocks = [torch.stack(sizes[i : i + n_layers], 1) for i in range(0, len(sizes), n_layers)]
    return torch.cat(blocks).double().numpy()


def _mean_err(v: NDArray[np.float64]) -> tuple[float, float]:
    """Mean and standard error of the finite entries (NaN, NaN when there are none)."""
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    err = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
    return float(v.mean()), err


def _log_growth(norms: NDArray[np.float64], rows: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Mean over ``rows`` (all rows when none) of log(norm_l / norm_(l-1)) per layer;
    NaN where it is not finite."""
    use = norms[rows] if rows.any() else norms
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.mean(np.log(use[:, 1:] / use[:, :-1]), axis=0)
    return np.where(np.isfinite(out), out, np.nan)


def _undefined(
    per_sample: NDArray[np.float64],
    norms: NDArray[np.float64],
    names: tuple[str, ...] | list[str],
    what: str,
    outputs: NDArray[np.float64],
    n_directions: int = 1,
) -> tuple[NDArray[np.float64], float, float, NDArray[np.float64], str | None]:
    """(per-sample values with NaN where undefined, mean, standard error, per-layer log
    growth, reason): the dead-network contract of :mod:`crackle.nn._dead`.

    ``per_sample`` has one entry per (direction, input) row, ``norms`` (rows, L + 1)
    the perturbation's size at the input and after each layer, ``outputs`` (rows, L)
    the size of each layer's output."""
    finite = np.isfinite(per_sample)
    per_layer = _log_growth(norms, finite)
    if finite.all():
        value, err = _mean_err(per_sample)
        return per_sample, value, err, per_layer, None
    per_sample = np.where(finite, per_sample, np.nan)
    value, err = _mean_err(per_sample)
    n = per_sample.size // n_directions
    n_bad = int((~finite).reshape(n_directions, n).any(axis=0).sum())
    gone = vanished(norms[~finite, 1:], list(names), outputs[~finite])
    if finite.any():
        rest = f"the value and its standard error are over the other {n - n_bad} input(s)"
        reason = dead_reason(what, gone, n_bad, n, rest)
    else:
        reason = dead_reason(what, gone, n, n, None)
    warn_dead(reason)
    return per_sample, value, err, per_layer, reason


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

    Warns
    -----
    DeadNetworkWarning
        The Jacobian is zero (a dead network: no unit active at some layer, so
        lambda_max = -inf) at some inputs, left out of the mean, or at all, when
        ``value`` is NaN; ``reason`` says the same.

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
    per_unit = check_bool(per_unit, "per_unit", func)
    n_iter, tol = _check_iteration(n_iter, tol, func)
    seed = as_seed(seed, func)
    check_batch_memory(model, runner, x, bs, func, graph=True)
    per_sample, dirs, names, most, conv, chain = _spectrum_batches(
        model, runner, x, named, 1, bs, n_iter, tol, seed, per_unit, func
    )
    norms, col_names, outputs = _tangent_norms(model, runner, x, named, bs, dirs, per_unit, func)
    lam, value, stderr, per_layer, reason = _undefined(
        per_sample[:, 0], norms, col_names or names, "lambda_max", outputs
    )
    return LyapunovResult(
        value=value,
        stderr=stderr,
        per_sample=lam,
        per_layer=per_layer,
        names=tuple(col_names or names),
        n_samples=int(lam.size),
        n_iter=most,
        converged=conv,
        reorthonormalized=chain,
        seed=seed,
        reason=reason,
    )


def _tangent_norms(
    model: nn.Module,
    runner: nn.Module,
    x: torch.Tensor,
    named: list[tuple[str, nn.Module]],
    bs: int,
    dirs: list[torch.Tensor],
    per_unit: bool,
    func: str,
) -> tuple[NDArray[np.float64], list[str], NDArray[np.float64]]:
    """Tangent norms (n, L + 1) along the first direction of each batch in ``dirs``,
    at the input and after each layer (per unit or plain), the layer names, and the
    norms of the layers' outputs (n, L): where the growth happens, and where and why a
    perturbation vanishes."""
    reduce, sizes = _tangent_reducer(per_unit)

    with evaluating(model), torch.no_grad():
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            for xb, v in zip(chunks(x, bs), dirs, strict=True):
                with fwAD.dual_level(), warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "`torch.jit.script`", DeprecationWarning)
                    run_model(runner, fwAD.make_dual(xb, v[: xb.shape[0]].to(xb.dtype)), func)
        finally:
            col.detach()
    v_size = 1.0 / math.sqrt(x[0].numel()) if per_unit else 1.0
    norms = np.concatenate([np.full((x.shape[0], 1), v_size), np.concatenate(col.rows)], 1)
    names = list(col.names or ())
    return norms, names, _by_layer(sizes, len(names))


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

    Warns
    -----
    DeadNetworkWarning
        An exponent is -inf at some inputs: the Jacobian is zero there (a dead
        network) or has rank below k (fewer active units than exponents). Each
        exponent is the mean over the inputs where it is finite, NaN where there are
        none; ``reason`` says which.

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
    per_unit = check_bool(per_unit, "per_unit", func)
    n_iter, tol = _check_iteration(n_iter, tol, func)
    seed = as_seed(seed, func)
    check_batch_memory(model, runner, x, bs, func, copies=k, graph=True)
    per_sample, dirs, names, most, conv, chain = _spectrum_batches(
        model, runner, x, named, k, bs, n_iter, tol, seed, per_unit, func
    )
    n = per_sample.shape[0]
    exponents, err = np.array([_mean_err(per_sample[:, i]) for i in range(k)]).reshape(k, 2).T
    reason = None
    finite = np.isfinite(per_sample)
    if not finite.all():
        norms, _, outputs = _tangent_norms(model, runner, x, named, bs, dirs, per_unit, func)
        first = int(np.flatnonzero(~finite.all(axis=0))[0])  # the first exponent hit
        n_bad = int((~finite[:, first]).sum())
        if first == 0:  # lambda_1 = -inf: the Jacobian is zero
            gone = vanished(norms[~finite[:, 0], 1:], names, outputs[~finite[:, 0]])
            rest = None if n_bad == n else "each exponent is the mean over the other inputs"
            reason = dead_reason("every exponent", gone, n_bad, n, rest)
        else:
            reason = (
                f"dead units: the Jacobian has rank below {first + 1} at {n_bad} of {n} "
                f"input(s) (fewer than {first + 1} units active at some layer), so "
                f"lambda_{first + 1} and the ones after it are -inf there; each exponent "
                "is the mean over the inputs where it is finite (NaN where there are none)"
            )
        warn_dead(reason)
        per_sample = np.where(finite, per_sample, np.nan)
    return LyapunovSpectrum(
        exponents=exponents,
        stderr=err,
        per_sample=per_sample,
        names=tuple(names),
        n_samples=int(n),
        n_iter=most,
        converged=conv,
        reorthonormalized=chain,
        seed=seed,
        reason=reason,
    )

"""The top singular values of a network's input-output Jacobian, layer by layer.

For one batch, one forward pass builds the autograd graph with a cut at every
selected layer's output (the output is detached and re-attached as a new leaf, so
each segment ``a_(l-1) -> a_l`` is a graph of its own). Jacobian-transpose products
of a segment are vector-Jacobian products (``torch.autograd.grad``); Jacobian-vector
products are the double-vjp trick (the vjp is linear in its cotangent w, so
d/dw <vjp(w), u> = J u). With them, orthogonal iteration on J^T J, the tangents
re-orthonormalised by QR after every segment in both sweeps (Benettin et al. 1980),
converges to the top-k right singular vectors of J = J_L ... J_1, and the forward
sweep's sum over segments of log |R_ii| is log s_i(J): the product of the
upper-triangular factors is the factor of the product. The per-segment QR keeps k
tangents apart however different their growth over many layers.

The cut is valid only if the selected layers form a chain (each layer's output
depends on the input through the previous layer only). That is checked on the graph
(a gradient to an earlier cut or to the input is an error); where it fails (leaf
modules inside residual blocks), the iteration runs on the whole map x -> output,
with QR only at its two ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from crackle._validation import CrackleValueError
from crackle.nn._probe_utils import run_model
from crackle.nn.record import output_tensor


class _NotChain(Exception):
    pass


@dataclass
class Segments:
    """The graph of one batch, cut at the selected layers."""

    inputs: list[torch.Tensor]  # leaf at the start of each segment (the first is x)
    outputs: list[torch.Tensor]  # the segment's output (with graph back to its input)
    names: list[str]
    chain: bool


def _qr(u: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample QR of k tangents stacked as (k * B, ...); Q has the same layout and
    R's diagonal, made positive, has shape (B, k)."""
    shape = u.shape
    b = shape[0] // k
    a = u.reshape(k, b, -1).permute(1, 2, 0)  # (B, n, k)
    q, r = torch.linalg.qr(a)
    d = torch.diagonal(r, dim1=-2, dim2=-1)
    sign = torch.where(d < 0, -torch.ones_like(d), torch.ones_like(d))
    q = q * sign[:, None, :]
    return q.permute(2, 0, 1).reshape(shape), (d * sign)


def build_segments(
    runner: nn.Module, x: torch.Tensor, named: list[tuple[str, nn.Module]], func: str
) -> Segments:
    """One forward pass with a graph cut at each selected module (or none if they do
    not form a chain)."""
    leaves: list[torch.Tensor] = []
    outs: list[torch.Tensor] = []
    names: list[str] = []
    seen: dict[str, int] = {}

    def hook_for(name: str) -> Any:
        def hook(module: nn.Module, args: Any, out: Any) -> Any:
            if type(out) is not torch.Tensor:
                raise _NotChain
            seen[name] = seen.get(name, 0) + 1
            names.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
            outs.append(out)
            leaf = out.detach().requires_grad_(True)
            leaves.append(leaf)
            return leaf.clone()

        return hook

    from crackle.nn._blocks import BlockMarker

    known = all(isinstance(m, BlockMarker) for _, m in named)  # cuts by construction
    x0 = x.detach().requires_grad_(True)
    handles = [m.register_forward_hook(hook_for(n)) for n, m in named]
    try:
        with torch.enable_grad():
            out = output_tensor(run_model(runner, x0, func), "output")
        chain = True
    except _NotChain:
        chain = False
    finally:
        for h in handles:
            h.remove()
    if chain:
        starts = [x0, *leaves]
        ends = [*outs, out]
        for i, o in enumerate([] if known else ends):
            if not o.requires_grad:
                continue
            earlier = starts[: i + 1]
            grads = torch.autograd.grad(
                o, earlier, torch.ones_like(o), retain_graph=True, allow_unused=True
            )
            if any(g is not None for g in grads[:-1]):
                chain = False
                break
        if chain:
            return Segments(starts, ends, names, True)
    x0 = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = output_tensor(run_model(runner, x0, func), "output")
    return Segments([x0], [out], names, False)


def _vjp(seg_in: torch.Tensor, seg_out: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    if not seg_out.requires_grad:
        return torch.zeros_like(seg_in)
    (g,) = torch.autograd.grad(seg_out, seg_in, w, retain_graph=True, allow_unused=True)
    return torch.zeros_like(seg_in) if g is None else g


def _jvp(seg_in: torch.Tensor, seg_out: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    if not seg_out.requires_grad:
        return torch.zeros_like(seg_out)
    w = torch.zeros_like(seg_out, requires_grad=True)
    (g,) = torch.autograd.grad(seg_out, seg_in, w, retain_graph=True, create_graph=True)
    if not g.requires_grad:  # the segment is constant in its input
        return torch.zeros_like(seg_out)
    (j,) = torch.autograd.grad(g, w, u, retain_graph=True, allow_unused=True)
    return torch.zeros_like(seg_out) if j is None else j


@dataclass
class TopSingular:
    """log s_i of the Jacobian per sample (B, k), the right singular vectors (k * B,
    *input) and the iterations used."""

    log_s: torch.Tensor
    v: torch.Tensor
    n_iter: int
    converged: bool
    names: list[str]
    chain: bool
    n_in: int
    n_out: int


def top_singular(
    runner: nn.Module,
    x: torch.Tensor,
    named: list[tuple[str, nn.Module]],
    k: int,
    v0: torch.Tensor,
    n_iter: int,
    tol: float,
    func: str,
    values: bool = True,
) -> TopSingular:
    """Orthogonal iteration on J^T J for a batch x of B samples, k directions each.

    ``v0`` holds k initial directions per sample, laid out (k * B, *x.shape[1:]).
    Stops when no log s_i moved by more than ``tol`` in one iteration. With
    ``values=False`` it runs exactly ``n_iter`` forward and backward sweeps and
    returns the directions only (``log_s`` all NaN): what the penalty needs.
    """
    xs = x.repeat(k, *[1] * (x.ndim - 1))
    seg = build_segments(runner, xs, named, func)
    sizes = [t[0].numel() for t in seg.inputs] + [seg.outputs[-1][0].numel()]
    narrow = min(sizes)
    if k > narrow:
        raise CrackleValueError(
            f"{func}: k = {k} exponents asked, but the narrowest layer has {narrow} "
            "units, so at most that many exponents are finite; ask for fewer"
        )
    v, _ = _qr(v0.to(dtype=x.dtype, device=x.device), k)
    prev = None
    log_s = torch.zeros(x.shape[0], k, dtype=torch.float64)
    it, converged = 0, False
    for it in range(1, n_iter + 1):
        u, acc = v, torch.zeros(x.shape[0], k, dtype=torch.float64, device=x.device)
        for a, o in zip(seg.inputs, seg.outputs, strict=True):
            u, r = _qr(_jvp(a, o, u).detach(), k)
            acc = acc + torch.log(r.double())
        log_s = acc.cpu()
        if not values:
            for a, o in zip(reversed(seg.inputs), reversed(seg.outputs), strict=True):
                u, _ = _qr(_vjp(a, o, u).detach(), k)
            v = u
            continue
        if prev is not None:
            delta = (log_s - prev).abs()
            delta = torch.where(torch.isfinite(delta), delta, torch.zeros_like(delta))
            if float(delta.max()) <= tol:
                converged = True
                break
        prev = log_s
        if it == n_iter:
            break
        for a, o in zip(reversed(seg.inputs), reversed(seg.outputs), strict=True):
            u, _ = _qr(_vjp(a, o, u).detach(), k)
        v = u
    if not values:
        log_s = torch.full_like(log_s, float("nan"))
    return TopSingular(
        log_s=log_s,
        v=v.detach(),
        n_iter=it,
        converged=converged,
        names=seg.names,
        chain=seg.chain,
        n_in=sizes[0],
        n_out=sizes[-1],
    )


def per_unit_shift(n_in: int, n_out: int) -> float:
    """log(|J v| / sqrt(n_out)) - log(|v| / sqrt(n_in)) - log(|J v| / |v|)."""
    return 0.5 * math.log(n_in / n_out)

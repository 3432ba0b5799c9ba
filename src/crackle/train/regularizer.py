"""A criticality penalty for any PyTorch training loop: ``loss = task + reg(model, x)``.

The network's distance from criticality is measured on the mini-batch with forward-mode
Jacobian-vector products (dual numbers, :mod:`torch.autograd.forward_ad`): one pass of
the batch carries a unit tangent v per sample, and every selected layer's output
carries J_l v, J_l the Jacobian of the network up to layer l. The tangents are ordinary
differentiable tensors (reverse-over-forward), so ``penalty.backward()`` moves the
weights toward sigma_l = 1 (or lambda_max = 0). For the branching ratios v is random;
for the largest Lyapunov exponent it is the top right singular vector of the
input-output Jacobian J, found first without gradients (as in
:func:`crackle.nn.lyapunov_exponent`), so log |J v| = log s_1(J) and its gradient is
that of s_1 (d s_1 = u_1^T dJ v_1 with v_1 held fixed). Layers are chosen as in the
probes (default: the model's blocks); the pass runs in eval mode, as the probes of
:mod:`crackle.nn.probes` do, whose measurements the penalty reproduces (the eps -> 0
limit of :func:`crackle.nn.branching_parameter`, and
:func:`crackle.nn.lyapunov_exponent` for the same inputs and seed).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
import torch.autograd.forward_ad as fwAD
from numpy.typing import ArrayLike
from torch import nn

from crackle._validation import (
    CrackleValueError,
    check_bool,
    check_choice,
    check_int,
    check_real,
    param_error,
)
from crackle.nn._modules import ModuleSpec, as_input_tensor, evaluating
from crackle.nn._probe_utils import full_precision, resolve_modules, run_model, unit_directions
from crackle.nn.record import _Collector, output_tensor

__all__ = ["KINDS", "CriticalityPenalty", "jvp_branching", "jvp_lyapunov"]

KINDS = ("branching", "lyapunov")

Seed = int | torch.Generator | None


def _generator(seed: Any, func: str) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:  # fresh directions, drawn from torch's global generator
        return torch.Generator().manual_seed(int(torch.randint(0, 2**62, ()).item()))
    return torch.Generator().manual_seed(check_int(seed, "seed", func, low=0))


def _check_seed(seed: Any, func: str) -> Seed:
    if seed is None or isinstance(seed, torch.Generator):
        return seed
    return check_int(seed, "seed", func, low=0)


def _tangent_pass(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    modules: ModuleSpec,
    n_directions: int,
    per_unit: bool,
    seed: Seed,
    func: str,
    top: tuple[int, float] | None = None,
) -> tuple[list[str], torch.Tensor, torch.Tensor, torch.Tensor]:
    """One dual pass of ``n_directions`` copies of the batch.

    Returns the layer names, the per-unit norm |v| of the input tangents (shape (M,),
    M = n_directions x n), the norms |J_l v| (shape (M, L)) and |J v| at the output
    (shape (M,)), all differentiable with respect to the parameters. Directions are
    drawn as in the probes: one batch of unit vectors per direction, in order. With
    ``top = (n_iter, tol)`` (and one direction) they are then turned into the top
    right singular vectors of J by orthogonal iteration, as the probe does.
    """
    runner, named = resolve_modules(model, modules, func)
    x = as_input_tensor(inputs, model, func)
    gen = _generator(seed, func)
    v = torch.cat([unit_directions(x, gen) for _ in range(n_directions)])
    if top is not None:
        from crackle.nn._lyapunov import top_singular

        with evaluating(model), full_precision():
            search = top_singular(runner, x, named, 1, v, top[0], top[1], func, values=top[1] > 0)
            v = search.v.to(x.dtype)
    xs = x.repeat(n_directions, *[1] * (x.ndim - 1))
    m, n_in = xs.shape[0], x[0].numel()
    stash: list[torch.Tensor] = []

    def norm(tan: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        if tan is None:  # this tensor does not depend on the input
            return torch.zeros(like.shape[0], dtype=like.dtype, device=like.device)
        flat = tan.reshape(tan.shape[0], -1)
        out = torch.linalg.vector_norm(flat, dim=1)
        return out / math.sqrt(flat.shape[1]) if per_unit else out

    def reduce(t: torch.Tensor, name: str) -> torch.Tensor:
        stash.append(norm(fwAD.unpack_dual(t).tangent, t))
        return stash[-1].detach()

    with evaluating(model):
        col = _Collector(runner, named, reduce)
        col.attach()
        try:
            with fwAD.dual_level(), warnings.catch_warnings():
                # torch scripts its forward-AD decompositions on first use.
                warnings.filterwarnings("ignore", "`torch.jit.script`", DeprecationWarning)
                out = output_tensor(run_model(runner, fwAD.make_dual(xs, v), func), "output")
                out_norm = norm(fwAD.unpack_dual(out).tangent, out)
        finally:
            col.detach()
    names = list(col.names or ())
    in_norm = torch.full((m,), 1.0 / math.sqrt(n_in) if per_unit else 1.0, dtype=out.dtype)
    return names, in_norm.to(out.device), torch.stack(stash, dim=1), out_norm


def _vanished(names: list[str], bad: torch.Tensor, func: str) -> CrackleValueError:
    first = names[int(torch.nonzero(bad)[0, 0])] if names else "output"
    return CrackleValueError(
        f"{func}: the perturbation vanished at layer {first!r} for every sample (a dead "
        "layer, or one that does not depend on the input); its log ratio is -inf. Select "
        "other modules."
    )


def jvp_branching(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = None,
    n_directions: int = 1,
    per_unit: bool = True,
    seed: Seed = 0,
) -> torch.Tensor:
    """Per-layer branching ratios sigma_l from Jacobian-vector products, differentiable.

    sigma_l is the mean over samples i and directions of r_il = |J_l v_i| / |J_(l-1) v_i|
    (J_0 v = v, per-unit norms by default): the eps -> 0 limit of ``per_layer`` of
    :func:`crackle.nn.branching_parameter` (ratios with |J_(l-1) v_i| = 0 are left
    out, as there). Gradients flow to the model's parameters.

    Parameters
    ----------
    model : torch.nn.Module
    inputs : array_like or tensor of shape (n, *input_shape)
    modules : selection, optional
        The layers, as in :func:`crackle.nn.record`.
    n_directions : int
        Random unit directions per input (the batch is repeated that many times).
    per_unit : bool
        Per-unit norms |.| / sqrt(entries), as in the probes, or plain L2 norms.
    seed : int, torch.Generator or None
        An int draws the same directions as the probes with that seed; a generator
        is advanced; None draws fresh directions from torch's global generator.

    Returns
    -------
    torch.Tensor of shape (L,)

    Examples
    --------
    >>> import torch
    >>> from crackle.train import jvp_branching
    >>> net = torch.nn.Sequential(*[torch.nn.Linear(8, 8, bias=False) for _ in range(3)])
    >>> for m in net:
    ...     _ = torch.nn.init.orthogonal_(m.weight, gain=0.5)
    >>> jvp_branching(net, torch.randn(4, 8)).detach().round(decimals=4)
    tensor([0.5000, 0.5000, 0.5000])
    """
    func = "jvp_branching"
    nd = check_int(n_directions, "n_directions", func, low=1)
    names, v_norm, norms, _ = _tangent_pass(
        model,
        inputs,
        modules,
        nd,
        check_bool(per_unit, "per_unit", func),
        _check_seed(seed, func),
        func,
    )
    prev = torch.cat([v_norm[:, None], norms[:, :-1]], dim=1)
    ok = prev > 0
    ratios = torch.where(ok, norms / torch.where(ok, prev, torch.ones_like(prev)), 0.0)
    sigma = ratios.sum(dim=0) / ok.sum(dim=0)
    bad = ~(sigma > 0)
    if bool(bad.any()):
        raise _vanished(names, bad, func)
    return sigma


def jvp_lyapunov(
    model: nn.Module,
    inputs: ArrayLike | torch.Tensor,
    *,
    modules: ModuleSpec = None,
    per_unit: bool = True,
    n_iter: int = 30,
    tol: float = 1e-6,
    seed: Seed = 0,
) -> torch.Tensor:
    """Largest Lyapunov exponent lambda_max = (1/L) log s_1(J), differentiable.

    The mean over the samples, L the number of selected layers: ``value`` of
    :func:`crackle.nn.lyapunov_exponent` for the same arguments (when the batch is
    one batch of the probe). The top right singular vector v_1 of J is found
    without gradients (orthogonal iteration, ``n_iter``, ``tol``), then one dual
    pass carries it: log |J v_1| = log s_1, whose gradient with v_1 held fixed is
    the gradient of s_1. ``tol=0`` runs exactly ``n_iter`` power iterations and skips
    the convergence check (cheaper in a training loop). Parameters as in
    :func:`jvp_branching`; returns a scalar tensor.

    Examples
    --------
    >>> import math, torch
    >>> from crackle.train import jvp_lyapunov
    >>> net = torch.nn.Sequential(*[torch.nn.Linear(8, 8, bias=False) for _ in range(3)])
    >>> for m in net:
    ...     _ = torch.nn.init.orthogonal_(m.weight, gain=2.0)
    >>> abs(jvp_lyapunov(net, torch.randn(4, 8)).item() - math.log(2.0)) < 1e-5
    True
    """
    func = "jvp_lyapunov"
    n_iter = check_int(n_iter, "n_iter", func, low=1)
    tol = check_real(tol, "tol", func, low=0.0)
    names, v_norm, _, out_norm = _tangent_pass(
        model,
        inputs,
        modules,
        1,
        check_bool(per_unit, "per_unit", func),
        _check_seed(seed, func),
        func,
        (n_iter, tol),
    )
    zero = out_norm <= 0
    if bool(zero.any()):
        # log |J v| is -inf for such a sample, and so is the mean: say how many.
        raise CrackleValueError(
            f"{func}: the output perturbation vanished (the Jacobian is zero) at "
            f"{int(zero.sum())} of {zero.numel()} sample(s) (saturated or dead units); "
            "lambda_max is -inf. Use other inputs, or kind='branching'."
        )
    return torch.log(out_norm / v_norm).mean() / len(names)


class CriticalityPenalty:
    """Penalty on a network's distance from criticality, to add to a task loss.

    ``kind="branching"``: weight x mean_l (log sigma_l)^2, sigma_l the branching ratio
    of layer l, the mean over the batch of |J_l v| / |J_(l-1) v| (:func:`jvp_branching`),
    zero when every layer passes perturbations on unchanged (sigma_l = 1).
    ``kind="lyapunov"``: weight x lambda_max^2, lambda_max = (1/L) log s_1(J) the
    largest Lyapunov exponent averaged over the batch (:func:`jvp_lyapunov`), zero at
    the edge of chaos; it constrains the product of the layers' gains along the
    fastest-growing direction only, the branching penalty each factor.

    Both are computed by one forward-mode pass of the batch (eval mode: dropout off,
    batch norm with its running statistics, every module's mode restored after) and
    are differentiable: the result is part of the autograd graph. The branching
    penalty costs about one extra forward and backward pass; the Lyapunov penalty
    adds the search for the top direction (``n_iter`` sweeps at most, each about
    three backward passes; a few suffice in deep networks, where the gap between
    singular values is large). Pass a slice of the batch to make either cheaper.

    Parameters
    ----------
    kind : {"branching", "lyapunov"}
    weight : float
        lambda >= 0, the penalty's weight.
    modules : selection, optional
        The layers, as in the probes (default: the model's blocks).
    n_directions : int
        Random unit directions per input (branching only).
    n_iter, tol : int, float
        The top-direction search of the Lyapunov penalty (:func:`jvp_lyapunov`).
    per_unit : bool
        Per-unit norms (as the probes), or plain L2 norms.
    seed : int, torch.Generator or None
        None (default): fresh directions at every call from torch's global generator
        (reproducible under :func:`torch.manual_seed`); an int: the same directions at
        every call, those of the probes with that seed; a generator: advanced per call.

    Notes
    -----
    The arguments are checked and stored; nothing else happens until a call.

    References
    ----------
    Vock & Meisel, "Critical dynamics governs deep learning", arXiv 2507.08527 (2025).
    Feng, Zhang & Lai, "Optimal machine intelligence at the edge of chaos", arXiv
    1909.05176 (2019): trained networks end near lambda_0 = 0.

    Examples
    --------
    >>> import torch
    >>> from crackle.train import CriticalityPenalty
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    >>> x, y = torch.randn(16, 8), torch.randint(0, 2, (16,))
    >>> reg = CriticalityPenalty("branching", weight=0.1)
    >>> loss = torch.nn.functional.cross_entropy(net(x), y) + reg(net, x)
    >>> loss.backward()
    >>> bool(net[0].weight.grad.abs().sum() > 0)
    True
    """

    def __init__(
        self,
        kind: str = "branching",
        weight: float = 1.0,
        *,
        modules: ModuleSpec = None,
        n_directions: int = 1,
        per_unit: bool = True,
        seed: Seed = None,
        n_iter: int = 10,
        tol: float = 1e-4,
    ) -> None:
        func = "CriticalityPenalty"
        self.kind = check_choice(kind, "kind", func, KINDS)
        self.weight = check_real(weight, "weight", func, low=0.0)
        self.modules = modules
        self.n_directions = check_int(n_directions, "n_directions", func, low=1)
        if not isinstance(per_unit, bool):
            raise param_error("per_unit", func, "True or False", per_unit)
        self.per_unit = per_unit
        self.seed = _check_seed(seed, func)
        self.n_iter = check_int(n_iter, "n_iter", func, low=1)
        self.tol = check_real(tol, "tol", func, low=0.0)

    def __repr__(self) -> str:
        return (
            f"CriticalityPenalty(kind={self.kind!r}, weight={self.weight:g}, "
            f"modules={self.modules!r}, n_directions={self.n_directions}, "
            f"per_unit={self.per_unit}, seed={self.seed!r})"
        )

    def distance(self, model: nn.Module, inputs: ArrayLike | torch.Tensor) -> torch.Tensor:
        """The unweighted distance: mean_l (log sigma_l)^2, or lambda_max^2."""
        kw: dict[str, Any] = {"modules": self.modules, "per_unit": self.per_unit, "seed": self.seed}
        if self.kind == "branching":
            sigma = jvp_branching(model, inputs, n_directions=self.n_directions, **kw)
            return torch.log(sigma).square().mean()
        return jvp_lyapunov(model, inputs, n_iter=self.n_iter, tol=self.tol, **kw).square()

    def __call__(self, model: nn.Module, inputs: ArrayLike | torch.Tensor) -> torch.Tensor:
        """weight x :meth:`distance`, a differentiable scalar tensor."""
        return self.weight * self.distance(model, inputs)

"""Finite-width Gaussian networks by Monte Carlo, to test mean-field theory at width N.

A batch of independent networks ``z^l = W^l phi(z^{l-1}) + b^l`` with
``W_ij ~ N(0, sigma_w^2/N)``, ``b_i ~ N(0, sigma_b^2)`` (torch, CPU or GPU) measures:

- ``q^l = (1/N) sum_i (z^l_i)^2`` per layer, averaged over inputs and networks;
- ``chi_1`` per layer from Jacobian norms: ``||J^l v||^2 / ||v||^2`` for random
  ``v``, with ``J^l = W^l diag(phi'(z^{l-1}))``; its mean-field value is
  ``sigma_w^2 E[phi'(u)^2]`` at ``q^{l-1}``;
- ``chi_w = dq*/d(sigma_w^2)`` by a central finite difference over sigma_w^2 with
  common random numbers (the same standard-normal weights, rescaled), which keeps
  the difference almost free of sampling noise.

:func:`compare_with_mean_field` sets the measurements beside
``crackle.meanfield``. Import this module directly: ``crackle.sim.finite_width``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from crackle._random import SeedLike, as_generator, seed_repr
from crackle._validation import check_choice, check_int, check_real, param_error
from crackle.sim._torch import TORCH_ACTIVATIONS

__all__ = ["FiniteWidthResult", "compare_with_mean_field", "simulate_finite_width"]

_TORCH_ACTS = TORCH_ACTIVATIONS


@dataclass(frozen=True)
class FiniteWidthResult:
    """Measurements of a batch of width-N networks (arrays indexed by layer).

    ``q`` and ``q_sem`` have shape (depth + 1,) (layer 0 is the input); ``chi_1`` and
    ``chi_1_sem`` shape (depth,) (entry l - 1 is layer l's Jacobian); ``q_late``,
    ``chi_1_late`` average the last ``late`` layers (the fixed-point regime);
    ``chi_w`` is the finite difference of ``q_late`` over sigma_w^2 +- ``dw``.
    """

    sigma_w2: float
    sigma_b2: float
    activation: str
    width: int
    depth: int
    n_networks: int
    n_inputs: int
    q0: float
    late: int
    dw: float
    q: NDArray[np.float64]
    q_sem: NDArray[np.float64]
    chi_1: NDArray[np.float64]
    chi_1_sem: NDArray[np.float64]
    q_late: float
    q_late_sem: float
    chi_1_late: float
    chi_1_late_sem: float
    chi_w: float
    chi_w_sem: float
    seed: int | str | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary."""
        return {
            k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()
        }


def _run(
    sw: float,
    sb: float,
    phi: Any,
    g_w: list[torch.Tensor],
    g_b: list[torch.Tensor],
    z0: torch.Tensor,
    probes: list[torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """q per layer (B, L+1) and chi_1 per layer (B, L), averaged over inputs."""
    n = z0.shape[-1]
    z = z0
    qs = [z.pow(2).mean(-1).mean(-1)]
    chis = []
    for gw, gb, v in zip(g_w, g_b, probes, strict=True):
        w = gw * np.sqrt(sw / n)
        zr = z.detach().requires_grad_(True)
        h = phi(zr)
        (dphi,) = torch.autograd.grad(h.sum(), zr)
        jv = torch.matmul(dphi * v, w.transpose(-1, -2))
        chis.append((jv.pow(2).sum(-1) / v.pow(2).sum(-1)).mean(-1))
        z = torch.matmul(h.detach(), w.transpose(-1, -2)) + gb * np.sqrt(sb)
        qs.append(z.pow(2).mean(-1).mean(-1))
    return torch.stack(qs, -1), torch.stack(chis, -1)


def simulate_finite_width(
    sigma_w2: float,
    sigma_b2: float,
    *,
    width: int = 1000,
    depth: int = 30,
    n_networks: int = 8,
    n_inputs: int = 8,
    q0: float = 1.0,
    activation: str = "tanh",
    late: int = 10,
    dw: float = 0.02,
    seed: SeedLike = 0,
    device: str = "cpu",
) -> FiniteWidthResult:
    """Monte Carlo of ``n_networks`` independent width-``width`` Gaussian networks.

    Parameters
    ----------
    sigma_w2, sigma_b2 : float
        Weight and bias variances (sigma_w2 > dw, sigma_b2 >= 0).
    width, depth : int
        N and L.
    n_networks, n_inputs : int
        Independent weight draws, and inputs per network (each input has per-neuron
        signal strength ``q0``).
    q0 : float
        Input signal strength.
    activation : str
        One of "tanh", "relu", "erf", "linear", "hard_tanh", "selu", "gelu" (phi' by
        torch autograd).
    late : int
        Number of final layers averaged for ``q_late``, ``chi_1_late``, ``chi_w``.
    dw : float
        Half-step of the finite difference over sigma_w^2.
    seed : int, numpy Generator or None
        Seeds one torch generator; the same seed gives the same numbers.
    device : str
        torch device.

    Returns
    -------
    FiniteWidthResult
        Means over networks with standard errors (over networks).

    References
    ----------
    Poole et al. (2016); Schoenholz et al. (2017); Ghavasieh et al. (2025),
    arXiv 2509.22649.

    Examples
    --------
    >>> from crackle.sim.finite_width import simulate_finite_width
    >>> r = simulate_finite_width(1.5, 0.05, width=200, depth=20, n_networks=2, seed=0)
    >>> r.q.shape, r.chi_1.shape
    ((21,), (20,))
    """
    func = "simulate_finite_width"
    sw = check_real(sigma_w2, "sigma_w2", func, low=0.0)
    sb = check_real(sigma_b2, "sigma_b2", func, low=0.0)
    n = check_int(width, "width", func, low=2)
    depth_ = check_int(depth, "depth", func, low=1)
    nb = check_int(n_networks, "n_networks", func, low=2)
    ni = check_int(n_inputs, "n_inputs", func, low=1)
    q0_ = check_real(q0, "q0", func, low=0.0)
    late_ = check_int(late, "late", func, low=1, high=depth_)
    dw_ = check_real(dw, "dw", func, low=0.0, low_open=True)
    if dw_ >= sw:
        raise param_error("dw", func, f"smaller than sigma_w2 = {sw:g}", dw_)
    act = check_choice(activation, "activation", func, list(_TORCH_ACTS))
    rng = as_generator(seed, func)
    gen = torch.Generator(device="cpu").manual_seed(int(rng.integers(2**62)))
    dt = torch.float64

    def normal(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=dt).to(device)

    g_w = [normal(nb, n, n) for _ in range(depth_)]
    g_b = [normal(nb, 1, n) for _ in range(depth_)]
    z0 = normal(nb, ni, n)
    z0 = z0 * torch.sqrt(q0_ / z0.pow(2).mean(-1, keepdim=True))  # exactly q0 per input
    probes = [normal(nb, ni, n) for _ in range(depth_)]
    phi = _TORCH_ACTS[act]
    q, chi = _run(sw, sb, phi, g_w, g_b, z0, probes)
    q_hi, _ = _run(sw + dw_, sb, phi, g_w, g_b, z0, probes)
    q_lo, _ = _run(sw - dw_, sb, phi, g_w, g_b, z0, probes)
    qn, cn = q.cpu().numpy(), chi.cpu().numpy()
    fd = ((q_hi - q_lo)[:, -late_:].mean(-1) / (2 * dw_)).cpu().numpy()
    ql = qn[:, -late_:].mean(-1)
    cl = cn[:, -late_:].mean(-1)
    sem = np.sqrt(nb)

    return FiniteWidthResult(
        sw,
        sb,
        act,
        n,
        depth_,
        nb,
        ni,
        q0_,
        late_,
        dw_,
        qn.mean(0),
        qn.std(0, ddof=1) / sem,
        cn.mean(0),
        cn.std(0, ddof=1) / sem,
        float(ql.mean()),
        float(ql.std(ddof=1) / sem),
        float(cl.mean()),
        float(cl.std(ddof=1) / sem),
        float(fd.mean()),
        float(fd.std(ddof=1) / sem),
        seed_repr(seed),
    )


def compare_with_mean_field(result: FiniteWidthResult) -> dict[str, Any]:
    """Mean-field predictions beside a :class:`FiniteWidthResult`, with relative errors.

    Returns a JSON-safe dict: the mean-field trajectory ``q_mf`` (depth + 1,), the
    per-layer ``chi_1_mf`` (depth,) evaluated at the mean-field ``q^{l-1}``, the
    fixed-point values ``q_star``, ``chi_1``, ``chi_w`` and the relative differences
    ``rel_q_late``, ``rel_chi_1_late``, ``rel_chi_w`` (finite width minus mean field,
    over mean field).
    """
    from crackle.theory import meanfield as mf
    from crackle.theory._activations import resolve_activation
    from crackle.theory._quadrature import moments

    r = result
    q_mf = mf.length_map_trajectory(r.q0, r.sigma_w2, r.sigma_b2, r.depth, r.activation)
    act = resolve_activation(r.activation, "compare_with_mean_field")
    chi_mf = r.sigma_w2 * moments(act, q_mf[:-1]).d
    p = mf.fixed_point(r.sigma_w2, r.sigma_b2, r.activation)
    q_late_mf = float(q_mf[-r.late :].mean())
    chi_late_mf = float(chi_mf[-r.late :].mean())
    return {
        "q_mf": q_mf.tolist(),
        "chi_1_mf": chi_mf.tolist(),
        "q_star": p.q_star,
        "chi_1": p.chi_1,
        "chi_w": p.chi_w,
        "rel_q_late": (r.q_late - q_late_mf) / q_late_mf,
        "rel_chi_1_late": (r.chi_1_late - chi_late_mf) / chi_late_mf,
        "rel_chi_w": (r.chi_w - p.chi_w) / p.chi_w,
    }

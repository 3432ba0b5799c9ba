"""Elementwise activations for mean-field theory: the function, its derivatives, its shape.

An :class:`Activation` carries what the quadrature and the root finders need:
``phi`` and its first two derivatives (closed forms for the built-ins, central
finite differences for a user callable), its parity (odd integrands are integrated
on the half line), a bound on ``|phi|`` (brackets the fixed point), whether it is
positively homogeneous (then ``chi_1`` does not depend on ``q``), and, for the
piecewise-linear ones, exact Gaussian moments that replace quadrature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from crackle._validation import param_error

Array = NDArray[np.float64]
Func = Callable[[Array], Array]
MomentsFunc = Callable[[Array], tuple[Array, Array, Array]]
HermiteFunc = Callable[[Array, int], Array]
FusedFunc = Callable[[Array], tuple[Array, Array, Array]]

__all__ = ["ACTIVATIONS", "Activation", "resolve_activation"]

_SQRT2 = np.sqrt(2.0)
_SQRT2PI = np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class Activation:
    """An elementwise activation and what mean-field theory needs to know about it.

    Parameters
    ----------
    name : str
        Name recorded in results.
    phi : callable
        Vectorised function of an array.
    dphi, d2phi : callable or None
        First and second derivatives; ``None`` means central finite differences
        (relative accuracy about 1e-10 for ``dphi`` and 1e-7 for ``d2phi`` on smooth
        functions). numpy has no automatic differentiation, so pass them when known.
    parity : {"odd", "even", "none"}
        ``"odd"`` or ``"even"`` halves the quadrature work.
    bound : float or None
        ``sup |phi|`` when finite; it brackets the fixed point ``q*``.
    homogeneous : bool
        ``phi(a u) = a phi(u)`` for ``a > 0`` (ReLU, linear): ``chi_1`` is then
        independent of ``q``.
    kink_at_zero : bool
        ``phi'`` jumps at 0 (ReLU, SELU); the quadrature always has a panel break
        there. Kinks elsewhere are supported only through ``moments`` below.
    moments : callable or None
        Exact ``(E[phi^2], E[phi'^2], dE[phi^2]/dq)`` at variance ``q``.
    fused : callable or None
        ``u -> (phi, phi', phi'')`` in one pass (tanh: one ``tanh`` call for all three).
    hermite : callable or None
        Exact normalised Hermite coefficients ``E[phi(sqrt(q) z) He_k(z)] / sqrt(k!)``,
        ``k = 0..K``, as an array of shape (n, K + 1).
    """

    name: str
    phi: Func
    dphi: Func | None = None
    d2phi: Func | None = None
    parity: Literal["odd", "even", "none"] = "none"
    bound: float | None = None
    homogeneous: bool = False
    kink_at_zero: bool = False
    moments: MomentsFunc | None = None
    hermite: HermiteFunc | None = None
    fused: FusedFunc | None = None

    def derivs(self, u: Array) -> tuple[Array, Array, Array]:
        """``(phi(u), phi'(u), phi''(u))`` in one pass where a fused form is known."""
        if self.fused is not None:
            return self.fused(u)
        return self.phi(u), self.d1(u), self.d2(u)

    def d1(self, u: Array) -> Array:
        """``phi'(u)``, exact when given, else by central differences."""
        if self.dphi is not None:
            return self.dphi(u)
        h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(u))
        return (self.phi(u + h) - self.phi(u - h)) / (2.0 * h)

    def d2(self, u: Array) -> Array:
        """``phi''(u)``, exact when given, else by central differences."""
        if self.d2phi is not None:
            return self.d2phi(u)
        if self.dphi is not None:
            h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(u))
            return (self.dphi(u + h) - self.dphi(u - h)) / (2.0 * h)
        h = np.finfo(float).eps ** 0.25 * np.maximum(1.0, np.abs(u))
        return (self.phi(u + h) - 2.0 * self.phi(u) + self.phi(u - h)) / (h * h)


# ---------------------------------------------------------------- smooth activations


def _tanh_d1(u: Array) -> Array:
    return 1.0 - np.tanh(u) ** 2


def _tanh_d2(u: Array) -> Array:
    t = np.tanh(u)
    return -2.0 * t * (1.0 - t * t)


def _tanh_fused(u: Array) -> tuple[Array, Array, Array]:
    t = np.tanh(u)
    d1 = 1.0 - t * t
    return t, d1, -2.0 * t * d1


def _erf_d1(u: Array) -> Array:
    return (2.0 / np.sqrt(np.pi)) * np.exp(-u * u)


def _erf_d2(u: Array) -> Array:
    return -2.0 * u * _erf_d1(u)


def _gelu(u: Array) -> Array:
    return u * 0.5 * special.erfc(-u / _SQRT2)


def _gelu_d1(u: Array) -> Array:
    return 0.5 * special.erfc(-u / _SQRT2) + u * np.exp(-0.5 * u * u) / _SQRT2PI


def _gelu_d2(u: Array) -> Array:
    return (2.0 - u * u) * np.exp(-0.5 * u * u) / _SQRT2PI


_SELU_L = 1.0507009873554804934193349852946
_SELU_A = 1.6732632423543772848170429916717


def _selu(u: Array) -> Array:
    return _SELU_L * np.where(u > 0, u, _SELU_A * np.expm1(np.minimum(u, 0.0)))


def _selu_d1(u: Array) -> Array:
    return _SELU_L * np.where(u > 0, 1.0, _SELU_A * np.exp(np.minimum(u, 0.0)))


def _selu_d2(u: Array) -> Array:
    return _SELU_L * np.where(u > 0, 0.0, _SELU_A * np.exp(np.minimum(u, 0.0)))


# ------------------------------------------------------- piecewise-linear activations


def _relu_moments(q: Array) -> tuple[Array, Array, Array]:
    half = np.full_like(q, 0.5)
    return 0.5 * q, half, half.copy()


def _linear_moments(q: Array) -> tuple[Array, Array, Array]:
    one = np.ones_like(q)
    return q.copy(), one, one.copy()


def _hard_tanh_moments(q: Array) -> tuple[Array, Array, Array]:
    # u = sqrt(q) z is clipped at +-1, i.e. z at +-a with a = 1/sqrt(q).
    with np.errstate(divide="ignore"):
        a = 1.0 / np.sqrt(q)
    inside = special.erf(a / _SQRT2)  # P(|u| < 1) = E[phi'^2]
    dens = np.where(np.isfinite(a), a * np.exp(-0.5 * a * a) / _SQRT2PI, 0.0)  # a phi(a)
    v = q * (inside - 2.0 * dens) + special.erfc(a / _SQRT2)
    # dV/dq = E[phi'^2] + E[phi phi''] and phi'' = delta(u+1) - delta(u-1).
    return v, inside, inside - 2.0 * dens


def _hard_tanh_hermite(q: Array, kmax: int) -> Array:
    """Exact E[hardtanh(sqrt(q) z) He_k(z)] / sqrt(k!) for k = 0..kmax (odd k only)."""
    a = np.minimum(1.0 / np.sqrt(np.maximum(q, 1e-300)), 40.0)[:, None]
    pdf = np.exp(-0.5 * a * a) / _SQRT2PI
    pdf = np.where(a >= 40.0, 0.0, pdf)
    hn = np.empty((q.size, kmax + 1))  # He_k(a) / sqrt(k!)
    hn[:, 0] = 1.0
    if kmax >= 1:
        hn[:, 1] = a[:, 0]
    for j in range(2, kmax + 1):
        hn[:, j] = (a[:, 0] * hn[:, j - 1] - np.sqrt(j - 1.0) * hn[:, j - 2]) / np.sqrt(j)
    sq = np.sqrt(q)[:, None]
    out = np.zeros((q.size, kmax + 1))
    k = np.arange(1, kmax + 1, 2, dtype=float)
    ki = k.astype(int)
    # sqrt(q) * int_{-a}^{a} z He_k phi  +  2 * int_a^inf He_k phi, divided by sqrt(k!)
    tail = 2.0 * pdf * hn[:, ki - 1] / np.sqrt(k)
    body = -2.0 * pdf * hn[:, ki]
    km2 = np.where(ki >= 3, ki - 2, 0)
    lower = np.where(ki >= 3, -2.0 * pdf * hn[:, km2], special.erf(a / _SQRT2))
    body = body + np.sqrt(k / np.maximum(k - 1.0, 1.0)) * np.where(ki >= 3, lower, 0.0)
    body = body + np.where(ki == 1, lower, 0.0)
    out[:, ki] = sq * body + tail
    return out


def _relu(u: Array) -> Array:
    return np.maximum(u, 0.0)


def _step(u: Array) -> Array:
    return (np.asarray(u) > 0).astype(float)


def _zero(u: Array) -> Array:
    return np.zeros_like(np.asarray(u, dtype=float))


def _one(u: Array) -> Array:
    return np.ones_like(np.asarray(u, dtype=float))


def _identity(u: Array) -> Array:
    return np.array(u, dtype=float, copy=True)


def _hard_tanh(u: Array) -> Array:
    return np.clip(u, -1.0, 1.0)


def _hard_tanh_d1(u: Array) -> Array:
    return (np.abs(np.asarray(u)) < 1.0).astype(float)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(
        "tanh", np.tanh, _tanh_d1, _tanh_d2, parity="odd", bound=1.0, fused=_tanh_fused
    ),
    "erf": Activation("erf", special.erf, _erf_d1, _erf_d2, parity="odd", bound=1.0),
    "relu": Activation(
        "relu", _relu, _step, _zero, homogeneous=True, kink_at_zero=True, moments=_relu_moments
    ),
    "hard_tanh": Activation(
        "hard_tanh",
        _hard_tanh,
        _hard_tanh_d1,
        _zero,
        parity="odd",
        bound=1.0,
        moments=_hard_tanh_moments,
        hermite=_hard_tanh_hermite,
    ),
    "linear": Activation(
        "linear", _identity, _one, _zero, parity="odd", homogeneous=True, moments=_linear_moments
    ),
    "selu": Activation("selu", _selu, _selu_d1, _selu_d2, kink_at_zero=True),
    "gelu": Activation("gelu", _gelu, _gelu_d1, _gelu_d2),
}


def resolve_activation(activation: str | Activation | Func, func: str) -> Activation:
    """The :class:`Activation` for a name, an ``Activation`` or a plain callable.

    A plain callable is treated as smooth (or kinked only at 0), with no known
    parity or bound, and differentiated numerically.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]
        opts = ", ".join(repr(k) for k in ACTIVATIONS)
        raise param_error("activation", func, f"one of {opts}, or a callable", activation)
    if callable(activation):
        name = getattr(activation, "__name__", type(activation).__name__)
        probe = np.linspace(-2.0, 2.0, 5)
        try:
            out = np.asarray(activation(probe), dtype=float)
        except Exception as exc:
            raise param_error(
                "activation", func, "a callable that maps a float array to a float array", name
            ) from exc
        if out.shape != probe.shape or not np.isfinite(out).all():
            raise param_error(
                "activation",
                func,
                "elementwise (same shape out as in) and finite",
                f"{name} returning shape {out.shape}",
            )
        return Activation(str(name), activation, kink_at_zero=True)
    raise param_error("activation", func, "a name, an Activation or a callable", activation)

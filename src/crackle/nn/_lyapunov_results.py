"""Results of the Lyapunov probes: the largest exponent, the top of the spectrum and
the growth rate of a random direction (private; public through :mod:`crackle.nn.probes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from crackle.nn._probe_utils import plot_per_layer, to_dict

__all__ = ["GrowthRateResult", "LyapunovResult", "LyapunovSpectrum"]


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
    reason : str or None
        None for a clean measurement; else why ``value`` is NaN, or which inputs it
        left out: a dead network, whose Jacobian is zero (lambda_max = -inf) at some or
        all inputs (see :mod:`crackle.nn._dead`); their ``per_sample`` entries are NaN.
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
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def _repr_html_(self) -> str:
        """λ_max ± its error (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("value", "λ_max, largest Lyapunov exponent (per layer)", "stderr", None),
            ("n_samples", "inputs", None, None),
            ("names", "layers", None, None),
            ("converged", "converged", None, None),
            "seed",
        ]
        return repr_html(self, "largest Lyapunov exponent", fields, note="critical: λ_max = 0")

    def plot(self, ax: Any = None) -> Any:
        """Per-layer log growth along the top direction, with the critical value 0."""
        title = f"largest Lyapunov exponent λ_max = {self.value:.3f}"
        title += f" ± {self.stderr:.3f}" if np.isfinite(self.stderr) else ""
        return plot_per_layer(self.per_layer, "log growth along the top direction", 0.0, ax, title)


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
        NaN where the exponent is -inf (a Jacobian of lower rank: fewer active units).
    reason : str or None
        None for a clean measurement; else which exponents are NaN or left inputs out,
        and why (a dead network, or fewer active units than exponents asked for).
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
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def _repr_html_(self) -> str:
        """The exponents λ_i ± their errors (Jupyter's display)."""
        from crackle._display import format_pm, html_table

        rows = [
            (f"λ_{i + 1}", format_pm(float(v), float(e)))
            for i, (v, e) in enumerate(zip(self.exponents, self.stderr, strict=True))
        ]
        rows.append(("inputs", str(self.n_samples)))
        return html_table("Lyapunov spectrum (per layer)", rows)

    def plot(self, ax: Any = None) -> Any:
        """The exponents against their index, with error bars and the critical 0."""
        from crackle.report.figures import new_axes

        ax = new_axes(ax, figsize=(5.5, 3.6))
        i = np.arange(1, self.exponents.size + 1)
        ax.errorbar(
            i, self.exponents, yerr=self.stderr, fmt="o-", ms=3, capsize=2, label="λ_i (± s.e.)"
        )
        ax.axhline(0.0, color="0.5", ls="--", lw=1, label="critical value 0")
        ax.set_xlabel("index i")
        ax.set_ylabel("Lyapunov exponent λ_i (per layer)")
        ax.set_title(f"Lyapunov spectrum, {self.exponents.size} largest exponents", fontsize=10)
        ax.legend(frameon=False, fontsize=8)
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
    reason : str or None
        None for a clean measurement; else why ``value`` is NaN or which inputs it left
        out (a dead network: J v = 0 there, see :mod:`crackle.nn._dead`).
    """

    value: float
    stderr: float
    per_layer: NDArray[np.float64]
    names: tuple[str, ...]
    n_samples: int
    n_directions: int
    seed: int
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def _repr_html_(self) -> str:
        """The growth rate ± its error (Jupyter's display)."""
        from crackle._display import repr_html

        fields: list[Any] = [
            ("value", "growth rate of a random direction (per layer)", "stderr", None),
            ("n_samples", "inputs", None, None),
            ("n_directions", "directions per input", None, None),
            "seed",
        ]
        return repr_html(self, "random-direction growth rate", fields)

    def plot(self, ax: Any = None) -> Any:
        """Per-layer log growth rates with the critical value 0."""
        title = f"random-direction growth rate = {self.value:.3f}"
        title += f" ± {self.stderr:.3f}" if np.isfinite(self.stderr) else ""
        return plot_per_layer(self.per_layer, "log growth of a random direction", 0.0, ax, title)

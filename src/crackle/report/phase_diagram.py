"""Figures of mean-field theory: phase-diagram heat maps and the finite-width comparison.

matplotlib is imported inside each function.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from crackle.sim.finite_width import FiniteWidthResult

__all__ = ["plot_finite_width_comparison", "plot_phase_diagram", "save_figure_atomic"]

_PANELS = (
    ("q_star", "q*  (fixed point)", "viridis", False),
    ("chi_w", "χ_w = dq*/dσ_w²", "magma", False),
    ("chi_w_strength", "d√q*/dσ_w²  (log scale)", "magma", True),
)


def save_figure_atomic(fig: Any, path: str | Path, dpi: int = 130) -> Path:
    """Save ``fig`` as PNG through a temporary name, then rename."""
    from crackle.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path


def plot_phase_diagram(
    ds: xr.Dataset,
    *,
    edge: Any = None,
    widom: Any = None,
    variables: Sequence[str] | None = None,
) -> Any:
    """Heat maps of ``ds`` (from ``crackle.meanfield.phase_diagram``) with the lines drawn.

    Parameters
    ----------
    ds : xarray.Dataset
        A phase diagram; NaN/inf cells are left blank (grey).
    edge, widom : EdgeOfChaos, WidomLine or None
        Lines to draw (sigma_w2 against sigma_b2); computed from the Dataset's
        activation when None.
    variables : sequence of str, optional
        Which variables to show; default q_star, chi_w and chi_w_strength.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from crackle.theory import meanfield as mf

    act = str(ds.attrs.get("activation", "tanh"))
    sb = ds.sigma_b2.values
    sw = ds.sigma_w2.values
    if edge is None:
        edge = mf.edge_of_chaos(sb, act)
    if widom is None:
        widom = mf.widom_line(sb, act, sigma_w2_max=float(sw.max()))
    panels = [p for p in _PANELS if variables is None or p[0] in variables]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.0), squeeze=False)
    for ax, (name, label, cmap, log) in zip(axes[0], panels, strict=True):
        z = np.asarray(ds[name].values, dtype=float).T  # rows: sigma_b2
        z = np.where(np.isfinite(z), z, np.nan)
        norm = None
        if log:
            pos = z[np.isfinite(z) & (z > 0)]
            if pos.size:
                norm = LogNorm(vmin=max(pos.min(), pos.max() * 1e-3), vmax=pos.max())
                z = np.where(z > 0, z, np.nan)
        cm = plt.get_cmap(cmap).with_extremes(bad="0.8")
        mesh = ax.pcolormesh(sw, sb, z, shading="auto", cmap=cm, norm=norm, rasterized=True)
        fig.colorbar(mesh, ax=ax, shrink=0.85)
        ax.plot(edge.sigma_w2, edge.sigma_b2, "-", color="cyan", lw=1.8, label="edge of chaos")
        ax.plot(widom.sigma_w2, widom.sigma_b2, "--", color="white", lw=1.6, label="Widom line")
        ax.plot([1.0], [0.0], "o", color="red", ms=5, clip_on=False, label="critical point")
        ax.set_xlim(sw.min(), sw.max())
        ax.set_ylim(sb.min(), sb.max())
        ax.set_xlabel("σ_w²")
        ax.set_ylabel("σ_b²")
        ax.set_title(label, fontsize=10)
    axes[0, 0].legend(loc="upper left", fontsize=7, framealpha=0.7)
    fig.suptitle(f"mean-field phase diagram ({act})", fontsize=11)
    fig.tight_layout()
    return fig


def plot_finite_width_comparison(
    results: Sequence[FiniteWidthResult],
    comparisons: Sequence[dict[str, Any]],
    *,
    chi_w_sweep: tuple[Any, Any, Any, Any] | None = None,
) -> Any:
    """Finite-width Monte Carlo against mean field.

    Left: q^l against layer (markers: networks of width N with standard errors;
    lines: the mean-field length map). Middle: chi_1 per layer. Right (optional):
    chi_w against sigma_w^2, ``chi_w_sweep = (sigma_w2, mc, mc_sem, mean_field)``.
    """
    import matplotlib.pyplot as plt

    n = 3 if chi_w_sweep is not None else 2
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 4.0))
    for i, (r, c) in enumerate(zip(results, comparisons, strict=True)):
        col = f"C{i}"
        lab = f"σ_w²={r.sigma_w2:g}, σ_b²={r.sigma_b2:g}"
        layers = np.arange(r.depth + 1)
        mc_label = f"width N = {r.width} (mean ± s.e.)" if i == 0 else None
        axes[0].errorbar(layers, r.q, r.q_sem, fmt="o", ms=3, color=col, label=mc_label)
        axes[0].plot(layers, c["q_mf"], "-", color=col, lw=1.2, label=f"mean field, {lab}")
        axes[1].errorbar(layers[1:], r.chi_1, r.chi_1_sem, fmt="o", ms=3, color=col)
        axes[1].plot(layers[1:], c["chi_1_mf"], "-", color=col, lw=1.2, label=lab)
    axes[0].set_xlabel("layer l")
    axes[0].set_ylabel("q^l")
    axes[0].set_title("signal strength (markers: N, lines: mean field)", fontsize=9)
    axes[0].legend(fontsize=6, ncol=1)
    axes[1].axhline(1.0, color="k", lw=0.6, ls=":")
    axes[1].set_xlabel("layer l")
    axes[1].set_ylabel("χ₁ = ‖J v‖² / ‖v‖²")
    axes[1].set_title("Jacobian norm per layer", fontsize=9)
    axes[1].legend(fontsize=6)
    if chi_w_sweep is not None:
        sw, mc, sem, mfv = (np.asarray(a, dtype=float) for a in chi_w_sweep)
        axes[2].errorbar(sw, mc, sem, fmt="o", ms=4, label="finite width (finite difference)")
        axes[2].plot(sw, mfv, "-", label="mean field")
        axes[2].set_xlabel("σ_w²")
        axes[2].set_ylabel("χ_w = dq*/dσ_w²")
        axes[2].set_title("σ_w-susceptibility", fontsize=9)
        axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig

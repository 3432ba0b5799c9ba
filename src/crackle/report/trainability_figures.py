"""Figures of the trainability map: accuracy and chi_w over the (sigma_w^2, sigma_b^2)
plane with the edge of chaos and the Widom line (Ghavasieh et al. 2025, Fig. 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crackle.experiments.trainability import TrainabilityResult

__all__ = ["trainability_figure"]


def _edges(centres: np.ndarray) -> np.ndarray:
    mid = (centres[1:] + centres[:-1]) / 2
    first = centres[0] - (mid[0] - centres[0]) if centres.size > 1 else centres[0] - 0.5
    last = centres[-1] + (centres[-1] - mid[-1]) if centres.size > 1 else centres[0] + 0.5
    return np.concatenate([[first], mid, [last]])


def _lines(ax: Any, sb_max: float) -> None:
    from crackle.theory import meanfield as mf

    sb = np.linspace(0.0, sb_max, 60)
    ax.plot(mf.edge_of_chaos(sb).sigma_w2, sb, "w--", lw=1.5, label="edge of chaos")
    widom = mf.widom_line(sb[1:])
    ax.plot(widom.sigma_w2, sb[1:], "c-", lw=1.5, label="Widom line")


def trainability_figure(res: TrainabilityResult, fig: Any = None) -> Any:
    """Training accuracy (left) and log10 of the paper's susceptibility
    d sqrt(q*)/d sigma_w^2 (right, whose ridge is the Widom line) over the plane."""
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(12, 4.8), layout="constrained")
    sw = np.array(res.config.sigma_w2, dtype=float)
    sb = np.array(res.config.sigma_b2, dtype=float)
    ax = fig.subplots(1, 2)
    mesh = ax[0].pcolormesh(_edges(sw), _edges(sb), res.accuracy.T, cmap="viridis", vmin=0)
    fig.colorbar(mesh, ax=ax[0], label="training accuracy")
    chi = np.asarray(res.meanfield["chi_w_strength"], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logchi = np.log10(np.where(chi > 0, chi, np.nan))
    mesh = ax[1].pcolormesh(_edges(sw), _edges(sb), logchi.T, cmap="magma")
    fig.colorbar(mesh, ax=ax[1], label="log10 d√q*/dσ_w² (mean field)")
    for a in ax:
        _lines(a, float(sb.max()))
        a.set_xlim(_edges(sw)[0], _edges(sw)[-1])
        a.set_ylim(_edges(sb)[0], _edges(sb)[-1])
        a.set_xlabel("σ_w²")
        a.set_ylabel("σ_b²")
    ax[0].legend(fontsize=7, loc="upper left")
    c = res.correlations
    ax[0].set_title(
        f"accuracy after {res.config.epochs} x {res.config.batches_per_epoch} batches "
        f"(depth {res.config.depth}, width {res.config.width})",
        fontsize=9,
    )
    ax[1].set_title(
        f"Spearman ρ with accuracy: d√q*/dσ_w² {c['chi_w_strength'][0]:.2f}, χ_w "
        f"{c['chi_w'][0]:.2f}, edge closeness {c['edge_closeness'][0]:.2f}, "
        f"|ln χ_1| {c['chi_1_closeness'][0]:.2f}",
        fontsize=9,
    )
    return fig

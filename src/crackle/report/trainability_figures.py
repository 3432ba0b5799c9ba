"""Figures of the trainability map: training accuracy over the (sigma_w^2, sigma_b^2)
plane with the edge of chaos and both Widom ridges, and the rank correlations of
accuracy with each predictor line (Ghavasieh et al. 2025, arXiv 2509.22649, Fig. 3).

Plot functions take ``ax=None`` and return the Axes; :func:`trainability_figure`
returns a pyplot Figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle.report.figures import new_axes, new_figure

if TYPE_CHECKING:
    from crackle.experiments.trainability import TrainabilityResult

__all__ = ["plot_rank_tests", "plot_trainability", "trainability_figure"]

#: How each predictor line is drawn: (result key, label, colour + line style + marker).
LINES: tuple[tuple[str, str, str], ...] = (
    ("edge_of_chaos", "edge of chaos (χ₁ = 1)", "w--o"),
    ("widom_w2", "Widom ridge of d√q*/dσ_w²", "c-s"),
    ("widom_w", "Widom ridge of d√q*/dσ_w", "m-^"),
)

#: Predictors shown in the rank-correlation panel, with their labels.
SHOWN: tuple[tuple[str, str], ...] = (
    ("widom_w2_closeness", "−|σ_w² − ridge of d√q*/dσ_w²|"),
    ("widom_w_closeness", "−|σ_w² − ridge of d√q*/dσ_w|"),
    ("edge_closeness", "−|σ_w² − edge of chaos|"),
    ("chi_1_closeness", "−|χ₁ − 1|"),
    ("susceptibility_w2", "d√q*/dσ_w² itself"),
)


def _edges(centres: np.ndarray) -> np.ndarray:
    mid = (centres[1:] + centres[:-1]) / 2
    first = centres[0] - (mid[0] - centres[0]) if centres.size > 1 else centres[0] - 0.5
    last = centres[-1] + (centres[-1] - mid[-1]) if centres.size > 1 else centres[0] + 0.5
    return np.concatenate([[first], mid, [last]])


def plot_trainability(res: TrainabilityResult, ax: Any = None, *, annotate: bool = True) -> Any:
    """Seed-mean training accuracy over the grid, one row per sigma_b^2, with the edge
    of chaos and the two Widom ridges (each evaluated at every row's sigma_b^2; a line
    is marked by a short segment in each row, absent in rows where it does not exist
    or lies beyond the grid).

    Parameters
    ----------
    res : TrainabilityResult
        A map from :func:`crackle.experiments.trainability_map`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    annotate : bool
        Write each cell's accuracy in it.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(6.4, 4.4))
    cfg = res.config
    sw = np.array(cfg.sigma_w2, dtype=float)
    rows = np.arange(len(cfg.sigma_b2), dtype=float)
    mesh = ax.pcolormesh(
        _edges(sw), _edges(rows), res.accuracy.T, cmap="viridis", vmin=0.0, vmax=1.0
    )
    ax.figure.colorbar(mesh, ax=ax, label=f"training accuracy (mean of {cfg.n_seeds} seeds)")
    if annotate:
        for i, x in enumerate(sw):
            for j, y in enumerate(rows):
                a = res.accuracy[i, j]
                ax.text(x, y, f"{a:.2f}", ha="center", va="center", fontsize=6,
                        color="w" if a < 0.6 else "k")  # fmt: skip
    for key, label, fmt in LINES:
        pos = np.asarray(res.lines[key], dtype=float)
        colour, style, marker = fmt[0], fmt[1:-1], fmt[-1]
        # Rows are categorical: each line is marked within every row, not joined
        # across rows (a straight segment between unequal sigma_b^2 would mislead).
        xs = np.repeat(pos, 3)
        ys = np.column_stack([rows - 0.42, rows + 0.42, np.full(rows.size, np.nan)]).ravel()
        xs[2::3] = np.nan
        ax.plot(xs, ys, color=colour, ls=style, lw=1.6)
        ax.plot(pos, rows, color=colour, ls="none", marker=marker, ms=4, label=label)
    ax.set_xlim(_edges(sw)[0], _edges(sw)[-1])
    ax.set_ylim(_edges(rows)[0], _edges(rows)[-1])
    ax.set_yticks(rows, [f"{b:g}" for b in cfg.sigma_b2])
    ax.set_xlabel("weight variance σ_w²")
    ax.set_ylabel("bias variance σ_b² (one row per grid value)")
    ax.set_title(
        f"Accuracy after {cfg.epochs} × {cfg.batches_per_epoch} batches, depth {cfg.depth}, "
        f"width {cfg.width}",
        fontsize=9,
    )
    ax.legend(fontsize=6, loc="upper left", framealpha=0.6)
    return ax


def plot_rank_tests(res: TrainabilityResult, ax: Any = None) -> Any:
    """Spearman's rho of accuracy against each predictor with its bootstrap interval,
    pooled over the grid and per sigma_b^2 (a forest plot; rho > 0: accuracy is higher
    closer to the line).

    Parameters
    ----------
    res : TrainabilityResult
        A map from :func:`crackle.experiments.trainability_map`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(6.4, 4.4))
    scopes = list(res.rank_tests)
    colours = ["c", "m", "0.3", "tab:orange", "tab:green"]
    width = 0.8 / len(SHOWN)
    for s, (name, label) in enumerate(SHOWN):
        y, rho, lo, hi = [], [], [], []
        for k, scope in enumerate(scopes):
            ci = res.rank_tests[scope].get(name)
            if ci is None or not np.isfinite(ci.rho):
                continue
            y.append(k - 0.4 + (s + 0.5) * width)
            rho.append(ci.rho)
            lo.append(ci.rho - ci.low if np.isfinite(ci.low) else 0.0)
            hi.append(ci.high - ci.rho if np.isfinite(ci.high) else 0.0)
        ax.errorbar(rho, y, xerr=[lo, hi], fmt="o", ms=3, lw=1, color=colours[s], label=label)
    ax.axvline(0.0, color="k", lw=0.6)
    ax.set_yticks(range(len(scopes)), [s.replace("sigma_b2=", "σ_b² = ") for s in scopes])
    ax.invert_yaxis()
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel(f"Spearman ρ(accuracy, predictor), {100 * res.config.confidence:g}% bootstrap CI")
    ax.set_title(f"Which line predicts trainability? (depth {res.config.depth})", fontsize=9)
    ax.legend(fontsize=6, loc="lower left", framealpha=0.6)
    return ax


def trainability_figure(
    results: TrainabilityResult | Sequence[TrainabilityResult], fig: Any = None
) -> Any:
    """One column per map (e.g. depth 50 and 100): the accuracy heat map with the lines
    on top, the rank correlations below.

    Parameters
    ----------
    results : TrainabilityResult or sequence of them
        Maps from :func:`crackle.experiments.trainability_map`.
    fig : matplotlib Figure, optional
        Where to draw; a new pyplot figure when None.

    Returns
    -------
    matplotlib Figure
    """
    many = list(results) if isinstance(results, Sequence) else [results]
    fig = new_figure(fig, figsize=(6.6 * len(many), 9.0))
    axes = np.asarray(fig.subplots(2, len(many), squeeze=False))
    for c, res in enumerate(many):
        plot_trainability(res, ax=axes[0, c])
        plot_rank_tests(res, ax=axes[1, c])
    fig.suptitle(
        "Trainability of deep tanh networks against the edge of chaos and the Widom ridges "
        "(Ghavasieh et al. 2025, Fig. 3)",
        fontsize=10,
    )
    return fig

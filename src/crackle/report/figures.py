"""Figures of the crackling-noise battery. matplotlib is imported inside each function."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crackle.stats.collapse import CollapseResult
    from crackle.stats.crackling import CracklingReport
    from crackle.stats.scaling import ScalingFit

__all__ = [
    "new_axes",
    "plot_collapse",
    "plot_collapse_error",
    "plot_size_duration",
    "report_figure",
    "save_figure",
    "save_report_figures",
]


def new_axes(ax: Any = None) -> Any:
    """``ax`` itself, or a fresh axes on a new pyplot figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(5, 4))
    return ax


def plot_size_duration(fit: ScalingFit, ax: Any = None, *, predicted: float | None = None) -> Any:
    """<S>(T) on log-log axes with the fitted slope, and the predicted slope if given."""
    ax = new_axes(ax)
    t = fit.durations.astype(float)
    ax.loglog(t, fit.mean_sizes, "o", ms=3, alpha=0.6, color="C0", label="<S>(T)")
    tt = np.geomspace(t.min(), t.max(), 50)
    ax.loglog(
        tt,
        fit.predict(tt),
        "-",
        color="C3",
        label=f"fit: 1/(σνz) = {fit.exponent:.3f} ± {fit.stderr:.3f}",
    )
    if predicted is not None and np.isfinite(predicted):
        # Anchored at the geometric centre of the fitted range so both lines share a point.
        tc = float(np.sqrt(t.min() * t.max()))
        sc = float(fit.predict(tc))
        ax.loglog(
            tt,
            sc * (tt / tc) ** predicted,
            "--",
            color="k",
            label=f"predicted (α-1)/(τ-1) = {predicted:.3f}",
        )
    ax.set_xlabel("duration T")
    ax.set_ylabel("mean size <S>")
    ax.legend(fontsize=8)
    return ax


def plot_collapse(col: CollapseResult, ax: Any = None) -> Any:
    """Mean profiles rescaled by T^(gamma - 1), coloured by duration."""
    import matplotlib as mpl

    ax = new_axes(ax)
    scaled = col.scaled_profiles()
    cmap = mpl.colormaps["viridis"]
    logt = np.log(col.durations.astype(float))
    span = max(float(logt.max() - logt.min()), 1e-12)
    for i in range(col.durations.size):
        ax.plot(col.x, scaled[i], color=cmap((logt[i] - logt.min()) / span), lw=0.8, alpha=0.7)
    ax.plot(col.x, scaled.mean(axis=0), "k--", lw=1.5, label="mean shape")
    norm = mpl.colors.LogNorm(vmin=float(col.durations.min()), vmax=float(col.durations.max()))
    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="duration T")
    ax.set_xlabel("t / T")
    ax.set_ylabel("profile / T^(γ-1)")
    ax.set_title(f"shape collapse: γ = {col.gamma:.3f} ± {col.gamma_err:.3f}", fontsize=9)
    ax.legend(fontsize=8)
    return ax


def plot_collapse_error(col: CollapseResult, ax: Any = None) -> Any:
    """Collapse error against the trial exponent, minimum marked."""
    ax = new_axes(ax)
    ax.semilogy(col.gammas, col.errors, "-", color="C0")
    ax.axvline(col.gamma, color="C3", ls="--", label=f"γ = {col.gamma:.3f}")
    ax.set_xlabel("γ")
    ax.set_ylabel("collapse error")
    ax.legend(fontsize=8)
    return ax


def report_figure(rep: CracklingReport, fig: Any = None) -> Any:
    """2 x 2 summary: size CCDF, duration CCDF, <S>(T), collapse."""
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    rep.size_fit.plot(ax=axes[0, 0])
    axes[0, 0].set_title(f"sizes: τ = {rep.tau:.3f} ± {rep.tau_err:.3f}", fontsize=10)
    axes[0, 0].set_xlabel("size S")
    rep.duration_fit.plot(ax=axes[0, 1])
    axes[0, 1].set_title(f"durations: α = {rep.alpha:.3f} ± {rep.alpha_err:.3f}", fontsize=10)
    axes[0, 1].set_xlabel("duration T")
    if rep.scaling is not None:
        plot_size_duration(rep.scaling, ax=axes[1, 0], predicted=rep.inv_snz_predicted)
        axes[1, 0].set_title("<S>(T) and the scaling relation", fontsize=10)
    else:
        _empty(axes[1, 0], "<S>(T) not fitted")
    if rep.collapse is not None:
        plot_collapse(rep.collapse, ax=axes[1, 1])
    else:
        _empty(axes[1, 1], "no shape collapse")
    fig.suptitle(f"nearest class: {rep.nearest.name}", fontsize=10)
    return fig


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def save_figure(fig: Any, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` atomically (temporary name, then rename)."""
    from crackle.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path


def save_report_figures(rep: CracklingReport, directory: str | Path) -> list[Path]:
    """Write the report's figures as PNG files into ``directory``; return their paths."""
    from matplotlib.figure import Figure

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [save_figure(report_figure(rep), out / "summary.png")]

    def single(name: str, draw: Any) -> None:
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        draw(fig.add_subplot())
        paths.append(save_figure(fig, out / name))

    single("sizes_ccdf.png", lambda ax: rep.size_fit.plot(ax=ax))
    single("durations_ccdf.png", lambda ax: rep.duration_fit.plot(ax=ax))
    if rep.scaling is not None:
        scaling = rep.scaling
        single(
            "size_duration.png",
            lambda ax: plot_size_duration(scaling, ax=ax, predicted=rep.inv_snz_predicted),
        )
    if rep.collapse is not None:
        col = rep.collapse
        single("collapse.png", lambda ax: plot_collapse(col, ax=ax))
        single("collapse_error.png", lambda ax: plot_collapse_error(col, ax=ax))
    return paths

"""Figures of the finite-size-scaling experiment, in the layout of seed 002, Fig. 2."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle.report.figures import new_axes, plot_collapse, save_figure
from crackle.stats.finite_size import log_binned_density

if TYPE_CHECKING:
    from crackle.experiments.fss import FSSResult

__all__ = [
    "fss_figure",
    "plot_distributions",
    "plot_exponents",
    "plot_mean_size",
    "plot_scan",
    "save_fss_figures",
]


def _colours(n: int) -> list[Any]:
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


def plot_distributions(res: FSSResult, ax: Any = None, *, what: str = "sizes") -> Any:
    """Log-binned P(S - q0 T) (``what="sizes"``, the excess size), P(S) (``"total"``)
    or P(T) (``"durations"``), one curve per width."""
    ax = new_axes(ax)
    for w, col in zip(res.widths, _colours(len(res.widths)), strict=True):
        av = w.avalanches
        if what == "durations":
            d = log_binned_density(av.durations, discrete=True, bins_per_decade=8)
        else:
            x = av.sizes if what == "sizes" else av.sizes + res.config.q0 * av.durations
            d = log_binned_density(x[x > 0], bins_per_decade=8)
        ax.loglog(d.centres, d.density, ".-", ms=3, lw=0.8, color=col, label=f"N={w.width}")
    label = {"sizes": "excess size S - q0 T", "total": "total size S", "durations": "duration T"}
    ax.set_xlabel(label[what])
    ax.set_ylabel("probability density")
    ext = res.extrapolations.get({"sizes": "tau", "total": "tau_total"}.get(what, "alpha"))
    if ext is not None:
        ax.set_title(f"N→∞: {ext.intercept:.3f} ± {ext.intercept_err:.3f}", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def plot_mean_size(res: FSSResult, ax: Any = None) -> Any:
    """<S>(T) per width with each width's fitted slope."""
    ax = new_axes(ax)
    for w, col in zip(res.widths, _colours(len(res.widths)), strict=True):
        sc = w.report.scaling
        if sc is None:
            continue
        ax.loglog(sc.durations, sc.mean_sizes, ".", ms=2, color=col)
        ax.loglog(
            sc.durations,
            sc.predict(sc.durations),
            "-",
            lw=0.8,
            color=col,
            label=f"N={w.width}: {sc.exponent:.3f}",
        )
    ax.set_xlabel("duration T")
    ax.set_ylabel("<S>(T)")
    ax.legend(fontsize=7, title="1/(σνz)", title_fontsize=7)
    return ax


def plot_exponents(res: FSSResult, ax: Any = None, names: tuple[str, ...] = ()) -> Any:
    """Exponents against 1/N with their linear extrapolation to 1/N = 0."""
    ax = new_axes(ax)
    names = names or tuple(res.extrapolations)
    labels = {
        "tau": "τ (S - q0 T)",
        "tau_total": "τ (total S)",
        "alpha": "α",
        "inv_snz_fitted": "1/(σνz) fit",
        "inv_snz_total": "1/(σνz) fit, total S",
        "inv_snz_collapse": "1/(σνz) collapse",
    }
    for name in names:
        e = res.extrapolations.get(name)
        if e is not None:
            e.plot(ax=ax, label=f"{labels[name]} → {e.intercept:.3f} ± {e.intercept_err:.3f}")
    ax.set_ylabel("exponent")
    ax.legend(fontsize=7)
    return ax


def plot_scan(res: FSSResult, ax: Any = None) -> Any:
    """Straightness (rms, decades) of the duration distribution against c = N(sigma_w^2 - 1)."""
    ax = new_axes(ax)
    for w, col in zip(res.widths, _colours(len(res.widths)), strict=True):
        c = np.array([p.offset for p in w.scan])
        rms = np.array([p.durations.rms for p in w.scan])
        judged = np.isfinite(rms)  # too few durations to judge: not drawn
        ax.plot(c[judged], rms[judged], "o-", ms=3, color=col, label=f"N={w.width}")
        ax.plot([w.offset], [min(rms)], "*", ms=10, color=col)
    ax.set_xlabel("c = N (σ_w² - 1)")
    ax.set_ylabel("log-log rms of P(T) (decades)")
    ax.legend(fontsize=7)
    return ax


def fss_figure(res: FSSResult, fig: Any = None) -> Any:
    """2 x 3 summary: P(S), P(T), <S>(T); exponents vs 1/N (two panels), collapse."""
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(15, 9), layout="constrained")
    ax = fig.subplots(2, 3)
    plot_distributions(res, ax[0, 0], what="sizes")
    plot_distributions(res, ax[0, 1], what="durations")
    plot_mean_size(res, ax[0, 2])
    plot_exponents(res, ax[1, 0], names=("tau", "tau_total", "alpha"))
    plot_exponents(res, ax[1, 1], names=("inv_snz_fitted", "inv_snz_total", "inv_snz_collapse"))
    largest = res.widths[-1]
    if largest.report.collapse is not None:
        plot_collapse(largest.report.collapse, ax=ax[1, 2])
        ax[1, 2].set_title(
            f"collapse, N = {largest.width}: γ = {largest.report.collapse.gamma:.3f}", fontsize=9
        )
    title = "finite-size scaling, Gaussian tanh networks"
    if res.nearest is not None:
        title += f"; nearest class at N→∞: {res.nearest.name.split(' / ')[0]}"
    fig.suptitle(title, fontsize=11)
    return fig


def save_fss_figures(res: FSSResult, directory: str | Path) -> list[Path]:
    """Write the summary and each panel as PNG files into ``directory``."""
    from matplotlib.figure import Figure

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [save_figure(fss_figure(res), out / "fss_summary.png")]
    panels: dict[str, Any] = {
        "fss_sizes.png": lambda a: plot_distributions(res, a, what="sizes"),
        "fss_total_sizes.png": lambda a: plot_distributions(res, a, what="total"),
        "fss_durations.png": lambda a: plot_distributions(res, a, what="durations"),
        "fss_mean_size.png": lambda a: plot_mean_size(res, a),
        "fss_exponents.png": lambda a: plot_exponents(res, a),
        "fss_scan.png": lambda a: plot_scan(res, a),
    }
    for name, draw in panels.items():
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        draw(fig.add_subplot())
        paths.append(save_figure(fig, out / name))
    return paths

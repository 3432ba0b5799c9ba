"""Figures of the finite-size-scaling experiment, in the layout of Ghavasieh et al.
(2025, arXiv 2509.22649), Fig. 2."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle._binning import log_binned_density
from crackle.report.figures import new_axes, new_figure, plot_collapse, save_figure

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


_SIZE_LABELS = {
    "excess": "excess size S = N Σ (q^l - q0)",
    "total": "total size S = N Σ q^l",
    "durations": "avalanche duration T",
}
_LABELS = {
    "tau_excess": "τ (excess S)",
    "tau_total": "τ (total S)",
    "alpha": "α",
    "inv_snz_excess": "1/(σνz) fit, excess S",
    "inv_snz_total": "1/(σνz) fit, total S",
    "inv_snz_collapse": "1/(σνz) collapse",
}


def _pm(e: Any) -> str:
    """value ± stat ± sys of an extrapolation, with its chi^2/dof."""
    text = f"{e.intercept:.3f} ± {e.intercept_err:.3f} ± {e.intercept_sys:.3f}"
    return text + f" (χ²/dof {e.chi2_dof:.1f}{', poor' if e.poor_fit else ''})"


def plot_distributions(res: FSSResult, ax: Any = None, *, what: str = "sizes") -> Any:
    """Log-binned P(S) or P(T), one curve per width: ``what`` is "excess", "total",
    "durations", or "sizes" (the configuration's size definition)."""
    ax = new_axes(ax)
    what = res.config.sizes if what == "sizes" else what
    for w, col in zip(res.widths, _colours(len(res.widths)), strict=True):
        av = w.avalanches
        if what == "durations":
            d = log_binned_density(av.durations, discrete=True, bins_per_decade=8)
        else:
            x = w.sizes_of(what)
            d = log_binned_density(x[x > 0], bins_per_decade=8)
        ax.loglog(d.centres, d.density, ".-", ms=3, lw=0.8, color=col, label=f"N={w.width}")
    ax.set_xlabel(_SIZE_LABELS[what])
    sym = "α" if what == "durations" else "τ"
    ax.set_ylabel("P(T = t), log-binned" if what == "durations" else "p(s), log-binned")
    ext = res.extrapolations.get("alpha" if what == "durations" else f"tau_{what}")
    if ext is not None:
        ax.set_title(f"{sym} at N→∞: {_pm(ext)}", fontsize=8)
    else:
        ax.set_title(f"distribution of the {'durations' if what == 'durations' else 'sizes'}")
    ax.legend(fontsize=7, title="width", title_fontsize=7)
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
    ax.set_xlabel("avalanche duration T")
    ax.set_ylabel("mean size ⟨S⟩(T)")
    ax.set_title("⟨S⟩(T) ∝ T^(1/(σνz)) at each width", fontsize=10)
    ax.legend(fontsize=7, title="fitted 1/(σνz)", title_fontsize=7)
    return ax


def plot_exponents(res: FSSResult, ax: Any = None, names: tuple[str, ...] = ()) -> Any:
    """Exponents against 1/N with their linear extrapolation to 1/N = 0, labelled
    value ± stat ± sys at N -> infinity with the fit's chi^2/dof."""
    ax = new_axes(ax)
    names = names or tuple(res.extrapolations)
    for name in names:
        e = res.extrapolations.get(name)
        if e is not None:
            e.plot(ax=ax, label=f"{_LABELS[name]} → {_pm(e)}")
    ax.set_ylabel("exponent (bars: stat ⊕ sys; dashed: poor 1/N fit)")
    ax.set_title("exponents extrapolated to infinite width", fontsize=10)
    ax.legend(fontsize=6)
    return ax


def plot_scan(res: FSSResult, ax: Any = None) -> Any:
    """Straightness (rms, decades) of the duration distribution against c = N(sigma_w^2 - 1);
    star: the kept offset, rings: the plateau (within ``offset_tolerance`` of the best)."""
    ax = new_axes(ax)
    for w, col in zip(res.widths, _colours(len(res.widths)), strict=True):
        c = np.array([p.offset for p in w.scan])
        rms = np.array([p.durations.rms for p in w.scan])
        judged = np.isfinite(rms)  # too few durations to judge: not drawn
        ax.plot(c[judged], rms[judged], "o-", ms=3, color=col, label=f"N={w.width}")
        on = np.array([p.plateau for p in w.scan], dtype=bool)
        ax.plot(c[on], rms[on], "o", ms=8, mfc="none", color=col)
        ax.plot([w.offset], [min(rms)], "*", ms=10, color=col)
    ax.set_xlabel("c = N (σ_w² - 1)")
    ax.set_ylabel("log-log rms of P(T) (decades)")
    ax.set_title("straightness of P(T) against the offset", fontsize=10)
    ax.legend(fontsize=7)
    return ax


def fss_figure(res: FSSResult, fig: Any = None) -> Any:
    """2 x 3 summary: P(S), P(T), <S>(T); exponents vs 1/N (two panels), collapse.
    ``fig`` default: a new pyplot figure. Returns the Figure."""
    fig = new_figure(fig, figsize=(15, 9))
    ax = fig.subplots(2, 3)
    plot_distributions(res, ax[0, 0], what="sizes")
    plot_distributions(res, ax[0, 1], what="durations")
    plot_mean_size(res, ax[0, 2])
    plot_exponents(res, ax[1, 0], names=("tau_excess", "tau_total", "alpha"))
    plot_exponents(res, ax[1, 1], names=("inv_snz_excess", "inv_snz_total", "inv_snz_collapse"))
    largest = res.widths[-1]
    if largest.report.collapse is not None:
        plot_collapse(largest.report.collapse, ax=ax[1, 2])
        col = largest.report.collapse
        ax[1, 2].set_title(
            f"collapse, N = {largest.width}: γ = 1/(σνz) = {col.gamma:.3f} ± {col.gamma_err:.3f}",
            fontsize=9,
        )
    title = f"finite-size scaling, Gaussian tanh networks, {res.config.sizes} sizes"
    if res.nearest is not None:
        title += f"; nearest class at N→∞: {res.nearest.name.split(' / ')[0]}"
    fig.suptitle(title, fontsize=11)
    return fig


def save_fss_figures(res: FSSResult, directory: str | Path) -> list[Path]:
    """Write the summary and each panel as PNG files into ``directory``."""
    from matplotlib.figure import Figure

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    summary = fss_figure(res, Figure(figsize=(15, 9), layout="constrained"))
    paths = [save_figure(summary, out / "fss_summary.png")]
    panels: dict[str, Any] = {
        "fss_excess_sizes.png": lambda a: plot_distributions(res, a, what="excess"),
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

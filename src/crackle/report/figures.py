"""Figures of the crackling-noise battery. matplotlib is imported inside each function."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crackle.stats.collapse import CollapseResult
    from crackle.stats.crackling import CracklingReport
    from crackle.stats.scaling import ScalingFit
    from crackle.stats.windows import WindowScan

__all__ = [
    "new_axes",
    "plot_collapse",
    "plot_collapse_error",
    "plot_size_duration",
    "plot_window_scan",
    "report_figure",
    "save_figure",
    "save_report_figures",
    "windows_figure",
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
    # Under two decades matplotlib labels the minor ticks too, and they overlap.
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
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


_SYMBOLS = {"tau": "τ", "alpha": "α", "inv_snz": "1/(σνz)"}
_LOW_LABELS = {
    "tau": "lower cut-off x_min of sizes",
    "alpha": "lower cut-off T_min of durations",
    "inv_snz": "lower cut-off T_min of <S>(T)",
}


def plot_window_scan(scan: WindowScan, ax: Any = None) -> Any:
    """The exponent fitted from each lower cut-off with its statistical error, the
    chosen window shaded and the chosen value with its systematic band."""
    ax = new_axes(ax)
    sym = _SYMBOLS.get(scan.quantity, scan.quantity)
    if scan.lows.size == 0:
        _empty(ax, f"{sym}: {scan.message}")
        return ax
    ax.errorbar(
        scan.lows,
        scan.exponents,
        yerr=scan.stat_errs,
        fmt="o",
        ms=3,
        color="C0",
        elinewidth=0.8,
        label=f"{sym} fitted from the cut-off (± stat)",
    )
    ax.set_xscale("log")
    if scan.stable:
        lo, hi = scan.window
        ax.axvspan(
            scan.lows[lo],
            scan.lows[hi],
            color="C2",
            alpha=0.15,
            label="window of the systematic error",
        )
        ax.axhspan(
            scan.exponent - scan.sys_err, scan.exponent + scan.sys_err, color="C3", alpha=0.15
        )
        ax.axhline(
            scan.exponent,
            color="C3",
            lw=1,
            label=f"chosen: {sym} = {scan.exponent:.3f} ± {scan.stat_err:.3f} "
            f"± {scan.sys_err:.3f} sys",
        )
        ax.axvline(scan.low, color="C3", ls=":", lw=1)
    ax.set_xlabel(_LOW_LABELS.get(scan.quantity, "lower cut-off"))
    ax.set_ylabel(f"exponent {sym}")
    ax.set_title(scan.message, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return ax


def _pm_title(name: str, v: float, e: float, s: float) -> str:
    if not np.isfinite(v):
        return f"{name}: not fitted"
    sys = f" ± {s:.3f} sys" if np.isfinite(s) else ""
    return f"{name} = {v:.3f} ± {e:.3f}{sys}"


def report_figure(rep: CracklingReport, fig: Any = None) -> Any:
    """2 x 2 summary: size CCDF, duration CCDF, <S>(T), collapse; the verdict on top."""
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    for ax, fit, title, label in (
        (
            axes[0, 0],
            rep.size_fit,
            _pm_title("sizes: τ", rep.tau, rep.tau_err, rep.tau_sys),
            "size S",
        ),
        (
            axes[0, 1],
            rep.duration_fit,
            _pm_title("durations: α", rep.alpha, rep.alpha_err, rep.alpha_sys),
            "duration T",
        ),
    ):
        if fit is None:
            _empty(ax, title)
            continue
        fit.plot(ax=ax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(label)
    if rep.scaling is not None:
        plot_size_duration(rep.scaling, ax=axes[1, 0], predicted=rep.inv_snz_predicted)
        axes[1, 0].set_title("<S>(T) and the scaling relation", fontsize=10)
    else:
        _empty(axes[1, 0], "<S>(T) not fitted")
    if rep.collapse is not None:
        plot_collapse(rep.collapse, ax=axes[1, 1])
    else:
        _empty(axes[1, 1], "no shape collapse")
    near = (
        "no exponent fitted"
        if rep.nearest is None
        else (
            f"nearest class: {rep.nearest.name.split(' / ')[0]}"
            + ("" if rep.nearest.consistent else " (not consistent)")
        )
    )
    fig.suptitle(f"verdict: {rep.verdict.outcome}; {near}", fontsize=10)
    return fig


def windows_figure(rep: CracklingReport, fig: Any = None) -> Any:
    """The three window scans side by side (sizes, durations, <S>(T))."""
    if fig is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(14, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, scan, what in zip(
        axes,
        (rep.size_scan, rep.duration_scan, rep.scaling_scan),
        ("sizes", "durations", "<S>(T)"),
        strict=True,
    ):
        if scan is None:
            _empty(ax, f"{what}: not scanned")
        else:
            plot_window_scan(scan, ax=ax)
    fig.suptitle("exponents against the fitting window (systematic errors)", fontsize=10)
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

    paths.append(save_figure(windows_figure(rep), out / "windows.png"))
    if rep.size_fit is not None:
        size_fit = rep.size_fit
        single("sizes_ccdf.png", lambda ax: size_fit.plot(ax=ax))
    if rep.duration_fit is not None:
        duration_fit = rep.duration_fit
        single("durations_ccdf.png", lambda ax: duration_fit.plot(ax=ax))
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

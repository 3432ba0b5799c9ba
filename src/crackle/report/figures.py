"""Figures of the crackling-noise battery. matplotlib is imported inside each function."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle._display import format_pm

if TYPE_CHECKING:
    from crackle.stats.collapse import CollapseResult
    from crackle.stats.crackling import CracklingReport
    from crackle.stats.scaling import ScalingFit
    from crackle.stats.windows import WindowScan

__all__ = [
    "collapse_subset",
    "new_axes",
    "new_figure",
    "plot_branching_ratio",
    "plot_ccdf",
    "plot_collapse",
    "plot_collapse_error",
    "plot_pdf",
    "plot_per_layer",
    "plot_size_duration",
    "plot_window_scan",
    "report_figure",
    "save_figure",
    "save_report_figures",
    "windows_figure",
]


def new_axes(ax: Any = None, figsize: tuple[float, float] = (5.5, 4.2)) -> Any:
    """``ax`` itself, or the axes of a new pyplot figure (constrained layout, so that
    labels are never clipped); ``plt.show()`` then shows it."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def new_figure(fig: Any = None, figsize: tuple[float, float] = (10, 8)) -> Any:
    """``fig`` itself, or a new pyplot figure with constrained layout."""
    if fig is not None:
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout="constrained")


def _value_pm(symbol: str, value: float, err: float) -> str:
    """'τ = 1.502 ± 0.012', rounded where the error has its second significant figure
    (the error left out when it is not finite)."""
    if not np.isfinite(value):
        return f"{symbol}: not fitted"
    return f"{symbol} = {format_pm(float(value), float(err))}"


def _axis_quantity(name: str, symbol: str) -> str:
    return f"{name} {symbol}".strip()


def plot_ccdf(
    x: Any,
    p: Any,
    *,
    law: tuple[Any, Any] | None = None,
    xmin: float | None = None,
    exponent: float = float("nan"),
    exponent_err: float = float("nan"),
    name: str = "value",
    symbol: str = "X",
    exponent_symbol: str = "α",
    title: str | None = None,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Log-log complementary CDF P(X >= x) of the data, with the fitted law.

    Parameters
    ----------
    x, p : array_like of shape (u,)
        Distinct values and the fraction of the data at or above each.
    law : (array_like, array_like), optional
        The fitted law on the same scale (x, P), drawn as a line labelled with
        ``exponent_symbol = exponent ± exponent_err``.
    xmin : float, optional
        The fit's lower cut-off, drawn as a dotted line.
    name, symbol : str
        The quantity and its symbol, e.g. "avalanche size" and "S": the axes read
        "avalanche size S" and "P(S ≥ s)".
    exponent_symbol : str
        τ for sizes, α for durations.
    title : str, optional
        Default: "CCDF of the <name>".
    ax : matplotlib Axes, optional
        Where to draw; default a new pyplot figure.
    **kwargs
        Passed to the data's ``ax.loglog``.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax)
    ax.loglog(x, p, ".", ms=3, label="data", **kwargs)
    if law is not None:
        ax.loglog(
            law[0],
            law[1],
            "-",
            color="C3",
            label="power law, " + _value_pm(exponent_symbol, exponent, exponent_err),
        )
    if xmin is not None and np.isfinite(xmin):
        ax.axvline(xmin, color="0.6", ls=":", lw=1, label=f"lower cut-off {xmin:.4g}")
    ax.set_xlabel(_axis_quantity(name, symbol))
    ax.set_ylabel(f"P({symbol} ≥ {symbol.lower()})")
    ax.set_title(title if title is not None else f"CCDF of the {name}", fontsize=10)
    ax.legend(frameon=False, loc="lower left", fontsize=8)  # a CCDF leaves that corner empty
    return ax


def plot_pdf(
    centres: Any,
    density: Any,
    *,
    law: tuple[Any, Any] | None = None,
    xmin: float | None = None,
    exponent: float = float("nan"),
    exponent_err: float = float("nan"),
    name: str = "value",
    symbol: str = "X",
    exponent_symbol: str = "α",
    discrete: bool = False,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Log-log, log-binned probability density (or mass) of the data, with the fitted law.

    ``centres`` and ``density`` are the bins (see ``crackle._binning.log_binned_density``);
    ``law`` the fitted law's density on the same bins. The other parameters are those of
    :func:`plot_ccdf`; ``discrete`` says whether the density is per integer (a mass
    function P(S = s)). Returns the Axes.
    """
    ax = new_axes(ax)
    ax.loglog(centres, density, "o", ms=3.5, mfc="none", label="data, log-binned")
    if law is not None:
        ax.loglog(
            law[0],
            law[1],
            "-",
            color="C3",
            label="power law, " + _value_pm(exponent_symbol, exponent, exponent_err),
        )
    if xmin is not None and np.isfinite(xmin):
        ax.axvline(xmin, color="0.6", ls=":", lw=1, label=f"lower cut-off {xmin:.4g}")
    low = symbol.lower()
    ax.set_xlabel(_axis_quantity(name, symbol))
    ax.set_ylabel(f"P({symbol} = {low})" if discrete else f"probability density p({low})")
    ax.set_title(title if title is not None else f"distribution of the {name}", fontsize=10)
    ax.legend(frameon=False, loc="lower left", fontsize=8)
    return ax


def plot_per_layer(
    values: Any,
    *,
    ylabel: str,
    ref: float | None = None,
    errors: Any = None,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """A probe's value per layer (layer 1 first), with error bars when ``errors`` is
    given and the critical value ``ref`` dashed. Returns the Axes."""
    ax = new_axes(ax, figsize=(5.5, 3.6))
    v = np.asarray(values, dtype=float)
    layers = np.arange(1, v.size + 1)
    yerr = None if errors is None else np.where(np.isfinite(errors), errors, 0.0)
    ax.errorbar(layers, v, yerr=yerr, fmt="o-", ms=3, capsize=2, label="per layer")
    if ref is not None:
        ax.axhline(ref, color="0.5", ls="--", lw=1, label=f"critical value {ref:g}")
    ax.set_xlabel("layer l")
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_branching_ratio(
    k: Any,
    r_k: Any,
    r_k_err: Any,
    curves: list[tuple[str, Any, Any]],
    *,
    log: bool = True,
    title: str = "multistep regression: r_k = b m^k",
    ax: Any = None,
) -> Any:
    """Regression slopes r_k against the lag k with the fitted curves (multistep
    regression, Wilting & Priesemann 2018, Nat. Commun. 9, 2325).

    ``curves`` are (legend label, k grid, values) triples, the chosen fit first.
    ``log`` puts r_k on a log scale (only when every value is positive). Returns the Axes.
    """
    ax = new_axes(ax, figsize=(5.5, 4.0))
    err = np.where(np.isfinite(r_k_err), r_k_err, 0.0)
    ax.errorbar(k, r_k, yerr=err, fmt="o", ms=3, label="slopes $r_k$ (± s.e.)")
    for i, (label, kk, yy) in enumerate(curves):
        ax.plot(kk, yy, "-" if i == 0 else "--", lw=1.5 if i == 0 else 1, label=label)
    ax.set_xlabel("lag k")
    ax.set_ylabel("regression slope $r_k$")
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_size_duration(fit: ScalingFit, ax: Any = None, *, predicted: float | None = None) -> Any:
    """<S>(T) on log-log axes with the fitted slope 1/(σνz), and the slope predicted by
    the crackling relation (α - 1)/(τ - 1) if given (Sethna, Dahmen & Myers 2001,
    Nature 410, 242). Returns the Axes."""
    ax = new_axes(ax)
    t = fit.durations.astype(float)
    ax.loglog(t, fit.mean_sizes, "o", ms=3, alpha=0.6, color="C0", label="⟨S⟩(T), data")
    tt = np.geomspace(t.min(), t.max(), 50)
    ax.loglog(
        tt,
        fit.predict(tt),
        "-",
        color="C3",
        label="fit: " + _value_pm("1/(σνz)", fit.exponent, fit.stderr),
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
            label=f"predicted: 1/(σνz) = (α-1)/(τ-1) = {predicted:.3f}",
        )
    ax.set_xlabel("avalanche duration T")
    ax.set_ylabel("mean size ⟨S⟩(T)")
    ax.set_title("mean size against duration: ⟨S⟩(T) ∝ T^(1/(σνz))", fontsize=10)
    # Under two decades matplotlib labels the minor ticks too, and they overlap.
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=8, frameon=False)
    return ax


def collapse_subset(durations: Any, max_curves: int = 12) -> Any:
    """Indices of at most ``max_curves`` durations spread evenly in log T (the shortest
    and the longest always among them)."""
    t = np.log(np.asarray(durations, dtype=float))
    if t.size <= max_curves:
        return np.arange(t.size)
    targets = np.linspace(t.min(), t.max(), max_curves)
    picked = np.unique(np.abs(t[None, :] - targets[:, None]).argmin(axis=1))
    return picked


def plot_collapse(col: CollapseResult, ax: Any = None, *, max_curves: int = 12) -> Any:
    """Mean avalanche profiles rescaled by T^(γ - 1) against t/T, coloured by duration
    (a colour bar, log scale), for at most ``max_curves`` durations spread over the
    range; the mean shape is taken over all of them. γ is the collapse's estimate of
    1/(σνz) (Sethna, Dahmen & Myers 2001; Friedman et al. 2012, PRL 108, 208102).
    Returns the Axes."""
    import matplotlib as mpl

    ax = new_axes(ax)
    scaled = col.scaled_profiles()
    durations = np.asarray(col.durations)
    cmap = mpl.colormaps["viridis"]
    norm = mpl.colors.LogNorm(vmin=float(durations.min()), vmax=float(max(durations.max(), 1)))
    shown = collapse_subset(durations, max_curves)
    for i in shown:
        ax.plot(col.x, scaled[i], color=cmap(norm(float(durations[i]))), lw=1.0, alpha=0.85)
    n = durations.size
    what = f"{shown.size} of {n} durations shown" if shown.size < n else f"{n} durations"
    ax.plot(col.x, scaled.mean(axis=0), "k--", lw=1.5, label=f"mean shape ({what})")
    ax.figure.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="avalanche duration T"
    )
    ax.set_xlabel("rescaled time t/T")
    ax.set_ylabel("⟨s(t, T)⟩ / T^(γ-1)")
    ax.set_title(
        "shape collapse: " + _value_pm("γ = 1/(σνz)", col.gamma, col.gamma_err), fontsize=10
    )
    ax.legend(fontsize=8, frameon=False, loc="lower center")
    return ax


def plot_collapse_error(col: CollapseResult, ax: Any = None) -> Any:
    """Collapse error against the trial exponent γ, the minimum marked. Returns the Axes."""
    ax = new_axes(ax)
    ax.semilogy(col.gammas, col.errors, "-", color="C0", label="collapse error")
    ax.axvline(
        col.gamma, color="C3", ls="--", label=_value_pm("minimum: γ", col.gamma, col.gamma_err)
    )
    ax.set_xlabel("trial exponent γ = 1/(σνz)")
    ax.set_ylabel("collapse error (variance / spread²)")
    ax.set_title("shape collapse error against γ", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
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
            label=f"chosen: {sym} = {format_pm(scan.exponent, scan.stat_err, scan.sys_err)}",
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
    return f"{name} = {format_pm(float(v), float(e), float(s))}"


#: (attribute of the report, name, symbol, exponent symbol, exponent attribute)
_DISTRIBUTIONS = (
    ("size_fit", "avalanche size", "S", "τ", "tau"),
    ("duration_fit", "avalanche duration", "T", "α", "alpha"),
)


def _draw_fit(rep: Any, which: int, kind: str, ax: Any) -> None:
    attr, name, symbol, esym, key = _DISTRIBUTIONS[which]
    fit = getattr(rep, attr)
    title = ("CCDF: " if kind == "ccdf" else "distribution: ") + _pm_title(
        esym, getattr(rep, key), getattr(rep, key + "_err"), getattr(rep, key + "_sys")
    )
    if fit is None:
        _empty(ax, f"{name}s: {title}")
        return
    fit.plot(ax=ax, kind=kind, name=name, symbol=symbol, exponent_symbol=esym)
    ax.set_title(title, fontsize=10)


def report_figure(rep: CracklingReport, fig: Any = None) -> Any:
    """3 x 2 summary: the log-binned distribution and the CCDF of the sizes (τ) and of
    the durations (α), <S>(T) with 1/(σνz), the shape collapse; the verdict on top.

    ``fig`` default: a new pyplot figure (``rep.plot(); plt.show()`` shows it).
    Returns the Figure.
    """
    fig = new_figure(fig, figsize=(10.5, 12))
    axes = fig.subplots(3, 2)
    for row in (0, 1):
        _draw_fit(rep, row, "pdf", axes[row, 0])
        _draw_fit(rep, row, "ccdf", axes[row, 1])
    if rep.scaling is not None:
        plot_size_duration(rep.scaling, ax=axes[2, 0], predicted=rep.inv_snz_predicted)
        axes[2, 0].set_title("⟨S⟩(T) and the crackling relation", fontsize=10)
    else:
        _empty(axes[2, 0], "⟨S⟩(T) not fitted")
    if rep.collapse is not None:
        plot_collapse(rep.collapse, ax=axes[2, 1])
    else:
        _empty(axes[2, 1], "no shape collapse")
    near = (
        "no exponent fitted"
        if rep.nearest is None
        else (
            f"nearest class: {rep.nearest.name.split(' / ')[0]}"
            + ("" if rep.nearest.consistent else " (not consistent)")
        )
    )
    fig.suptitle(f"crackling report: {rep.verdict.outcome}; {near}", fontsize=11)
    return fig


def windows_figure(rep: CracklingReport, fig: Any = None) -> Any:
    """The three window scans side by side (sizes, durations, <S>(T)); ``fig`` default:
    a new pyplot figure. Returns the Figure."""
    fig = new_figure(fig, figsize=(14, 4.2))
    axes = fig.subplots(1, 3)
    for ax, scan, what in zip(
        axes,
        (rep.size_scan, rep.duration_scan, rep.scaling_scan),
        ("sizes", "durations", "⟨S⟩(T)"),
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
    """Write the report's figures as PNG files into ``directory``; return their paths.

    summary.png, windows.png, and one panel each: sizes_pdf, sizes_ccdf, durations_pdf,
    durations_ccdf, size_duration, collapse, collapse_error (those that were fitted).
    The figures are not registered with pyplot (no state left behind).
    """
    from matplotlib.figure import Figure

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        save_figure(report_figure(rep, Figure(figsize=(10.5, 12), layout="constrained")),
                    out / "summary.png")
    ]  # fmt: skip

    def single(name: str, draw: Any) -> None:
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        draw(fig.add_subplot())
        paths.append(save_figure(fig, out / name))

    paths.append(
        save_figure(windows_figure(rep, Figure(figsize=(14, 4.2), layout="constrained")),
                    out / "windows.png")
    )  # fmt: skip
    for which, stem in ((0, "sizes"), (1, "durations")):
        if getattr(rep, _DISTRIBUTIONS[which][0]) is not None:
            for kind in ("pdf", "ccdf"):
                single(
                    f"{stem}_{kind}.png",
                    lambda ax, w=which, k=kind: _draw_fit(rep, w, k, ax),
                )
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

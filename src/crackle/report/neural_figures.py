"""Figures of a spike analysis: exponents against bin width, MR, data against nulls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crackle.report.figures import new_figure, report_figure, save_figure

if TYPE_CHECKING:
    from crackle.stats.neural import BinScan
    from crackle.stats.spike_analysis import SpikeAnalysis

__all__ = ["bin_scan_figure", "null_figure", "save_spike_figures"]


def bin_scan_figure(scan: BinScan, fig: Any = None) -> Any:
    """Left: tau and alpha against the bin width (in IEIs); right: both 1/(sigma nu z).

    Critical avalanches keep the scaling relation (the two right-hand curves together)
    while tau and alpha drift with the bin (Beggs & Plenz 2003, J. Neurosci. 23, 11167).
    ``fig`` default: a new pyplot figure. Returns the Figure.
    """
    fig = new_figure(fig, figsize=(9, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    f = scan.factors
    ax1.errorbar(f, scan.tau, yerr=scan.tau_err, fmt="o-", label="τ (sizes)")
    ax1.errorbar(f, scan.alpha, yerr=scan.alpha_err, fmt="s-", label="α (durations)")
    ax1.axhline(1.5, color="grey", lw=0.8, ls=":", label="mean field: τ = 3/2, α = 2")
    ax1.axhline(2.0, color="grey", lw=0.8, ls=":")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("bin width / mean IEI")
    ax1.set_ylabel("exponent")
    ax1.set_title("τ and α against the bin width", fontsize=10)
    ax1.legend(frameon=False, fontsize=8)
    ax2.plot(f, scan.inv_snz_fitted, "o-", label="fitted, ⟨S⟩(T) ∝ T^(1/(σνz))")
    ax2.plot(f, scan.inv_snz_predicted, "s--", label="predicted, (α - 1)/(τ - 1)")
    ax2.set_xscale("log", base=2)
    ax2.set_xlabel("bin width / mean IEI")
    ax2.set_ylabel("1/(σνz)")
    ax2.legend(frameon=False, fontsize=8)
    ax2.set_title(f"crackling relation (mean IEI = {scan.iei:.3g})", fontsize=10)
    return fig


def null_figure(res: SpikeAnalysis, fig: Any = None) -> Any:
    """The data (a line) against each surrogate kind (dots): tau, m, kappa, DCC.

    In the m panel a surrogate whose MR fails its consistency checks is a cross.
    ``fig`` default: a new pyplot figure. Returns the Figure.
    """
    keys = ("tau", "m", "kappa", "dcc")
    titles = {
        "tau": "size exponent τ",
        "m": "branching ratio m (MR)",
        "kappa": "κ (Shew et al. 2009)",
        "dcc": "DCC",
    }
    fig = new_figure(fig, figsize=(10, 3.2))
    axes = fig.subplots(1, len(keys))
    kinds = [k for k in res.nulls if k != "data"]
    data = res.nulls["data"][0]
    for ax, key in zip(axes, keys, strict=True):
        for i, kind in enumerate(kinds):
            rows = [r for r in res.nulls[kind] if r.get(key) is not None]
            v = np.array([r[key] for r in rows], dtype=float)
            ok = np.array([bool(r.get("mr_valid")) or key != "m" for r in rows], dtype=bool)
            col = f"C{i}"
            ax.plot(np.full(int(ok.sum()), i), v[ok], "o", color=col, alpha=0.7)
            ax.plot(np.full(int((~ok).sum()), i), v[~ok], "x", color=col, alpha=0.9)
        if key == "dcc":
            ax.set_yscale("log")
        if data.get(key) is not None:
            ax.axhline(data[key], color="k", lw=1.2, label="data")
        ax.set_xticks(range(len(kinds)), kinds, rotation=20, fontsize=8)
        ax.set_xlim(-0.5, max(len(kinds) - 0.5, 0.5))
        ax.set_title(titles[key], fontsize=9)
        ax.set_xlabel("surrogate")
    axes[0].set_ylabel("value (line: the data)")
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle("the data against surrogates that destroy criticality", fontsize=10)
    return fig


def save_spike_figures(res: SpikeAnalysis, directory: str | Path) -> list[Path]:
    """Write the spike figures (PNG) into ``directory``; return their paths."""
    from matplotlib.figure import Figure

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    summary = report_figure(res.report, Figure(figsize=(10.5, 12), layout="constrained"))
    paths = [save_figure(summary, out / "summary.png")]
    scan_fig = bin_scan_figure(res.scan, Figure(figsize=(9, 3.8), layout="constrained"))
    paths.append(save_figure(scan_fig, out / "exponents_vs_bin.png"))
    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    res.mr.plot(ax=fig.add_subplot())
    paths.append(save_figure(fig, out / "branching_ratio.png"))
    if len(res.nulls) > 1:
        null_fig = null_figure(res, Figure(figsize=(10, 3.2), layout="constrained"))
        paths.append(save_figure(null_fig, out / "nulls.png"))
    return paths

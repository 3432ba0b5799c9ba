"""Figures of the recurrent-criticality experiment (Ren & Feng 2026, arXiv
2606.10384): m along training, m against model size, and the per-unit m_i.

Each function takes the experiment's result (``crackle.experiments.LSTMResult``, or
any object with its ``table``, ``summary`` and ``units``) and returns a pyplot Figure
with constrained layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crackle.report.figures import new_figure

if TYPE_CHECKING:
    from crackle.experiments.lstm import LSTMResult

__all__ = ["lstm_size_figure", "lstm_training_figure", "lstm_units_figure"]

_KINDS = ("lstm", "transformer")


def _colors(n: int) -> Any:
    import matplotlib.pyplot as plt

    return plt.get_cmap("viridis")(np.linspace(0, 0.9, max(n, 1)))


def lstm_training_figure(res: LSTMResult, fig: Any = None) -> Any:
    """Validation loss and m (top layer) against the training step.

    One colour per size, one line per seed; ★ the best validation step, ○ the
    untrained network; MR fits that fail their consistency checks drawn as crosses.
    One column per model kind.
    """
    t = res.table[res.table["top"]]
    kinds = [k for k in _KINDS if (t["model"] == k).any()]
    fig = new_figure(fig, figsize=(6.5 * max(len(kinds), 1), 7.2))
    axes = fig.subplots(2, max(len(kinds), 1), squeeze=False, sharex="col")
    for j, kind in enumerate(kinds):
        sub = t[t["model"] == kind]
        sizes = sorted(sub["size"].unique())
        for color, size in zip(_colors(len(sizes)), sizes, strict=True):
            for s, g in sub[sub["size"] == size].groupby("seed"):
                g = g.sort_values("step")
                lab = f"{size} ({g['n_params'].iloc[0]} params)" if s == 0 else None
                axes[0, j].plot(g["step"], g["val_loss"], "-", color=color, lw=1, label=lab)
                ok = g["m_valid"].to_numpy(bool)
                axes[1, j].plot(g["step"], g["m"], "-", color=color, lw=0.8, alpha=0.7)
                axes[1, j].plot(g["step"][ok], g["m"][ok], "o", ms=2.5, color=color)
                axes[1, j].plot(g["step"][~ok], g["m"][~ok], "x", ms=4, color=color)
                for ax, col in ((axes[0, j], "val_loss"), (axes[1, j], "m")):
                    b = g[g["best"]]
                    ax.plot(b["step"], b[col], "*", ms=13, color=color, mec="k", mew=0.6)
                    z = g[g["step"] == 0]
                    ax.plot(z["step"], z[col], "o", ms=8, mfc="none", mec=color, mew=1.2)
        axes[1, j].axhline(1.0, color="0.4", ls="--", lw=0.8)
        axes[0, j].set_title(f"{kind}: size = hidden units" if kind == "lstm"
                             else f"{kind}: size = d_model (top layer)")  # fmt: skip
        axes[0, j].set_ylabel("validation loss (nats / char)")
        axes[1, j].set_ylabel("m (stationary-mean MR)")
        axes[1, j].set_xlabel("training step")
        axes[0, j].legend(frameon=False, fontsize=8)
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
    fig.suptitle("m along training (★ best validation step, ○ untrained; × = MR fit fails "
                 "its consistency checks)", fontsize=10)  # fmt: skip
    return fig


def lstm_size_figure(res: LSTMResult, fig: Any = None) -> Any:
    """m at the best step (filled) and untrained (open) against the parameter count.

    Mean over seeds with the combined error (seeds and held-out sequences). Each
    best-step point is labelled with the number of seeds whose MR fit passes its
    consistency checks; where most seeds fail them the point is crossed out (its
    mean is not an estimate of a branching parameter).
    """
    fig = new_figure(fig, figsize=(7, 4.8))
    ax = fig.subplots()
    crossed = False
    for kind, color in (("lstm", "C0"), ("transformer", "C3")):
        s = res.summary[res.summary["model"] == kind].sort_values("n_params")
        if s.empty:
            continue
        x = s["n_params"].to_numpy(float)
        ax.errorbar(x, s["m_best"], yerr=s["m_best_err"], fmt="o-", color=color,
                    capsize=3, label=f"{kind}, best step")  # fmt: skip
        ax.errorbar(x, s["m_untrained"], yerr=s["m_untrained_err"], fmt="o--",
                    mfc="none", color=color, capsize=3, label=f"{kind}, untrained")  # fmt: skip
        valid = s["m_best_valid"].to_numpy(int)
        n = s["n_seeds"].to_numpy(int)
        bad = valid * 2 <= n
        if bad.any():
            crossed = True
            ax.plot(x[bad], s["m_best"].to_numpy(float)[bad], "x", ms=13, mew=2, color="k")
        dy = -11 if kind == "lstm" else 5  # LSTM labels below, transformer above
        for xi, yi, v, k in zip(x, s["m_best"], valid, n, strict=True):
            ax.annotate(f"{v}/{k}", (xi, yi), xytext=(5, dy), textcoords="offset points",
                        fontsize=7, color=color)  # fmt: skip
    if crossed:
        ax.plot([], [], "x", ms=9, mew=2, color="k", label="most fits fail the checks")
    ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
    ax.axhline(0.9, color="0.6", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("parameters")
    ax.set_ylabel("m (stationary-mean MR, top layer)")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("m against size (mean ± combined error over seeds; k/n: valid fits)",
                 fontsize=10)  # fmt: skip
    return fig


def lstm_units_figure(res: LSTMResult, fig: Any = None) -> Any:
    """Histograms of the per-unit m_i at the best step (solid) and untrained
    (dashed), seeds pooled, one panel per model kind."""
    kinds = [k for k in _KINDS if any(u["model"] == k for u in res.units)]
    fig = new_figure(fig, figsize=(6 * max(len(kinds), 1), 4.2))
    axes = fig.subplots(1, max(len(kinds), 1), squeeze=False)
    bins = np.linspace(-0.2, 1.05, 51)
    for ax, kind in zip(axes[0], kinds, strict=False):
        sizes = sorted({u["size"] for u in res.units if u["model"] == kind})
        for color, size in zip(_colors(len(sizes)), sizes, strict=True):
            for state, ls in (("best", "-"), ("untrained", "--")):
                vals = np.concatenate([np.asarray(u["m_i"], float) for u in res.units
                                       if u["model"] == kind and u["size"] == size
                                       and u["state"] == state] or [np.zeros(0)])  # fmt: skip
                if vals.size:
                    ax.hist(np.clip(vals, bins[0], bins[-1]), bins=bins, density=True,
                            histtype="step", ls=ls, color=color,
                            label=f"{size} {state}")  # fmt: skip
        ax.set_xlabel("per-unit branching parameter $m_i$")
        ax.set_ylabel("density")
        ax.set_title(f"{kind}: per-unit m_i (solid: best step, dashed: untrained)",
                     fontsize=10)  # fmt: skip
        ax.legend(frameon=False, fontsize=7, ncols=2)
    return fig

"""Figures of the model-side measurements: the probe table with error bars, the zoo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_probe", "plot_zoo"]

# The distance-from-criticality columns of a zoo table (crackle.experiments.zoo.METRICS,
# repeated here so that the report does not import the experiment it draws; a test
# checks that the two agree).
_ZOO_METRICS = (
    ("dist_log_sigma", "|log σ|"),
    ("dist_lyapunov", "|λ_max|"),
    ("dynamic_range_db", "Δ (dB)"),
)


def plot_probe(df: Any, fig: Any = None) -> Any:
    """The probe table (one row per model): sigma, lambda_max and Delta with their
    standard errors as error bars (critical values dashed), and accuracy against
    |lambda_max| when any accuracy is given. A dynamic range that is not a
    measurement (NaN) is written as 'n/a' with no bar. ``fig`` default: a new pyplot
    figure. Returns the Figure."""
    import matplotlib.pyplot as plt

    acc = df["accuracy"].to_numpy(dtype=float) if "accuracy" in df else np.full(len(df), np.nan)
    has_acc = bool(np.isfinite(acc).any())
    ncol = 4 if has_acc else 3
    if fig is None:
        fig = plt.figure(figsize=(3.6 * ncol, 2.6 + 0.3 * len(df)))
    axes = fig.subplots(1, ncol, squeeze=False)[0]
    y = np.arange(len(df))
    for ax, col, err, ref, label in (
        (axes[0], "branching", "branching_stderr", 1.0, "branching parameter σ"),
        (
            axes[1],
            "lyapunov",
            "lyapunov_stderr",
            0.0,
            "largest Lyapunov exponent λ_max (per layer)",
        ),
        (axes[2], "dynamic_range_db", None, None, "dynamic range Δ (dB)"),
    ):
        v = df[col].to_numpy(dtype=float)
        e = df[err].to_numpy(dtype=float) if err and err in df else None
        ok = np.isfinite(v)
        ax.errorbar(v[ok], y[ok], xerr=None if e is None else e[ok], fmt="o", capsize=3, ms=4)
        for yi in y[~ok]:
            ax.annotate("n/a", (0.5, yi), xycoords=("axes fraction", "data"), ha="center",
                        va="center", fontsize=8, color="0.4")  # fmt: skip
        if ref is not None:
            ax.axvline(ref, color="k", ls="--", lw=1)
        ax.set_yticks(y, df["model"].tolist() if ax is axes[0] else [])
        ax.set_ylim(len(df) - 0.5, -0.5)
        ax.set_xlabel(label, fontsize=9)
        ax.set_title(
            label.split(" (")[0] + ("" if e is None else " ± s.e.")
            + (f" (critical: {ref:g})" if ref is not None else ""),
            fontsize=9,
        )  # fmt: skip
        ax.grid(alpha=0.3)
    if has_acc:
        ax = axes[3]
        d = np.abs(df["lyapunov"].to_numpy(dtype=float))
        ax.errorbar(d, acc, xerr=df["lyapunov_stderr"].to_numpy(dtype=float), fmt="o", capsize=3)
        for label, xi, yi in zip(df["model"], d, acc, strict=True):
            if np.isfinite(yi):
                ax.annotate(str(label), (xi, yi), fontsize=7)
        ax.set_xlabel("distance from criticality |λ_max|")
        ax.set_ylabel("accuracy")
        ax.set_title("accuracy against |λ_max|", fontsize=9)
    fig.suptitle(f"criticality probes of {len(df)} models (bars: standard errors)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_zoo(
    result: Any, fig: Any = None, *, metrics: Sequence[tuple[str, str]] | None = None
) -> Any:
    """Six panels: test accuracy against |log σ|, |λ_max| and Δ (one colour per family,
    penalised models as crosses; rank correlations with 95 % intervals in the titles),
    |λ_max| and accuracy against the family's year, and accuracy under input noise with
    and without the criticality penalty.

    ``result`` is a zoo result (duck-typed: ``table``, ``correlations``, ``history``,
    ``robustness``, ``config``); ``metrics`` the three (column, axis label) pairs of the
    top row, by default ``result.metrics`` or the distances from criticality of the zoo
    (``ZooResult.plot`` passes ``crackle.experiments.zoo.METRICS``). Returns the pyplot
    figure.
    """
    import matplotlib.pyplot as plt

    if metrics is None:
        metrics = getattr(result, "metrics", None) or _ZOO_METRICS
    metric_cols = tuple(metrics)[:3]
    df = result.table
    if fig is None:
        fig = plt.figure(figsize=(15, 9))
    axes = fig.subplots(2, 3).ravel()
    fams = list(dict.fromkeys(df.sort_values("year")["family"]))
    cmap = plt.get_cmap("tab10")
    color = {f: cmap(i % 10) for i, f in enumerate(fams)}
    pen = df["penalty"].astype(bool).to_numpy()
    corr = {c["metric"]: c for c in result.correlations}

    def fmt(c: dict[str, Any], key: str) -> str:
        v, lo, hi = c.get(key, np.nan), c.get(f"{key}_lo", np.nan), c.get(f"{key}_hi", np.nan)
        return f"{v:+.2f} [{lo:+.2f}, {hi:+.2f}]"

    for ax, (col, label) in zip(axes[:3], metric_cols, strict=True):
        for f in fams:
            sel = (df["family"] == f).to_numpy()
            ax.scatter(df.loc[sel & ~pen, col], df.loc[sel & ~pen, "test_accuracy"], s=18,
                       color=color[f], label=f)  # fmt: skip
            ax.scatter(df.loc[sel & pen, col], df.loc[sel & pen, "test_accuracy"], s=30,
                       color=color[f], marker="x")  # fmt: skip
        c = corr.get(col, {})
        ax.set_title(
            f"ρ = {fmt(c, 'spearman')} (n = {c.get('n', 0)})\n"
            f"given size: {fmt(c, 'partial_params')}\n"
            f"given size and family: {fmt(c, 'partial_family')}",
            fontsize=8,
        )
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False, ncol=2)
    plain = df[~pen]
    for ax, col, lab in (
        (axes[3], "dist_lyapunov", "|λ_max|"),
        (axes[4], "test_accuracy", "test accuracy"),
    ):
        for f in fams:
            sub = plain[plain["family"] == f]
            jitter = np.linspace(-0.3, 0.3, len(sub)) if len(sub) > 1 else np.zeros(len(sub))
            ax.scatter(sub["year"] + jitter, sub[col], s=12, color=color[f], alpha=0.7)
            ax.plot(sub["year"].iloc[:1], [sub[col].mean()], "_", ms=18, mew=2, color=color[f])
        h = result.history.get("year_spearman", {}).get(col, {})
        if h:
            ax.set_title(
                f"ρ(year, {lab}) = {h['rho']:+.2f} [{h['lo']:+.2f}, {h['hi']:+.2f}]", fontsize=8
            )
        ax.set_xlabel("year the family was introduced")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    ax = axes[5]
    rows = {r["column"]: r for r in result.robustness}
    levels = [0.0, *result.config.noise]
    cols = ["test_accuracy", *[f"acc_noise_{s:g}" for s in result.config.noise]]
    if all(c in rows for c in cols):
        for key, lab, mk in (
            ("plain_mean", "no penalty", "o-"),
            ("penalty_mean", "penalty", "s--"),
        ):
            ax.plot(levels, [rows[c][key] for c in cols], mk, label=lab)
        diffs = [f"{rows[c]['mean_difference']:+.3f} [{rows[c]['lo']:+.3f}, {rows[c]['hi']:+.3f}]"
                 for c in cols]  # fmt: skip
        ax.set_title("penalty − plain: " + "; ".join(diffs[1:]), fontsize=7)
        ax.legend(fontsize=8, frameon=False)
    ax.set_xlabel("input noise std (standardised pixels)")
    ax.set_ylabel(f"accuracy (mean over {rows.get('test_accuracy', {}).get('n_pairs', 0)} pairs)")
    ax.grid(alpha=0.3)
    fig.suptitle(
        f"Fashion-MNIST zoo: {int((~pen).sum())} models without and {int(pen.sum())} with "
        f"the criticality penalty, {result.config.steps} steps of {result.config.batch_size}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig

"""Figures of a sweep: each numeric result against the first axis, one line per value
of the other axes (mean over replicates, with their spread). matplotlib is imported
inside the functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crackle.sweep.ledger import RESERVED_COLUMNS

__all__ = ["plot_result", "result_columns", "sweep_figures"]

_MAX_FIGURES = 24
_MAX_LINES = 12


def result_columns(df: Any, params: list[str]) -> list[str]:
    """Numeric (not boolean) result columns of a sweep table that hold a finite value,
    except uncertainties (``*_err``), which stay in the table."""
    out = []
    for col in df.columns:
        if col in RESERVED_COLUMNS or col in params or col.endswith("_err"):
            continue
        s = df[col]
        if s.dtype.kind in "iuf" and np.isfinite(s.to_numpy(dtype=float)).any():
            out.append(col)
    return out


def plot_result(df: Any, result: str, x: str, lines: list[str], ax: Any = None) -> Any:
    """``result`` against ``x``, one line per combination of ``lines`` columns.

    ``df`` holds the rows with status 'ok'. Numbers on ``x`` give a numeric axis,
    anything else evenly spaced categories.
    """
    from crackle.report.figures import new_axes

    ax = new_axes(ax)
    xs = df[x]
    numeric = xs.dtype.kind in "iuf"
    cats = list(dict.fromkeys(xs)) if not numeric else []
    groups = list(df.groupby(lines, sort=True, dropna=False)) if lines else [((), df)]
    for i, (label, g) in enumerate(groups[:_MAX_LINES]):
        stats = g.groupby(x, sort=True)[result].agg(["mean", "std", "count"])
        pos = stats.index.to_numpy(dtype=float) if numeric else [cats.index(v) for v in stats.index]
        err = stats["std"].where(stats["count"] > 1)
        lab = ", ".join(f"{k}={v}" for k, v in zip(lines, np.atleast_1d(label), strict=False))
        ax.errorbar(
            pos,
            stats["mean"],
            yerr=err,
            marker="o",
            ms=4,
            capsize=2,
            color=f"C{i % 10}",
            label=lab or None,
        )
    if not numeric:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    if len(groups) > _MAX_LINES:
        ax.set_title(f"first {_MAX_LINES} of {len(groups)} lines", fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(result)
    if lines:
        ax.legend(fontsize=7)
    return ax


def sweep_figures(
    table: str | Path, params: list[str], axes: list[str], directory: str | Path
) -> list[Path]:
    """One PNG per numeric result of ``table`` (results.parquet) in ``directory``.

    ``params`` names every parameter column, ``axes`` those that vary (the first is
    the x axis; without axes, results are drawn against the replicate index).
    Returns the paths written (none when no point succeeded).
    """
    import pandas as pd
    from matplotlib.figure import Figure

    from crackle.report.figures import save_figure

    df = pd.read_parquet(table)
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return []
    x = axes[0] if axes else "replicate"
    lines = [a for a in axes[1:] if ok[a].nunique() > 1]
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for result in result_columns(ok, params)[:_MAX_FIGURES]:
        fig = Figure(figsize=(5.5, 4.2), layout="constrained")
        plot_result(ok, result, x, lines, ax=fig.add_subplot())
        paths.append(save_figure(fig, out / f"{result}.png"))
    return paths

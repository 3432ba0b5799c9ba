"""Read and write the avalanches and the crackling report of a run directory.

This module takes a report already computed (any object with ``to_dict()`` and the
attributes :func:`~crackle.report.figures.save_report_figures` draws); computing it is
the caller's job (``crackle.experiments.run_report.write_run_report`` does both), so
that ``crackle.report`` never imports the statistics it draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crackle.events.avalanches import Avalanches
from crackle.io.rundir import RunDir
from crackle.io.tables import AvalancheWriter, read_avalanches
from crackle.report.figures import save_report_figures

__all__ = ["load_run_avalanches", "save_avalanches", "write_report_files"]


def save_avalanches(av: Avalanches, run: RunDir) -> list[Path]:
    """Write ``avalanches.parquet`` (and ``shapes.npz`` when there are shapes)."""
    with AvalancheWriter(run.avalanches) as writer:
        writer.write(av)
    paths = [run.avalanches]
    if av.shapes is not None:
        paths.append(run.write_shapes(av.shapes))
    return paths


def load_run_avalanches(run: RunDir) -> Avalanches:
    """The avalanches of a run directory, with its shape sums when present."""
    if not run.avalanches.exists():
        partial = run.avalanches.with_name(run.avalanches.name + ".partial")
        hint = (
            " (an unfinished .partial file is there: the run was interrupted)"
            if (partial.exists())
            else ""
        )
        raise FileNotFoundError(f"{run.path} has no avalanches.parquet{hint}")
    av = read_avalanches(run.avalanches)
    shapes = run.read_shapes()
    return Avalanches(
        av.sizes,
        av.durations,
        av.censored_sizes,
        av.censored_durations,
        shapes,
        av.n_empty,
        {"source": str(run.path)},
    )


def write_report_files(rep: Any, run: RunDir) -> list[Path]:
    """Write ``report.json`` (from ``rep.to_dict()``) and the report's figures into
    ``run``; return the paths, ``report.json`` first.

    ``rep`` is a :class:`~crackle.CracklingReport` (duck-typed: this module does not
    import the statistics).
    """
    paths = [run.write_report(rep.to_dict())]
    paths += save_report_figures(rep, run.figures)
    return paths

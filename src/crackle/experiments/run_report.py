"""The crackling report of a run directory's avalanches, computed and written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crackle.events.avalanches import Avalanches
from crackle.io.rundir import RunDir
from crackle.report.run import write_report_files
from crackle.stats.crackling import CracklingReport, crackling_report

__all__ = ["write_run_report"]


def write_run_report(
    av: Avalanches, run: RunDir, **report_kwargs: Any
) -> tuple[CracklingReport, list[Path]]:
    """Run :func:`~crackle.crackling_report` on ``av`` (``report_kwargs`` go to it) and
    write ``report.json`` and the figures into ``run``; return the report and the paths
    written (``report.json`` first)."""
    rep = crackling_report(av, **report_kwargs)
    return rep, write_report_files(rep, run)

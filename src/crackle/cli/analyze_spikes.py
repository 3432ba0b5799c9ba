"""``crackle analyze SPIKES --bin iei|WIDTH``: a spike file -> a criticality run directory.

``crackle analyze`` hands a file here when it holds spikes (see :func:`is_spike_file`).
The run directory gets ``config.json``, ``report.json`` (the whole
:class:`~crackle.stats.spike_analysis.SpikeAnalysis`) and ``figures/``: the crackling
summary, the exponents against the bin width, MR with its fits and the data against
its surrogates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crackle.cli._common import console, note, progress_bar, writing

__all__ = ["is_spike_file", "parse_bin", "run_spike_analysis"]

_AVALANCHE_TABLES = (".parquet", ".pq", ".csv", ".npy", ".npz")
_SIZE_NAMES = ("size", "sizes", "S")


def _columns(path: Path) -> list[str]:
    ext = path.suffix.lower()
    if ext in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    if ext == ".csv":
        import pandas as pd

        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    if ext == ".npz":
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            return list(z.files)
    return []


def is_spike_file(source: Path, bin_width: str | None, time_column: str = "time") -> bool:
    """A file of spikes rather than avalanches.

    Yes when ``--bin`` is given, for NWB and Neo files (any extension other than
    .parquet/.csv/.npy/.npz), and for tables with a time column (``time`` or
    ``times``) but no size column. A (n, 2) .npy is avalanches unless ``--bin``.
    """
    if source.is_dir():
        return False
    if bin_width is not None:
        return True
    if source.suffix.lower() not in _AVALANCHE_TABLES:
        return True
    cols = _columns(source)
    has_time = any(c in cols for c in (time_column, "time", "times"))
    return has_time and not any(c in cols for c in _SIZE_NAMES)


def parse_bin(text: str | None) -> float | str:
    """``iei`` (default) or a positive number, in the time unit of the spikes."""
    if text is None or text.strip().lower() == "iei":
        return "iei"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--bin must be 'iei' or a positive number, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"--bin must be 'iei' or a positive number, got {text!r}")
    return value


def run_spike_analysis(
    source: Path,
    *,
    out: Path | None,
    bin_width: str | None,
    columns: str | None = None,
    n_surrogates: int = 3,
    seed: int = 0,
    wait: bool = False,
) -> None:
    """Read, analyse, write the run directory, print the summary table."""
    from rich.table import Table

    from crackle.cli._tables import report_table
    from crackle.events.spike_files import read_spikes
    from crackle.io.rundir import RunDir
    from crackle.stats.spike_analysis import analyze_spikes

    width = parse_bin(bin_width)
    time_col, unit_col = "time", "unit"
    if columns:
        parts = [p.strip() for p in columns.split(",")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"--spike-columns must be TIME,UNIT, got {columns!r}")
        time_col, unit_col = parts
    with progress_bar() as progress:
        task = progress.add_task("reading spikes", total=3)
        spikes = read_spikes(source, time_col=time_col, unit_col=unit_col)
        progress.advance(task)
        progress.update(task, description="analysing")
        res = analyze_spikes(spikes, width, n_surrogates=n_surrogates, seed=seed)
        progress.advance(task)
        progress.update(task, description="writing")
        target = out or Path("runs") / f"analyze-{source.stem}"
        with writing(target, wait):
            paths = _write(
                RunDir.create(target), source, res, width, time_col, unit_col, n_surrogates, seed
            )
        run = RunDir(target)
        progress.advance(task)
    table = Table(title=f"spike analysis: {source}", title_justify="left")
    for col, style in (("quantity", "bold"), ("value", None), ("comment", "dim")):
        table.add_column(col, style=style, justify="right" if col == "value" else "left")
    for row in res.summary():
        table.add_row(*row)
    console.print(table)
    console.print(report_table(res.report, title="crackling report (pooled counts)"))
    for reason in res.mr.reasons:
        note(reason, "MR check:")
    console.print(f"wrote {run.report} and {len(paths)} figures in {run.figures}/")


def _write(
    run: Any,
    source: Path,
    res: Any,
    width: float | str,
    time_col: str,
    unit_col: str,
    n_surrogates: int,
    seed: int,
) -> list[Path]:
    from crackle.report.neural_figures import save_spike_figures

    run.write_config(
        {
            "command": "analyze",
            "source": str(source.resolve()),
            "input": "spikes",
            "bin": width,
            "time_column": time_col,
            "unit_column": unit_col,
            "n_surrogates": n_surrogates,
            "seed": seed,
        }
    )
    run.write_report(res.to_dict())
    return list(save_spike_figures(res, run.figures))

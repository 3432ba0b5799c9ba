"""``crackle report DIR``: one self-contained HTML page of a run or sweep directory."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import clean_errors, console
from crackle.cli.main import app


@app.command("report")
@clean_errors
def report(
    source: Path = typer.Argument(..., help="Run directory or sweep directory."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="HTML file to write (default: SOURCE/report.html)."
    ),
) -> None:
    """Write one HTML page (figures, tables, parameters, versions) that opens offline."""
    from crackle.report.html import write_html_report

    path = write_html_report(source, out)
    console.print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")

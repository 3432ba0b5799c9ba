"""``crackle report DIR``: one self-contained HTML page of a run or sweep directory."""

from __future__ import annotations

from pathlib import Path

import typer

from crackle.cli._common import WAIT_HELP, clean_errors, console, writing
from crackle.cli.main import app


def _check_config(path: Path) -> None:
    """A run's config.json must hold its 'parameters' object: a page without them would
    be a half-rendered report."""
    from crackle.io.state import CorruptStateError, read_json_object

    fix = "it is not a config crackle wrote; rerun the command that made this run directory"
    cfg = read_json_object(path, "run config", required=("parameters",), fix=fix)
    if not isinstance(cfg["parameters"], dict):
        raise CorruptStateError(f"{path} is corrupt: 'parameters' is not an object; {fix}")


@app.command("report")
@clean_errors
def report(
    source: Path = typer.Argument(..., help="Run directory or sweep directory."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="HTML file to write (default: SOURCE/report.html)."
    ),
    wait: bool = typer.Option(False, "--wait", help=WAIT_HELP),
) -> None:
    """Write one HTML page (figures, tables, parameters, versions) that opens offline.

    A corrupt state file (config.json, report.json, sweep.json) is an error naming it;
    point records of a sweep that do not parse are listed in the page.
    """
    from crackle.report.html import write_html_report

    if not source.is_dir():
        raise FileNotFoundError(f"no such run or sweep directory: {source}")
    # The directory is read while no other crackle process writes it.
    what = "sweep directory" if (source / "sweep.json").exists() else "run directory"
    with writing(source, wait, what):
        if what == "run directory" and (source / "config.json").exists():
            _check_config(source / "config.json")
        path = write_html_report(source, out)
    console.print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")

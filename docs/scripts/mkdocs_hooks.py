"""mkdocs hooks: the tutorial notebooks become pages at build time.

The tutorials are kept as jupytext percent scripts in ``notebooks/`` (diffable, run by
tests/docs/test_notebooks.py). Here each one is converted to a Markdown page,
``notebooks/<name>.md``, with its code cells as fenced Python blocks; the page is not
executed during the build (run the script, or open it in Jupyter with jupytext, to see
the outputs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def notebook_markdown(path: Path) -> str:
    """The Markdown page of one percent-format notebook."""
    import jupytext

    nb = jupytext.read(path)
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("kernelspec", None)
    for cell in nb.cells:
        cell.metadata.clear()
    text = jupytext.writes(nb, fmt="md")
    if text.startswith("---\n"):  # jupytext's metadata header: not for readers
        text = text.split("\n---\n", 1)[1].lstrip("\n")
    note = (
        f'\n\n!!! note "Run it"\n    This page is the notebook `notebooks/{path.name}`, kept '
        "as a jupytext\n    percent script: run it with `python notebooks/"
        f"{path.name}`, or open it in\n    Jupyter as a notebook with jupytext.\n"
    )
    return text.rstrip() + note


def on_files(files: Any, config: Any) -> Any:
    """Add one generated page per notebook."""
    from mkdocs.structure.files import File

    for path in sorted(NOTEBOOKS.glob("*.py")):
        uri = f"notebooks/{path.stem}.md"
        files.append(File.generated(config, uri, content=notebook_markdown(path)))
    return files

"""Every fenced ``python`` block of README.md and docs/*.md runs as written.

The blocks of one page run in order in one namespace, in a temporary working
directory, so that a page reads like a session. A block that needs minutes, a GPU or a
data file that is not present is marked in the Markdown by an HTML comment on the line
just before it::

    <!-- skip: trains 108 models (hours on a CPU) -->
    ```python
    ...
    ```

and this test reports the reason as a skip. Figures go to matplotlib's Agg backend.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Pages whose blocks take more than ~10 s together (measured on a shared 2-core machine).
SLOW_PAGES = {
    "README.md",
    "branching.md",
    "gaussian.md",
    "meanfield.md",
    "neural.md",
    "recurrent.md",
    "training.md",
}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_SKIP = re.compile(r"^\s*<!--\s*skip:\s*(?P<reason>.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: str
    index: int
    line: int
    code: str
    skip: str | None


def blocks_of(path: Path) -> list[Block]:
    """The fenced ``python`` blocks of a Markdown file, with their skip reasons."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m["fence"], m["info"].strip(), i
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence)}\s*$", lines[j]):
            j += 1
        if info.split(maxsplit=1)[:1] == ["python"]:
            k = start - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            skip = _SKIP.match(lines[k]) if k >= 0 else None
            code = textwrap.dedent("\n".join(lines[start + 1 : j]))
            out.append(
                Block(path.name, len(out), start + 1, code, skip["reason"] if skip else None)
            )
        i = j + 1
    return out


def _page_params() -> list[Any]:
    params = []
    for path in PAGES:
        blocks = blocks_of(path)
        if any(b.skip is None for b in blocks):
            marks = [pytest.mark.slow] if path.name in SLOW_PAGES else []
            params.append(pytest.param(path, id=path.name, marks=marks))
    return params


def _skipped_params() -> list[Any]:
    return [
        pytest.param(b, id=f"{b.page}:{b.line}")
        for path in PAGES
        for b in blocks_of(path)
        if b.skip is not None
    ]


def _close_figures() -> None:
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.mark.parametrize("path", _page_params())
def test_page_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One test per page, so that its blocks share one process and one namespace
    # whatever the distribution of tests over workers.
    monkeypatch.chdir(tmp_path)
    ns: dict[str, Any] = {"__name__": "__main__"}
    for b in blocks_of(path):
        if b.skip is None:
            try:
                exec(compile(b.code, f"{b.page}, block at line {b.line}", "exec"), ns)
            finally:
                _close_figures()


@pytest.mark.parametrize("block", _skipped_params())
def test_marked_block(block: Block) -> None:
    # A block marked in the Markdown: reported with its reason, never run.
    pytest.skip(f"{block.page}:{block.line}: {block.skip}")


def test_the_parser_finds_blocks_and_skip_reasons(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n```python\nx = 1\n```\n\n<!-- skip: needs a GPU -->\n```python\n"
        "y = x\n```\n\n```bash\nls\n```\n\n  ```python\n  z = 2\n  ```\n"
    )
    got = blocks_of(page)
    assert [(b.code, b.skip) for b in got] == [
        ("x = 1", None),
        ("y = x", "needs a GPU"),
        ("z = 2", None),
    ]
    assert sum(len(blocks_of(p)) for p in PAGES) > 20

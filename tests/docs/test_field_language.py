"""The documentation and the code speak the field's language.

Papers are cited by authors, year and arXiv id (Ghavasieh et al. 2025, arXiv
2509.22649; Vock & Meisel 2025, arXiv 2507.08527; Ren & Feng, arXiv 2606.10384), the
theory by docs/theory.md, never by internal names: the team's numbering of the source
papers ("seed 002"), a notes file that is not in the repository, or tracker numbers.
This file is the only one allowed to spell those patterns.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

# The patterns an internal reference takes (case-insensitive).
PATTERNS = {
    "internal paper number": r"seed[ _-]?00|seed papers?\b",
    "notes file outside the repository": r"SCIENCE\.md",
    "tracker number": r"\bissues? #?[0-9]",
}
SCANNED = ("src", "docs", "README.md", "benchmarks", "examples", "tests", "notebooks")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".yml", ".yaml", ".json", ".csv", ".ipynb"}
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def _files() -> list[Path]:
    out: list[Path] = []
    for top in SCANNED:
        p = ROOT / top
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                if (
                    f.is_file()
                    and f.suffix in TEXT_SUFFIXES
                    and not SKIPPED_PARTS & set(f.parts)
                    and not any(part.endswith(".egg-info") for part in f.parts)
                    and f.resolve() != THIS
                ):
                    out.append(f)
    return out


def _hits(text: str) -> list[tuple[int, str, str]]:
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for what, pattern in PATTERNS.items():
            if re.search(pattern, line, flags=re.IGNORECASE):
                found.append((lineno, what, line.strip()))
    return found


def test_the_scanner_finds_each_pattern():
    # The check cannot pass vacuously: every pattern is caught in a sample line.
    samples = [
        "as in Seed 002, Fig. 4",
        "the seed-002 layout",
        "the seed paper's claim",
        "see SCIENCE.md section 1",
        "## issue 5",
        "fixes issue #12",
    ]
    assert [len(_hits(s)) for s in samples] == [1, 1, 1, 1, 1, 1]
    assert _hits("Ghavasieh et al. 2025 (arXiv 2509.22649), seed 0, tissue 3") == []
    assert len(_files()) > 50


@pytest.mark.parametrize("top", SCANNED)
def test_no_internal_references(top):
    bad = []
    for f in _files():
        rel = f.relative_to(ROOT)
        if rel.parts[0] != top:
            continue
        for lineno, what, line in _hits(f.read_text(encoding="utf-8", errors="replace")):
            bad.append(f"{rel}:{lineno}: {what}: {line[:100]}")
    assert not bad, "internal references (cite papers by authors, year, arXiv id):\n" + "\n".join(
        bad
    )

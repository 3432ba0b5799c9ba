"""The documentation site builds in strict mode, and its API reference is complete."""

import importlib.util
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "jupytext")


def _missing() -> list[str]:
    return [p for p in SITE_PACKAGES if importlib.util.find_spec(p.split(".")[0]) is None]


@pytest.fixture(scope="module")
def api_generator():
    return runpy.run_path(str(ROOT / "docs" / "scripts" / "make_api_pages.py"))


def test_api_pages_are_up_to_date(api_generator):
    # The committed pages are what the generator writes today: a public name added,
    # removed or moved to another module shows here with the command that mends it.
    g = api_generator
    pages = {
        "index": g["index_page"](),
        "crackle": g["top_level_page"](),
        "report": g["report_page"](),
    }
    for page, (package, blurb) in g["PACKAGES"].items():
        pages[page] = g["package_page"](page, package, blurb)
    stale = []
    for page, text in pages.items():
        path = ROOT / "docs" / "api" / f"{page}.md"
        want = text if text.endswith("\n") else text + "\n"
        if not path.is_file() or path.read_text() != want:
            stale.append(str(path.relative_to(ROOT)))
    assert not stale, f"stale API pages {stale}: run python docs/scripts/make_api_pages.py"


def test_every_public_name_has_an_api_entry(api_generator):
    import crackle

    text = "\n".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    missing = []
    for package, _ in api_generator["PACKAGES"].values():
        for name in api_generator["public_names"](package):
            if f"heading: {package}.{name}\n" not in text and f"::: {package}.{name}\n" not in text:
                missing.append(f"{package}.{name}")
    for name in crackle.__all__:
        if not name.startswith("__") and f"| `crackle.{name}` |" not in text:
            missing.append(f"crackle.{name}")
    assert not missing


def test_every_docs_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert [p for p in pages if f": {p}\n" not in nav] == []
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    assert [n for n in notebooks if f": notebooks/{n}.md\n" not in nav] == []


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    missing = _missing()
    if missing:
        pytest.skip(f"the documentation packages are not installed: {', '.join(missing)}")
    config, site = str(ROOT / "mkdocs.yml"), str(tmp_path / "site")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", config, "-d", site],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert (tmp_path / "site" / "api" / "stats" / "index.html").is_file()
    assert (tmp_path / "site" / "notebooks" / "demo" / "index.html").is_file()

"""Write the API reference pages, docs/api/*.md, from the packages' ``__all__``.

Run it after adding a public name (``python docs/scripts/make_api_pages.py``);
tests/docs/test_site.py fails when a public name is missing from the pages.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

API = Path(__file__).resolve().parents[1] / "api"

#: page -> (package, what it holds)
PACKAGES: dict[str, tuple[str, str]] = {
    "events": ("crackle.events", "Avalanches from trajectories, binned counts and spikes."),
    "stats": (
        "crackle.stats",
        "Power laws, the crackling report, shape collapse, universality classes, the "
        "branching ratio and long-range correlations.",
    ),
    "theory": ("crackle.theory.meanfield", "Mean-field signal propagation (`ck.meanfield`)."),
    "sim": ("crackle.sim", "Generators with known physics."),
    "nn": ("crackle.nn", "Hooks and probes for any `torch.nn.Module` (needs torch)."),
    "train": ("crackle.train", "Data loaders, the criticality penalty and the monitor."),
    "experiments": ("crackle.experiments", "A paper's figure end to end."),
    "sweep": ("crackle.sweep", "Parameter sweeps on Dask with a resumable ledger."),
    "io": ("crackle.io", "Atomic writes, run directories, avalanche tables."),
}


def public_names(package: str) -> list[str]:
    """The names a package exports, in the order of its ``__all__``."""
    return [n for n in importlib.import_module(package).__all__ if not n.startswith("__")]


def report_modules() -> list[str]:
    """The public modules of crackle.report (the package has no ``__all__``)."""
    pkg = importlib.import_module("crackle.report")
    return [
        f"crackle.report.{m.name}"
        for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_")
    ]


def identifier(package: str, name: str) -> str:
    """Where a public name is defined: the path mkdocstrings documents it under.

    Classes and functions are documented where they are defined (a package that loads
    its names lazily need not import them for the documentation to find them); other
    objects (constants) under the package that exports them.
    """
    obj = getattr(importlib.import_module(package), name)
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    defined_here = bool(module and qualname and module.startswith("crackle"))
    if callable(obj) and defined_here and "<" not in str(qualname):
        return f"{module}.{qualname}"
    return f"{package}.{name}"


def where_documented() -> dict[int, str]:
    """id(object) -> the identifier under which a subpackage page documents it."""
    out: dict[int, str] = {}
    for package, _ in PACKAGES.values():
        mod = importlib.import_module(package)
        for name in public_names(package):
            out.setdefault(id(getattr(mod, name)), identifier(package, name))
    return out


def package_page(page: str, package: str, blurb: str) -> str:
    lines = [f"# `{package}`", "", blurb, ""]
    for name in public_names(package):
        ident = identifier(package, name)
        lines += [f"::: {ident}", ""]
        if ident != f"{package}.{name}":
            lines[-1:] = ["    options:", f"      heading: {package}.{name}", ""]
    return "\n".join(lines)


def top_level_page() -> str:
    import crackle

    known = where_documented()
    own: list[str] = []
    lines = [
        "# `crackle`",
        "",
        "`import crackle as ck` gives the events and statistics core; `ck.sim`, `ck.nn` and",
        "`ck.meanfield` load on first use (importing crackle never imports torch). Each",
        "name below is documented on its subpackage's page.",
        "",
        "| name | documented as |",
        "|---|---|",
    ]
    for name in public_names("crackle"):
        obj = getattr(crackle, name)
        if name == "meanfield":
            target = "[`crackle.theory.meanfield`](theory.md)"
        elif name in ("sim", "nn"):
            target = f"[`crackle.{name}`]({name}.md)"
        elif id(obj) in known:
            ident = known[id(obj)]
            target = f"[`{ident}`][{ident}]"
        else:  # defined at the top level: documented on this page
            own.append(name)
            target = f"[below][crackle.{name}]"
        lines.append(f"| `crackle.{name}` | {target} |")
    lines.append("")
    for name in own:
        lines += [f"::: crackle.{name}", ""]
    return "\n".join(lines)


def report_page() -> str:
    lines = [
        "# `crackle.report`",
        "",
        "Figures (matplotlib, imported inside the functions) and run reports. The result",
        "objects' `plot()` methods delegate here.",
        "",
    ]
    for module in report_modules():
        lines += [f"::: {module}", "    options:", "      show_submodules: false", ""]
    return "\n".join(lines)


def index_page() -> str:
    lines = [
        "# API reference",
        "",
        "Every public name, by pipeline stage (source -> events -> statistics -> report).",
        "Docstrings follow numpydoc: parameters with shapes, returns, references to the",
        "papers, and a doctested example.",
        "",
        "- [`crackle`](crackle.md): the top-level names, each pointing to its page.",
    ]
    for page, (package, blurb) in PACKAGES.items():
        lines.append(f"- [`{package}`]({page}.md): {blurb}")
    lines.append("- [`crackle.report`](report.md): figures and run reports.")
    return "\n".join(lines) + "\n"


def main() -> None:
    API.mkdir(exist_ok=True)
    pages = {"index": index_page(), "crackle": top_level_page(), "report": report_page()}
    for page, (package, blurb) in PACKAGES.items():
        pages[page] = package_page(page, package, blurb)
    for page, text in pages.items():
        (API / f"{page}.md").write_text(text if text.endswith("\n") else text + "\n")
        print(f"docs/api/{page}.md")


if __name__ == "__main__":
    main()

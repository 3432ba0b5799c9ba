"""The report stage draws what the statistics and the experiments hand it: the import
graph of crackle's subpackages, read from the source (every import a module can run,
at module level or inside a function; annotations under ``if TYPE_CHECKING:`` left out),
has no cycle through ``crackle.report``."""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import crackle

SRC = Path(crackle.__file__).parent


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    def __init__(self, package: str) -> None:
        self.package = package
        self.found: list[tuple[str, int]] = []

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(a.name, node.lineno) for a in node.names if a.name.startswith("crackle")]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            base = parts[: len(parts) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if module == "crackle":  # from crackle import stats, report, ...
            self.found += [(f"crackle.{a.name}", node.lineno) for a in node.names]
        elif module.startswith("crackle."):
            self.found.append((module, node.lineno))


def _subpackage(module: str) -> str | None:
    """``stats`` for crackle.stats.powerlaw; None for the top level and private helpers
    (crackle._validation, crackle._binning), which every stage may use."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1].startswith("_"):
        return None
    return parts[1]


@cache
def import_graph() -> dict[str, dict[str, list[str]]]:
    """{importer subpackage: {imported subpackage: ["file:line -> module", ...]}}."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts)
        if path.name == "__init__.py":
            module = module.removesuffix(".__init__")
            package = module
        else:
            package = module.rsplit(".", 1)[0]
        visitor = _Imports(package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        a = _subpackage(module)
        for target, line in visitor.found:
            b = _subpackage(target)
            if a and b and a != b:
                graph[a][b].append(f"{path.relative_to(SRC)}:{line} -> {target}")
    return graph


def _reaches(graph: dict[str, dict[str, list[str]]], start: str, goal: str) -> list[str] | None:
    """A path of subpackages from ``start`` to ``goal``, or None."""
    seen, stack = {start}, [[start]]
    while stack:
        path = stack.pop()
        for nxt in graph.get(path[-1], {}):
            if nxt == goal:
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                stack.append([*path, nxt])
    return None


def test_the_graph_sees_the_plot_delegation():
    """The reader works: result objects' plot() reach crackle.report by lazy imports."""
    graph = import_graph()
    assert "report" in graph["stats"]
    assert "report" in graph["experiments"]


def test_report_imports_neither_the_statistics_nor_the_experiments():
    graph = import_graph()
    for stage in ("stats", "experiments", "sweep", "nn", "sim", "train", "cli"):
        assert stage not in graph["report"], (
            f"crackle.report imports crackle.{stage}: {graph['report'][stage]}"
        )


def test_no_cycle_through_report():
    graph = import_graph()
    for other in list(graph):
        there = _reaches(graph, "report", other)
        back = _reaches(graph, other, "report")
        assert not (there and back and other != "report"), (
            f"import cycle: {' -> '.join(there or [])} and {' -> '.join(back or [])}"
        )


def test_zoo_metrics_agree_with_the_report_copy():
    from crackle.experiments.zoo import METRICS
    from crackle.report.nn_figures import _ZOO_METRICS

    assert tuple(METRICS) == tuple(_ZOO_METRICS)

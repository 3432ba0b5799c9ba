"""Rich renderings of library results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:  # the statistics load when a command runs, not for --help
    from crackle.stats.crackling import CracklingReport


def report_table(rep: CracklingReport, title: str = "crackling report") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("quantity", style="bold")
    table.add_column("value", justify="right")
    table.add_column("comment", style="dim")
    for name, value, comment in rep.summary():
        table.add_row(name, value, comment)
    return table

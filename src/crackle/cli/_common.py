"""What every command shares: the console, error handling, progress bars, and the
parsing of comma-separated options."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def clean_errors(func: F) -> F:
    """Turn a ValueError or missing file into one red line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ValueError, FileNotFoundError, FileExistsError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich progress bar that stays quiet when output is not a terminal."""
    with Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    ) as progress:
        yield progress


def split_names(text: str) -> tuple[str, ...]:
    """``"a, b,"`` -> ``("a", "b")``: a comma-separated option, blanks dropped."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def split_floats(text: str, name: str) -> tuple[float, ...]:
    """A comma-separated option of numbers; a clear error naming ``name`` otherwise."""
    try:
        return tuple(float(v) for v in split_names(text))
    except ValueError:
        raise ValueError(f"{name} must be comma-separated numbers; got {text!r}") from None


def split_ints(text: str, name: str) -> tuple[int, ...]:
    """A comma-separated option of integers; a clear error naming ``name`` otherwise."""
    try:
        return tuple(int(v) for v in split_names(text))
    except ValueError:
        raise ValueError(f"{name} must be comma-separated integers; got {text!r}") from None

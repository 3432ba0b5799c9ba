"""What every command shares: the console, error handling, progress bars, and the
parsing of comma-separated options.

Exit codes (the same for every command):

0
    Done.
1
    The work could not be finished: the system refused a read or write (permission,
    read-only file system, disk full, too many open files), memory ran out, or some
    points of a sweep failed. Finished work is kept; rerun the same command to resume.
2
    The request cannot be carried out as given: an invalid option or value, a missing,
    unreadable or corrupt input or state file, a path that is a directory where a file
    is expected (or the reverse), a run directory that holds another run or that
    another crackle process is writing (``--wait`` waits for it instead).
130
    Interrupted (Ctrl-C); rerun the same command to resume a run or sweep.

Every error is one line on stderr, ``error: ...``, naming the path involved; nothing
the user typed (paths, file names, column names) is read as console markup.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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
from rich.text import Text

# markup=False: paths, file names and messages are printed exactly as they are (a file
# named "[red]x.csv" stays "[red]x.csv"); styles come from Text objects (see `note`).
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)

F = TypeVar("F", bound=Callable[..., Any])

#: Help text of every command's ``--wait`` option.
WAIT_HELP = (
    "When another crackle process is writing the output directory, wait for it to finish "
    "(default: stop with exit code 2)."
)

_HINTS = {
    errno.EROFS: "the file system is read-only; choose another --out",
    errno.ENOSPC: "the disk is full; free some space and rerun the same command (finished "
    "work is kept)",
    errno.EDQUOT: "the disk quota is exceeded; free some space and rerun the same command",
    errno.EACCES: "permission denied; choose a path you can write to, or fix its permissions",
    errno.EPERM: "operation not permitted; choose another path or fix its permissions",
    errno.EISDIR: "it is a directory where a file is expected; give a file name",
    errno.ENOTDIR: "a file stands where a directory is expected; choose another path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and rerun",
    errno.ENAMETOOLONG: "the file name is too long; choose a shorter path",
}
_INPUT_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


def error_line(text: str) -> None:
    """Print ``error: text`` on stderr, ``text`` literally, on one logical line."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", text), soft_wrap=True)


def note(text: str, label: str = "note:") -> None:
    """Print ``label text`` (label in yellow), ``text`` literally."""
    console.print(Text.assemble((label, "yellow"), " ", str(text)), soft_wrap=True)


def os_error_message(exc: OSError, where: Any = None) -> str:
    """One line for an OSError: the path, what happened, what to do."""
    code = exc.errno
    if code is None and not exc.filename:
        text = str(exc)  # our own message, or a library's (pyarrow) with the reason
        if where is not None and str(where) not in text:
            text += f" (output directory {where})"
        return text
    path = exc.filename if exc.filename is not None else where
    what = exc.strerror or str(exc)
    head = f"{path}: {what}" if path is not None else what
    if exc.filename2 is not None:
        head += f" (renaming to {exc.filename2})"
    hint = _HINTS.get(code) if code is not None else None
    return f"{head}; {hint}" if hint else head


def clean_errors(func: F) -> F:
    """Turn every expected failure into one red line and a documented exit code
    (see the module docstring): 2 for bad input, 1 for what the system refused."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from crackle.io.lock import RunDirLockedError

        where = kwargs.get("out")
        try:
            return func(*args, **kwargs)
        except (ValueError, RunDirLockedError) as exc:
            error_line(str(exc))
            raise typer.Exit(code=2) from None
        except _INPUT_ERRORS as exc:
            error_line(os_error_message(exc, where) if exc.errno else str(exc))
            raise typer.Exit(code=2) from None
        except OSError as exc:
            error_line(os_error_message(exc, where))
            raise typer.Exit(code=1) from None
        except MemoryError:
            error_line(
                "out of memory; use smaller sizes (fewer inputs, a narrower network, a "
                "coarser grid)"
            )
            raise typer.Exit(code=1) from None
        except KeyboardInterrupt:
            error_line("interrupted; rerun the same command to resume")
            raise typer.Exit(code=130) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def writing(directory: Path, wait: bool, what: str = "run directory") -> Iterator[Path]:
    """Hold the writer's lock of ``directory`` for the command (``--wait``: wait)."""
    from crackle.io.lock import run_lock

    with run_lock(directory, wait=wait, what=what) as d:
        yield d


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A rich progress bar that stays quiet when output is not a terminal."""
    with Progress(
        TextColumn("{task.description}", style="bold blue", markup=False),
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


def locks_out(func: F) -> F:
    """Hold the lock of the command's ``out`` directory while it runs (its ``wait``
    option decides whether a second writer waits). Place it below ``clean_errors``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out is None:
            return func(*args, **kwargs)
        with writing(Path(out), bool(kwargs.get("wait", False))):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]

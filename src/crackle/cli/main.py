"""Entry point: ``crackle COMMAND``. Each command lives in its own module."""

from __future__ import annotations

import typer

from crackle._extras import as_missing_extra

app = typer.Typer(
    name="crackle",
    help="Measure, explain and steer criticality in deep neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from crackle._version import __version__

        typer.echo(f"crackle {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print crackle's version and exit.",
    ),
) -> None:
    """Measure, explain and steer criticality in deep neural networks."""


def _register() -> None:
    # Command modules attach themselves to `app` on import. They import the library
    # inside their functions, so `crackle --help` loads typer, rich and numpy only.
    from crackle.cli import (  # noqa: F401
        analyze,
        demo,
        experiment,
        experiment_lstm,
        experiment_train,
        experiment_zoo,
        meanfield,
        probe,
        report,
        simulate,
        sweep,
    )


def main() -> None:
    """Run the ``crackle`` command.

    A missing optional dependency (see :mod:`crackle._extras`) is one line on stderr,
    ``error: ... needs torch: pip install 'crackle[nn]'``, and exit code 2; a missing
    module that no extra provides is a bug and keeps its traceback.
    """
    try:
        _register()
        app(prog_name="crackle")
    except ModuleNotFoundError as exc:
        missing = as_missing_extra(exc)
        if missing is None:
            raise
        from crackle.cli._common import error_line

        error_line(str(missing))
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

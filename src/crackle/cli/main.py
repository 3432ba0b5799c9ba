"""Entry point: ``crackle COMMAND``. Each command lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="crackle",
    help="Measure, explain and steer criticality in deep neural networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Command modules attach themselves to `app` on import.
    from crackle.cli import analyze, demo, meanfield  # noqa: F401


def main() -> None:
    """Run the ``crackle`` command."""
    _register()
    app()


if __name__ == "__main__":
    main()

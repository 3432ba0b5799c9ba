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
    """Run the ``crackle`` command."""
    _register()
    app()


if __name__ == "__main__":
    main()

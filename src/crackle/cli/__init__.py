"""The ``crackle`` command line: a thin Typer + rich shell over the library."""

"""``python -m crackle``: the ``crackle`` command."""

from crackle.cli.main import main

if __name__ == "__main__":
    main()

"""``python -m firestop``: the command-line interface (see :mod:`firestop.cli`)."""

from firestop.cli.main import main

if __name__ == "__main__":
    main()

"""``python -m firestop``: the command-line interface (see :mod:`firestop.cli`).

The process ends through :func:`firestop.cli.quick_exit.leave` once the command is done: threads, atexit
callbacks and the standard streams as at a normal exit, without the interpreter's module teardown.
"""

from firestop.cli.main import main

if __name__ == "__main__":
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:
        code = None
    from firestop.cli.quick_exit import leave

    leave(code)

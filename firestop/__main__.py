"""``python -m firestop``: the command-line interface (see :mod:`firestop.cli`).

The process ends through :func:`firestop.cli.quick_exit.leave` once the command is done: threads, atexit
callbacks and the standard streams as at a normal exit, without the interpreter's module teardown.

Ctrl-C while the CLI is still importing (a second or two on a loaded machine, before :func:`main` installs its
handler) is answered like Ctrl-C anywhere else (README, exit codes): one line, exit 130, no traceback unless
``--debug`` — nothing has run yet, so nothing was changed.
"""

import sys

try:
    from firestop.cli.main import main
except KeyboardInterrupt:
    if "--debug" in sys.argv[1:]:
        raise
    if "--json" in sys.argv[1:]:
        sys.stdout.write('{"error": "interrupted while starting; nothing was changed", "exit_code": 130}\n')
    else:
        sys.stderr.write("error: interrupted while starting; nothing was changed\n")
    raise SystemExit(130) from None

if __name__ == "__main__":
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:
        code = None
    from firestop.cli.quick_exit import leave

    leave(code)

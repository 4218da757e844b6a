"""``python -m firestop``: the command-line interface (see :mod:`firestop.cli`).

The process ends through :func:`firestop.cli.quick_exit.leave` once the command is done: threads, atexit
callbacks and the standard streams as at a normal exit, without the interpreter's module teardown.

Ctrl-C at any point is answered as README's exit codes say: one line, exit 130, no traceback unless ``--debug``
(:mod:`firestop.cli.interrupt`). While the CLI is still importing (a second or two on a loaded machine, before
:func:`main` installs its handler) nothing has run, so the line says nothing was changed; once the command returned,
its answer and exit code stand and nothing is added.
"""

import sys

from firestop.cli import interrupt

interrupt.guard_start(sys.argv[1:])  # first: every import below is covered
try:
    from firestop.cli.main import main
except KeyboardInterrupt:  # --debug (guard_start left Python's handler), or SIGINT's handler was another's
    if "--debug" in sys.argv[1:]:
        raise
    if "--json" in sys.argv[1:]:
        sys.stdout.write('{"error": "interrupted while starting; nothing was changed", "exit_code": 130}\n')
    else:
        sys.stderr.write("error: interrupted while starting; nothing was changed\n")
    raise SystemExit(130) from None

if __name__ == "__main__":
    code = None
    try:
        try:
            main()
        except SystemExit as done:
            code = done.code
        interrupt.guard_exit(code)  # from here Ctrl-C keeps the answer and its exit code (interrupt.guard_exit)
    except interrupt.Interrupted as late:  # landed after main() had answered, before guard_exit: the answer stands
        answered = interrupt.answered(late)
        code = code if answered is None else answered
        interrupt.guard_exit(code)
    from firestop.cli.quick_exit import leave

    leave(code)

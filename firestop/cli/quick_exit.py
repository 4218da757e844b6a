"""Leave ``python -m firestop`` without the interpreter's teardown once the command is done.

When a program ends, CPython (``Py_FinalizeEx``) does, in this order: wait for non-daemon threads
(``threading._shutdown``, which first runs the callbacks ``concurrent.futures`` registers there), run
``atexit`` callbacks (``logging.shutdown``, ``weakref.finalize``, coverage, ...), flush ``sys.stdout`` and
``sys.stderr`` — then clear every module and collect every object, which no one can observe (the kernel
frees the memory, closes descriptors and drops ``flock`` locks) but which costs in proportion to what
was imported: measured with callgrind (instructions), 146 M after ``alert handle`` on a fresh
``FIRESTOP_HOME`` (4.5 % of the command, ~60 ms) and 69 M after ``--help``.

:func:`leave` does the observable part, in the same order, then ``os._exit`` with the status Python would
have used. Only ``firestop/__main__.py`` calls it; ``main()`` called in-process (tests, CliRunner) is
unchanged. Left to the normal exit: a process run under a profiler or tracer (``python -m cProfile``
writes its output after the program returns), ``python -i`` and interpreters without
``threading._shutdown``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any, NoReturn


def exit_status(code: Any) -> int:
    """The process exit status for ``SystemExit(code)`` as CPython computes it (``Python/pythonrun.c``
    ``_Py_HandleSystemExit``): None is 0, an int is itself (the kernel keeps its low 8 bits), anything
    else is printed to stderr and gives 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:  # noqa: BLE001 — as CPython: printing the message must not change the exit
        pass
    return 1


def usable() -> bool:
    """Whether :func:`leave` may skip the teardown in this process (module docstring)."""
    return (sys.getprofile() is None and sys.gettrace() is None and not sys.flags.inspect
            and callable(getattr(threading, "_shutdown", None)) and callable(getattr(atexit, "_run_exitfuncs", None)))


def leave(code: Any) -> NoReturn:
    """End the process as ``raise SystemExit(code)`` at top level would, without clearing modules.

    Threads and ``atexit`` callbacks run as at a normal exit; a standard stream that cannot be flushed
    (its reader went away) gives status 120, as CPython does, unless flushing it ends the command itself
    (:class:`firestop.cli.output.PipeGuard` answers a closed pipe with ``SystemExit(0)``)."""
    if not usable():
        raise SystemExit(code)
    status = exit_status(code)
    threading._shutdown()  # noqa: SLF001 — what Py_FinalizeEx calls first
    atexit._run_exitfuncs()  # noqa: SLF001 — what Py_FinalizeEx calls next (errors are printed, not raised)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except SystemExit as done:
            status = exit_status(done.code)
        except Exception:  # noqa: BLE001
            status = 120
    os._exit(status & 0xFF)  # what the kernel keeps of exit(status)

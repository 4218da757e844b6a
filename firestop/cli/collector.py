"""The cyclic garbage collector paused for the length of one short CLI command (``alert handle``).

Why: ``alert handle`` on a fresh ``FIRESTOP_HOME`` imports about 1,500 modules after the CLI's own (the Azure
SDKs, the Durable SDK, azure-functions, pydantic models, the sandbox) and runs one incident. Every module adds
tracked container objects, so CPython's collector runs a collection every 700 net allocations (124 of them, one
full, measured with ``gc.callbacks``), each walking the young objects and the full one everything imported so far
— work that frees almost nothing during start-up. Measured with callgrind (instructions, ``python -m firestop alert
handle examples/alerts/leaked-key.json``, fresh ``FIRESTOP_HOME``, Python 3.11.7, load ~16): 3,102 M before,
3,068 M with the command's body paused (-35 M, 1.1 %; the collector off for the whole process would save 96 M,
the other 61 M in the CLI's own start-up that ``--help`` shares, left as it is); peak RSS 71.1 -> 72.1 MB
(reference counting still frees every acyclic object at once; the cycles left are the few one incident makes).

:func:`paused` disables the collector for the block and restores its previous state after (an embedding caller
that had it off keeps it off). The allocation counts keep growing while it is off, so once it is back on the next
allocation starts the collection that was due: what the command left in cycles is freed before whatever follows
in the same process (a test runner, ``main()`` called twice). Only the sandbox run is paused — ``--azure`` may wait
minutes on real long-running operations — and long-running commands (``serve``) freeze their start-up heap instead
(:mod:`firestop.runtime.heap`).

When the process ends right after the command (``python -m firestop``: its ``__main__`` ends it with
:func:`firestop.cli.quick_exit.leave`, ``os._exit``), :func:`paused` leaves the collector off: turned back on, the
collection that was due walks every object the command allocated while paused (the ~1,500 modules' objects too)
just before the process exits without freeing anything — 47.7 ms of CPU (a generation-0 pass that freed 657
objects, ``gc.callbacks``, fresh ``FIRESTOP_HOME``, load ~5), a syscall-free gap between the last line printed
and the exit (strace). In-process callers (tests, CliRunner, ``main()`` called twice: ``__main__`` is another
program) get the collector back. (Told by ``__main__``'s module spec, so ``--help`` imports nothing more.)
"""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager
from typing import Iterator


def process_ends_after_command() -> bool:
    """Whether this program is ``python -m firestop`` (``firestop/__main__.py`` runs as ``__main__``, as ``-m`` and
    ``runpy.run_module("firestop", run_name="__main__", alter_sys=True)`` run it), which ends the process once the
    command is done, without the interpreter's teardown."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "firestop.__main__"


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector disabled; afterwards its previous state is back (unless
    :func:`process_ends_after_command`: then it stays off). Nests: an inner pause leaves it off for the outer block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled and not process_ends_after_command():
            gc.enable()

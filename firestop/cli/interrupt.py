"""Ctrl-C in the CLI: one line saying what is left, exit 130, no traceback (``--debug`` shows it).

:func:`install` (called by :func:`firestop.cli.main.main`) makes SIGINT raise :class:`Interrupted`
instead of ``KeyboardInterrupt``: click's prompts turn ``KeyboardInterrupt`` into ``Abort`` (which
the confirmations read as "no", exit 2) and typer turns it into a silent exit 130, so neither
would say anything. ``Interrupted`` derives from ``BaseException``, so no ``except Exception`` on the
way swallows it; ``finally`` blocks (closing the durable store, the sandbox) still run.

Commands say what they are working on with :func:`about` (the incident, its state as far as the
command knows it, the command that resumes it — :func:`command` quotes it for a POSIX shell, with every
option the interrupted command needs to work again); :func:`line` builds the message::

    interrupted — nothing further was changed; incident inc-… is still running (waiting for approval of step rotate); resume with: python -m firestop alert handle FILE

Exit status 130 (128 + SIGINT, the shell's convention for a command ended by Ctrl-C).
"""

from __future__ import annotations

import shlex
import signal
import threading
from typing import Any

EXIT_INTERRUPTED = 130

_about: dict[str, Any] = {}


class Interrupted(BaseException):
    """SIGINT (Ctrl-C) reached the CLI (raised by the handler :func:`install` sets)."""


def _raise(signum: int, frame: Any) -> None:
    raise Interrupted()


def install() -> None:
    """Make SIGINT raise :class:`Interrupted` (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _raise)


def about(*, incident_id: str | None = None, state: str | None = None, resume: str | None = None,
          resume_once_started: str | None = None, starts_incident: bool | None = None) -> None:
    """Record what the command works on now (only the fields given change).

    resume: the command that resumes the work. resume_once_started: the one that resumes it once an incident is
    known (``incident_id`` given) when that differs — ``alert handle FILE --rerun`` starts a new incident, so once
    it is started, resuming it is ``alert handle FILE`` (without ``--rerun``, which would start yet another).
    starts_incident: the command starts an incident; interrupted before one is known, the line says none was started."""
    for key, value in (("incident_id", incident_id), ("state", state), ("resume", resume),
                       ("resume_once_started", resume_once_started), ("starts_incident", starts_incident)):
        if value is not None:
            _about[key] = value


def command(*args: str) -> str:
    """``python -m firestop ARGS…`` with each argument quoted for a POSIX shell (a file name with a space stays one)."""
    return shlex.join(["python", "-m", "firestop", *args])


def answered(exc: BaseException) -> int | None:
    """The exit code a command had already answered with when the Ctrl-C ``exc`` reached it, else None.

    A command ends by raising ``typer.Exit(code)`` (or ``SystemExit``) after it printed its answer; SIGINT arriving
    while that unwinds (click closing its contexts, a ``finally`` block) raises :class:`Interrupted` with the exit in
    flight as its ``__context__``. Then the answer is complete: its code stands and no interrupted line is added
    (with ``--json`` that line would be a second JSON document after the first). Walks ``__context__`` (at most 20)."""
    from typer import Exit  # what commands raise; typer's vendored click raises it too (ctx.exit)

    seen = exc.__context__
    for _ in range(20):
        if seen is None:
            return None
        if isinstance(seen, SystemExit):
            code = seen.code
            return code if isinstance(code, int) and not isinstance(code, bool) else (0 if code is None else 1)
        if isinstance(seen, Exit):
            return seen.exit_code
        seen = seen.__context__
    return None


def forget() -> None:
    _about.clear()


def line() -> str:
    """The one line printed on Ctrl-C (see the module doc)."""
    parts = ["interrupted — nothing further was changed"]
    incident = _about.get("incident_id")
    if incident:
        state = _about.get("state")
        parts.append(f"incident {incident} is still {state}" if state else f"incident {incident} is kept as it was")
    elif _about.get("starts_incident"):
        parts.append("no incident was started")
    resume = (incident and _about.get("resume_once_started")) or _about.get("resume")
    if resume:
        parts.append(f"resume with: {resume}")
    return "; ".join(parts)

"""Ctrl-C in the CLI: one line saying what is left, exit 130, no traceback (``--debug`` shows it).

:func:`install` (called by :func:`firestop.cli.main.main`) makes SIGINT raise :class:`Interrupted`
instead of ``KeyboardInterrupt``: click's prompts turn ``KeyboardInterrupt`` into ``Abort`` (which
the confirmations read as "no", exit 2) and typer turns it into a silent exit 130, so neither
would say anything. ``Interrupted`` derives from ``BaseException``, so no ``except Exception`` on the
way swallows it; ``finally`` blocks (closing the durable store, the sandbox) still run.

Commands say what they are working on with :func:`about` (the incident, its state as far as the
command knows it, the command that resumes it); :func:`line` builds the message::

    interrupted — nothing further was changed; incident inc-… is still running (waiting for approval of step rotate); resume with: python -m firestop alert handle FILE

Exit status 130 (128 + SIGINT, the shell's convention for a command ended by Ctrl-C).
"""

from __future__ import annotations

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


def about(*, incident_id: str | None = None, state: str | None = None, resume: str | None = None) -> None:
    """Record what the command works on now (only the fields given change)."""
    for key, value in (("incident_id", incident_id), ("state", state), ("resume", resume)):
        if value is not None:
            _about[key] = value


def forget() -> None:
    _about.clear()


def line() -> str:
    """The one line printed on Ctrl-C (see the module doc)."""
    parts = ["interrupted — nothing further was changed"]
    incident = _about.get("incident_id")
    if incident:
        state = _about.get("state")
        parts.append(f"incident {incident} is still {state}" if state else f"incident {incident} is kept as it was")
    if _about.get("resume"):
        parts.append(f"resume with: {_about['resume']}")
    return "; ".join(parts)

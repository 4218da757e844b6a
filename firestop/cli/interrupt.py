"""Ctrl-C in the CLI: one line saying what is left, exit 130, no traceback (``--debug`` shows it).

:func:`install` (called by :func:`firestop.cli.main.main`) makes SIGINT raise :class:`Interrupted`
instead of ``KeyboardInterrupt``: click's prompts turn ``KeyboardInterrupt`` into ``Abort`` (which
the confirmations read as "no", exit 2) and typer turns it into a silent exit 130, so neither
would say anything. ``Interrupted`` derives from ``BaseException``, so no ``except Exception`` on the
way swallows it; ``finally`` blocks (closing the durable store, the sandbox) still run.

Commands say what they are working on with :func:`about` (the incident, its state as far as the
command knows it, the command that resumes it — :func:`command` quotes it for a POSIX shell, with every
option the interrupted command needs to work again); :func:`line` builds the message::

    interrupted — nothing further was changed; incident inc-… is still waiting for approval of step rotate; resume with: python -m firestop alert handle FILE

Exit status 130 (128 + SIGINT, the shell's convention for a command ended by Ctrl-C).

Three phases, one handler each, and none when SIGINT was not Python's default on entry (inherited as ignored: a
shell's background job without job control, ``trap '' INT``, a supervisor that ignores it for its children — the
process keeps ignoring it; ``nohup`` itself ignores SIGHUP only; or another program's own handler when the CLI is
embedded):

* starting (:func:`guard_start`, the first thing ``python -m firestop`` does): the CLI's modules are importing and
  nothing has run. The handler writes ``interrupted while starting; nothing was changed`` and ends the process at
  once (``os._exit(130)``) instead of raising inside an import — a ``KeyboardInterrupt`` raised there can come out
  as another exception (CPython 3.11 wraps one raised in ``__set_name__``, as pydantic's model classes call it, in
  a ``RuntimeError``) or leave the interpreter's SIGINT exit status after the line was printed;
* running (:func:`install`, from :func:`firestop.cli.main.main`): SIGINT raises :class:`Interrupted`; an
  exception that carries one in its chain (:func:`caused`) is answered as the interrupt itself;
* finishing (:func:`guard_exit`, once the command returned): the command answered, so its answer and exit code
  stand (as :func:`answered` decides for a Ctrl-C while the command's exit unwinds): the handler flushes the standard
  streams and ends the process with that code, adding nothing — instead of raising inside the interpreter's exit
  (threads, ``atexit``), which printed "Exception ignored in atexit callback" and a traceback.

``--debug`` keeps Python's ``KeyboardInterrupt`` while starting (its traceback is what ``--debug`` is for).
Before the interpreter runs any of Firestop's code (its start-up and ``site``, a few tens of milliseconds) SIGINT
is CPython's business: it ends the process without a word (killed by SIGINT, which the shell reports as 130).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from typing import Any, Sequence

EXIT_INTERRUPTED = 130

_about: dict[str, Any] = {}


class Interrupted(BaseException):
    """SIGINT (Ctrl-C) reached the CLI (raised by the handler :func:`install` sets)."""


#: The line (and its ``--json`` form) said when Ctrl-C lands while the CLI still imports.
STARTING_LINE = "interrupted while starting; nothing was changed"

_as_json = False


def _raise(signum: int, frame: Any) -> None:
    raise Interrupted()


def _say_and_leave(message: str) -> None:
    """Write ``message`` as the CLI's one error line (``--json``: ``{"error", "exit_code"}`` on stdout) and end the
    process with :data:`EXIT_INTERRUPTED` at once: no exception unwinds through whatever was running."""
    if _as_json:
        import json

        os.write(1, (json.dumps({"error": message, "exit_code": EXIT_INTERRUPTED}, ensure_ascii=False) + "\n").encode())
    else:
        os.write(2, f"error: {message}\n".encode())
    os._exit(EXIT_INTERRUPTED)


def _while_starting(signum: int, frame: Any) -> None:
    _say_and_leave(STARTING_LINE)


_finished_with = 0


def _while_finishing(signum: int, frame: Any) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 — a flush this signal interrupted (reentrant call), a closed pipe: go
            pass
    os._exit(_finished_with)


def _ours_to_take() -> bool:
    """SIGINT is Python's default (or one of this module's handlers): Firestop may answer it. Inherited as ignored,
    or someone else's handler: leave it alone (module doc). Main thread only (``signal.signal`` elsewhere raises)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    return signal.getsignal(signal.SIGINT) in (signal.default_int_handler, signal.SIG_DFL, _while_starting, _raise,
                                               _while_finishing)


def guard_start(argv: Sequence[str]) -> None:
    """Ctrl-C from now until :func:`install`: the start-up line and exit 130 (module doc). ``argv``: the command
    line (``--json`` chooses the line's form; with ``--debug`` Python's own ``KeyboardInterrupt`` is kept)."""
    global _as_json
    _as_json = "--json" in argv
    if "--debug" not in argv and _ours_to_take():
        signal.signal(signal.SIGINT, _while_starting)


def install() -> None:
    """Make SIGINT raise :class:`Interrupted` (main thread only; left alone when SIGINT was ignored on entry or is
    another program's: :func:`_ours_to_take`)."""
    if _ours_to_take():
        signal.signal(signal.SIGINT, _raise)


_held = False


def _hold(signum: int, frame: Any) -> None:
    global _held
    _held = True


class deferred:
    """``with deferred():`` — a change in flight (a runbook's apply or undo and its ledger append): a Ctrl-C meanwhile
    is held and taken (:class:`Interrupted`) once the block has ended, so the change is never made without its ledger
    entry (R13-03: the line said "nothing further was changed" while the change was made and unrecorded, undoable by
    nothing). Only where :func:`install`'s handler is the one in place (SIGINT ignored on entry stays ignored); the
    line then says the change in progress was finished and recorded (:func:`line`)."""

    def __enter__(self) -> "deferred":
        global _held
        self._active = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is _raise
        if self._active:
            _held = False
            signal.signal(signal.SIGINT, _hold)
        return self

    def __exit__(self, *exc: Any) -> None:
        global _held
        if not self._active:
            return
        signal.signal(signal.SIGINT, _raise)
        if _held:
            _held = False
            if exc[0] is None:  # (an exception on its way out is answered as itself; the Ctrl-C went with it)
                _about["finished"] = True
                raise Interrupted()


def guard_exit(code: Any) -> None:
    """The command has returned with ``SystemExit(code)``'s code: Ctrl-C from now on ends the process with its exit
    status (None 0, an int itself, anything else 1), its output flushed and nothing added (module doc)."""
    global _finished_with
    _finished_with = code if isinstance(code, int) and not isinstance(code, bool) else (0 if code is None else 1)
    if _ours_to_take():
        signal.signal(signal.SIGINT, _while_finishing)


def caused(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was raised while handling or from, a Ctrl-C (:class:`Interrupted` or
    ``KeyboardInterrupt``): CPython 3.11 turns one raised in ``__set_name__`` into ``RuntimeError(...) from it``."""
    seen: set[int] = set()
    left = [exc]
    while left:
        exc = left.pop()
        if exc is None or id(exc) in seen:
            continue
        if isinstance(exc, (Interrupted, KeyboardInterrupt)):
            return True
        seen.add(id(exc))
        left += [exc.__cause__, exc.__context__]
    return False


def about(*, incident_id: str | None = None, state: str | None = None, resume: str | None = None,
          resume_once_started: str | None = None, starts_incident: bool | None = None, subject: str | None = None) -> None:
    """Record what the command works on now (only the fields given change).

    state: what the incident is, as the line's clause after ``incident <id>`` — its verb included and what to do
    next if anything (``is waiting for approval of step S``, ``was started and no step has run yet``).

    subject: the words that name what ``state`` is said of when that is not an incident — ``manual run
    manual-2026-11-29/cli-run-031445-ab12`` for ``runbook run``, whose ledger id is not an incident a responder
    could look up (``incident_id`` still chooses ``resume_once_started``).

    resume: the command that resumes the work. resume_once_started: the one that resumes it once an incident is
    known (``incident_id`` given) when that differs — ``alert handle FILE --rerun`` starts a new incident, so once
    it is started, resuming it is ``alert handle FILE`` (without ``--rerun``, which would start yet another).
    starts_incident: the command starts an incident; interrupted before one is known, the line says none was started."""
    for key, value in (("incident_id", incident_id), ("state", state), ("resume", resume),
                       ("resume_once_started", resume_once_started), ("starts_incident", starts_incident),
                       ("subject", subject)):
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
    parts = ["interrupted — the change in progress was finished and recorded in the ledger; nothing further was changed"
             if _about.get("finished") else "interrupted — nothing further was changed"]
    incident = _about.get("incident_id")
    if incident:
        state = _about.get("state")
        subject = _about.get("subject") or f"incident {incident}"
        parts.append(f"{subject} {state}" if state else f"{subject} is kept as it was")
    elif _about.get("starts_incident"):
        parts.append("no incident was started")
    resume = (incident and _about.get("resume_once_started")) or _about.get("resume")
    if resume:
        parts.append(f"resume with: {resume}")
    return "; ".join(parts)

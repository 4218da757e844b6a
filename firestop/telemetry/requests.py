"""One ``request`` line per HTTP request, wherever the request is served.

A :class:`RequestNote` travels with the request in a context variable: whoever learns something about the request
adds it — :func:`firestop.trust.authorize` the caller it believed, a route the incident it acted on and its outcome —
and the request's owner logs one line when the answer is known:

* under ``firestop serve`` the HTTP layer (:mod:`firestop.runtime.httpserver`) opens the note when the headers are
  in and logs after writing the answer (every answer: 401s from the key check, 404s, protocol errors too);
* on the Functions host (no server of ours in front) :func:`observed`, on every HTTP function of
  :mod:`firestop.functions`, opens the note and logs when the function returns.

So each request gives exactly one line. The note is a plain object in a ``ContextVar``: ``asyncio`` copies the
context into the task that runs an async function (``run_coroutine_threadsafe`` included), and a copy refers to the
same note, so what the function adds is what the owner logs.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import time
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit  # (at the top: an import statement per request was ~5 µs of CPU, load ~20)

from firestop.telemetry.logs import event

log = logging.getLogger("firestop.http")

_current: contextvars.ContextVar["RequestNote | None"] = contextvars.ContextVar("firestop_request_note", default=None)


class RequestNote:
    """What is known of one request so far (field names of :data:`firestop.telemetry.logs.FIELDS`)."""

    __slots__ = ("fields", "started")

    def __init__(self, method: str, path: str, route: str | None = None) -> None:
        self.started = time.perf_counter()
        self.fields: dict[str, Any] = {"method": method, "path": path.split("?", 1)[0], "route": route, "status": None,
                                       "duration_ms": None}  # the line's order: these first, then what is noted

    def finish(self, status: int, logger: logging.Logger = log) -> None:
        """Log the request line with ``status`` and the time since the note was opened (ms)."""
        self.fields["status"] = status
        self.fields["duration_ms"] = round((time.perf_counter() - self.started) * 1000, 1)
        event(logger, "request", self.fields)


def open_note(method: str, path: str, route: str | None = None) -> tuple[RequestNote, contextvars.Token]:
    """Start noting a request in the current context; pass the token to :func:`close_note`."""
    note = RequestNote(method, path, route)
    return note, _current.set(note)


def close_note(token: contextvars.Token) -> None:
    _current.reset(token)


def note(**fields: Any) -> None:
    """Add ``fields`` to the current request's note (nothing when no request is being noted: the CLI, a test)."""
    current = _current.get()
    if current is not None:
        current.fields.update(fields)


def note_caller(principal: Any) -> None:
    """The caller the trust gate believed (a :class:`firestop.trust.Principal`): name and object ID."""
    current = _current.get()
    if current is not None:
        current.fields["caller"] = getattr(principal, "name", None) or getattr(principal, "object_id", None)
        current.fields["caller_id"] = getattr(principal, "object_id", None)


def _request_of(args: tuple, kwargs: dict) -> Any:
    for value in (*args, *kwargs.values()):
        if hasattr(value, "method") and hasattr(value, "url") and hasattr(value, "route_params"):
            return value
    return None


def _start(fn_name: str, args: tuple, kwargs: dict) -> tuple[RequestNote | None, Any]:
    """A new note when nobody in front of the function opened one (the Functions host), else (None, None)."""
    current = _current.get()
    req = _request_of(args, kwargs)
    incident_id = (getattr(req, "route_params", None) or {}).get("incident_id") if req is not None else None
    if current is not None:
        current.fields["route"] = fn_name
        if incident_id:
            current.fields["incident_id"] = incident_id
        return None, None
    try:
        path = urlsplit(getattr(req, "url", "") or "").path
    except ValueError:
        path = ""
    mine, token = open_note(str(getattr(req, "method", "") or ""), path, fn_name)
    if incident_id:
        mine.fields["incident_id"] = incident_id
    return mine, token


@contextlib.contextmanager
def _request_line(fn_name: str, args: tuple, kwargs: dict) -> Iterator[list[int]]:
    """The request's note around one call: yields ``[status]`` for the caller to set (500 until it does, so an
    exception logs 500); closes the note and writes the line however the call ends."""
    mine, token = _start(fn_name, args, kwargs)
    answered = [500]
    try:
        yield answered
    finally:
        if mine is not None:
            close_note(token)
            mine.finish(answered[0])


def observed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an HTTP function (innermost, right above ``def``) so that its request gives one ``request`` line
    (module docstring). The signature and annotations are the function's own (``functools.wraps``), as the
    Functions worker and the Durable client binding read them; ``fn.__firestop_observed__`` is True."""

    if inspect.iscoroutinefunction(fn):
        name = fn.__name__

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            # _request_line without its generator context manager (every webhook goes through here: ~3 µs)
            mine, token = _start(name, args, kwargs)
            status = 500
            try:
                response = await fn(*args, **kwargs)
                status = getattr(response, "status_code", 200)
                return response
            finally:
                if mine is not None:
                    close_note(token)
                    mine.finish(status)
    else:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _request_line(fn.__name__, args, kwargs) as answered:
                response = fn(*args, **kwargs)
                answered[0] = getattr(response, "status_code", 200)
                return response

    wrapper.__firestop_observed__ = True  # type: ignore[attr-defined]
    return wrapper

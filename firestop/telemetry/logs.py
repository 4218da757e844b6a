"""Structured log lines: :func:`event` builds one, :class:`StructuredFormatter` prints it, :func:`safe` makes a value
from outside fit for a log.

An event is a ``logging`` record at INFO whose message is the ``key=value`` line (what the Functions host keeps on
Azure) and whose attributes are the same fields (``record.event``, ``record.incident_id`` …: what OpenTelemetry's
logging handler turns into custom dimensions). Nothing is built unless the logger is enabled for INFO, so an
unconfigured process (the CLI) pays one ``isEnabledFor`` per event.

Formats (``FIRESTOP_LOG_FORMAT``, read by :func:`configure_logging`): ``text`` (default) —
``2026-12-03T21:07:06.123Z INFO request method=GET path=/api/incidents status=200 duration_ms=3.1 caller=alice``;
``json`` — one JSON object per line ``{"ts", "level", "logger", "event", <fields>}`` (other records:
``{"ts", "level", "logger", "message"}``, the message made safe as a value is).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from typing import Any, Iterable, TextIO

from firestop.lazy_re import LazyPattern

FORMAT_ENV = "FIRESTOP_LOG_FORMAT"
FORMATS = ("text", "json")
#: Longest value kept in a line (longer ones end with "…").
MAX_VALUE_CHARS = 200
#: The fields lines use (a line keeps the order its maker gave them): see :mod:`firestop.telemetry`.
FIELDS = ("event", "method", "path", "route", "status", "duration_ms", "caller", "caller_id", "incident_id", "phase",
          "step", "outcome", "alert_id", "correlated_to", "part_of", "follows", "runbook", "target", "playbook", "mttd_s", "mttc_s", "detail")
REDACTED = "[redacted]"

_secrets: tuple[str, ...] = ()  # longest first: every value registered, owned ones included
_secrets_lock = threading.Lock()
#: The values :func:`register_secret` took, and :func:`register_owned_secrets`' values by owner (oldest owner first).
_plain_secrets: set[str] = set()
_owned_secrets: dict[str, frozenset[str]] = {}
#: The most owners :func:`register_owned_secrets` keeps (seal18): an app process holds one seal ring (its
#: FIRESTOP_HOME's, or the settings'); a test process opens thousands of homes, and every registered value costs each
#: log line a substring search (3,000 of them: ~130-320 µs per :func:`safe` call, measured on the 2-core machine).
MAX_SECRET_OWNERS = 16
#: What a log line may not carry raw (escaped ``\\xNN`` / ``\\uNNNN``): C0 and C1 controls, DEL; the line and paragraph
#: separators U+2028/2029 (a line break to many viewers); and the invisible formatting characters that reorder or hide
#: text where the line is read (Unicode UAX #9 bidi controls, "Trojan Source", CVE-2021-42574): U+061C ALM, U+200E/200F
#: LRM/RLM, U+202A–202E embeddings and overrides (U+202E RLO), U+2066–2069 isolates; zero-width U+200B–200D, U+2060–2064,
#: U+FEFF, U+180E; U+FFF9–FFFB interlinear annotations (RT6-05). The same set as :mod:`firestop.markup`'s for Markdown.
#: And lone surrogates U+D800–DFFF (JSON's "\\udfff" in delivered text decodes to one): a line holding one is no UTF-8
#: and a strict stream's encode raised inside the handler (R13-06).
_UNSAFE = r"\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff"
_CONTROL = LazyPattern(f"[{_UNSAFE}]", 0, globals())
#: Also a raw backslash, for field values (escaped ``\\x5c``): else a value holding ``\\"`` closes its own quotes in
#: the text line and forges fields (RT4-01).
_CONTROL_FIELD = LazyPattern(f"[{_UNSAFE}\\\\]", 0, globals())
_NEEDS_QUOTES = LazyPattern(r'[\s="\\]', 0, globals())
#: Text that ``runbooks.redact``'s patterns could match has a run of 32 letters/digits (the key shapes), "bearer"
#: or a JWT's "eyJ", or one of these words (lower-cased: its ``name=``/``name:`` names, and the webhook hosts,
#: which come after "https:") together with a "=" or ":". Other text skips the full redaction.
_SUSPECT_WORDS = ("key", "sig", "pass", "pwd", "secret", "token", "hooks.slack", "webhook.office", "logic.azure")
_SUSPECT_RUN = LazyPattern(r"[0-9A-Za-z]{32}", 0, globals())
#: Values of letters, digits and ``_./-`` only (ids, routes, resource IDs): no "=", ":" or space, so no ``name=value``
#: credential, no bearer token, no URL — only a key-shaped run (checked apart) or a registered secret could hide.
_PLAIN = LazyPattern(r"[A-Za-z0-9_./-]{0,%d}" % MAX_VALUE_CHARS, 0, globals())


def register_secret(value: str | None) -> None:
    """Never print ``value`` (at least 8 characters; shorter values are not worth matching) in any line."""
    global _secrets
    if value and len(value) >= 8:
        with _secrets_lock:
            _plain_secrets.add(value)
            _secrets = tuple(sorted({*_secrets, value}, key=len, reverse=True))


def register_owned_secrets(owner: str, values: Iterable[str]) -> None:
    """Never print any of ``values`` (each at least 8 characters) in any line, registered for ``owner`` (a seal ring's
    source: a FIRESTOP_HOME's key file, or the settings). An owner's values only grow (a key dropped from a ring stays
    a secret); at most :data:`MAX_SECRET_OWNERS` owners are kept, the one registered longest ago forgotten first (only
    a process that opened more homes than that — a test run — ever forgets one)."""
    global _secrets
    fresh = frozenset(v for v in values if v and len(v) >= 8)
    with _secrets_lock:
        held = _owned_secrets.pop(owner, frozenset())
        _owned_secrets[owner] = held | fresh
        while len(_owned_secrets) > MAX_SECRET_OWNERS:
            del _owned_secrets[next(iter(_owned_secrets))]
        _secrets = tuple(sorted(_plain_secrets.union(*_owned_secrets.values()), key=len, reverse=True))


def _redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    low = text.lower()
    if not ("bearer" in low or "eyj" in low or (("=" in text or ":" in text) and any(w in low for w in _SUSPECT_WORDS))
            or _SUSPECT_RUN.search(text)):
        return text
    from runbooks.redact import redact  # credential shapes: keys, tokens, SAS signatures, webhook URLs

    return redact(text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}")


def safe(value: Any, limit: int = MAX_VALUE_CHARS, *, field: bool = False) -> Any:
    """``value`` fit for a log line: numbers, booleans and None as they are; anything else as text with registered
    secrets and credential-shaped substrings replaced by ``[redacted]``, control characters (newlines included) and
    bidi/zero-width formatting characters (:data:`_UNSAFE`) escaped as ``\\n``/``\\xNN``/``\\uNNNN`` (with ``field``, for a structured field's value: a backslash too, ``\\x5c``), cut to
    ``limit`` characters."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if _PLAIN.fullmatch(text) and (len(text) < 32 or _SUSPECT_RUN.search(text) is None):
        # no control character, no "=", ":" or space, no key-shaped run: only a registered secret could hide here
        return REDACTED if any(secret in text for secret in _secrets) else text
    if len(text) > 4 * limit:
        text = text[: 4 * limit]  # bound the work before redaction
    text = (_CONTROL_FIELD if field else _CONTROL).sub(_escape, _redact(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kv_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"
    text = str(value)
    if _PLAIN.fullmatch(text) and text:
        return text
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '\\"') + '"'  # escapes from safe() stay as written: \n, \x1b
    return text


def kv_line(fields: dict[str, Any]) -> str:
    """``event key=value …`` of already-safe ``fields`` (values with spaces, ``=`` or quotes are double-quoted)."""
    parts = [str(fields.get("event", "event"))]
    parts += [f"{k}={_kv_value(v)}" for k, v in fields.items() if k != "event" and v is not None]
    return " ".join(parts)


def event(logger: logging.Logger, name: str, fields: dict[str, Any], level: int = logging.INFO) -> None:
    """Log event ``name`` with ``fields`` (every value passed through :func:`safe`; None values left out)."""
    if not logger.isEnabledFor(level):
        return
    clean = {"event": name, **{k: safe(v, field=True) for k, v in fields.items() if v is not None and k != "event"}}
    logger.log(level, "%s", kv_line(clean), extra={"firestop_fields": tuple(clean), **clean})


def fields_of(record: logging.LogRecord) -> dict[str, Any] | None:
    """The structured fields of a record :func:`event` made, else None."""
    names = getattr(record, "firestop_fields", None)
    if not isinstance(names, tuple):
        return None
    return {k: getattr(record, k, None) for k in names}


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


class StructuredFormatter(logging.Formatter):
    """One line per record: ``text`` (timestamp, level, the event's ``key=value`` line) or ``json``."""

    def __init__(self, fmt: str = "text") -> None:
        super().__init__()
        if fmt not in FORMATS:
            raise ValueError(f"{FORMAT_ENV}={fmt!r} is not one of {', '.join(FORMATS)}")
        self.json = fmt == "json"

    def format(self, record: logging.LogRecord) -> str:
        fields = fields_of(record)
        if fields is None:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + self.formatException(record.exc_info)
            message = safe(message, limit=4000)  # one line, whatever the message holds
            fields = {"message": message}
        if self.json:
            return json.dumps({"ts": _timestamp(record.created), "level": record.levelname, "logger": record.name,
                               **fields}, default=str, ensure_ascii=False)
        text = record.getMessage() if "event" in fields else str(fields.get("message"))  # an event's message is its line
        return f"{_timestamp(record.created)} {record.levelname} {text}"


def log_format(env: dict[str, str] | None = None) -> str:
    """``FIRESTOP_LOG_FORMAT`` (``text`` when unset). Raises ValueError naming the variable and the choices."""
    raw = ((os.environ if env is None else env).get(FORMAT_ENV) or "text").strip().lower()
    if raw not in FORMATS:
        raise ValueError(f"{FORMAT_ENV}={raw[:20]!r} is not one of {', '.join(FORMATS)}; unset it for text lines")
    return raw


_HANDLER_MARK = "_firestop_structured"


class BackgroundStreamHandler(logging.Handler):
    """Format a record on the logging thread, write it to ``stream`` on a writer thread of its own.

    A :class:`logging.StreamHandler` writes under the handler's lock on the thread that logs: when the stream
    is a pipe whose reader lags (a terminal, a log shipper, a supervisor reading stderr), the pipe's 64 KiB fill
    up, the write blocks, and every thread that logs — each server thread writing its ``request`` line — waits
    on that lock with it (measured in ``bench/intake.py storm``: 15 % of the server threads' samples in
    ``Handler.acquire``). The Python logging cookbook's answer ("Dealing with handlers that block":
    ``QueueHandler`` + ``QueueListener``) with one change: the line is formatted here, on the logging thread, so
    it is exactly what :class:`StructuredFormatter` makes of the record at that moment (redaction included) and
    the writer only writes text.

    At most ``max_lines`` lines wait (bounded memory); a thread logging beyond that waits for room, as with a
    blocking stream — nothing is dropped. The writer writes whatever is waiting in one ``write`` + ``flush``.
    :meth:`flush` returns once every line logged before it is written; :meth:`close` (``logging.shutdown`` at
    exit calls both) writes what is waiting and stops the writer. A ``kill -9`` loses the lines not yet written
    (milliseconds' worth) — the same as a stream's own buffer.
    """

    def __init__(self, stream: TextIO, *, max_lines: int = 10_000) -> None:
        import queue

        super().__init__()
        self.stream = stream
        self._lines: "queue.Queue[str | None]" = queue.Queue(max_lines)
        self._writer = threading.Thread(target=self._write_lines, name="firestop-log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging's own convention: report, never raise into the caller
            self.handleError(record)
            return
        if self._writer.is_alive():
            self._lines.put(line + "\n")

    def _write_lines(self) -> None:
        import queue

        while True:
            first = self._lines.get()
            batch, done = [first], 1
            try:
                while len(batch) < 1000:
                    batch.append(self._lines.get_nowait())
                    done += 1
            except queue.Empty:
                pass
            stop = None in batch
            try:
                self.stream.write("".join(line for line in batch if line is not None))
                self.stream.flush()
            except Exception:  # noqa: BLE001 - a closed or broken stream: the lines are lost, logging goes on
                pass
            finally:
                for _ in range(done):
                    self._lines.task_done()
            if stop:
                return

    def flush(self) -> None:
        if self._writer.is_alive():
            self._lines.join()

    def close(self) -> None:
        if self._writer.is_alive():
            self._lines.put(None)
            self._writer.join(timeout=5.0)
        super().close()


def configure_logging(stream: TextIO | None = None, *, fmt: str | None = None, loggers: Iterable[str] = ("firestop",),
                      level: int = logging.INFO, background: bool = False) -> logging.Handler:
    """Print ``loggers``' records at ``level`` and above on ``stream`` (stderr) with :class:`StructuredFormatter`
    in ``fmt`` (default :func:`log_format`). Idempotent per logger: a handler this function added before is
    replaced (and closed). ``background``: written by a :class:`BackgroundStreamHandler` (``firestop serve``: no
    request waits for the stream), else by a :class:`logging.StreamHandler` on the logging thread. Returns the
    handler. Raises ValueError for a bad ``FIRESTOP_LOG_FORMAT``."""
    formatter = StructuredFormatter(fmt or log_format())
    handler = BackgroundStreamHandler(stream or sys.stderr) if background else logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    for name in loggers:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
            if isinstance(old, BackgroundStreamHandler):
                old.close()  # its writer thread ends once what it holds is written
        logger.addHandler(handler)
        logger.setLevel(level)
    return handler

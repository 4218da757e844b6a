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

FORMAT_ENV = "FIRESTOP_LOG_FORMAT"
FORMATS = ("text", "json")
#: Longest value kept in a line (longer ones end with "…").
MAX_VALUE_CHARS = 200
#: The fields lines use (a line keeps the order its maker gave them): see :mod:`firestop.telemetry`.
FIELDS = ("event", "method", "path", "route", "status", "duration_ms", "caller", "caller_id", "incident_id", "phase",
          "step", "outcome", "alert_id", "runbook", "target", "playbook", "mttd_s", "mttc_s", "detail")
REDACTED = "[redacted]"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
_NEEDS_QUOTES = re.compile(r'[\s="\\]')


def register_secret(value: str | None) -> None:
    """Never print ``value`` (at least 8 characters; shorter values are not worth matching) in any line."""
    if value and len(value) >= 8:
        with _secrets_lock:
            _secrets.add(value)


def _redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    from runbooks.redact import redact  # credential shapes: keys, tokens, SAS signatures, webhook URLs

    return redact(text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}")


def safe(value: Any, limit: int = MAX_VALUE_CHARS) -> Any:
    """``value`` fit for a log line: numbers, booleans and None as they are; anything else as text with registered
    secrets and credential-shaped substrings replaced by ``[redacted]``, control characters (newlines included)
    escaped as ``\\n``/``\\xNN``, cut to ``limit`` characters."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if len(text) > 4 * limit:
        text = text[: 4 * limit]  # bound the work before redaction
    text = _CONTROL.sub(_escape, _redact(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kv_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"
    text = str(value)
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
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
    clean = {"event": name, **{k: safe(v) for k, v in fields.items() if v is not None and k != "event"}}
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
        text = kv_line(fields) if "event" in fields else str(fields["message"])
        return f"{_timestamp(record.created)} {record.levelname} {text}"


def log_format(env: dict[str, str] | None = None) -> str:
    """``FIRESTOP_LOG_FORMAT`` (``text`` when unset). Raises ValueError naming the variable and the choices."""
    raw = ((os.environ if env is None else env).get(FORMAT_ENV) or "text").strip().lower()
    if raw not in FORMATS:
        raise ValueError(f"{FORMAT_ENV}={raw[:20]!r} is not one of {', '.join(FORMATS)}; unset it for text lines")
    return raw


_HANDLER_MARK = "_firestop_structured"


def configure_logging(stream: TextIO | None = None, *, fmt: str | None = None, loggers: Iterable[str] = ("firestop",),
                      level: int = logging.INFO) -> logging.Handler:
    """Print ``loggers``' records at ``level`` and above on ``stream`` (stderr) with :class:`StructuredFormatter`
    in ``fmt`` (default :func:`log_format`). Idempotent per logger: a handler this function added before is
    replaced. Returns the handler. Raises ValueError for a bad ``FIRESTOP_LOG_FORMAT``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(StructuredFormatter(fmt or log_format()))
    setattr(handler, _HANDLER_MARK, True)
    for name in loggers:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
    return handler

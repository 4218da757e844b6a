"""Deliver a notification to an action group's webhook receivers, retried as Azure retries.

action-groups.md (corpus ``alerts/NOTES.md``): a webhook call is retried only for 408, 429, 503,
504 or a transport error, up to 5 retries, after 5, 20, 5, 40 and 5 seconds. Receivers with
``useCommonAlertSchema`` false would get a legacy schema, which Firestop refuses (400): the
payload is always the common schema here and the receiver's answer says so.

:func:`deliver(payload, webhooks, post, sleep)`: ``post(url, body: bytes) -> int`` (HTTP status;
raise ``OSError`` for a transport error), ``sleep(seconds)`` (the virtual clock's, or real time).
Returns ``[{"url", "attempt", "status" | "error"}]``; URLs are logged without their query
string (a webhook URL may carry a key); ``error`` names the transport error and its reason
(``URLError: [Errno 111] Connection refused``, at most 200 characters).
"""

from __future__ import annotations

import json
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

RETRY_DELAYS_S = (5.0, 20.0, 5.0, 40.0, 5.0)
RETRYABLE = frozenset({408, 429, 503, 504})


def redact(url: str) -> str:
    """``url`` without query string and fragment (function keys travel there)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _transport_error(exc: OSError) -> str:
    """``<type>: <reason>`` of a transport error, without any URL (``urllib``'s ``URLError.reason`` is the socket's
    error; its text never holds the request's URL), at most 200 characters."""
    reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
    text = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
    return text[:200]


def deliver(payload: dict, webhooks: list[dict], post: Callable[[str, bytes], int], sleep: Callable[[float], None]) -> list[dict]:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    log: list[dict] = []
    for hook in webhooks:
        url = str(hook.get("serviceUri", ""))
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            try:
                status = post(url, body)
                log.append({"url": redact(url), "attempt": attempt + 1, "status": status})
                if status not in RETRYABLE:
                    break
            except OSError as exc:
                log.append({"url": redact(url), "attempt": attempt + 1, "error": _transport_error(exc)})
            if attempt < len(RETRY_DELAYS_S):
                sleep(RETRY_DELAYS_S[attempt])
    return log

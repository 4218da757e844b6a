"""Scripted fault injection.

``Tenant.inject_fault(operation, status, nth=1, retry_after=None, times=1)``
adds a rule: counting calls of ``operation`` from the moment of injection
(authenticated calls only; the Key Vault 401 challenge round-trip does not
count), calls number ``nth`` .. ``nth + times - 1`` are answered ``status``
with an error body in the service's shape (``errors.DEFAULT_CODES``) and,
if ``retry_after`` is given, a ``Retry-After`` header (seconds). The faulted
call changes no state. Each firing is recorded as a :class:`FaultRecord`.

Rules and firings are plain dicts in the tenant state so they persist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from .clock import format_utc
from .errors import DEFAULT_CODES, error
from .wire import SandboxResponse


@dataclass(frozen=True)
class FaultRecord:
    """One injected fault that fired: ``kind`` is the error code (e.g. ``TooManyRequests``)."""

    operation: str
    kind: str
    status: int
    at: datetime


def new_rule(operation: str, status: int, nth: int, retry_after: Optional[float], times: int) -> dict:
    """Validate and build a rule dict."""
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError(f"fault status must be an HTTP error status (400-599), got {status!r}")
    if nth < 1 or times < 1:
        raise ValueError("nth and times must be >= 1")
    if retry_after is not None and retry_after < 0:
        raise ValueError("retry_after must be >= 0 seconds")
    return {
        "operation": operation,
        "status": status,
        "nth": int(nth),
        "times": int(times),
        "retry_after": retry_after,
        "seen": 0,
        "fired": 0,
    }


def take(rules: list[dict], operation: str) -> Optional[dict]:
    """Count one call of ``operation`` against every live rule; return the rule that fires, if any.

    Exhausted rules are removed from ``rules``.
    """
    firing = None
    for rule in rules:
        if rule["operation"] != operation:
            continue
        rule["seen"] += 1
        first, last = rule["nth"], rule["nth"] + rule["times"] - 1
        if firing is None and first <= rule["seen"] <= last:
            rule["fired"] += 1
            firing = rule
    rules[:] = [r for r in rules if r["seen"] < r["nth"] + r["times"] - 1]
    return firing


def fault_response(rule: dict) -> SandboxResponse:
    """The error response for a firing rule."""
    status = rule["status"]
    code = DEFAULT_CODES.get(status, "InjectedFault")
    headers = {}
    if rule["retry_after"] is not None:
        retry_after = rule["retry_after"]
        headers["Retry-After"] = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
    return error(status, code, f"Injected fault (sandbox): {rule['operation']} answered {status}.", headers=headers)


def record(rule: dict, at: datetime) -> dict:
    """Persistable record of one firing."""
    return {
        "operation": rule["operation"],
        "kind": DEFAULT_CODES.get(rule["status"], "InjectedFault"),
        "status": rule["status"],
        "at": format_utc(at),
    }

"""Fault injection: scripted HTTP errors, scripted LRO outcomes, seeded random errors.

Three kinds, all counted on *authenticated* calls only (the Key Vault 401
challenge round-trip does not count) and all recorded as a
:class:`FaultRecord` when they fire:

* **Scripted errors** — ``Tenant.inject_fault(operation, status, nth=1,
  retry_after=None, times=1)``: counting calls of ``operation`` from the moment
  of injection, calls ``nth`` .. ``nth + times - 1`` are answered ``status``
  with an error body in the service's shape (``errors.DEFAULT_CODES``) and, if
  ``retry_after`` is given, a ``Retry-After`` header (integer seconds, as ARM
  RPC specifies). The faulted call changes no state.
* **Scripted LRO outcomes** — ``Tenant.inject_lro_fault(operation, seconds=None,
  outcome="Succeeded", ...)``: the ``nth`` .. call of an operation that *starts*
  an ARM long-running operation (:data:`LRO_OPERATIONS`) is accepted as usual
  (202/201/200 + ``Azure-AsyncOperation``) but the operation runs ``seconds``
  instead of the latency model's ``*.lro`` value ("slow LRO") and/or ends
  ``Failed``/``Canceled`` with ``error{code, message}`` in the status body, as
  the ARM async-operation contract allows (Azure/azure-resource-manager-rpc
  ``v1.0/async-api-reference.md``; corpus ``arm/NOTES.md``).
* **Random errors** — ``Tenant.inject_random_faults(rate, seed, statuses,
  operations=None, retry_after=None)``: every eligible call draws from a
  seeded PRNG (``random.Random(f"{seed}:{n}")`` for the n-th draw, so a run is
  reproducible and survives persistence); with probability ``rate`` it is
  answered with one of ``statuses`` (uniform). Scripted rules win over random
  ones for the same call.

Rules and firings are plain dicts in the tenant state so they persist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional

from .clock import format_utc
from .errors import DEFAULT_CODES, error
from .wire import SandboxResponse


#: Operations that start an ARM long-running operation (valid for ``inject_lro_fault``).
LRO_OPERATIONS = ("accounts.update", "securityRules.createOrUpdate", "securityRules.delete",
                  "deployments.createOrUpdate", "deployments.delete", "privateEndpointConnections.createOrUpdate")
#: Terminal LRO statuses (ARM RPC: Succeeded | Failed | Canceled).
LRO_OUTCOMES = ("Succeeded", "Failed", "Canceled")


@dataclass(frozen=True)
class FaultRecord:
    """One injected fault that fired (simulated time ``at``, aware UTC).

    ``kind``: the error code answered (e.g. ``TooManyRequests``) for HTTP
    faults; ``SlowOperation`` / ``OperationFailed`` / ``OperationCanceled`` for
    LRO faults, whose ``status`` is ``None`` (the request itself is accepted).
    ``source``: ``"scripted"`` or ``"random"``.
    """

    operation: str
    kind: str
    status: Optional[int]
    at: datetime
    source: str = "scripted"

    @classmethod
    def from_dict(cls, d: dict) -> "FaultRecord":
        from .clock import parse_utc

        return cls(d["operation"], d["kind"], d.get("status"), parse_utc(d["at"]), d.get("source", "scripted"))


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


def record(rule: dict, at: datetime, source: str = "scripted") -> dict:
    """Persistable record of one firing of an HTTP-error rule."""
    return {
        "operation": rule["operation"],
        "kind": DEFAULT_CODES.get(rule["status"], "InjectedFault"),
        "status": rule["status"],
        "at": format_utc(at),
        "source": source,
    }


# ---------------------------------------------------------------------- LRO outcomes
def new_lro_rule(
    operation: str,
    seconds: Optional[float],
    outcome: str,
    code: Optional[str],
    message: Optional[str],
    nth: int,
    times: int,
) -> dict:
    """Validate and build an LRO rule (see the module docstring)."""
    if operation not in LRO_OPERATIONS:
        raise ValueError(f"{operation!r} starts no long-running operation; LRO faults apply to {LRO_OPERATIONS}")
    if outcome not in LRO_OUTCOMES:
        raise ValueError(f"outcome must be one of {LRO_OUTCOMES}, got {outcome!r}")
    if seconds is not None and float(seconds) < 0:
        raise ValueError("seconds must be >= 0")
    if seconds is None and outcome == "Succeeded":
        raise ValueError("an LRO fault needs seconds (slow operation) or an outcome other than Succeeded")
    if nth < 1 or times < 1:
        raise ValueError("nth and times must be >= 1")
    default_code = {"Failed": "InternalServerError", "Canceled": "OperationCanceled"}.get(outcome)
    return {
        "operation": operation,
        "seconds": None if seconds is None else float(seconds),
        "outcome": outcome,
        "code": code or default_code,
        "message": message,
        "nth": int(nth),
        "times": int(times),
        "seen": 0,
        "fired": 0,
    }


def take_lro(faults: dict, operation: str, at: datetime) -> Optional[dict]:
    """Count one LRO start of ``operation``; return the firing LRO rule (and record it), if any."""
    rules = faults.setdefault("lro_rules", [])
    firing = take(rules, operation)
    if firing is not None:
        kind = {"Failed": "OperationFailed", "Canceled": "OperationCanceled"}.get(firing["outcome"], "SlowOperation")
        faults["fired"].append({"operation": operation, "kind": kind, "status": None, "at": format_utc(at), "source": "scripted"})
    return firing


# ---------------------------------------------------------------------- random errors
def new_random(
    rate: float,
    seed: int,
    statuses: Iterable[int],
    operations: Optional[Iterable[str]],
    retry_after: Optional[float],
    known_operations: Iterable[str],
) -> dict:
    """Validate and build the random-fault configuration."""
    rate = float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be within [0, 1], got {rate!r}")
    statuses = [int(s) for s in statuses]
    if not statuses or any(not 400 <= s <= 599 for s in statuses):
        raise ValueError(f"statuses must be HTTP error statuses (400-599), got {statuses!r}")
    ops = None
    if operations is not None:
        ops = sorted(set(operations))
        unknown = [o for o in ops if o not in set(known_operations)]
        if unknown:
            raise ValueError(f"unknown operation(s) {unknown}; known: {sorted(set(known_operations))}")
    if retry_after is not None and retry_after < 0:
        raise ValueError("retry_after must be >= 0 seconds")
    return {"rate": rate, "seed": int(seed), "statuses": statuses, "operations": ops, "retry_after": retry_after, "draws": 0}


def draw_random(faults: dict, operation: str) -> Optional[dict]:
    """One draw for a call of ``operation``: a rule-like dict for :func:`fault_response`, or ``None``."""
    config = faults.get("random")
    if not config or (config["operations"] is not None and operation not in config["operations"]):
        return None
    config["draws"] += 1
    rng = random.Random(f"{config['seed']}:{config['draws']}")
    if rng.random() >= config["rate"]:
        return None
    return {"operation": operation, "status": rng.choice(config["statuses"]), "retry_after": config["retry_after"]}

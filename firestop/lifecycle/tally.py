"""The alerts that joined an incident, counted outside its history: a tally entity per incident.

A storm of correlated alerts must not grow the incident's orchestration
history (replay cost grows with it; issue 18 measured 650 ``alert_correlated``
events in one incident). So intake (:mod:`firestop.intake.accept`) *signals*
the durable entity :data:`TALLY_ENTITY` (``incident_alerts``) whose key is
the incident id, operation ``add``, with a batch of joined alerts
(:func:`firestop.intake.events.correlated_batch`), and answers 202 once the
signal is stored (on Azure: the extension has queued the operation; locally:
one insert into ``entity_ops``). The orchestrator reads the tally once, when it
drains its events before filing the record (:func:`summary`: one
``call_entity``, two history events, however many alerts joined).

Operations (:func:`operate`), input/result JSON:

* ``add`` — a batch ``{"count", "alert_ids", "alerts", ...}``; each alert id
  not seen before (by :func:`~firestop.intake.events.alert_digest`, up to
  :data:`MAX_TRACKED` remembered) adds one to ``count``; alerts of the batch
  beyond its listed ids are counted without dedupe; the newest
  :data:`SAMPLE_SIZE` summaries are kept. After ``summary`` closed the tally,
  alerts are still counted (``late``: they reached the incident after its
  record was written; the 202 named this incident) → ``None``.
* ``summary {"exclude": alert id | null, "close": bool}`` →
  ``{"count", "alerts": [summary, …], "parts": [summary with "part", …], "late"}`` without the ``exclude``\\ d alert
  (the incident's own starting alert, redelivered); ``close`` marks later adds
  ``late``.
* ``get`` → the state ``{"count", "ids", "alerts", "parts", "untracked", "late", "closed"}`` (``parts``: the
  first :data:`SAMPLE_SIZE` alerts carrying ``part``, the incident another route's playbook runs in, kept apart).

Deterministic: no clock, no I/O. Repeats delivered to several workers are
counted once (the digests), up to :data:`MAX_TRACKED` distinct alerts per
incident; beyond that they are counted without dedupe (``untracked``).
"""

from __future__ import annotations

import hashlib
from typing import Any, Generator

__all__ = ["MAX_TRACKED", "SAMPLE_SIZE", "TALLY_ADD", "TALLY_ENTITY", "alert_digest", "operate", "summary"]

# The contract with intake (firestop.intake.events, which lifecycle does not import; a test checks they agree)
TALLY_ENTITY = "incident_alerts"
TALLY_ADD = "add"

#: Joined alerts kept in the tally and named in the record (the rest are counted).
SAMPLE_SIZE = 20
#: Distinct alerts whose digest a tally remembers (16 hex digits each: ~19 bytes of state per alert).
MAX_TRACKED = 10_000


def alert_digest(alert_id: str) -> str:
    """16 hex digits of SHA-256 of ``alert_id`` (``firestop.intake.events.alert_digest``)."""
    return hashlib.sha256(alert_id.encode("utf-8")).hexdigest()[:16]


def _empty() -> dict[str, Any]:
    return {"count": 0, "ids": [], "alerts": [], "parts": [], "untracked": 0, "late": 0, "closed": False}


def _add(state: dict[str, Any], batch: Any) -> None:
    if not isinstance(batch, dict):
        return
    ids = [i for i in batch.get("alert_ids") or [] if isinstance(i, str)]
    alerts = [a for a in batch.get("alerts") or [] if isinstance(a, dict)]
    if not ids:
        ids = [a["alert_id"] for a in alerts if isinstance(a.get("alert_id"), str)]
    declared = batch.get("count")
    beyond = max((declared if isinstance(declared, int) else len(ids)) - len(ids), 0)
    seen = set(state["ids"])
    fresh = 0
    new_ids: set[str] = set()
    for alert_id in ids:
        digest = alert_digest(alert_id)
        if digest in seen:
            continue
        fresh += 1
        new_ids.add(alert_id)
        if len(state["ids"]) < MAX_TRACKED:
            seen.add(digest)
            state["ids"].append(digest)
        else:
            state["untracked"] += 1
    fresh += beyond
    state["untracked"] += beyond
    state["count"] += fresh
    if state["closed"]:
        state["late"] += fresh
    # the newest alerts not seen before (one more than the record names: the summary may leave out the incident's own)
    state["alerts"] = (state["alerts"] + [a for a in alerts if a.get("alert_id") in new_ids])[-(SAMPLE_SIZE + 1):]
    # alerts whose own playbook runs as a part of this incident: kept apart, so a storm after them cannot push
    # them out of the sample the record names
    known = {p.get("part") for p in state["parts"]}
    for a in alerts:
        if a.get("part") and a.get("part") not in known and len(state["parts"]) < SAMPLE_SIZE:
            state["parts"].append(a)
            known.add(a.get("part"))


def operate(context: Any) -> None:
    """Entity function body of :data:`TALLY_ENTITY` (a ``df.DurableEntityContext``); see the module docstring."""
    state = context.get_state(_empty)
    state = {**_empty(), **(state if isinstance(state, dict) else {})}
    request = context.get_input()
    op = context.operation_name
    if op == TALLY_ADD:
        _add(state, request)
        context.set_result(None)
    elif op == "summary":
        request = request if isinstance(request, dict) else {}
        exclude = request.get("exclude")
        own = isinstance(exclude, str) and alert_digest(exclude) in set(state["ids"])
        context.set_result({"count": state["count"] - (1 if own else 0), "late": state["late"],
                            "alerts": [a for a in state["alerts"] if a.get("alert_id") != exclude][-SAMPLE_SIZE:],
                            "parts": state["parts"]})
        if request.get("close"):
            state["closed"] = True
    elif op == "get":
        context.set_result(state)
    else:
        raise ValueError(f"{TALLY_ENTITY}: unknown operation {op!r} ({TALLY_ADD}, summary, get)")
    context.set_state(state)


def summary(context: Any, incident_id: str, exclude: str | None, *, close: bool = True) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator code (``yield from``): the tally of ``incident_id`` — ``{"count", "alerts", "late"}`` — one
    ``call_entity``; with ``close`` later alerts are counted as ``late``."""
    import azure.durable_functions as df

    answer = yield context.call_entity(df.EntityId(TALLY_ENTITY, incident_id), "summary",
                                       {"exclude": exclude, "close": close})
    answer = answer if isinstance(answer, dict) else {}
    count = answer.get("count") if isinstance(answer.get("count"), int) else 0
    alerts = [a for a in answer.get("alerts") or [] if isinstance(a, dict)]
    return {"count": max(count, 0), "alerts": alerts[-SAMPLE_SIZE:], "late": answer.get("late") or 0}

"""What an incident run's source check answered, kept for the alerts that joined it while the check ran (variants13,
joins14).

An alert that would join an open incident whose source check has not answered yet joins it (a burst of genuine
alerts is one attack: one incident) and is kept as a pending join of that run (:mod:`firestop.records.pending_joins`);
intake then reads the verdict kept here (:func:`firestop.functions.intake_call.pending_join`): not confirmed, it
starts the alert's variant itself. The check's activity keeps the verdict here *before* the incident lists its
pending joins.

Store: the records store (``FIRESTOP_RECORDS_CONTAINER``), ``source-checked/<sha256 of "incident id|received_at">.json``
= ``{"confirmed": bool}``, written create-if-absent (Put Blob ``If-None-Match: *`` / an atomic link locally): the
first answer of a run stands (an activity retried writes nothing new). ``received_at`` (the run's input) tells one
run of an instance id from a later one. One small blob per checked incident run. Outside every incident's names
(``records.store`` reads ``<incident>.json`` revisions only).

Sealed (RT16-03): anyone with Storage Blob Data write on the store could write ``{"confirmed": true}`` there (first,
or over the real one) and end the genuine alert's variant ``joined``, unchecked. Each verdict carries the app's seal
(:class:`firestop.trust.seal.SealKey`, purpose :data:`PURPOSE`, bound to the run, covering the answer); one without a
valid seal reads as not answered (intake then leaves the alert joined; the incident starts its pending joins from its
own check).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: Where the verdicts are kept in the records store.
VERDICT_PREFIX = "source-checked/"
#: What a verdict's seal is for (part of what its MAC covers, with the run and the answer).
PURPOSE = "source-check-verdict"
#: The most bytes a verdict is read at (bounds14): one this module writes is ~150 bytes (``{"confirmed": false,
#: "seal": <~110 characters>}``); ×25 margin. A bigger blob at a verdict's name is a planted one (a Storage Blob Data
#: writer's: read whole, a multi-GB blob exhausted the instance's memory): refused unread, read as not answered.
READ_LIMIT = 4096


def _binding(incident_id: str, received_at: str) -> str:
    """The run a verdict is sealed for (no line break: :meth:`firestop.trust.seal.SealKey.sign` refuses one)."""
    return f"{incident_id}|{received_at}".replace("\r", " ").replace("\n", " ")


def _answer(confirmed: bool) -> str:
    return "confirmed" if confirmed else "not confirmed"


def verdict_name(incident_id: str, received_at: str) -> str:
    """The store name of the verdict of the run of ``incident_id`` received at ``received_at`` (its input's text)."""
    key = f"{incident_id}|{received_at}".encode("utf-8", "replace")
    return f"{VERDICT_PREFIX}{hashlib.sha256(key).hexdigest()}.json"


def keep(store: Any, incident_id: str, received_at: str, confirmed: bool, key: Any) -> None:
    """Keep the run's verdict, sealed with ``key`` (a :class:`firestop.trust.seal.SealKey`) — create-if-absent: an
    existing one stands. Raises the store's errors."""
    from firestop.storage.base import AlreadyExists

    seal = key.sign(PURPOSE, _binding(incident_id, received_at), _answer(bool(confirmed)))
    try:
        store.create(verdict_name(incident_id, received_at),
                     json.dumps({"confirmed": bool(confirmed), "seal": seal}).encode(), "application/json")
    except AlreadyExists:
        pass


def read(store: Any, incident_id: str, received_at: str, key: Any) -> bool | None:
    """The run's verdict: True confirmed at its source, False not, None when its check has not answered (or the blob
    is not one this module wrote — no valid seal of ``key`` for this run and answer, RT16-03, or over
    :data:`READ_LIMIT` bytes, bounds14 —: treated as not answered). Raises the store's errors."""
    from firestop.records.sealed_blob import read_object

    # over READ_LIMIT (bounds14): planted, never one this module wrote: not answered, and said
    doc = read_object(store, verdict_name(incident_id, received_at), READ_LIMIT,
                      planted="source check verdict not believed")
    value, seal = (doc.get("confirmed"), doc.get("seal")) if doc is not None else (None, None)
    if not isinstance(value, bool):
        return None
    ok, _ = key.check(PURPOSE, _binding(incident_id, received_at), _answer(value), seal)
    return value if ok else None

"""What an incident run's source check answered, kept for the alerts that joined it while the check ran (variants13,
joins14).

An alert that would join an open incident whose source check has not answered yet joins it (a burst of genuine
alerts is one attack: one incident) and is kept as a pending join of that run (:mod:`firestop.records.pending_joins`);
intake then reads the verdict kept here (:func:`firestop.functions.intake_call.pending_join`): not confirmed, it
starts the alert's variant itself. The check's activity keeps the verdict here *before* the incident lists its
pending joins. Older inputs (variants13's ``joined_pending``) poll it through the ``source_check_verdict`` activity.

Store: the records store (``FIRESTOP_RECORDS_CONTAINER``), ``source-checked/<sha256 of "incident id|received_at">.json``
= ``{"confirmed": bool}``, written create-if-absent (Put Blob ``If-None-Match: *`` / an atomic link locally): the
first answer of a run stands (an activity retried writes nothing new). ``received_at`` (the run's input) tells one
run of an instance id from a later one. One small blob per checked incident run. Outside every incident's names
(``records.store`` reads ``<incident>.json`` revisions only).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: Where the verdicts are kept in the records store.
VERDICT_PREFIX = "source-checked/"


def verdict_name(incident_id: str, received_at: str) -> str:
    """The store name of the verdict of the run of ``incident_id`` received at ``received_at`` (its input's text)."""
    key = f"{incident_id}|{received_at}".encode("utf-8", "replace")
    return f"{VERDICT_PREFIX}{hashlib.sha256(key).hexdigest()}.json"


def keep(store: Any, incident_id: str, received_at: str, confirmed: bool) -> None:
    """Keep the run's verdict (create-if-absent: an existing one stands). Raises the store's errors."""
    from firestop.storage.base import AlreadyExists

    try:
        store.create(verdict_name(incident_id, received_at), json.dumps({"confirmed": bool(confirmed)}).encode(),
                     "application/json")
    except AlreadyExists:
        pass


def read(store: Any, incident_id: str, received_at: str) -> bool | None:
    """The run's verdict: True confirmed at its source, False not, None when its check has not answered (or the blob
    is not one this module wrote: treated as not answered). Raises the store's errors."""
    raw = store.read(verdict_name(incident_id, received_at))
    try:
        value = json.loads(raw).get("confirmed") if raw else None
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, bool) else None

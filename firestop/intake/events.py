"""The external events intake raises on an open incident, and their data (pure).

The incident orchestrator (``firestop.lifecycle``) waits for these by name;
names and data shapes are a contract between intake and the orchestrator:

* :data:`EVENT_CORRELATED` ``"alert_correlated"`` — a new Fired alert joined the
  incident. Data::

      {"alert": <Alert.model_dump(mode="json", exclude={"context", "essentials"})>,
       "received_at": "<ISO 8601 UTC>"}

* :data:`EVENT_RESOLVED` ``"alert_resolved"`` — Azure Monitor sent "Resolved"
  for an alert of the incident. Data::

      {"alert_id": str, "resolved_at": "<ISO 8601 UTC>" | null, "received_at": "<ISO 8601 UTC>"}

  ``resolved_at`` is ``essentials.resolvedDateTime``; Azure documents it as
  "currently only applicable for metric alerts" (``alerts-common-schema.md``),
  so it is null when the payload has none.

Delivery is at least once: Azure Monitor redelivers a webhook up to 5 times
(``action-groups.md``) and each delivery that reaches an open incident raises
the event again, so the orchestrator must treat a repeated ``alert.alert_id``
(``alert_correlated``) or ``alert_id`` (``alert_resolved``) as the same event.
Data raised through the SDK's ``DurableOrchestrationClient`` reaches the
orchestrator as JSON *text* (azure-functions-durable-python#295; see
``firestop.runtime.management``), so decode a ``str`` before use.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["EVENT_CORRELATED", "EVENT_RESOLVED", "correlated_event", "resolved_event"]

EVENT_CORRELATED = "alert_correlated"
EVENT_RESOLVED = "alert_resolved"


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return when.astimezone(timezone.utc).isoformat()


def correlated_event(alert: Any, *, received_at: datetime) -> dict[str, Any]:
    """Data of :data:`EVENT_CORRELATED` for ``alert`` (a parsed ``Alert``).

    Raises:
        ValueError: ``received_at`` is naive.
    """
    return {
        "alert": alert.model_dump(mode="json", exclude={"context", "essentials"}),
        "received_at": _iso(received_at),
    }


def resolved_event(alert: Any, *, received_at: datetime) -> dict[str, Any]:
    """Data of :data:`EVENT_RESOLVED` for ``alert`` (a parsed Resolved ``Alert``).

    Raises:
        ValueError: ``received_at`` is naive.
    """
    return {
        "alert_id": alert.alert_id,
        "resolved_at": _iso(alert.resolved_at) if alert.resolved_at is not None else None,
        "received_at": _iso(received_at),
    }

"""Read one Event Grid delivery: which schema, the subscription-validation handshake, the events.

Pure, no I/O. Limits and shapes (Microsoft docs):

* Event Grid schema: a JSON **array** of events (``id``, ``topic``, ``subject``, ``eventType``,
  ``eventTime``, ``data``, ``dataVersion``, ``metadataVersion``) — ``event-schema.md``.
* CloudEvents 1.0 (``specversion: "1.0"``): structured mode, one event per request with
  ``Content-Type: application/cloudevents+json``, or a batch (``application/cloudevents-batch+json``,
  or a JSON array whose first item has ``specversion``) — ``cloud-event-schema.md``.
* Subscription validation (Event Grid schema only): one ``Microsoft.EventGrid.SubscriptionValidationEvent``
  (header ``aeg-event-type: SubscriptionValidation``) whose ``data.validationCode`` is echoed back as
  ``{"validationResponse": code}`` with 200 — ``webhook-event-delivery.md``. The ``validationUrl``
  (manual handshake) is **never fetched**: a URL from a request body is not followed (SSRF), and the
  synchronous echo is enough for any endpoint that answers within 30 s.
* CloudEvents abuse protection is an ``OPTIONS`` preflight (``WebHook-Request-Origin``), answered by the
  HTTP function, not here.
* A delivery is at most :data:`MAX_DELIVERY_BYTES` (Event Grid batches up to 1 MB:
  ``preferredBatchSizeInKilobytes`` ≤ 1024, ``delivery-and-retry.md``) and
  :data:`MAX_EVENTS` events (``maxEventsPerBatch`` 1..5000).

Errors are :class:`DeliveryError` (``status`` 400/413/415, ``field``, ``reason``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_DELIVERY_BYTES = 1_048_576
MAX_EVENTS = 5000
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"
_CE_SINGLE = "application/cloudevents+json"
_CE_BATCH = "application/cloudevents-batch+json"


class DeliveryError(ValueError):
    def __init__(self, status: int, field: str, reason: str, fix: str) -> None:
        self.status, self.field, self.reason, self.fix = status, field, reason, fix
        super().__init__(f"{field}: {reason}")

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.field, "field": self.field, "reason": self.reason, "fix": self.fix, "status": self.status}


@dataclass
class Delivery:
    cloud_events: bool
    events: list[Any] = field(default_factory=list)
    validation_code: str | None = None


def read_delivery(body: bytes, content_type: str | None) -> Delivery:
    """Decode and classify one delivery (see the module docstring); :class:`DeliveryError` otherwise."""
    if len(body) > MAX_DELIVERY_BYTES:
        raise DeliveryError(413, "$", f"delivery of {len(body)} bytes is over {MAX_DELIVERY_BYTES}",
                            "set the event subscription's preferredBatchSizeInKilobytes to at most 1024")
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media not in ("application/json", "text/json", _CE_SINGLE, _CE_BATCH):
        raise DeliveryError(415, "content-type", f"{media!r} is not an Event Grid delivery",
                            "deliver with the Event Grid schema (application/json) or CloudEvents 1.0")
    try:
        decoded = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DeliveryError(400, "$", f"not UTF-8 JSON ({type(exc).__name__})", "send the events as a JSON array") from None
    if isinstance(decoded, dict):
        if media == _CE_SINGLE or "specversion" in decoded:
            return Delivery(cloud_events=True, events=[decoded])
        raise DeliveryError(400, "$", "an Event Grid delivery is a JSON array of events",
                            "use the Event Grid event schema (an array) or CloudEvents 1.0")
    if not isinstance(decoded, list) or not decoded:
        raise DeliveryError(400, "$", "expected a non-empty JSON array of events", "send at least one event")
    if len(decoded) > MAX_EVENTS:
        raise DeliveryError(413, "$", f"{len(decoded)} events in one delivery (at most {MAX_EVENTS})",
                            "set the event subscription's maxEventsPerBatch to at most 5000")
    first = decoded[0] if isinstance(decoded[0], dict) else {}
    cloud = media == _CE_BATCH or "specversion" in first
    if not cloud and str(first.get("eventType") or "") == VALIDATION_EVENT:
        data = first.get("data") if isinstance(first.get("data"), dict) else {}
        code = data.get("validationCode")
        if not isinstance(code, str) or not code.strip() or len(code) > 256:
            raise DeliveryError(400, "[0].data.validationCode", "missing or not a short string",
                                "this is Event Grid's validation event: it carries data.validationCode")
        if len(decoded) != 1:  # Event Grid sends the handshake alone; events beside it would be dropped with a 200 (RT4-05)
            raise DeliveryError(400, "[1]", f"a subscription validation delivery carries only the validation event, not "
                                f"{len(decoded) - 1} more", "deliver the events in their own delivery")
        return Delivery(cloud_events=False, events=[], validation_code=code.strip())
    return Delivery(cloud_events=cloud, events=decoded)

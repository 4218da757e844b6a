"""One Event Grid event (Event Grid schema or CloudEvents 1.0) → an :class:`Alert`, or None when it asks nothing.

Event types handled (schemas: Microsoft docs ``event-schema-policy.md`` / ``policy-events.md``,
``event-schema-key-vault.md``; Graph partner events ``Microsoft.Graph.AlertCreated``):

* ``Microsoft.PolicyInsights.PolicyStateCreated`` / ``PolicyStateChanged`` with ``complianceState``
  ``NonCompliant``: the ``subject`` resource became non-compliant. Target = ``subject``; ``rule_name`` =
  ``policy:<definition name>``; routed (``firestop-playbook``) when the definition is one of
  :data:`POLICY_PLAYBOOKS` (built-in Azure AI services network policies → ``public-network-exposure``) **by its
  built-in id** (:func:`builtin_definition`: a custom definition named like one is not routed, RT20-06).
  ``Compliant`` (or any other state) → None.
* ``Microsoft.KeyVault.SecretNearExpiry`` / ``SecretExpired`` for the consumers' secret
  (``FIRESTOP_KEY_SECRET_NAME``, passed in as ``secret_name``): target = the vault (``topic``/``source``);
  ``rule_name`` = the event type; not routed (no shipped playbook: recorded, a responder rotates).
  Other secrets → None.
* ``Microsoft.Graph.AlertCreated``: the event names a Graph security alert
  (``data.resourceData.id`` or the last segment of ``data.resource``): the alert returned here only carries
  that id (``context.graphAlertId``); ``POST /api/events`` fetches the alert by id through msgraph-sdk and
  normalises it (:mod:`firestop.alerts.sources.graph`), so it routes like the Defender alert it mirrors.

Every other type → None (ignored, answered 200: Event Grid must not retry it).

Exactly once: ``alert_id`` = ``Microsoft.EventGrid/events/`` + source + ``/`` + event id, so a redelivery
(same id) is the same alert and the intake's dedupe answers it ``duplicate``.

A malformed event raises :class:`EventError` naming the field (``id``, ``eventType``/``type``,
``subject``, ``data.complianceState``, ``eventTime``/``time`` …).
"""

from __future__ import annotations

import re
from typing import Any

from firestop.alerts.alert import ROUTE_PROPERTY, Alert
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.indicators import Indicators
from firestop.alerts.normalize import canonical_targets, resource_type_of
from firestop.resource_id import builtin_definition, unpaired_surrogate
from firestop.alerts.sources.defender import ci
from firestop.alerts.sources.security_alert import parse_time, text

POLICY_STATE_TYPES = ("microsoft.policyinsights.policystatecreated", "microsoft.policyinsights.policystatechanged")
SECRET_TYPES = ("microsoft.keyvault.secretnearexpiry", "microsoft.keyvault.secretexpired")
#: A Graph security alert id (``alert`` resource ``id``: e.g. ``da2516935104399999999_5f0c2e8a-…``, GUIDs): letters,
#: digits, ``_-.:``; not only dots.
_GRAPH_ALERT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,256}")
GRAPH_ALERT_TYPE = "microsoft.graph.alertcreated"
#: Built-in policy definitions (Azure Policy built-ins for Azure AI services) → the playbook a
#: non-compliant account needs. 0725b4dd…: "Cognitive Services accounts should disable public network
#: access"; 037eea7a…: "Azure AI Services resources should restrict network access".
POLICY_PLAYBOOKS = {
    "0725b4dd-7e76-479c-a735-68e7ee23d5ca": "public-network-exposure",
    "037eea7a-bd0a-46c5-9a66-03aea78705d3": "public-network-exposure",
}


class EventError(ValueError):
    """One event of a delivery is malformed: ``field`` (dotted, in the event) and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def _required(event: dict, *names: str) -> str:
    value = text(ci(event, *names), 1024)
    if value is None:
        raise EventError(names[0], "required member is missing or empty")
    if unpaired_surrogate(value):  # RT9-01: the alert id (hashed as UTF-8) is built from the id and the source
        raise EventError(names[0], "holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape)")
    return value


def event_alert(event: Any, *, cloud_events: bool, secret_name: str = "openai-api-key") -> Alert | None:
    """The alert of one event, None when it asks nothing of Firestop; :class:`EventError` when malformed."""
    if not isinstance(event, dict):
        raise EventError("$", "an event must be a JSON object")
    type_field, time_field, source_field = ("type", "time", "source") if cloud_events else ("eventType", "eventTime", "topic")
    event_id = _required(event, "id")
    event_type = _required(event, type_field)
    source = text(event.get(source_field), 1024) or ""
    if unpaired_surrogate(source):
        raise EventError(source_field, "holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape)")
    data = event.get("data")
    try:
        when = parse_time(event.get(time_field), time_field, required=True)
    except AlertPayloadError as exc:
        raise EventError(time_field, exc.reason) from None
    kind = event_type.lower()
    common: dict[str, Any] = {"schema_id": "eventgrid:cloudevents" if cloud_events else "eventgrid:eventgrid",
                              "alert_id": f"Microsoft.EventGrid/events/{source.lower()}/{event_id.lower()}",
                              "monitor_condition": "Fired", "fired_at": when, "signal_type": "Event"}
    if kind in POLICY_STATE_TYPES:
        if not isinstance(data, dict):
            raise EventError("data", "a policy state event carries a data object")
        state = text(data.get("complianceState"), 64)
        if state is None:
            raise EventError("data.complianceState", "required member is missing")
        if state.lower() != "noncompliant":
            return None
        subject = _required(event, "subject")
        try:
            targets = canonical_targets([subject])
        except ValueError as exc:
            raise EventError("subject", str(exc)) from None
        definition = (text(data.get("policyDefinitionId"), 1024) or "").rstrip("/").rsplit("/", 1)[-1].lower()
        scanned = None
        try:
            scanned = parse_time(data.get("timestamp"), "data.timestamp")
        except AlertPayloadError as exc:
            raise EventError("data.timestamp", exc.reason) from None
        props = {"policyAssignmentId": text(data.get("policyAssignmentId"), 1024) or "",
                 "policyDefinitionId": text(data.get("policyDefinitionId"), 1024) or ""}
        if definition in POLICY_PLAYBOOKS and builtin_definition(props["policyDefinitionId"]) == definition:
            props[ROUTE_PROPERTY] = POLICY_PLAYBOOKS[definition]  # the built-in itself, never a namesake (RT20-06)
        return Alert(**{**common, "fired_at": scanned or when}, rule_name=f"policy:{definition}", monitoring_service="Azure Policy",
                     description=f"{event_type}: {subject} is NonCompliant with policy {definition}",
                     target_ids=targets, resource_type=resource_type_of(targets, None), custom_properties=props,
                     context={"source": common["schema_id"], "eventType": event_type, "eventId": event_id,
                              "complianceReasonCode": text(data.get("complianceReasonCode"), 256)})
    if kind in SECRET_TYPES:
        if not isinstance(data, dict):
            raise EventError("data", "a Key Vault event carries a data object")
        name = text(ci({k.strip(): v for k, v in data.items()}, "ObjectName"), 127) or text(event.get("subject"), 127)
        if name is None:
            raise EventError("data.ObjectName", "required member is missing")
        if name.lower() != secret_name.lower():
            return None
        try:
            targets = canonical_targets([source]) if source.lower().startswith("/subscriptions/") else ()
        except ValueError:
            targets = ()
        return Alert(**common, rule_name=event_type, monitoring_service="Key Vault",
                     description=f"{event_type}: the consumers' secret {name} in {text(ci(data, 'vaultName'), 64) or source}",
                     target_ids=targets, resource_type=resource_type_of(targets, None),
                     context={"source": common["schema_id"], "eventType": event_type, "eventId": event_id, "secret": name,
                              "exp": text(ci(data, "exp"), 32)})
    if kind == GRAPH_ALERT_TYPE:
        if not isinstance(data, dict):
            raise EventError("data", "a Graph change notification carries a data object")
        resource_data = data.get("resourceData") if isinstance(data.get("resourceData"), dict) else {}
        alert = text(resource_data.get("id"), 256) or (text(data.get("resource"), 1024) or "").rstrip("/").rsplit("/", 1)[-1] or None
        if alert is None:
            raise EventError("data.resourceData.id", "the Graph alert id is missing")
        if not _GRAPH_ALERT_ID.fullmatch(alert) or not alert.strip("."):
            # a whole "."/".." segment would be removed from /security/alerts_v2/{id} (RFC 3986 §5.2.4): another
            # resource fetched, the delivery answered 503 and its later events never read (RT4-02)
            raise EventError("data.resourceData.id", f"{alert[:64]!r} is not a Graph security alert id")
        return Alert(**common, rule_name=event_type, monitoring_service="Microsoft Graph security",
                     description=f"{event_type}: Graph security alert {alert}", indicators=Indicators(),
                     context={"source": common["schema_id"], "eventType": event_type, "eventId": event_id, "graphAlertId": alert})
    return None

"""A Microsoft Graph security alert (``microsoft.graph.security.alert``, v2) → one :class:`Alert` (pure).

Source of the shape: Graph v1.0 ``GET /security/alerts_v2/{id}``
(https://learn.microsoft.com/graph/api/security-alert-get, resource type ``security-alert``): ``id``,
``providerAlertId`` ("the ID of the alert as it appears in the security provider product that generated the
alert"), ``serviceSource`` / ``detectionSource`` (``microsoftDefenderForCloud`` …), ``detectorId``, ``title``,
``description``, ``severity`` (low|medium|high|informational), ``status`` (new|inProgress|resolved),
``createdDateTime``, ``firstActivityDateTime``, ``lastActivityDateTime``, ``evidence[]``
(``#microsoft.graph.security.azureResourceEvidence``: ``resourceId``; ``#microsoft.graph.security.ipEvidence``:
``ipAddress``).

A ``Microsoft.Graph.AlertCreated`` partner event names the alert only; :mod:`firestop.functions.http_events`
fetches it through msgraph-sdk (``ClientFactory.graph``) and hands the JSON here.

Normalisation: targets = the ``azureResourceEvidence`` ARM ids; caller IPs = the ``ipEvidence`` addresses;
alert type = ``detectorId`` (else the title), routed like a Defender alert type when it is one
(:data:`~firestop.alerts.sources.security_alert.ALERT_TYPE_PLAYBOOKS`). An alert Defender for Cloud raised
(``serviceSource`` ``microsoftDefenderForCloud`` with a ``providerAlertId``) **is** that Defender alert:
``alert_id`` = ``Microsoft.Security/alerts/<providerAlertId>`` (the Defender sources' id), so the same alert
delivered by Defender and by Graph is one alert (a duplicate), and ``firestop-defender-alert`` names it for the
write-back. Any other alert: ``Microsoft.Graph/security/alerts/<id>``. Required: ``id`` and ``createdDateTime``
(422 naming the field).
"""

from __future__ import annotations

from typing import Any

from firestop.alerts.alert import Alert
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.indicators import MAX_INDICATORS
from firestop.alerts.sources.security_alert import DEFENDER_ALERT_PROPERTY, SecurityAlert, parse_time, text, to_alert

DEFENDER_FOR_CLOUD = "microsoftdefenderforcloud"


def graph_alert(body: Any) -> Alert:
    """The :class:`Alert` of a Graph security alert (module docstring); :class:`AlertPayloadError` (422) when
    ``id`` or ``createdDateTime`` is missing or a resource id is not an ARM id."""
    if not isinstance(body, dict):
        raise AlertPayloadError("$", "a Graph security alert is a JSON object", "Send the alert as Graph returns it.")
    alert_id = text(body.get("id"), 256)
    if alert_id is None:
        raise AlertPayloadError("id", "required member is missing", "Send the Graph security alert's id.")
    evidence = [e for e in body.get("evidence") or [] if isinstance(e, dict)][:MAX_INDICATORS] if isinstance(body.get("evidence"), list) else []
    resources = [str(e["resourceId"]).strip() for e in evidence
                 if str(e.get("@odata.type") or "").lower().endswith("azureresourceevidence") and isinstance(e.get("resourceId"), str)
                 and str(e["resourceId"]).strip().lower().startswith("/subscriptions/")]
    ips = [{"type": "ip", "address": e["ipAddress"]} for e in evidence
           if str(e.get("@odata.type") or "").lower().endswith("ipevidence") and isinstance(e.get("ipAddress"), str)]
    provider = text(body.get("providerAlertId"), 256)
    source = (text(body.get("serviceSource"), 64) or "").lower()
    from_defender = source == DEFENDER_FOR_CLOUD and provider is not None
    alert_type = text(body.get("detectorId"), 256) or text(body.get("title"), 256) or "Graph security alert"
    normalised = SecurityAlert(
        source="graph:alert", alert_type=alert_type, system_alert_id=provider or alert_id,
        display_name=text(body.get("title")), description=text(body.get("description"), 2000),
        severity=text(body.get("severity"), 32), status=text(body.get("status"), 32),
        start=parse_time(body.get("firstActivityDateTime"), "firstActivityDateTime"),
        end=parse_time(body.get("lastActivityDateTime"), "lastActivityDateTime"),
        generated=parse_time(body.get("createdDateTime"), "createdDateTime", required=True),
        resource_ids=resources, entities=ips,
        product="Microsoft Graph security" + (f" ({text(body.get('serviceSource'), 64)})" if source else ""),
        extra_context={"graphAlertId": alert_id, "providerAlertId": provider if from_defender else None,
                       "serviceSource": text(body.get("serviceSource"), 64), "detectionSource": text(body.get("detectionSource"), 64)},
    )
    return to_alert(normalised, custom_properties={DEFENDER_ALERT_PROPERTY: provider} if from_defender else None,
                    alert_id=("Microsoft.Security/alerts/" + provider.lower()) if from_defender
                    else "Microsoft.Graph/security/alerts/" + alert_id.lower())

"""Microsoft Sentinel incidents → one :class:`Alert` (``schema_id`` ``sentinel:incident``).

Accepted shapes:

* the **automation-rule trigger body** a relay Logic App forwards (trigger "Microsoft Sentinel incident",
  ``{"objectSchemaType": "Incident", "object": {incident}, "workspaceInfo": {...}}``), whose incident
  carries ``properties.alerts[]`` and ``properties.relatedEntities[]``;
* the **incident ARM JSON** (``type: "Microsoft.SecurityInsights/incidents"``, REST 2024-03-01
  ``Incidents_Get``, spec example ``GetIncidentById.json``), optionally with ``properties.alerts`` /
  ``properties.relatedEntities`` filled from ``Incidents_ListAlerts`` / ``_ListEntities`` (spec example
  ``GetAllIncidentAlerts.json``).

Why the relay and not a polling timer: an automation rule fires on incident creation within seconds and
runs under Sentinel's own identity (the Logic App's managed identity posts to ``/api/alerts`` with the
function key or an Entra token), so MTTA is not bounded by a poll period; polling would need
``Microsoft.SecurityInsights/incidents/read`` on every workspace and a cursor to stay exactly-once.
The Sentinel write-back (comments, owner, status, classification) calls the REST API either way.

Normalisation: ``alert_id`` = ``Microsoft.SecurityInsights/incidents/`` + the incident's ARM id
(lower-case); ``rule_name`` = the first alert type among the incident's alerts, else the title;
targets = the alerts' ``resourceIdentifiers[].azureResourceId`` + ``AzureResource`` entities'
``resourceId`` (ARM ids only: a value not starting ``/subscriptions/`` is ignored, as in the Defender parser;
``resourceIdentifiers`` not a list → 422 naming ``…alerts[i].properties.resourceIdentifiers``); route (``firestop-playbook``) = the playbook of the first alert type that has one, so a
Sentinel incident holding a Defender jailbreak alert routes, and correlates, exactly like that alert.
Status New/Active → Fired, Closed → Resolved. Required: ``id`` (or ``name``) and ``properties.createdTimeUtc``.
"""

from __future__ import annotations

from typing import Any

from firestop.alerts.alert import Alert
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.indicators import MAX_INDICATORS
from firestop.alerts.sources import Recognition, source
from firestop.alerts.sources.defender import ci
from firestop.alerts.sources.security_alert import SecurityAlert, parse_time, playbook_for, text, to_alert


def _incident(body: dict) -> tuple[dict | None, str]:
    if str(body.get("objectSchemaType") or "").lower() == "incident" and isinstance(body.get("object"), dict):
        return body["object"], "object."
    if str(body.get("type") or "").lower() == "microsoft.securityinsights/incidents":
        return body, ""
    return None, ""


def recognise(body: dict) -> Recognition | None:
    incident, prefix = _incident(body)
    if incident is None:
        return None
    props = incident.get("properties") if isinstance(incident.get("properties"), dict) else {}
    missing = []
    if not text(incident.get("id") or incident.get("name"), 1024):
        missing.append(prefix + "id")
    if not text(props.get("createdTimeUtc")):
        missing.append(prefix + "properties.createdTimeUtc")
    return Recognition("Microsoft Sentinel incident (automation-rule trigger body or incident REST 2024-03-01)", tuple(missing))


def _list(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)][: MAX_INDICATORS] if isinstance(value, list) else []


@source("sentinel:incident", "Microsoft Sentinel incident (automation-rule relay body, or incident REST 2024-03-01)", recognise,
        keys=frozenset({"objectschematype", "type"}))
def parse(body: dict) -> Alert:
    incident, prefix = _incident(body)
    assert incident is not None
    props = incident.get("properties") or {}
    path = prefix + "properties."
    alerts = _list(props.get("alerts"))
    entities = _list(props.get("relatedEntities"))
    alert_types = [t for t in (text(ci(a.get("properties"), "alertType"), 256) for a in alerts) if t]
    system_ids = [s for s in (text(ci(a.get("properties"), "systemAlertId"), 256) for a in alerts) if s]
    # the product's own alert id (for a Defender for Cloud alert: its systemAlertId) — REST SecurityAlertProperties
    # providerAlertId, "the identifier of the alert inside the product which generated the alert"
    provider_ids = [s for s in (text(ci(a.get("properties"), "providerAlertId"), 256) for a in alerts) if s]
    resource_ids: list[str] = []
    for i, a in enumerate(alerts):
        idents = ci(a.get("properties"), "resourceIdentifiers")
        if idents is not None and not isinstance(idents, list):
            raise AlertPayloadError(f"{path}alerts[{i}].properties.resourceIdentifiers",
                                    f"expected a list, got {type(idents).__name__}",
                                    "Send resourceIdentifiers as a list of {\"type\": \"AzureResource\", \"azureResourceId\": ...}.")
        for ident in idents or []:
            rid = ci(ident, "azureResourceId")
            if isinstance(rid, str) and rid.strip().startswith("/subscriptions/"):
                resource_ids.append(rid.strip())
    flat_entities = []
    for e in entities:
        eprops = e.get("properties") if isinstance(e.get("properties"), dict) else {}
        kind = str(e.get("kind") or "")
        rid = eprops.get("resourceId")
        # as the Defender parser: only an ARM id counts as the alerted resource (anything else is not a target)
        if kind.lower() == "azureresource" and isinstance(rid, str) and rid.strip().lower().startswith("/subscriptions/"):
            resource_ids.append(rid.strip())
        flat_entities.append({"type": kind, **{k: v for k, v in eprops.items() if not isinstance(v, (dict, list))}})
    route_type = next((t for t in alert_types if playbook_for(t)), None)
    incident_id = text(incident.get("id") or incident.get("name"), 1024) or ""
    owner = props.get("owner") if isinstance(props.get("owner"), dict) else {}
    normalised = SecurityAlert(
        source="sentinel:incident",
        alert_type=alert_types[0] if alert_types else (text(props.get("title"), 256) or "Sentinel incident"),
        system_alert_id=incident_id,
        display_name=text(props.get("title")),
        description=text(props.get("description"), 2000),
        severity=text(props.get("severity"), 32),
        status=text(props.get("status"), 32),
        start=parse_time(props.get("firstActivityTimeUtc"), path + "firstActivityTimeUtc"),
        end=parse_time(props.get("lastActivityTimeUtc"), path + "lastActivityTimeUtc"),
        generated=parse_time(props.get("createdTimeUtc"), path + "createdTimeUtc", required=True),
        resource_ids=resource_ids,
        entities=flat_entities,
        product="Microsoft Sentinel",
        extra_context={
            "incidentId": incident_id,
            "incidentNumber": props.get("incidentNumber") if isinstance(props.get("incidentNumber"), int) else None,
            "incidentUrl": text(props.get("incidentUrl"), 2048),
            "title": text(props.get("title")),
            "owner": text(owner.get("userPrincipalName") or owner.get("assignedTo")),
            "alertTypes": alert_types,
            "systemAlertIds": system_ids,
            "providerAlertIds": provider_ids,
            "workspace": {k: text(v, 256) for k, v in (body.get("workspaceInfo") or {}).items()} if isinstance(body.get("workspaceInfo"), dict) else None,
        },
        extra_indicators={"alert_types": alert_types},
    )
    return to_alert(normalised, alert_id="Microsoft.SecurityInsights/incidents/" + incident_id.lower(),
                    route_type=route_type or "")

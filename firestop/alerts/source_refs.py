"""Where a Defender for Cloud alert or a Sentinel incident lives at its source, read from a delivery (pure).

``FIRESTOP_ALERT_SOURCE_CHECK`` reads a delivered security alert back from its source before any automatic step
(:mod:`firestop.azure.security_source`). Intake names the source in the incident's input — ``source_check``
(:data:`DEFENDER` | :data:`SENTINEL`) and ``source_ref``, the delivery's own ARM id of the alert or incident — and
only after the id's shape is checked here, since its parts land in a URL path: no other segment, no ``..``, no
control character, no query or fragment.

* Defender for Cloud (Security Alerts REST 2022-01-01, ``alerts.json`` in Azure/azure-rest-api-specs
  ``specification/security/resource-manager/Microsoft.Security/stable/2022-01-01/``):
  ``/subscriptions/{sub}[/resourceGroups/{rg}]/providers/Microsoft.Security/locations/{ascLocation}/alerts/{alertName}``;
  the REST shape's ``id`` (and the export / workflow-automation shape's, when it carries one). The alert's ``name``
  is its ``systemAlertId`` (spec example ``GetAlertSubscriptionLocation_example.json``).
* Sentinel (REST 2024-03-01 ``Incidents.json``): ``/subscriptions/{sub}/resourceGroups/{rg}/providers/
  Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights/incidents/{incidentId}``.
"""

from __future__ import annotations

import re
from typing import Any

from firestop.lazy_re import LazyPattern

DEFENDER = "defender"
SENTINEL = "sentinel"
#: An Azure Policy state event (Event Grid): read back from Policy Insights (:mod:`firestop.azure.policy_source`, RT14-03).
POLICY = "policy"
#: A Microsoft Graph security alert that Defender for Cloud did not raise (RT17-05): Graph holds it, but another
#: provider's alert (a Sentinel analytics rule, a Defender XDR custom detection: title and entities are its author's)
#: is no detection of an attack on the account. No source vouches for it: never confirmed, a responder decides.
GRAPH = "graph"
#: Graph's copy of a Defender for Cloud alert (``serviceSource`` ``microsoftDefenderForCloud`` with a
#: ``providerAlertId``): fetched by Firestop from Graph, so its content is Graph's; what the check bounds is its age
#: (trust16: an old alert never triaged, named again by an ``AlertCreated`` event, is no reason to act now —
#: :func:`firestop.azure.security_source.confirm_graph_copy`).
GRAPH_DEFENDER = "graph-defender"
#: ``schema_id`` of a Graph security alert (:mod:`firestop.alerts.sources.graph`).
GRAPH_SCHEMA = "graph:alert"
#: ``schema_id`` of the alerts Firestop's own audit raises for new drift (:func:`firestop.audit.drift.drift_alerts`).
AUDIT_SCHEMA = "firestop-audit"
#: A drift alert's custom property (A13-08): how many audit documents Firestop did not seal stood where the previous
#: audit was looked for, when none was found — every failing finding then counts as new, so the incident asks a
#: responder before acting (:func:`firestop.lifecycle.start.incident_input`'s ``drift_unverified``).
DRIFT_UNVERIFIED_PROPERTY = "firestop-drift-unverified"
DEFENDER_FOR_CLOUD_SOURCE = "microsoftdefenderforcloud"
#: How every reason of an activity log alert's event check starts (:mod:`firestop.azure.activity_source`, verify13):
#: the one place its wording is keyed on — the responder's "Check first" advice names the Activity Log for it
#: (:func:`firestop.lifecycle.cli_hints.unconfirmed_hint`). Pure text here, so lifecycle needs no Azure import.
ACTIVITY_EVENT_REASON = "Activity Log event: "
#: The parsed alert's ``schema_id`` of each checked delivery kind (:mod:`firestop.alerts.sources`).
DEFENDER_SCHEMAS = frozenset({"defender:rest", "defender:export", "defender:securityalert"})
SENTINEL_SCHEMA = "sentinel:incident"

_DEFENDER_ALERT_ID = LazyPattern(
    r"/subscriptions/([0-9a-fA-F-]{36})(?:/resourceGroups/([-A-Za-z0-9_.()]{1,90}))?/providers/Microsoft\.Security/"
    r"locations/([A-Za-z0-9]{1,64})/alerts/(?!\.+$)([A-Za-z0-9_.\-]{1,256})", re.IGNORECASE, globals())
_SENTINEL_INCIDENT_ID = LazyPattern(
    r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-A-Za-z0-9_.()]{1,90}/providers/Microsoft\.OperationalInsights/"
    r"workspaces/[-A-Za-z0-9_]{1,63}/providers/Microsoft\.SecurityInsights/incidents/[-A-Za-z0-9_]{1,64}", re.IGNORECASE, globals())


def check_defender_alert_id(value: Any) -> tuple[str, str | None, str, str]:
    """``(subscription, resource group or None, ascLocation, alert name)`` of a Defender alert's ARM id (exactly
    that: no surrounding space), else ``ValueError`` naming the expected form."""
    found = _DEFENDER_ALERT_ID.fullmatch(value) if isinstance(value, str) else None
    if found is None or ".." in value:
        raise ValueError("not a Defender for Cloud alert id (/subscriptions/<id>[/resourceGroups/<rg>]/providers/"
                         "Microsoft.Security/locations/<ascLocation>/alerts/<systemAlertId>)")
    sub, rg, location, name = found.groups()
    return sub, rg, location, name


def check_sentinel_incident_id(value: Any) -> str:
    """The Sentinel incident's ARM id itself (exactly that), else ``ValueError`` naming the expected form."""
    if not isinstance(value, str) or not _SENTINEL_INCIDENT_ID.fullmatch(value) or ".." in value:
        raise ValueError("not a Sentinel incident id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft."
                         "OperationalInsights/workspaces/<workspace>/providers/Microsoft.SecurityInsights/incidents/<name>)")
    return value


#: ``schemaId`` of an Azure Monitor action group's Common Alert Schema webhook: the alerts Alerts Management holds.
COMMON_ALERT_SCHEMA = "azureMonitorCommonAlertSchema"


def is_policy_event(alert: Any) -> bool:
    """Whether ``alert`` is an Azure Policy state event delivered by Event Grid
    (:mod:`firestop.alerts.sources.eventgrid`: ``rule_name`` ``policy:<definition>``, ``monitoring_service`` Azure
    Policy)."""
    return (str(getattr(alert, "schema_id", None) or "").startswith("eventgrid:")
            and str(getattr(alert, "rule_name", None) or "").startswith("policy:")
            and getattr(alert, "monitoring_service", None) == "Azure Policy")


def source_of(alert: Any, enabled: bool) -> tuple[str | None, str | None]:
    """``(source_check, source_ref)`` for the input of an incident opened by ``alert`` (a parsed
    :class:`firestop.alerts.Alert`: its ``context`` holds the delivered ids). ``(None, None)`` with the check off or
    for another schema; ``source_ref`` None when the delivery names no well-formed id (a Log Analytics
    ``SecurityAlert`` row names no location): the check then says so, not confirmed. An Azure Policy state event
    (:func:`is_policy_event`) is ``(POLICY, None)``: the alert names its resource and policy itself (RT14-03). A Graph
    security alert that Defender for Cloud did not raise is ``(GRAPH, None)``: never confirmed (RT17-05); one it
    raised (``serviceSource`` ``microsoftDefenderForCloud`` with a ``providerAlertId``) is Graph's copy of that
    Defender alert, fetched by Firestop from Graph: ``(GRAPH_DEFENDER, None)``, its content not compared again, its
    creation time bounded against the check's (trust16)."""
    schema = getattr(alert, "schema_id", None)
    if enabled and is_policy_event(alert):
        return POLICY, None  # (the alert itself names the resource and the policy: firestop.azure.policy_source)
    context = getattr(alert, "context", None)
    context = context if isinstance(context, dict) else {}
    if enabled and schema == GRAPH_SCHEMA and not (
            str(context.get("serviceSource") or "").lower() == DEFENDER_FOR_CLOUD_SOURCE and context.get("providerAlertId")):
        return GRAPH, None  # RT17-05: another provider's alert, routed by its title or detector id: nobody vouches
    if enabled and schema == GRAPH_SCHEMA:
        return GRAPH_DEFENDER, None  # trust16: Graph's copy of a Defender alert: its creation time is bounded
    if not enabled or (schema not in DEFENDER_SCHEMAS and schema != SENTINEL_SCHEMA):
        return None, None
    try:
        if schema == SENTINEL_SCHEMA:
            return SENTINEL, check_sentinel_incident_id(context.get("incidentId"))
        check_defender_alert_id(context.get("alertResourceId"))
        return DEFENDER, context.get("alertResourceId")
    except ValueError:
        return (SENTINEL if schema == SENTINEL_SCHEMA else DEFENDER), None


#: The delivered Activity Log event's fields an Azure Monitor alert's ``source_ref`` carries (verify13), each a string
#: of at most :data:`EVENT_REF_TEXT` characters (their shapes are checked where they are used:
#: :func:`firestop.azure.activity_source.parse_event_ref`).
EVENT_REF_KEYS = ("correlationId", "eventDataId", "eventTimestamp")
EVENT_REF_TEXT = 64


def activity_event_ref(alert) -> str | None:
    """``source_ref`` of an Azure Monitor alert whose (lean) context names an Activity Log event: compact JSON of its
    :data:`EVENT_REF_KEYS` that are strings of at most :data:`EVENT_REF_TEXT` characters, keys sorted; None when it
    names none of them (a metric or log alert). Pure."""
    import json

    context = getattr(alert, "context", None)
    if not isinstance(context, dict):
        return None
    ref = {k: context[k] for k in EVENT_REF_KEYS if isinstance(context.get(k), str) and len(context[k]) <= EVENT_REF_TEXT}
    return json.dumps(ref, sort_keys=True, separators=(",", ":")) if ref else None


def delivered_ref(alert: Any) -> str | None:
    """The ``source_ref`` an incident opened by ``alert`` carries with the source check on
    (:func:`firestop.lifecycle.start.incident_input`): a Common Alert Schema alert's Activity Log event
    (:func:`activity_event_ref`), a Defender alert's or Sentinel incident's ARM id (:func:`source_of`); None when it
    names none. What the check reads besides the alert JSON, so a content digest of a delivery covers it too
    (RT16-01: :func:`firestop.intake.accept.delivery_digest`). Pure."""
    if getattr(alert, "schema_id", None) == COMMON_ALERT_SCHEMA:
        return activity_event_ref(alert)
    return source_of(alert, True)[1]

"""Defender for AI services in the sandbox: threat protection for AI workloads over the data-plane traffic.

:func:`evaluate(state, now)` looks at what the Azure OpenAI service saw of each data-plane call
(``doc["dataplane"]``, written by :func:`firestop.sandbox.monitor.traffic.call`: deployment, caller IP,
principal, User-Agent, the ``user_security_context`` application and end user, the Prompt Shields
verdict, the prompt kind, tokens — never the attack's ``tag``) and raises Microsoft.Security alerts with
the alert types of Defender for Cloud's reference "Alerts for AI workloads" (MicrosoftDocs azure-docs
``articles/defender-for-cloud/alerts-ai-workloads.md``, 2024; defender-docs ``alerts-ai-workloads.md``, 2025):

========================================================  ============================================================
alert type (severity Medium, as the reference gives)      raised when (sandbox thresholds: Defender's models are not public)
========================================================  ============================================================
``AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt``    a jailbreak prompt Prompt Shields blocked (400 content_filter)
``AI.Azure_Jailbreak.ContentFiltering.DetectedAttempt``   a jailbreak prompt Prompt Shields only annotated (served)
``AI.Azure_CredentialTheftAttempt``                       a served answer carried credentials (``prompt_kind`` credential_theft)
``AI.Azure_DataLeakInModelResponse.Sensitive``            a served answer carried sensitive data (``sensitive_data``)
``AI.Azure_AccessFromSuspiciousUserAgent``                a call whose User-Agent names an attack tool (:data:`SUSPICIOUS_AGENTS`)
``AI.Azure_DOWVolumeAnomaly``                             one source made > :data:`VOLUME_REQUESTS` calls or billed >
                                                          :data:`VOLUME_TOKENS` tokens within :data:`VOLUME_WINDOW_S`
``AI.Azure_AccessAnomaly``                                an Entra principal the account never served before (its
                                                          history when the detector first looked: the workspace's rows)
                                                          made >= :data:`ANOMALY_CALLS` calls
========================================================  ============================================================

Prompt Shields' verdicts only exist where the deployment's RAI policy has the Jailbreak filter (the reference:
"threat protection for AI workloads relies on Azure OpenAI content filtering for prompt-based triggered
alerts"); an unfiltered jailbreak raises nothing. Nothing is raised for an account whose Defender plan
``AI`` (Defender for AI services) is not ``Standard`` (its own pricing, else the subscription's).

**Timing** (every number a sandbox assumption, in the tenant's ``latency`` table so a seed can change it;
Defender documents "real time" detection without a figure):

* ``defender.detection`` (60 s): a call's evidence reaches the detector that long after the call; the
  detector runs on whole minutes. An alert's ``timeGeneratedUtc`` is that evaluation; ``startTimeUtc`` /
  ``endTimeUtc`` the first and last evidence. Further evidence of the same key (type, account, source)
  while its alert is Active or InProgress joins that alert (counts, ``endTimeUtc``): no second alert;
* ``defender.sentinel`` (55 s): Sentinel's Defender for Cloud connector makes an incident of the alert
  (the seeded incident 4211 was created 55 s after its alert) — when the seed names ``security.sentinel_workspace``;
* ``defender.automation`` (60 s): a workflow automation (``security.automations``: a Logic App relay)
  posts the alert, REST 2022-01-01 shape (``examples/alerts/defender-*.json``), to its ``url``; with
  ``security.sentinel_relay: {url, delay?}`` Sentinel's automation rule relays the incident (the trigger body of
  ``examples/alerts/sentinel-incident-jailbreak.json``) that long after Sentinel made it;
* alerts suppression rules (:mod:`.suppression_rules`, RT20-04): an alert an active rule matches is stored
  ``Dismissed`` as it is raised and goes nowhere (no Sentinel incident, no workflow automation: Learn, "Suppress
  alerts from Microsoft Defender for Cloud": "it no longer triggers notifications"; that Sentinel's connector skips
  it too is this sandbox's assumption); ``detector["suppressed"]`` keeps which rule dismissed which alert;
* ``activity.submission`` (20 s): every alert also writes an Activity Log event of category ``Security``
  (``Microsoft.Security/locations/alerts/activate/action``, alert fields flat in ``properties``, corpus
  ``alerts/context-fragments/activitylog-security.alertContext.json``), which activity log alert rules see.

What is delivered comes back as :class:`~firestop.sandbox.monitor.evaluate.Notification` (``kind``
``"defender"``, ``rule_name`` = the alert type, ``payload`` the alert, ``webhooks`` the automations'
URLs, ``explain`` why and when); :func:`next_due` names the times something will become due, so a
runner can move the clock there. State: ``doc["security"]["detector"]`` (cursors, the principals'
baseline, open alert keys, pending deliveries) — JSON only, like the rest of the document.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from ..activitylog import events as activity
from ..core.clock import due_times, format_utc, parse_utc
from ..core.state import TenantState
from ..monitor.evaluate import Notification
from ..sentinel.models import ENTITY_TYPE, INCIDENT_TYPE, SI, sentinel
from .models import alerts as alert_table, new_alert, security
from .routes import effective_pricing

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EVALUATION_S = 60.0
DEFAULT_DETECTION_S = 60.0
DEFAULT_SENTINEL_S = 55.0
DEFAULT_AUTOMATION_S = 60.0
DEFAULT_SUBMISSION_S = 20.0
VOLUME_WINDOW_S = 300.0
VOLUME_REQUESTS = 500
VOLUME_TOKENS = 2_000_000
ANOMALY_CALLS = 5
#: User-Agent substrings of attack tools (sandbox list: Microsoft's threat-intelligence mapping is not public).
SUSPICIOUS_AGENTS = ("sqlmap", "nikto", "nuclei", "masscan", "zgrab", "nmap", "gobuster", "dirbuster", "hydra", "wpscan", "acunetix")
#: DateTime.MaxValue.Ticks: Defender's systemAlertId starts with MaxValue.Ticks - the event's ticks (newest sorts first).
_MAX_TICKS = 3155378975999999999
#: at most this many evaluations per call (a clock jump of days does not loop forever)
MAX_EVALUATIONS = 2000

#: alert type -> (display name, intent, description); display names from the reference.
ALERT_TYPES: dict[str, tuple[str, str, str]] = {
    "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt": (
        "A Jailbreak attempt on an Azure OpenAI model deployment was blocked by Azure AI Content Safety Prompt Shields",
        "PrivilegeEscalation", "There was an attempt to manipulate the system prompt to bypass the generative AI's safeguards on "
                               "deployment {deployment}; Prompt Shields blocked it."),
    "AI.Azure_Jailbreak.ContentFiltering.DetectedAttempt": (
        "A Jailbreak attempt on an Azure OpenAI model deployment was detected by Azure AI Content Safety Prompt Shields",
        "PrivilegeEscalation", "There was an attempt to manipulate the system prompt to bypass the generative AI's safeguards on "
                               "deployment {deployment}; Prompt Shields detected it but did not block it (the filter only annotates)."),
    "AI.Azure_CredentialTheftAttempt": (
        "Detected credential theft attempts on an Azure OpenAI model deployment", "CredentialAccess",
        "Credentials were detected in the responses of deployment {deployment} to user prompts."),
    "AI.Azure_DataLeakInModelResponse.Sensitive": (
        "Sensitive Data Exposure Detected in Azure OpenAI Model Deployment", "Collection",
        "Deployment {deployment} responded to a user prompt with sensitive information."),
    "AI.Azure_AccessFromSuspiciousUserAgent": (
        "Suspicious user agent detected", "Execution",
        "The user agent of requests to deployment {deployment} is associated with attack tooling."),
    "AI.Azure_DOWVolumeAnomaly": (
        "Suspected wallet attack - volume anomaly", "Impact",
        "One source sent a volume of requests to deployment {deployment} inconsistent with the resource's usage."),
    "AI.Azure_AccessAnomaly": (
        "Access anomaly in AI resource", "Execution",
        "A principal that never used this resource called deployment {deployment}."),
}


def _section(state: TenantState) -> dict:
    book = security(state).setdefault("detector", {})
    for key, empty in (("cursor", 0), ("baseline", {}), ("open", {}), ("pending", []), ("volume", {}), ("anomaly", {})):
        book.setdefault(key, empty)
    return book


def _plan_on(state: TenantState, account_id: str) -> bool:
    return effective_pricing(state, account_id, "AI")["properties"].get("pricingTier") == "Standard"


def _accounts(state: TenantState) -> dict[str, dict]:
    return {r["name"].lower(): r for r in state.doc["resources"].values()
            if str(r.get("type", "")).lower() == "microsoft.cognitiveservices/accounts"}


def _baseline(state: TenantState, book: dict, account: dict) -> set[str]:
    """Entra object ids that called ``account`` before the detector first looked at it (its learned profile): the
    ``objectId`` of the account's ``RequestResponse`` rows already in a workspace then (the sandbox's stand-in for
    the history Defender learns from; rows still being ingested do not count)."""
    key = account["id"].lower()
    if key not in book["baseline"]:
        seen: set[str] = set()
        for workspace in state.doc["workspaces"].values():
            table = workspace["tables"].get("AzureDiagnostics")
            if not table:
                continue
            names = [c["name"] for c in table["columns"]]
            if "properties_s" not in names or "_ResourceId" not in names or "Category" not in names:
                continue
            rid, props, category = names.index("_ResourceId"), names.index("properties_s"), names.index("Category")
            for row in table["rows"]:  # data-plane calls only (an Audit ListKey row's objectId is a management caller)
                if row[category] == "RequestResponse" and str(row[rid]).lower() == key and '"objectId":"' in str(row[props] or ""):
                    try:
                        oid = json.loads(row[props]).get("objectId")
                    except ValueError:
                        continue
                    if oid:
                        seen.add(str(oid).lower())
        book["baseline"][key] = sorted(seen)
    return set(book["baseline"][key])


def _suspicious_agent(agent: Optional[str]) -> bool:
    low = (agent or "").lower()
    return any(tool in low for tool in SUSPICIOUS_AGENTS)


def _signals(entry: dict, baseline: set[str]) -> list[tuple[str, str]]:
    """``[(alert type, source key)]`` this one call is evidence of."""
    source = entry.get("application") or entry.get("ip") or ""
    out = []
    if entry.get("jailbreak") == "blocked":
        out.append(("AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt", source))
    elif entry.get("jailbreak") == "detected":
        out.append(("AI.Azure_Jailbreak.ContentFiltering.DetectedAttempt", source))
    if entry.get("status") == 200 and entry.get("prompt") == "credential_theft":
        out.append(("AI.Azure_CredentialTheftAttempt", source))
    if entry.get("status") == 200 and entry.get("prompt") == "sensitive_data":
        out.append(("AI.Azure_DataLeakInModelResponse.Sensitive", source))
    if _suspicious_agent(entry.get("user_agent")):
        out.append(("AI.Azure_AccessFromSuspiciousUserAgent", f"{entry.get('ip')}|{entry.get('user_agent')}"))
    principal = (entry.get("principal") or "").lower()
    if principal and principal not in baseline and not entry.get("via"):  # an API Management gateway fronting the account is known
        out.append(("AI.Azure_AccessAnomaly", principal))
    return out


def _system_alert_id(state: TenantState, when: datetime) -> str:
    ticks = ((when - datetime(1, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)) * 10
    return f"{_MAX_TICKS - ticks}_{state.new_guid('defender-alert')}"


def _evidence(entry: dict) -> dict:
    return {k: entry.get(k) for k in ("at", "ip", "deployment", "principal", "user_agent", "application", "end_user", "status", "tokens")}


def _graph_name(state: TenantState, object_id: str) -> Optional[str]:
    graph = state.doc.get("graph") or {}
    for kind in ("servicePrincipals", "users"):
        body = (graph.get(kind) or {}).get(object_id.lower()) or (graph.get(kind) or {}).get(object_id)
        if isinstance(body, dict):
            return body.get("displayName")
    return None


def _raise(state: TenantState, book: dict, account: dict, alert_type: str, source: str, evidence: list[dict], t: datetime) -> None:
    """Open a new alert for (type, account, source) or fold ``evidence`` into the one still open."""
    key = f"{alert_type}|{account['id'].lower()}|{source.lower()}"
    first, last = evidence[0], evidence[-1]
    open_id = book["open"].get(key)
    existing = alert_table(state).get(open_id) if open_id else None
    if existing is not None and existing["properties"]["status"] in ("Active", "InProgress"):
        props = existing["properties"]
        props["endTimeUtc"] = _arm(parse_utc(last["at"]))
        count = int(props["extendedProperties"].get("Evidence count", "0")) + len(evidence)
        props["extendedProperties"]["Evidence count"] = str(count)
        return
    rg = account["id"].split("/")[4]
    location = security(state).get("location") or "westeurope"
    name = _system_alert_id(state, t)
    display, intent, description = ALERT_TYPES[alert_type]
    deployment = first.get("deployment") or ""
    ext: dict[str, str] = {"Deployment name": deployment}
    entities: list[dict] = [{"$id": "1", "type": "azure-resource", "resourceId": account["id"]}]
    if first.get("ip"):
        ext["Source IP"] = first["ip"]
        entities.append({"$id": str(len(entities) + 1), "type": "ip", "address": first["ip"]})
    if first.get("application"):
        ext["Application name"] = first["application"]
        entities.append({"$id": str(len(entities) + 1), "type": "cloud-application", "name": first["application"]})
    if first.get("end_user"):
        ext["End user id"] = first["end_user"]
        ext["End user id type"] = "EntraId"
    if first.get("user_agent"):
        ext["User agent"] = first["user_agent"]
    if alert_type == "AI.Azure_AccessAnomaly" and first.get("principal"):
        principal = {"$id": str(len(entities) + 1), "type": "account", "aadUserId": first["principal"]}
        shown = _graph_name(state, first["principal"])
        if shown:
            principal["name"] = shown
            ext["Service principal"] = shown
        entities.append(principal)
    if alert_type == "AI.Azure_DataLeakInModelResponse.Sensitive":
        ext["Sensitive info types"] = "Credit Card Number"
    if alert_type == "AI.Azure_DOWVolumeAnomaly":
        ext["Requests"] = str(sum(e.get("count", 1) for e in evidence))
        ext["Tokens"] = str(sum(e.get("tokens") or 0 for e in evidence))
    ext["Evidence count"] = str(len(evidence)) if alert_type != "AI.Azure_DOWVolumeAnomaly" else ext["Requests"]
    body = new_alert(subscription_id=state.subscription_id, resource_group=rg, location=location, name=name, alert_type=alert_type,
                     display_name=display, description=description.format(deployment=deployment or "(any)"), severity="Medium",
                     intent=intent, start=_arm(parse_utc(first["at"])), end=_arm(parse_utc(last["at"])), generated=_arm(t),
                     resource_id=account["id"], compromised_entity=account["name"], entities=entities, extended_properties=ext,
                     remediation_steps=[])
    from .suppression_rules import dismissing

    suppressed_by = dismissing(state, body, t)
    if suppressed_by is not None:  # RT20-04: an active suppression rule sets it Dismissed as it is raised
        body["properties"]["status"] = "Dismissed"
    alert_table(state)[body["id"].lower()] = body
    book["open"][key] = body["id"].lower()
    _activity_event(state, body, t)
    latency = state.latency
    detection_s = latency.get("defender.detection", DEFAULT_DETECTION_S)
    explain = {"alert_type": alert_type, "alert_id": body["id"], "evidence_at": first["at"], "generated_at": format_utc(t),
               "detection_s": detection_s, "evaluation_s": EVALUATION_S}
    if suppressed_by is not None:  # "it no longer triggers notifications": no Sentinel incident, no automation runs
        book.setdefault("suppressed", []).append({"alert": body["id"].lower(), "rule": suppressed_by, **explain})
        return
    workspace = security(state).get("sentinel_workspace")
    if workspace:
        book["pending"].append({"kind": "sentinel", "due": format_utc(t + timedelta(seconds=latency.get("defender.sentinel", DEFAULT_SENTINEL_S))),
                                "alert": body["id"].lower(), "workspace": workspace, "explain": explain})
    from .automations import delivering

    for automation in delivering(state, alert_type):  # (enabled automations with an Alerts source, trust17)
        delay = float(automation.get("delay", latency.get("defender.automation", DEFAULT_AUTOMATION_S)))
        book["pending"].append({"kind": "automation", "due": format_utc(t + timedelta(seconds=delay)), "alert": body["id"].lower(),
                                "automation": automation.get("automation", "relay"), "url": automation.get("url", ""),
                                "explain": {**explain, "delivery": f"workflow automation {automation.get('automation', 'relay')}", "delivery_s": delay}})


def _arm(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"


def _activity_event(state: TenantState, alert: dict, t: datetime) -> None:
    """The Activity Log ``Security`` event Defender writes for an alert (alert fields flat in ``properties``)."""
    props = alert["properties"]
    submitted = t + timedelta(seconds=state.latency.get("activity.submission", DEFAULT_SUBMISSION_S))
    resource_id = props["resourceIdentifiers"][0]["azureResourceId"]
    parts = resource_id.strip("/").split("/")
    event_id = state.new_guid("defender-activity")
    flat = {"alertType": props["alertType"], "severity": props["severity"], "compromisedEntity": props["compromisedEntity"],
            "systemAlertId": props["systemAlertId"], "alertDisplayName": props["alertDisplayName"],
            "entities": json.dumps(props["entities"], separators=(",", ":")), **props["extendedProperties"]}
    activity.add_event(state, {
        "authorization": {"action": "Microsoft.Security/locations/alerts/activate/action", "scope": resource_id},
        "caller": "Microsoft Defender for Cloud", "channels": "Operation", "claims": {}, "correlationId": props["systemAlertId"],
        "description": props["description"], "eventDataId": event_id,
        "eventName": {"value": props["alertDisplayName"], "localizedValue": props["alertDisplayName"]},
        "category": {"value": "Security", "localizedValue": "Security"},
        "eventTimestamp": _arm(t), "id": f"{resource_id}/events/{event_id}", "level": "Informational",
        "operationId": event_id,
        "operationName": {"value": "Microsoft.Security/locations/alerts/activate/action", "localizedValue": "Activate alert"},
        "resourceGroupName": parts[3] if len(parts) > 3 else "",
        "resourceProviderName": {"value": "Microsoft.Security", "localizedValue": "Microsoft.Security"},
        "resourceType": {"value": "Microsoft.CognitiveServices/accounts", "localizedValue": "Microsoft.CognitiveServices/accounts"},
        "resourceId": resource_id, "status": {"value": "Active", "localizedValue": "Active"},
        "subStatus": {"value": "", "localizedValue": ""}, "submissionTimestamp": _arm(submitted),
        "subscriptionId": state.subscription_id, "tenantId": state.tenant_id, "properties": flat, "relatedEvents": [],
    })


def _sentinel_incident(state: TenantState, item: dict, t: datetime) -> None:
    """Sentinel's incident for the Defender alert (its alert entity's ``providerAlertId`` = the ``systemAlertId``)."""
    alert = alert_table(state).get(item["alert"])
    ws = next((r for r in state.doc["resources"].values() if str(r.get("type", "")).lower() == "microsoft.operationalinsights/workspaces"
               and r.get("name", "").lower() == str(item["workspace"]).lower()), None)
    if alert is None or ws is None:
        return
    props = alert["properties"]
    section = sentinel(state)
    name = state.new_guid("sentinel-incident-id")
    rid = f"{ws['id']}{SI}/incidents/{name}"
    now = _arm(t)
    alert_entity = {
        "id": f"{ws['id']}{SI}/Entities/{state.new_guid('sentinel-alert')}", "type": ENTITY_TYPE, "kind": "SecurityAlert",
        "properties": {"systemAlertId": props["systemAlertId"], "providerAlertId": props["systemAlertId"], "alertType": props["alertType"],
                       "alertDisplayName": props["alertDisplayName"], "severity": props["severity"], "status": "New",
                       "vendorName": "Microsoft", "productName": "Azure Security Center", "startTimeUtc": props["startTimeUtc"],
                       "endTimeUtc": props["endTimeUtc"], "timeGenerated": props["timeGeneratedUtc"], "tactics": [props["intent"]],
                       "confidenceLevel": "Unknown", "friendlyName": props["alertDisplayName"],
                       "resourceIdentifiers": [{"type": "AzureResource", "resourceId": props["resourceIdentifiers"][0]["azureResourceId"]}]},
    }
    alert_entity["name"] = alert_entity["id"].rsplit("/", 1)[-1]
    entities = []
    for e in props["entities"]:
        kind = {"azure-resource": "AzureResource", "ip": "Ip", "cloud-application": "CloudApplication", "account": "Account"}.get(e.get("type"))
        if kind is None:
            continue
        eprops = {k: v for k, v in e.items() if k not in ("$id", "type")}
        eprops["friendlyName"] = str(eprops.get("address") or eprops.get("name") or eprops.get("resourceId", "").rsplit("/", 1)[-1])
        entities.append({"id": f"{ws['id']}{SI}/Entities/{state.new_guid('sentinel-entity')}", "type": ENTITY_TYPE, "kind": kind,
                         "properties": eprops})
    for e in entities:
        e["name"] = e["id"].rsplit("/", 1)[-1]
    number = max([int(i["properties"].get("incidentNumber") or 0) for i in section["incidents"].values()] + [0]) + 1
    section["incidents"][rid.lower()] = {
        "id": rid, "name": name, "type": INCIDENT_TYPE, "etag": state.new_etag(),
        "properties": {"title": props["alertDisplayName"], "description": props["description"], "severity": props["severity"],
                       "status": "New", "owner": {"objectId": None, "email": None, "userPrincipalName": None, "assignedTo": None},
                       "labels": [], "incidentNumber": number, "providerName": "Azure Sentinel", "providerIncidentId": str(number),
                       "createdTimeUtc": now, "lastModifiedTimeUtc": now, "firstActivityTimeUtc": props["startTimeUtc"],
                       "lastActivityTimeUtc": props["endTimeUtc"],
                       "incidentUrl": "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident" + rid,
                       "relatedAnalyticRuleIds": [],
                       "additionalData": {"alertsCount": 1, "bookmarksCount": 0, "commentsCount": 0,
                                          "alertProductNames": ["Azure Security Center"], "tactics": [props["intent"]]}},
    }
    section["alerts"][rid.lower()] = [alert_entity]
    section["entities"][rid.lower()] = entities
    relay = security(state).get("sentinel_relay")
    if relay:  # an automation rule's relay Logic App posts the trigger body (examples/alerts/sentinel-incident-jailbreak.json)
        incident = json.loads(json.dumps(section["incidents"][rid.lower()]))
        incident["properties"]["alerts"] = [json.loads(json.dumps(alert_entity))]
        incident["properties"]["relatedEntities"] = json.loads(json.dumps(entities))
        parts = ws["id"].strip("/").split("/")
        body = {"objectSchemaType": "Incident", "objectEventType": "Create",
                "workspaceInfo": {"SubscriptionId": parts[1], "ResourceGroupName": parts[3], "WorkspaceName": ws["name"]},
                "workspaceId": ws.get("customer_id") or (state.doc["workspaces"].get(ws["name"].lower()) or {}).get("customer_id", ""),
                "object": incident}
        delay = float(relay.get("delay", state.latency.get("defender.automation", DEFAULT_AUTOMATION_S)))
        _section(state)["pending"].append({
            "kind": "relay", "due": format_utc(t + timedelta(seconds=delay)), "alert": item["alert"], "payload": body,
            "automation": "sentinel automation rule", "url": relay["url"],
            "explain": {**item["explain"], "delivery": f"Sentinel incident {number} (+{(t - parse_utc(item['explain']['generated_at'])).total_seconds():g} s), "
                                                       f"its automation rule's relay", "delivery_s": (t - parse_utc(item["explain"]["generated_at"])).total_seconds() + delay}})


def _due_times(last: datetime, now: datetime) -> list[datetime]:
    return due_times(last, now, EVALUATION_S, cap=MAX_EVALUATIONS)


def evaluate(state: TenantState, now: datetime) -> list[Notification]:
    """Run the detector's evaluations due up to ``now``; the deliveries due by ``now`` (oldest first)."""
    book = _section(state)
    if "last" not in book:
        book["last"] = format_utc(now)
        book["started"] = format_utc(now)
    delay = state.latency.get("defender.detection", DEFAULT_DETECTION_S)
    entries = state.doc.get("dataplane", [])
    accounts = _accounts(state)
    plans: dict[str, bool] = {}
    for t in _due_times(parse_utc(book["last"]), now):
        book["last"] = format_utc(t)
        cutoff = t - timedelta(seconds=delay)
        grouped: dict[tuple[str, str, str], list[dict]] = {}
        volume = book["volume"]
        while book["cursor"] < len(entries) and parse_utc(entries[book["cursor"]]["at"]) <= cutoff:
            entry = entries[book["cursor"]]
            book["cursor"] += 1
            account = accounts.get(str(entry.get("account", "")).lower())
            if account is None:
                continue
            if account["id"] not in plans:
                plans[account["id"]] = _plan_on(state, account["id"])
            if not plans[account["id"]]:
                continue
            for alert_type, source in _signals(entry, _baseline(state, book, account)):
                grouped.setdefault((account["name"].lower(), alert_type, source), []).append(_evidence(entry))
            if entry.get("status") not in (401, 403):  # a refused call bills nothing and reaches no model
                slot = volume.setdefault(f"{account['name'].lower()}|{entry.get('ip')}", [])
                minute = format_utc(parse_utc(entry["at"]).replace(second=0, microsecond=0))
                if slot and slot[-1]["minute"] == minute:
                    slot[-1]["count"] += 1
                    slot[-1]["tokens"] += int(entry.get("tokens") or 0)
                else:
                    slot.append({**_evidence(entry), "minute": minute, "count": 1, "tokens": int(entry.get("tokens") or 0)})
        for (name, alert_type, source), evidence in grouped.items():
            if alert_type == "AI.Azure_AccessAnomaly":
                seen = book["anomaly"].get(f"{name}|{source}", 0) + len(evidence)
                book["anomaly"][f"{name}|{source}"] = seen
                if seen < ANOMALY_CALLS:
                    continue
            _raise(state, book, accounts[name], alert_type, source, evidence, t)
        for slot_key, minutes in volume.items():
            window = [m for m in minutes if parse_utc(m["minute"]) > cutoff - timedelta(seconds=VOLUME_WINDOW_S)]
            volume[slot_key] = window
            if sum(m["count"] for m in window) > VOLUME_REQUESTS or sum(m["tokens"] for m in window) > VOLUME_TOKENS:
                name, ip = slot_key.split("|", 1)
                _raise(state, book, accounts[name], "AI.Azure_DOWVolumeAnomaly", ip, window, t)
                volume[slot_key] = []  # the window's evidence is in that alert
    out: list[Notification] = []
    while True:  # a Sentinel incident made now may queue its relay's delivery, due now too
        due = sorted((i for i in book["pending"] if parse_utc(i["due"]) <= now), key=lambda i: i["due"])
        if not due:
            break
        for item in due:
            book["pending"].remove(item)
            if item["kind"] == "sentinel":
                _sentinel_incident(state, item, parse_utc(item["due"]))
                continue
            alert = alert_table(state).get(item["alert"])
            if alert is None:
                continue
            out.append(Notification(rule_id=alert["id"], rule_name=alert["properties"]["alertType"], kind="defender", condition="Fired",
                                    at=parse_utc(item["due"]), payload=json.loads(json.dumps(item.get("payload") or alert)),
                                    webhooks=[{"name": item["automation"], "serviceUri": item["url"], "useCommonAlertSchema": False}],
                                    explain=dict(item["explain"])))
    out.sort(key=lambda n: n.at)
    return out


def next_due(state: TenantState, now: datetime) -> list[datetime]:
    """Times after ``now`` at which a Sentinel incident or an automation's delivery becomes due."""
    book = _section(state)
    return sorted({parse_utc(i["due"]) for i in book["pending"] if parse_utc(i["due"]) > now})

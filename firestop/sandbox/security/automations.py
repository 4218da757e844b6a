"""ARM: Microsoft.Security workflow automations (continuous export, REST 2019-01-01-preview) — how Defender for Cloud's
alerts leave it: each enabled automation with an ``Alerts`` source runs its actions for every alert in its scopes.

Shapes: the REST specification (Azure/azure-rest-api-specs
``specification/security/resource-manager/Microsoft.Security/preview/2019-01-01-preview/automations.json`` and its
``examples/Automations/GetAutomationsSubscription_example.json``, ``PutAutomation_example.json``); azure-mgmt-security
7.0.0 sends ``2019-01-01-preview`` for ``automations`` by default (any api-version is accepted and logged).

===========================  ======  ==========================================================================
operation                    method  path
===========================  ======  ==========================================================================
automations.list             GET     ``/subscriptions/{s}/providers/Microsoft.Security/automations`` → ``{"value": [...]}``
automations.listByResourceGroup GET  ``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Security/automations``
automations.get              GET     ``…/resourceGroups/{rg}/providers/Microsoft.Security/automations/{name}`` → 200, 404
automations.createOrUpdate   PUT     same; body ``{"location", "properties": {"isEnabled", "scopes", "sources", "actions"}}``
                                     → 200 (updated) / 201 (created); 400 ``InvalidInputJson`` naming the member
automations.delete           DELETE  same → 204 (azure-mgmt-security 7.0.0's delete accepts 204 only), there or not
===========================  ======  ==========================================================================

Secrets are never answered: an action's ``uri`` (LogicApp: "the Logic App trigger URI endpoint (it will not be included
in any response)") and ``connectionString`` (EventHub, likewise) are kept and left out of every answer, as the spec says.

Delivery (sandbox assumption, :mod:`.detector`): Logic Apps are not modelled; the seed's ``security.automations`` names,
per automation, where its Logic App posts (``url``) and the Logic App's trigger URI (``trigger``, default
:func:`trigger_uri`) — kept in ``doc["security"]["relays"]`` by Logic App id, never answered. An alert the detector
raises is posted to a relay's ``url`` for each enabled automation with an ``Alerts`` source whose ``LogicApp`` action's
``uri`` is that relay's trigger, as Defender for Cloud calls the action's ``uri`` — not the ``logicAppResourceId``
beside it, a label (defender18, attack 17's A17-02: keeping the relay's id and giving another trigger URI delivers
nothing to Firestop here, as on Azure). Rule sets are not evaluated here.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Optional

from ..core.armapi import check_scope, checked_properties, ok, state_of
from ..core.errors import arm_not_found
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room
from .models import security

ARM = "management.azure.com"
AUTOMATION_TYPE = "Microsoft.Security/automations"
#: ``actionType`` values (spec ``AutomationAction`` discriminator) and the member naming each action's target.
ACTION_TARGETS = {"LogicApp": "logicAppResourceId", "EventHub": "eventHubResourceId", "Workspace": "workspaceResourceId"}
#: ``eventSource`` values of the spec's ``EventSource`` enum (2019-01-01-preview).
EVENT_SOURCES = ("Assessments", "AssessmentsSnapshot", "SubAssessments", "SubAssessmentsSnapshot", "Alerts",
                 "SecureScores", "SecureScoresSnapshot", "SecureScoreControls", "SecureScoreControlsSnapshot",
                 "RegulatoryComplianceAssessment", "RegulatoryComplianceAssessmentSnapshot")
#: Write-only members of an action (never answered).
_SECRET_MEMBERS = ("uri", "connectionString")


def automations(state) -> dict:
    """``{lower automation id: ARM JSON (secrets included)}`` (created on first use)."""
    return security(state).setdefault("workflow_automations", {})


def automation_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{AUTOMATION_TYPE}/{name}"


def new_automation(*, subscription_id: str, resource_group: str, name: str, location: str, properties: dict) -> dict:
    return {"id": automation_id(subscription_id, resource_group, name), "name": name, "type": AUTOMATION_TYPE,
            "etag": f"\"{hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()[:16]}\"",
            "location": location, "tags": {},
            "properties": copy.deepcopy(properties)}


def answered(automation: dict) -> dict:
    """The automation as ARM answers it: a copy without the actions' write-only secrets."""
    out = copy.deepcopy(automation)
    for action in (out.get("properties") or {}).get("actions") or []:
        for member in _SECRET_MEMBERS:
            action.pop(member, None)
    return out


def check_properties(props: object) -> Optional[str]:
    """None when ``props`` holds the spec's members in their types, else which member is not (a sentence)."""
    if not isinstance(props, dict):
        return "properties must be an object {isEnabled, scopes, sources, actions}"
    if "isEnabled" in props and not isinstance(props["isEnabled"], bool):
        return "properties.isEnabled must be true or false"
    for name in ("scopes", "sources", "actions"):  # (before they are walked: A19-04)
        if not isinstance(props.get(name) or [], list):
            return f"properties.{name} must be a list"
    for i, scope in enumerate(props.get("scopes") or []):
        if not isinstance(scope, dict) or not isinstance(scope.get("scopePath"), str):
            return f"properties.scopes[{i}].scopePath must be a string (a subscription or resource group id)"
    for i, source in enumerate(props.get("sources") or []):
        if not isinstance(source, dict) or source.get("eventSource") not in EVENT_SOURCES:
            return f"properties.sources[{i}].eventSource must be one of {', '.join(EVENT_SOURCES)}"
        if not isinstance(source.get("ruleSets") or [], list):
            return f"properties.sources[{i}].ruleSets must be a list"
    for i, action in enumerate(props.get("actions") or []):
        if not isinstance(action, dict) or action.get("actionType") not in ACTION_TARGETS:
            return f"properties.actions[{i}].actionType must be one of {', '.join(ACTION_TARGETS)}"
    return None


def _in_scope(automation: dict, ctx: RequestContext) -> bool:
    if "rg" not in ctx.params:
        return True
    return automation["id"].split("/")[4].lower() == ctx.params["rg"].lower()


def list_automations(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    value = [answered(a) for _, a in sorted(automations(state_of(ctx)).items()) if _in_scope(a, ctx)]
    return ok({"value": value})


def _key(ctx: RequestContext) -> str:
    return automation_id(state_of(ctx).subscription_id, ctx.params["rg"], ctx.params["name"]).lower()


def get_automation(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    found = automations(state_of(ctx)).get(_key(ctx))
    if found is None:
        return arm_not_found(AUTOMATION_TYPE, ctx.params["name"], ctx.params["rg"])
    return ok(answered(found))


def put_automation(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    raw, props, bad = checked_properties(ctx, check_properties, "InvalidInputJson")
    if bad:
        return bad
    state = state_of(ctx)
    table = automations(state)
    key = _key(ctx)
    before = table.get(key)
    body = new_automation(subscription_id=state.subscription_id, resource_group=ctx.params["rg"], name=ctx.params["name"],
                          location=str(raw.get("location") or (before or {}).get("location") or "westeurope"),
                          properties={"isEnabled": True, **props})
    body["tags"] = dict(raw.get("tags") or {}) if isinstance(raw.get("tags"), dict) else {}
    table[key] = body
    return ok(answered(body), 201 if before is None else 200)


def delete_automation(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    automations(state_of(ctx)).pop(_key(ctx), None)
    return SandboxResponse(204)  # (the SDK's delete accepts 204 only, there or not)


SUB = "/subscriptions/{sub}"
RG = "/subscriptions/{sub}/resourceGroups/{rg}"
AUTOMATIONS = "/providers/Microsoft.Security/automations"
room.add(
    Route("GET", ARM, SUB + AUTOMATIONS, "automations.list", "arm", list_automations),
    Route("GET", ARM, RG + AUTOMATIONS, "automations.listByResourceGroup", "arm", list_automations),
    Route("GET", ARM, RG + AUTOMATIONS + "/{name}", "automations.get", "arm", get_automation),
    Route("PUT", ARM, RG + AUTOMATIONS + "/{name}", "automations.createOrUpdate", "arm", put_automation),
    Route("DELETE", ARM, RG + AUTOMATIONS + "/{name}", "automations.delete", "arm", delete_automation),
)


def trigger_uri(logic_app_id: str, location: str) -> str:
    """A Logic App's manual (Request) trigger URI as the portal shows it ("HTTP URL": ``https://prod-NN.<region>.logic.
    azure.com:443/workflows/<workflow id>/triggers/manual/paths/invoke?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun
    &sv=1.0&sig=<SAS signature>``, learn.microsoft.com "Receive and respond to inbound HTTPS calls ... Azure Logic
    Apps"), made here from the Logic App's id — the signature is the sandbox's, a secret the automation keeps."""
    digest = hashlib.sha256(str(logic_app_id).lower().encode()).hexdigest()
    return (f"https://prod-00.{location}.logic.azure.com:443/workflows/{digest[:32]}/triggers/manual/paths/invoke"
            f"?api-version=2016-10-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={digest[32:]}")


def delivering(state, alert_type: str) -> list[dict]:
    """``[{"automation": name, "url": …, "delay"?: s}]``: where the detector posts an alert of ``alert_type`` — one per
    enabled automation with an ``Alerts`` source and a ``LogicApp`` action whose ``uri`` is a seeded relay's trigger
    (a relay kept before triggers were: its ``url``, what the seed gave as the ``uri`` then)."""
    section = security(state)
    if "relays" not in section:  # a tenant persisted before automations were resources: its relays, as it kept them
        return [{"automation": a.get("name", "relay"), **{k: v for k, v in a.items() if k in ("url", "delay")}}
                for a in section.get("automations") or [] if isinstance(a, dict)]
    relays = section.get("relays") or {}
    out = []
    for _, automation in sorted(automations(state).items()):
        props = automation.get("properties") or {}
        if props.get("isEnabled") is False or not any(s.get("eventSource") == "Alerts" for s in props.get("sources") or []):
            continue
        for action in props.get("actions") or []:
            called = str(action.get("uri") or "") if action.get("actionType") == "LogicApp" else ""
            for relay in relays.values() if called else ():
                if called == str(relay.get("trigger") or relay.get("url") or ""):
                    out.append({"automation": automation["name"], **{k: v for k, v in relay.items() if k != "trigger"}})
                    break
    return out

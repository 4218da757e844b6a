"""RT20-07 (attacker b: a Microsoft Sentinel Contributor — who may create incidents, bookmarks and their relations):
a **manually created** Sentinel incident, with no alert, whose *title* matches a Monitor playbook's name glob
(``*leaked*key*``, ``*suspicious*key*``, ``*listkeys*``, ``*jailbreak*`` …) and whose AzureResource entity (a bookmark
related to it, its entity mapping naming the production account: Bookmarks / IncidentRelations REST 2024-03-01) names
the account, is confirmed at its source and contained **with no responder** — here ``leaked-api-key``: both keys
rotated, the network locked.

Sentinel's source check (:func:`firestop.azure.security_source.compare_sentinel`) confirms an incident that holds no
alert when its title is the delivery's rule name; the route then comes from the playbooks' Monitor name globs
(``rule_name`` = the title). Unlike an Azure Monitor alert — which acts unattended only from the routed playbook's own
detection as deployed or a rule an admin trusted (RT17-01) — nothing ties such an incident to a detection: its title
is whatever its author typed. (The sandbox has no bookmark or relation route: the entity is planted as Sentinel lists
it once the bookmark is related; the incident itself is created through ARM as the attacker would.)

Fixed: an incident holding no alert — nothing Azure or Defender detected, only a person's title — is never confirmed
(:func:`~firestop.azure.security_source.compare_sentinel`): it waits for a responder, the card saying why. The test
failed before (both keys rotated, the network locked, status contained)."""

from __future__ import annotations

import json

import pytest
from azure.mgmt.resource import ResourceManagementClient

from tests.e2e.test_webhook import ACCOUNT, post, served, what_intake_did  # noqa: F401 (fixture)

SUB = "11111111-2222-3333-4444-555555555555"
WS = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"
INCIDENT = WS + "/providers/Microsoft.SecurityInsights/incidents/6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
PROD = ACCOUNT.replace("resourcegroups", "resourceGroups").replace("microsoft.cognitiveservices", "Microsoft.CognitiveServices")


@pytest.fixture
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _manual_incident(env, title: str) -> dict:
    """The incident as a Sentinel Contributor creates it (Incidents - Create Or Update, no alert), and the AzureResource
    entity a related bookmark gives it."""
    from firestop.sandbox.sentinel.models import sentinel

    arm = ResourceManagementClient(env.tenant.credential, SUB, transport=env.tenant.transport)
    arm.resources.begin_create_or_update_by_id(INCIDENT, "2024-03-01", {
        "properties": {"title": title, "severity": "High", "status": "New",
                       "description": "Keys seen on a paste site"}}).result()
    entity = {"id": INCIDENT + "/entities/e-prod", "name": "e-prod", "type": "Microsoft.SecurityInsights/Entities",
              "kind": "AzureResource", "properties": {"resourceId": PROD, "friendlyName": "contoso-openai-prod"}}
    with env.tenant._exclusive() as state:  # noqa: SLF001 — what Incidents_ListEntities answers once the bookmark is related
        sentinel(state)["entities"][INCIDENT.lower()] = [entity]
        env.tenant._save_locked()  # noqa: SLF001
    held = arm.resources.get_by_id(INCIDENT, "2024-03-01").as_dict()
    held["properties"]["relatedEntities"] = [entity]
    held["properties"]["alerts"] = []
    return {"objectSchemaType": "Incident", "objectEventType": "Create", "object": held,
            "workspaceInfo": {"SubscriptionId": SUB, "ResourceGroupName": "rg-ai-prod", "WorkspaceName": "law-contoso-sec"}}


def test_a_manual_incident_titled_like_a_detection_waits_for_a_responder(served, check_on):  # noqa: F811
    env, server, app = served
    keys_before = env.tenant.account_keys(PROD)
    body = _manual_incident(env, "Leaked key of contoso-openai-prod in use")
    response = post(app, server, json.dumps(body).encode())
    assert response.status_code == 202, response.get_body()
    incident = what_intake_did(response)["id"]
    env.host.run_until_idle()  # nobody approves
    status = env.host.get_status(incident)
    view = status.output or status.custom_status or {}
    assert env.tenant.account_keys(PROD) == keys_before, ("production keys rotated on a hand-made incident",
                                                          view.get("status"))
    assert env.tenant.resource(PROD)["properties"]["networkAcls"]["defaultAction"] != "Deny"
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert "holds no alert" in pending.get("why", ""), (status.runtime_status, pending)
    env.host.run_until_idle(advance_timers=True)  # still nobody approves: the approval times out
    assert env.tenant.account_keys(PROD) == keys_before
    assert env.host.get_status(incident).output["status"] == "needs_responder"

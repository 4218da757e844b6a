"""RT20-08 (attacker b: a Microsoft Sentinel Contributor, who may write analytics rules): a **scheduled analytics
rule** of the attacker's, whose rule id — which Sentinel gives its alerts as ``AlertType`` ("Scheduled rule alerts:
taken from the rule ID", Learn, "Microsoft Sentinel security alert schema"; rule ids are the ``alertRules/{ruleId}``
name its author chooses, e.g. Sentinel's own ``BuiltInFusion``) matches a Monitor playbook's name glob
(``aoai-leaked-key-usage``), query and entity mapping naming the production account, makes incidents that were
confirmed at their source and contained with **no responder** (``leaked-api-key``: both keys rotated, the network
locked).

RT20-07 refused incidents holding no alert; this one holds an alert, and ``compare_sentinel`` checked only that the
delivered type is one of the incident's alerts'. An incident is unattended-worthy only when it carries what a playbook
was written for: a Defender for Cloud AI alert type (``security_alert.ALERT_TYPE_PLAYBOOKS``). A Monitor name glob
matching a Sentinel alert type is a person's naming, not a detection. Fixed: a Sentinel incident none of whose alerts
has a Defender AI alert type is not confirmed (waits for a responder). The test failed before (keys rotated).
Left for the integrator (findings file): a rule id named exactly like a Defender type — confirm the alert's
``providerAlertId`` at Defender."""

from __future__ import annotations

import json

from tests.e2e.test_webhook import post, served, what_intake_did  # noqa: F401 (fixture)
from tests.redteam20.test_rt20_07_sentinel_manual_incident import INCIDENT, PROD, SUB, _manual_incident, check_on  # noqa: F401

RULE_ALERT = {
    "id": INCIDENT.rsplit("/incidents/", 1)[0] + "/Entities/5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c",
    "name": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c", "type": "Microsoft.SecurityInsights/Entities", "kind": "SecurityAlert",
    "properties": {"systemAlertId": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c", "alertType": "aoai-leaked-key-usage",
                   "alertDisplayName": "Leaked key of contoso-openai-prod in use", "severity": "High", "status": "New",
                   "vendorName": "Microsoft", "productName": "Azure Sentinel",
                   "resourceIdentifiers": [{"type": "AzureResource", "resourceId": PROD}]}}


def test_an_incident_of_a_custom_rule_typed_like_a_detection_waits_for_a_responder(served, check_on):  # noqa: F811
    from firestop.sandbox.sentinel.models import sentinel

    env, server, app = served
    keys_before = env.tenant.account_keys(PROD)
    body = _manual_incident(env, "Leaked key of contoso-openai-prod in use")
    with env.tenant._exclusive() as state:  # noqa: SLF001 — the analytics rule's alert, as Incidents_ListAlerts answers
        sentinel(state)["alerts"][INCIDENT.lower()] = [RULE_ALERT]
        env.tenant._save_locked()  # noqa: SLF001
    body["object"]["properties"]["alerts"] = [RULE_ALERT]
    response = post(app, server, json.dumps(body).encode())
    assert response.status_code == 202, response.get_body()
    incident = what_intake_did(response)["id"]
    env.host.run_until_idle()  # nobody approves
    status = env.host.get_status(incident)
    view = status.output or status.custom_status or {}
    assert env.tenant.account_keys(PROD) == keys_before, ("production keys rotated on an analytics rule's incident",
                                                          view.get("status"))
    assert env.tenant.resource(PROD)["properties"]["networkAcls"]["defaultAction"] != "Deny"
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert "Defender" in pending.get("why", ""), (status.runtime_status, pending)

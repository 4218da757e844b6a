"""defender.resolve_alert against the sandbox security room (azure-mgmt-security through transport=)."""

from __future__ import annotations

import json

from azure.mgmt.security import SecurityCenter

ALERT = "2516935104399999999_5f0c2e8a-3b1d-4c7e-9a6f-1d2e3f4a5b6c"
PARAMS = {"system_alert_id": ALERT}
PROD = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"


def _status(sandbox) -> str:
    sc = SecurityCenter(sandbox.tenant.credential, sandbox.tenant.subscription_id, transport=sandbox.tenant.transport)
    return sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", ALERT).status


def test_plan_changes_nothing_apply_resolves_verify_confirms_undo_reactivates(sandbox):
    plan = sandbox.run("defender.resolve_alert", "plan", params=PARAMS)
    assert plan["ok"] and _status(sandbox) == "Active", plan
    assert plan["result"]["changes"] == [{"field": "status", "before": "Active", "after": "Resolved"}]
    applied = sandbox.run("defender.resolve_alert", "apply", params=PARAMS)
    assert applied["ok"] and applied["result"]["before"]["status"] == "Active" and _status(sandbox) == "Resolved"
    again = sandbox.run("defender.resolve_alert", "apply", params=PARAMS)
    assert again["ok"] and again["result"]["changed"] is False
    verified = sandbox.run("defender.resolve_alert", "verify", params=PARAMS, applied=applied["result"])
    assert verified["ok"] and all(c["ok"] for c in verified["result"]["checks"])
    undone = sandbox.run("defender.resolve_alert", "undo", params=PARAMS, applied=applied["result"])
    assert undone["ok"] and _status(sandbox) == "Active"
    assert "secret" not in json.dumps([plan, applied, verified, undone]).lower()


def test_a_retried_apply_keeps_the_before_state_from_the_delivered_alert(sandbox):
    sandbox.run("defender.resolve_alert", "apply", params=PARAMS)  # the first try resolved, then "crashed"
    alert = {"alert_id": f"Microsoft.Security/alerts/{ALERT}"}
    retried = sandbox.run("defender.resolve_alert", "apply", params=PARAMS, alert=alert)
    assert retried["ok"] and retried["result"]["before"]["status"] == "Active"
    undone = sandbox.run("defender.resolve_alert", "undo", params=PARAMS, applied=retried["result"])
    assert undone["ok"] and _status(sandbox) == "Active"


def test_bad_id_and_unknown_alert_are_clear_errors(sandbox):
    bad = sandbox.run("defender.resolve_alert", "plan", params={"system_alert_id": "../x"})
    assert not bad["ok"] and "system_alert_id" in json.dumps(bad)
    missing = sandbox.run("defender.resolve_alert", "plan", params={"system_alert_id": "no-such-alert"})
    assert not missing["ok"] and "no-such-alert" in json.dumps(missing)


def test_an_alert_of_another_type_or_resource_is_refused_and_left_active(sandbox):
    # RT3-02: the system alert id comes from the delivered payload; Azure's copy must match the incident
    jailbreak = {"alert_id": f"Microsoft.Security/alerts/{ALERT}", "rule_name": "AI.Azure_CredentialTheftAttempt"}
    refused = sandbox.run("defender.resolve_alert", "apply", params=PARAMS, alert=jailbreak)
    assert not refused["ok"] and refused["error"]["kind"] == "invalid" and "AI.Azure_CredentialTheftAttempt" in json.dumps(refused)
    other = PROD.replace("contoso-openai-prod", "contoso-openai-other")
    elsewhere = sandbox.run("defender.resolve_alert", "plan", target=other, params=PARAMS)
    assert not elsewhere["ok"] and elsewhere["error"]["kind"] == "invalid"
    assert _status(sandbox) == "Active"
    routed = {**jailbreak, "rule_name": "ai.azure_jailbreak.contentfiltering.blockedattempt"}
    assert sandbox.run("defender.resolve_alert", "apply", params=PARAMS, alert=routed)["ok"] and _status(sandbox) == "Resolved"

"""sentinel.comment / sentinel.close_incident against the sandbox sentinel room (REST 2024-03-01)."""

from __future__ import annotations

import html
import json

from firestop.azure.sentinel import SentinelClient

WS = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
      "Microsoft.OperationalInsights/workspaces/law-contoso-sec")
INCIDENT = WS + "/providers/Microsoft.SecurityInsights/incidents/8d2f1c3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f"
DEFENDER = {"alert_id": "Microsoft.Security/alerts/2516935104399999999_5f0c2e8a-3b1d-4c7e-9a6f-1d2e3f4a5b6c",
            "rule_name": "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"}  # the seeded incident holds it
DEV = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"


def _si(sandbox) -> SentinelClient:
    return SentinelClient(sandbox.tenant.credential, transport=sandbox.tenant.transport)


def _with_workspace(sandbox):
    sandbox.settings = sandbox.settings.model_copy(update={"sentinel_workspace_id": WS})
    return sandbox


def test_comment_finds_the_incident_by_the_attacked_resource_and_is_idempotent(sandbox):
    _with_workspace(sandbox)
    params = {"phase": "analyze", "message": "took <b>it</b>"}
    first = sandbox.run("sentinel.comment", "apply", params=params, incident_id="inc-abc")
    assert first["ok"] and first["result"]["after"]["incidents"] == [INCIDENT], first
    sandbox.run("sentinel.comment", "apply", params=params, incident_id="inc-abc")
    comments = _si(sandbox).list_comments(INCIDENT)
    assert [c["name"] for c in comments] == ["firestop-inc-abc-analyze"]
    message = comments[0]["properties"]["message"]
    assert "<b>it" not in message and "<b>it</b>" in html.unescape(message) and "inc-abc" in message  # shown as text
    assert sandbox.run("sentinel.comment", "verify", params=params, applied=first["result"], incident_id="inc-abc")["ok"]


def test_no_workspace_and_no_sentinel_alert_is_a_no_op_and_other_resources_are_left_alone(sandbox):
    nothing = sandbox.run("sentinel.comment", "apply", params={"phase": "contain", "message": "x"})
    assert nothing["ok"] and nothing["result"]["changed"] is False
    _with_workspace(sandbox)
    other = sandbox.run("sentinel.comment", "apply", target=DEV, params={"phase": "contain", "message": "x"})
    assert other["ok"] and other["result"]["after"]["incidents"] == []
    assert _si(sandbox).list_comments(INCIDENT) == []


def test_close_records_before_state_verifies_and_undoes(sandbox):
    _with_workspace(sandbox)
    applied = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-abc", alert=DEFENDER)
    assert applied["ok"] and applied["result"]["before"]["incidents"][INCIDENT]["status"] == "New"
    p = _si(sandbox).get_incident(INCIDENT)["properties"]
    assert (p["status"], p["classification"], p["owner"]["assignedTo"]) == ("Closed", "TruePositive", "Firestop")
    assert sandbox.run("sentinel.close_incident", "verify", applied=applied["result"], incident_id="inc-abc")["ok"]
    undone = sandbox.run("sentinel.close_incident", "undo", applied=applied["result"], incident_id="inc-abc")
    assert undone["ok"] and _si(sandbox).get_incident(INCIDENT)["properties"]["status"] == "New"


def test_retried_close_reads_the_before_state_from_its_marker_comment(sandbox):
    _with_workspace(sandbox)
    sandbox.run("sentinel.close_incident", "apply", incident_id="inc-abc", alert=DEFENDER)  # closed, then "crashed"
    retried = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-abc", alert=DEFENDER)
    assert retried["ok"] and retried["result"]["before"]["incidents"][INCIDENT]["status"] == "New"
    assert "secret" not in json.dumps(retried).lower()


def test_an_alert_that_came_from_sentinel_is_written_back_only_in_the_configured_workspace(sandbox):
    alert = {"alert_id": "Microsoft.SecurityInsights/incidents/" + INCIDENT.lower(),
             "rule_name": "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"}
    params = {"phase": "learn", "message": "m"}
    unconfigured = sandbox.run("sentinel.comment", "apply", params=params, alert=alert, incident_id="inc-s")
    assert unconfigured["ok"] and unconfigured["result"]["changed"] is False
    _with_workspace(sandbox)
    done = sandbox.run("sentinel.comment", "apply", params=params, alert=alert, incident_id="inc-s")
    assert done["ok"] and done["result"]["after"]["incidents"] == [INCIDENT]
    assert [c["name"] for c in _si(sandbox).list_comments(INCIDENT)] == ["firestop-inc-s-learn"]


def test_close_touches_only_the_incident_of_this_attack_never_one_merely_naming_the_account(sandbox):
    # RT3-01: no delivered alert ties the incident to this attack (a manual run): it is commented on, never closed
    _with_workspace(sandbox)
    nothing = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-m")
    assert nothing["ok"] and nothing["result"]["changed"] is False
    contained = sandbox.run("sentinel.comment", "apply", params={"phase": "contain", "message": "m"}, incident_id="inc-m")
    assert contained["ok"] and contained["result"]["after"]["incidents"] == []
    analyzed = sandbox.run("sentinel.comment", "apply", params={"phase": "analyze", "message": "m"}, incident_id="inc-m")
    assert analyzed["ok"] and analyzed["result"]["after"]["incidents"] == [INCIDENT]
    # a Defender alert of another type, or one the incident does not hold, owns nothing either
    for alert in ({**DEFENDER, "rule_name": "AI.Azure_CredentialTheftAttempt"},
                  {**DEFENDER, "alert_id": "Microsoft.Security/alerts/2516935104388888888_other"}):
        refused = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-m", alert=alert)
        assert refused["ok"] and refused["result"]["changed"] is False, alert
    assert _si(sandbox).get_incident(INCIDENT)["properties"]["status"] == "New"


def test_a_delivered_incident_id_is_written_back_only_when_sentinel_ties_it_to_the_target(sandbox):
    # RT3-02: the incident id comes from the payload; it must be in the workspace and name the target
    _with_workspace(sandbox)
    forged = {"alert_id": "Microsoft.SecurityInsights/incidents/" + INCIDENT.lower().replace("law-contoso-sec", "law-other")}
    other_ws = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-f", alert=forged)
    assert other_ws["ok"] and other_ws["result"]["changed"] is False
    mine = {"alert_id": "Microsoft.SecurityInsights/incidents/" + INCIDENT.lower()}
    wrong_target = sandbox.run("sentinel.close_incident", "apply", target=DEV, incident_id="inc-f", alert=mine)
    assert wrong_target["ok"] and wrong_target["result"]["changed"] is False
    wrong_type = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-f",
                             alert={**mine, "rule_name": "AI.Azure_CredentialTheftAttempt"})
    assert wrong_type["ok"] and wrong_type["result"]["changed"] is False
    assert _si(sandbox).get_incident(INCIDENT)["properties"]["status"] == "New"
    closed = sandbox.run("sentinel.close_incident", "apply", incident_id="inc-f", alert=mine)
    assert closed["ok"] and list(closed["result"]["before"]["incidents"]) == [INCIDENT]

"""RT14-03: with ``FIRESTOP_ALERT_SOURCE_CHECK`` on, an Azure Policy event (``POST /api/events``) was its own proof.

Attacker: anyone holding a function key of the app (the alerts webhook's key opens ``/api/events`` as well: both are
``AuthLevel.FUNCTION``). verify9–11 read an Azure Monitor alert, a Defender alert and a Sentinel incident back from
their sources before any automatic step, but ``PolicyStateChanged``/``PolicyStateCreated`` NonCompliant events of
the Azure AI network policies route to ``public-network-exposure`` with no check at all: a forged event naming the
production account — for a policy whose state there is not NonCompliant — ran ``lock-network`` (deny by default:
everyone outside the allow list cut off) with nobody approving.

Fixed: intake writes ``source_check: "policy"`` for such an event, and the orchestrator reads the resource's latest
policy states (Policy Insights ``policyStates/latest/queryResults``, REST 2019-10-01) before any automatic step: the
event is confirmed only when the source holds the resource NonCompliant with that definition (and assignment).
"""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from tests.intake.test_intake_eventgrid import event_intake_lines, intake_of

SUB = "11111111-2222-3333-4444-555555555555"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
HELD = "037eea7a-bd0a-46c5-9a66-03aea78705d3"        # the sandbox holds prod NonCompliant with it
NOT_HELD = "0725b4dd-7e76-479c-a735-68e7ee23d5ca"    # routes to public-network-exposure too; no state held


@pytest.fixture
def endpoint(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        app = function_app()

        def post(events):
            request = func.HttpRequest(method="POST", url="http://localhost:7071/api/events",
                                       headers={"content-type": "application/json"}, body=json.dumps(events).encode())
            with event_intake_lines() as lines:
                response = invoke_http_function(app, "post_events", request, server=server)
            response.events_intake = list(lines)  # what intake did, from the log (events17: not in the answer)
            return response

        yield env, post
    env.close()


def _event(event_id: str, definition: str) -> dict:
    return {"id": event_id, "topic": f"/subscriptions/{SUB}", "subject": PROD,
            "eventType": "Microsoft.PolicyInsights.PolicyStateChanged", "eventTime": "2026-11-29T03:10:00Z",
            "dataVersion": "1", "metadataVersion": "1",
            "data": {"timestamp": "2026-11-29T03:09:58Z", "complianceState": "NonCompliant", "subscriptionId": SUB,
                     "policyAssignmentId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/aoai-security-baseline",
                     "policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{definition}",
                     "policyDefinitionReferenceId": "", "complianceReasonCode": ""}}


def _acls(env) -> dict:
    return env.tenant.resource(PROD)["properties"]["networkAcls"]


def _incident(post, event) -> str:
    answer = post([event])
    assert answer.status_code == 200, answer.get_body()
    accepted = intake_of(answer)
    assert accepted[0]["outcome"] == "started", accepted
    return accepted[0]["incident"]


def test_a_forged_policy_event_locks_nothing_before_a_responder(endpoint):
    env, post = endpoint
    before = _acls(env)
    incident = _incident(post, _event("forged-1", NOT_HELD))
    env.host.run_until_idle()
    status = env.host.get_status(incident)
    assert status.input.get("source_check") == "policy", status.input
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert "alert not confirmed at its source" in pending.get("why", ""), (status.runtime_status, pending)
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    assert _acls(env) == before, "the production account was locked on a forged policy event"
    assert env.host.get_status(incident).output["status"] == "needs_responder"


def test_a_policy_event_the_source_holds_is_confirmed_and_contained(endpoint):
    env, post = endpoint
    incident = _incident(post, _event("genuine-1", HELD))
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident).output
    checks = [e for e in output["timeline"] if e.get("step") == "confirm alert at source"]
    assert [e["outcome"] for e in checks] == ["ok"], checks
    assert _acls(env)["defaultAction"] == "Deny"


@pytest.mark.parametrize("target, custom", [
    (PROD + "' or resourceId ne '", {"policyDefinitionId": HELD}),                 # OData quote injection
    (PROD, {"policyDefinitionId": f"/x/{HELD}' or complianceState ne '"}),
    (PROD, {"policyDefinitionId": HELD, "policyAssignmentId": "/x/a' or 'x' eq 'x"}),
    (PROD, {"policyDefinitionId": ".."}),
    (PROD, {}),
])
def test_policy_ids_that_would_bend_the_query_are_not_confirmed_and_never_sent(endpoint, target, custom):
    from firestop.azure.clients import get_client_factory
    from firestop.azure.policy_source import confirm_policy

    env, _ = endpoint
    sent = len(env.tenant.requests)
    found = confirm_policy(get_client_factory().policy_insights, {"target_ids": [target], "custom_properties": custom})
    assert found["confirmed"] is False and "cannot be read" in found["why"], found
    assert [r.operation for r in env.tenant.requests[sent:]] == []


def test_the_held_state_confirms_and_another_assignment_does_not(endpoint):
    from firestop.azure.clients import get_client_factory
    from firestop.azure.policy_source import confirm_policy

    factory = get_client_factory()
    held = {"policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{HELD}",
            "policyAssignmentId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/aoai-security-baseline"}
    assert confirm_policy(factory.policy_insights, {"target_ids": [PROD], "custom_properties": held})["confirmed"] is True
    other = {**held, "policyAssignmentId": held["policyAssignmentId"].replace("aoai-security-baseline", "someone-elses")}
    found = confirm_policy(factory.policy_insights, {"target_ids": [PROD], "custom_properties": other})
    assert found["confirmed"] is False and "does not hold" in found["why"], found

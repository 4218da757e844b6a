"""RT20-06 (attacker b: a Resource Policy Contributor — ``Microsoft.Authorization/policyDefinitions/write`` and
``policyAssignments/write`` — plus the alerts webhook key, or just Event Grid's own delivery): a **custom** policy
definition at subscription scope *named* like the built-in Azure AI network policy
(``/subscriptions/<sub>/providers/Microsoft.Authorization/policyDefinitions/0725b4dd-7e76-479c-a735-68e7ee23d5ca``,
whose rule is the attacker's: every Cognitive Services account non-compliant) made ``public-network-exposure``'s
``lock-network`` (no approval) run on any account, with nobody approving.

Event Grid intake routes a policy event by the *last segment* of ``policyDefinitionId``
(:mod:`firestop.alerts.sources.eventgrid`, ``POLICY_PLAYBOOKS``) and the source check (:func:`firestop.azure.policy_source
.confirm_policy`) asks Policy Insights for states with ``policyDefinitionName eq '<guid>'`` — a custom definition's
name is that GUID too. Azure Policy genuinely holds the account NonCompliant with the attacker's definition, so the
event was confirmed and the account locked. Built-in definitions live at the tenant root
(``/providers/Microsoft.Authorization/policyDefinitions/<guid>``: Azure Policy built-in definitions, "Azure AI
services" category); only their logic is Microsoft's. Fixed: a policy event routes, and a held state confirms, only
for the built-in definition's own id. Both tests failed before (the dev account locked; the event routed)."""

from __future__ import annotations

import pytest

from tests.redteam14.test_rt14_forged_policy_event import SUB, _event, _incident, endpoint  # noqa: F401 (fixture)

DEV = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
BUILTIN = "0725b4dd-7e76-479c-a735-68e7ee23d5ca"
CUSTOM_ID = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyDefinitions/{BUILTIN}"
ASSIGNMENT = "every-ai-account-is-bad"


def _hold_noncompliant_with_custom_definition(env) -> None:
    """What Azure Policy holds once the attacker's custom definition (named as the built-in) is assigned and evaluated."""
    from firestop.sandbox.policyinsights.models import policy_state

    with env.tenant._exclusive() as state:  # noqa: SLF001 — as Policy Insights holds it after the evaluation
        held = policy_state(state, resource=state.resource(DEV), definition=BUILTIN, assignment=ASSIGNMENT,
                            compliance="NonCompliant", timestamp="2026-11-29T03:09:00Z")
        held["policyDefinitionId"] = CUSTOM_ID  # a custom definition: its id is under the subscription
        state.doc["policy_states"].append(held)
        env.tenant._save_locked()  # noqa: SLF001


def _custom_event(event_id: str) -> dict:
    event = _event(event_id, BUILTIN)
    event["subject"] = DEV
    event["data"]["policyDefinitionId"] = CUSTOM_ID
    event["data"]["policyAssignmentId"] = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/{ASSIGNMENT}"
    return event


def test_a_custom_definition_named_as_the_builtin_locks_nothing_unapproved(endpoint):  # noqa: F811
    env, post = endpoint
    _hold_noncompliant_with_custom_definition(env)
    before = env.tenant.resource(DEV)["properties"]["networkAcls"]
    answer = post([_custom_event("custom-1")])
    assert answer.status_code == 200, answer.get_body()
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    assert env.tenant.resource(DEV)["properties"]["networkAcls"] == before, \
        "the account was locked on a policy the attacker wrote, named as the built-in"


@pytest.mark.parametrize("definition_id, routed", [
    (f"/providers/Microsoft.Authorization/policyDefinitions/{BUILTIN}", True),
    (f"/providers/microsoft.authorization/policydefinitions/{BUILTIN.upper()}", True),
    (CUSTOM_ID, False),
    (f"/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/policyDefinitions/{BUILTIN}", False),
])
def test_only_the_builtin_definition_routes(definition_id, routed):
    from firestop.alerts.alert import ROUTE_PROPERTY
    from firestop.alerts.sources.eventgrid import event_alert

    event = _event("route-1", BUILTIN)
    event["data"]["policyDefinitionId"] = definition_id
    alert = event_alert(event, cloud_events=False)
    assert (alert.custom_properties.get(ROUTE_PROPERTY) == "public-network-exposure") is routed, alert.custom_properties


def test_an_event_naming_the_builtin_is_not_confirmed_by_a_state_of_the_custom_namesake(endpoint):  # noqa: F811
    """The event says the built-in (as a webhook-key holder writes it); Policy Insights holds the account NonCompliant
    only with the custom definition of the same name: not the state the event names (failed before: confirmed)."""
    env, post = endpoint
    _hold_noncompliant_with_custom_definition(env)
    before = env.tenant.resource(DEV)["properties"]["networkAcls"]
    event = _custom_event("builtin-named-1")
    event["data"]["policyDefinitionId"] = f"/providers/Microsoft.Authorization/policyDefinitions/{BUILTIN}"
    incident = _incident(post, event)
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    assert env.tenant.resource(DEV)["properties"]["networkAcls"] == before
    assert env.host.get_status(incident).output["status"] == "needs_responder"

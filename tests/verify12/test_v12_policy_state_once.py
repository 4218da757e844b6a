"""verify12 item 3 (low): a confirmed policy event contained once per *post*, not once per policy state.

Attacker: a function-key holder (``POST /api/events``). RT14-03 reads a policy event back from Policy Insights, but
the once-marker was keyed by the event's own id (the sender's choice): after a responder undid the lock on purpose
(the account stays NonCompliant: the exception is agreed), re-posting the event under a new id was confirmed again
and ``lock-network`` locked the account again with nobody approving (PoC on the item-2 commit). Fixed: a confirmed
policy event claims the policy state it was confirmed by (resource, assignment, definition and — RT19-04 — since when
they are NonCompliant: ``firestop.azure.policy_source.state_key``), so the same non-compliance contains once.
"""

from __future__ import annotations

from tests.redteam14.test_rt14_forged_policy_event import HELD, PROD, SUB, _acls, _event, _incident, endpoint  # noqa: F401


def _open_again(before: dict) -> None:
    """What a responder's undo leaves: the account's network rules as they were (through the SDK, as on Azure)."""
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties, NetworkRuleSet

    from firestop.azure.clients import get_client_factory

    client = get_client_factory().cognitive_services(SUB)
    rules = NetworkRuleSet(default_action=before.get("defaultAction") or "Allow", ip_rules=before.get("ipRules") or [],
                           virtual_network_rules=before.get("virtualNetworkRules") or [])
    client.accounts.begin_update("rg-ai-prod", "contoso-openai-prod",
                                 Account(properties=AccountProperties(network_acls=rules))).result()


def _checks(env, incident: str) -> list[tuple[str, str]]:
    output = env.host.get_status(incident).output or {}
    return [(e["outcome"], e.get("detail", "")) for e in output.get("timeline") or [] if e.get("step") == "confirm alert at source"]


def test_a_new_event_id_for_the_same_policy_state_does_not_contain_again(endpoint):  # noqa: F811
    env, post = endpoint
    before = _acls(env)
    first = _incident(post, _event("genuine-1", HELD))
    env.host.run_until_idle(advance_timers=True)
    assert [c[0] for c in _checks(env, first)] == ["ok"]
    assert _acls(env)["defaultAction"] == "Deny"
    _open_again(before)  # a responder undid the lock on purpose; the account stays NonCompliant
    assert _acls(env)["defaultAction"] != "Deny"
    again = _incident(post, _event("reposted-2", HELD))
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    checks = _checks(env, again)
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "policy state was already confirmed" in checks[0][1], checks
    assert _acls(env)["defaultAction"] != "Deny", "the account was locked again on a re-posted policy event"


def test_the_state_key_names_the_non_compliance():
    """(RT19-04 changed this: the key named the evaluation's ``timestamp``, which the daily cycle moves; it names the
    resource, assignment, definition and since when they are NonCompliant.)"""
    from firestop.azure.policy_source import state_key

    state = {"resourceId": PROD, "policyAssignmentId": "/a", "policyDefinitionId": "/d", "timestamp": "2026-11-29T03:09:58Z"}
    assert state_key([state]) == state_key([{**state, "resourceId": PROD.upper()}])
    assert state_key([state]) == state_key([{**state, "timestamp": "2026-11-30T03:09:58Z"}])  # a new evaluation, same one
    assert state_key([state], "2026-11-28t22:00:00+00:00") != state_key([state])  # Compliant in between: a new one

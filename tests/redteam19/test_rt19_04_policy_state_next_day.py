"""RT19-04 (fixed): verify12 item 3's "a confirmed policy event contains once per policy state" held until the next
standard compliance evaluation — at most a day — after which a webhook-key holder locked the account again.

verify12 keyed the once-marker by the held state's resource, assignment, definition and its ``timestamp``
(:func:`firestop.azure.policy_source.state_key`). Azure Policy re-evaluates every assignment once every 24 hours (the
standard evaluation cycle) and the *latest* states it answers carry that evaluation's ``timestamp``: Policy
States - List Query Results answers the states of ``($to - 1 day)`` when no ``$from`` is given (REST 2019-10-01, which
``confirm_policy`` sends), so a resource that stays NonCompliant gets a new latest record every day. After a
responder undid the lock on purpose (the account stays NonCompliant: the exception is agreed, verify12's own
scenario), the same forged ``PolicyStateChanged`` re-posted the next day under a new event id is confirmed against the
re-evaluated state and ``lock-network`` (no approval in ``public-network-exposure``) locks the account again — every
day. A genuine event is raised on a *change* of state only, so nothing genuine asks for that second lock.

Attacker: the alerts webhook key (``/api/events`` is ``AuthLevel.FUNCTION`` too).

Fixed (the proposal's "claim the episode, not the evaluation"): the claim is the held states' resource, assignment and
definition and the newest ``Compliant`` record of them in Policy Insights' history (``policyStates/default``, 90 days
back) — since when the resource is NonCompliant (``policy_source.state_key`` / ``last_compliant``). The daily
evaluation leaves it alone; an evaluation that found the resource Compliant in between makes a later non-compliance a
new one, which contains again (a genuine event). History unreadable: not confirmed, a responder decides. Before the
fix the first test failed (the strict xfail it was), the third (no history was read: its fault fell on nothing and
the event was confirmed) and the fourth; the second passed before (a new evaluation was a new key) and holds what a
fix keyed by resource and policy alone would break: a genuine new non-compliance must still contain.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.redteam14.test_rt14_forged_policy_event import HELD, PROD, _acls, _event, _incident, endpoint  # noqa: F401
from tests.verify12.test_v12_policy_state_once import _checks, _open_again


def _next_daily_evaluation(env) -> None:
    """Azure Policy's standard cycle re-evaluates the account, still NonCompliant: its latest state's timestamp moves."""
    with env.tenant._exclusive() as state:  # noqa: SLF001 — as Policy Insights holds it
        for held in state.doc["policy_states"]:
            if held["resourceId"].lower() == PROD.lower():
                when = datetime.fromisoformat(held["timestamp"].replace("Z", "+00:00")) + timedelta(days=1)
                held["timestamp"] = when.isoformat().replace("+00:00", "Z")
        env.tenant._save_locked()  # noqa: SLF001


def _locked_then_reopened(env, post) -> None:
    """A genuine event locks the production account; a responder then undoes the lock on purpose (the account stays
    NonCompliant: the exception is agreed)."""
    before = _acls(env)
    first = _incident(post, _event("genuine-1", HELD))
    env.host.run_until_idle(advance_timers=True)
    assert [c[0] for c in _checks(env, first)] == ["ok"]
    assert _acls(env)["defaultAction"] == "Deny"
    _open_again(before)
    assert _acls(env)["defaultAction"] != "Deny"


def test_rt19_04_a_reposted_policy_event_does_not_lock_again_after_the_next_evaluation(endpoint):  # noqa: F811
    env, post = endpoint
    _locked_then_reopened(env, post)
    _next_daily_evaluation(env)
    again = _incident(post, _event("reposted-next-day", HELD))
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    assert _acls(env)["defaultAction"] != "Deny", ("the account was locked again on a re-posted policy event",
                                                   _checks(env, again))


def _evaluate(env, compliance: str, at: str) -> None:
    """Azure Policy evaluates the account at ``at``: ``compliance`` with ``HELD`` (the last record goes to history)."""
    from firestop.sandbox.policyinsights.models import reevaluate

    with env.tenant._exclusive() as state:  # noqa: SLF001 — as Policy Insights holds it
        assert reevaluate(state, PROD, HELD, compliance, at) == 1
        env.tenant._save_locked()  # noqa: SLF001


def test_a_new_non_compliance_after_a_compliant_evaluation_contains_again(endpoint):  # noqa: F811
    """The claim is the episode's: once Azure Policy found the account Compliant in between, a later NonCompliant
    state is a new non-compliance and its (genuine) event contains again — the fix does not freeze the account open."""
    env, post = endpoint
    _locked_then_reopened(env, post)
    _evaluate(env, "Compliant", "2026-11-29T01:00:00Z")     # fixed for a while …
    _evaluate(env, "NonCompliant", "2026-11-29T02:00:00Z")  # … and exposed again
    again = _incident(post, _event("genuine-2", HELD))
    env.host.run_until_idle(advance_timers=True)
    assert [c[0] for c in _checks(env, again)] == ["ok"], _checks(env, again)
    assert _acls(env)["defaultAction"] == "Deny"


def test_an_unreadable_history_is_not_confirmed(endpoint):  # noqa: F811
    """Fail safe: the latest states read, the history (the second read) refused — not confirmed, nothing locked."""
    env, post = endpoint
    env.tenant.inject_fault("policyStates.queryResults", 403, nth=2)
    incident = _incident(post, _event("genuine-1", HELD))
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    checks = _checks(env, incident)
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "history could not be read" in checks[0][1], checks
    assert _acls(env)["defaultAction"] != "Deny"


def test_the_claim_names_the_non_compliance_not_the_evaluation():
    from firestop.azure.policy_source import state_key

    state = {"resourceId": PROD, "policyAssignmentId": "/a", "policyDefinitionId": "/d", "timestamp": "2026-11-29T03:09:58Z"}
    assert state_key([state], "") == state_key([{**state, "timestamp": "2026-11-30T03:09:58Z"}], "")  # the daily cycle
    assert state_key([state], "") != state_key([state], "2026-11-29t01:00:00+00:00")  # Compliant in between: a new one
    assert state_key([state], "") != state_key([{**state, "policyAssignmentId": "/b"}], "")


def test_a_compliant_record_of_a_definition_only_named_like_it_starts_nothing(endpoint):  # noqa: F811
    """A custom definition given the built-in's name (RT20-06's trick), Compliant in the history, is not the policy the
    claim is of: the re-posted event still waits for a responder (only the held states' own ids count)."""
    env, post = endpoint
    _locked_then_reopened(env, post)
    with env.tenant._exclusive() as state:  # noqa: SLF001 — a record of the look-alike in Policy Insights' history
        held = next(s for s in state.doc["policy_states"] if s["resourceId"].lower() == PROD.lower()
                    and s["policyDefinitionName"] == HELD)
        custom = f"/subscriptions/{state.subscription_id}/providers/Microsoft.Authorization/policyDefinitions/{HELD}"
        state.doc.setdefault("policy_state_history", []).append(
            {**held, "policyDefinitionId": custom, "complianceState": "Compliant", "isCompliant": True,
             "timestamp": "2026-11-29T02:00:00Z"})
        env.tenant._save_locked()  # noqa: SLF001
    again = _incident(post, _event("reposted-2", HELD))
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    assert [c[0] for c in _checks(env, again)] == ["not confirmed"], _checks(env, again)
    assert _acls(env)["defaultAction"] != "Deny"

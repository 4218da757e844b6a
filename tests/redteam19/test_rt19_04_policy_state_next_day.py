"""RT19-04: verify12 item 3's "a confirmed policy event contains once per policy state" holds until the next
standard compliance evaluation — at most a day — after which a webhook-key holder locks the account again.

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
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

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


@pytest.mark.xfail(strict=True, reason="RT19-04: the once-per-state claim is keyed by the state's timestamp, which "
                                       "Azure Policy's daily evaluation moves: a re-posted event locks again the next day")
def test_rt19_04_a_reposted_policy_event_does_not_lock_again_after_the_next_evaluation(endpoint):  # noqa: F811
    env, post = endpoint
    before = _acls(env)
    first = _incident(post, _event("genuine-1", HELD))
    env.host.run_until_idle(advance_timers=True)
    assert [c[0] for c in _checks(env, first)] == ["ok"]
    assert _acls(env)["defaultAction"] == "Deny"
    _open_again(before)  # a responder undid the lock on purpose; the account stays NonCompliant
    _next_daily_evaluation(env)
    again = _incident(post, _event("reposted-next-day", HELD))
    env.host.run_until_idle(advance_timers=True)  # nobody approves
    assert _acls(env)["defaultAction"] != "Deny", ("the account was locked again on a re-posted policy event",
                                                   _checks(env, again))

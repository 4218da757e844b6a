"""variants13 item 2 (medium): an alert that joined an incident whose source check had not answered yet stayed there.

Attacker: the webhook-key holder, posting a forged alert (any id: a made-up one of the rule, on the production
account) in the seconds before the relay's genuine delivery. The forged alert's incident is still being checked
when the genuine one arrives, so it joins it (review after red team 15: a burst of genuine alerts in those seconds
is one attack); the check then says "not confirmed" and the genuine alert, never checked on its own, waits with the
forged incident for a responder: 203.0.113.200 is not blocked automatically.

Fixed (variants13 item 2, redesigned by joins14): the alert still joins (one incident per attack) and is kept as a
pending join of that incident run (``firestop.records.pending_joins``) before intake reads the run's check verdict
(``firestop.records.check_verdicts``); the incident, its check "not confirmed" (verdict kept first), starts the
variant of each pending join (``start_pending_joins``), so the genuine alert is checked on its own (and contained);
confirmed, nothing more (a genuine burst stays one incident, one containment, no instance per joined alert). The
other interleavings: tests/variants13/test_j14_pending_joins.py.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import post, served, what_intake_did  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _posted(server, app, body: dict) -> dict:
    """POST without running the host: the incident it opened or joined has not run its check yet."""
    answer = post(app, server, json.dumps(body).encode())
    assert answer.status_code == 202, answer.get_body()
    return what_intake_did(answer)


def _variant_of(body: dict) -> str:
    from firestop.alerts import parse_alert
    from firestop.intake.accept import delivery_digest, variant_id

    alert = parse_alert(json.dumps(body).encode())
    return variant_id(alert, delivery_digest(alert))


def test_the_genuine_alert_joined_to_a_forged_incident_being_checked_is_checked_and_contained(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    genuine = _posted(server, app, json.loads(RAW))
    assert genuine.get("correlatedTo") == forged, genuine  # joined while the forged incident's check runs (a burst)
    env.host.run_until_idle(advance_timers=True)
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    own = _variant_of(json.loads(RAW))
    assert confirm_outcomes(env, own) == ["ok"], env.host.get_status(own).output  # re-decided: checked on its own
    assert _deny_rules(env, "203.0.113.200")  # contained automatically


def test_a_genuine_burst_joined_while_the_first_is_checked_stays_one_incident(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    first = _posted(server, app, json.loads(RAW))["id"]
    other = _forged()  # another alert id of the burst (its own check would not find it: never asked)
    joined = _posted(server, app, other)
    assert joined.get("correlatedTo") == first, joined
    env.host.run_until_idle(advance_timers=True)
    assert confirm_outcomes(env, first) == ["ok"] and _deny_rules(env, "203.0.113.200")
    # joins14: no variant beside (variants13 started one that polled and ended "joined"): no second instance
    assert _variant_of(other) not in {i.instance_id for i in env.host.list_instances()}

"""verify12 item 2 (medium): the first delivery of an alert id held it, confirmed or not.

Attacker: the webhook-key holder of item 1, posting the real ``aoai-content-abuse`` alert with a made-up caller
(now not confirmed, item 1) *before* the relay. On 04bd7c9 the relay's genuine delivery of the same alert id was
answered as the first one's (the memo's ``duplicate``, or joined to it on another worker), so 203.0.113.200 was never
blocked automatically: the incident waited for a responder. Fixed (``firestop.intake.accept._variant``): with the
source check on, a delivery of the same alert id with other content, while the incident it would join is not
confirmed at its source, gets an incident of its own (``<incident_key>-v<n>``, at most 3 (variants13: one per content) per
alert id), which is checked at its source on its own; the once-marker keeps one confirmed incident per source alert.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _deny_rules, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


_post = partial(post_delivery, statuses=(200, 202))  # a retried delivery is answered 200
_confirm_outcome = confirm_outcomes


def test_the_genuine_delivery_after_a_forged_one_gets_its_confirmed_incident(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    assert _confirm_outcome(env, forged) == ["not confirmed"]
    genuine = _post(env, server, app, json.loads(RAW))
    assert genuine["id"] != forged, genuine
    assert _confirm_outcome(env, genuine["id"]) == ["ok"]
    assert _deny_rules(env, "203.0.113.200")  # contained automatically
    assert _deny_rules(env, GATEWAY_IP) == []
    again = _post(env, server, app, json.loads(RAW))  # Azure's retry of the genuine delivery: no third incident
    assert again["id"] == genuine["id"], again


def test_a_forger_adds_one_ended_incident_per_content_and_none_waits_but_the_first(served):  # noqa: F811
    """verify12 allowed 3 variants per alert id (then the rest joined, unchecked); variants13 keys a variant by its
    content, and a variant not confirmed ends after its check: only the first incident waits for a responder."""
    env, server, app = served
    _fire_genuine(env)
    ids = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{n}"))["id"] for n in range(10, 16)]
    assert len(set(ids)) == 6, ids  # the first, then one variant per content
    assert all(_confirm_outcome(env, i) == ["not confirmed"] for i in set(ids))
    assert [env.host.get_status(i).runtime_status for i in ids[1:]] == ["Completed"] * 5


def test_a_second_genuine_incident_is_never_confirmed(served):  # noqa: F811
    """The genuine delivery first (confirmed, contained), then a forged one: no incident of its own (the alert is
    confirmed where it would go), so one confirmed incident per source alert."""
    env, server, app = served
    _fire_genuine(env)
    genuine = _post(env, server, app, json.loads(RAW))["id"]
    assert _confirm_outcome(env, genuine) == ["ok"]
    forged = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))
    assert forged["id"] == genuine or forged.get("correlatedTo") == genuine, forged
    assert _deny_rules(env, GATEWAY_IP) == []

"""variants14 item 1 (medium): a genuine variant whose source check failed for a passing reason ended pointing at
the forged incident's decision.

Attacker: the webhook-key holder, who knows the genuine alert's id. A forged delivery of it opens the slot's incident
(not confirmed: it waits for a responder); each further distinct forged content costs an Alerts Management read, so
the forger can get the app throttled. The genuine delivery then gets its variant (its own content, checked on its
own), but its check meets 429 on every try of the SDK's retry policy. Before: "not confirmed" — the variant ended
``needs_responder`` naming the forged incident, where approving the one decision acts on the *forged* content
(198.51.100.10 blocked, not 203.0.113.200); the genuine alert was left to ``alert handle`` by hand.

Now (``firestop.source_reasons.Reason.TRANSIENT``, ``firestop.lifecycle.incident._check_again``): "could not check"
is told from "not confirmed"; the check is tried again after durable timers (60, 120, 240 s: four tries within 7
minutes, the SDK's own retries inside each); confirmed then, contained automatically; still unreadable, the variant
waits for a responder on its own decision (its own content and held steps), never on the forged incident's.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import (confirm_checks, confirm_outcomes, post_delivery, through_check_retries,
                                     timeline_of)
from tests.variants13.test_v13_joined_while_checked import _variant_of
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _deny_rules, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


_post = partial(post_delivery, statuses=(200, 202))
#: tries of one read through the ARM pipeline: the first and azure-core RetryPolicy's 3 status retries (retry_status)
SDK_TRIES = 4


def _throttled_genuine(env, server, app, tries: int) -> tuple[str, str]:
    """The forged delivery first (it waits), then the genuine one while Alerts Management answers 429 to the next
    ``tries`` reads. (forged incident, genuine variant)."""
    _fire_genuine(env)
    forged = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=tries)
    genuine = _post(env, server, app, json.loads(RAW))["id"]
    assert genuine == _variant_of(json.loads(RAW)) and genuine != forged
    return forged, genuine


def test_a_throttled_check_of_the_genuine_variant_is_tried_again_and_contains(served):  # noqa: F811
    env, server, app = served
    forged, genuine = _throttled_genuine(env, server, app, SDK_TRIES)  # the first try's reads all throttled
    status = env.host.get_status(genuine)
    assert status.runtime_status in ("Running", "Pending"), status.output  # before: ended needs_responder at once
    assert confirm_outcomes(env, genuine) == []  # no outcome yet: intake still reads its check as pending
    env.host.run_until_idle(genuine, advance_timers=True)
    assert confirm_outcomes(env, genuine) == ["ok"], timeline_of(env, genuine)
    assert _deny_rules(env, "203.0.113.200")  # contained automatically
    assert _deny_rules(env, GATEWAY_IP) == []
    again = [e for e in timeline_of(env, genuine) if e.get("step") == "check at source again"]
    assert len(again) == 1 and "429" in again[0]["detail"], again
    assert env.host.get_status(forged).runtime_status in ("Running", "Pending")


def test_a_check_that_never_answers_waits_on_the_variants_own_decision(served):  # noqa: F811
    from firestop.lifecycle.incident import CHECK_ATTEMPTS

    env, server, app = served
    forged, genuine = _throttled_genuine(env, server, app, SDK_TRIES * CHECK_ATTEMPTS)
    through_check_retries(env, genuine)  # each further try's timer falls due (not the decision's timeout after them)
    status = env.host.get_status(genuine)
    # before: needs_responder, "a responder decides there" (in the forged incident: its card acts on 198.51.100.10)
    assert status.runtime_status in ("Running", "Pending"), status.output
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert pending.get("step") == "alert.genuine" and pending.get("reason_code") == "transient", pending
    held = json.dumps(pending.get("held_steps"))
    assert "203.0.113.200" in held and GATEWAY_IP not in held, held  # its own content, not the forged one's
    checks = confirm_checks(env, genuine)
    assert [c[0] for c in checks] == ["could not check"] and "429" in checks[0][1], checks
    assert len([e for e in timeline_of(env, genuine) if e.get("step") == "check at source again"]) == CHECK_ATTEMPTS - 1
    assert _deny_rules(env, "203.0.113.200") == [] and _deny_rules(env, GATEWAY_IP) == []  # nothing acts unasked


def test_not_confirmed_still_ends_at_once(served):  # noqa: F811
    """The source saying otherwise is not retried: a forged variant ends after one check (variants13's bound)."""
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    before = len([r for r in env.tenant.requests if r.operation == "alerts.get"])
    second = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.77"))["id"]
    record = env.host.get_status(second).output
    assert record["status"] == "needs_responder" and first in record["reason"], record
    assert len([r for r in env.tenant.requests if r.operation == "alerts.get"]) == before + 1


def test_a_lasting_failure_is_not_tried_again(served):  # noqa: F811
    """403 (the role lacks the read) is no passing failure: the variant ends after one try, as "not confirmed"."""
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    env.tenant.inject_fault("alerts.get", 403, times=SDK_TRIES)
    second = _post(env, server, app, json.loads(RAW))["id"]
    record = env.host.get_status(second).output
    assert record["status"] == "needs_responder" and first in record["reason"], record
    assert confirm_outcomes(env, second) == ["not confirmed"]
    assert not [e for e in timeline_of(env, second) if e.get("step") == "check at source again"]



def test_an_input_sealed_before_variants14_runs_as_it_did(served):  # noqa: F811
    """An input without ``check_again`` (sealed before variants14; in-flight ones replay): a passing failure reads
    "not confirmed" as it did — no further try, the variant ends naming the incident it would have joined."""
    from firestop.alerts import parse_alert
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.lifecycle.start import incident_input
    from firestop.trust.seal import Purpose, seal

    env, server, app = served
    _fire_genuine(env)
    forged = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    env.tenant.inject_fault("alerts.get", 429, times=SDK_TRIES)
    alert = parse_alert(RAW)
    inp = incident_input(alert, received_at=env.clients.clock.now(), sandbox=True, incident_id="inc-older",
                         source_check=True, variant_of=forged)
    assert inp.pop("check_again") is True and inp.pop("variant_reports") is True
    env.host.start_new(ORCHESTRATOR_NAME, "inc-older", seal(Purpose.INCIDENT, inp, binding="inc-older"))
    env.host.run_until_idle("inc-older")
    record = env.host.get_status("inc-older").output
    assert record["status"] == "needs_responder" and forged in record["reason"], record["reason"]
    assert confirm_outcomes(env, "inc-older") == ["not confirmed"]
    assert not [e for e in timeline_of(env, "inc-older") if e.get("step") == "check at source again"]

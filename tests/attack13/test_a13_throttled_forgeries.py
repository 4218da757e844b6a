"""A13-05 (attacker A — the alerts webhook key): under throttling the forger provokes, each distinct forged content
becomes a decision waiting for a responder — as many as the forger posts.

variants13/14's bound for forged variants: "not confirmed" ends at once, folded into the first incident (one page per
ended incident, however many forged contents follow). variants14 item 1 made "could not check" (429 after the SDK's
retries, 5xx, timeouts) its own outcome: the variant tries again (4 checks over 7 minutes) and then *waits on its own
``alert.genuine`` decision* — right for a genuine variant, but the forger is who makes the check fail: each distinct
post costs Alerts Management reads (the throttling's cause, now 4 checks × the SDK's 4 tries each) and, while the
throttling lasts, opens one more incident waiting for a responder (its own card, its own page/escalation), with no
bound but the forger's posting rate. Measured here: K forged contents after the first → K incidents waiting on
``alert.genuine`` and 16 Alerts Management reads each.

Fixed (cap15): the first incident's tally gives each variant whose first check could not check its place
(``tally.unchecked_place``, atomic); past ``UNCHECKED_VARIANTS_WAITING`` (3) a variant is not tried again and ends
``needs_responder`` at once, named in the first incident's tally as "could not check, not waiting". The bound this
test held (1) is the cap the design chose (3, reasons at the constant): it posts cap + 2 contents and expects at most
cap waiting, the rest ended and named, each of those costing one check's reads instead of ``CHECK_ATTEMPTS``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, _fire_genuine, _with_dimension

_post = partial(post_delivery, statuses=(200, 202))
SDK_TRIES = 4  # one check's reads: the first GET and azure-core's 3 status retries


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def test_a13_05_throttled_forged_contents_leave_a_bounded_number_of_waiting_decisions(served):  # noqa: F811
    from firestop.lifecycle.incident import CHECK_ATTEMPTS, CHECK_WAITS, UNCHECKED_VARIANTS_WAITING as CAP

    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    assert confirm_outcomes(env, first) == ["not confirmed"]
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=10_000)  # the throttling the posts provoke
    k = CAP + 2
    before = len([r for r in env.tenant.requests if r.operation == "alerts.get"])
    variants = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{77 + i}"))["id"]
                for i in range(k)]
    for wait in CHECK_WAITS:  # each further try falls due (for all of them at once: 7 min, no decision times out)
        env.host.clock.set(env.host.clock.now() + timedelta(seconds=wait))
        env.host.run_until_idle()
    reads = len([r for r in env.tenant.requests if r.operation == "alerts.get"]) - before
    assert len(set(variants)) == k and first not in variants
    waiting = []
    for variant in variants:
        status = env.host.get_status(variant)
        pending = (status.custom_status or {}).get("pending_approval") or {}
        if status.runtime_status in ("Running", "Pending") and pending.get("step") == "alert.genuine":
            waiting.append(variant)
    assert waiting == variants[:CAP], f"{len(waiting)} of {k} forged contents wait for a responder; reads {reads}"
    # within the cap: tried CHECK_ATTEMPTS times; past it: one check, then ended (not dropped: named, asked to look)
    assert reads == SDK_TRIES * (CHECK_ATTEMPTS * CAP + (k - CAP)), reads
    for variant in variants[CAP:]:
        ended = env.host.get_status(variant)
        assert ended.runtime_status == "Completed" and ended.output["status"] == "needs_responder", ended.output
        assert "alert handle FILE --rerun" in ended.output["reason"] and first in ended.output["reason"]
    from firestop.runtime.entities import entity_ref

    exists, tallied = env.host.read_entity_state(entity_ref("incident_alerts", first))
    assert exists and tallied["unchecked_count"] == k, tallied
    outcomes = {v["variant"]: v["outcome"] for v in tallied["variants"]}  # the first incident's record names them
    assert [outcomes.get(v) for v in variants[CAP:]] == ["could not check, not waiting"] * (k - CAP), outcomes

"""R13-02 (medium, variants14 item 1 against the forger who provokes throttling): variants13's bound — "a forger's N
differing deliveries make one waiting incident, not N" — no longer holds once the forger gets the app throttled.

Attacker: the webhook-key holder. A forged delivery opens the slot's incident (not confirmed: it waits for a
responder). Each further distinct forged content starts a variant whose source check costs an Alerts Management read
(the README of variants14 names exactly this as how the forger provokes throttling). Under throttling every such
variant *could not check*; variants14 tries it 4 times (4 × the reads: the throttling feeds itself) and then the
variant waits for a responder on its own ``alert.genuine`` decision. N forged contents → N waiting incidents, each
an approval request a responder must decide (and each escalated at its timeout), each holding an orchestration.

Left (xfail): closing it needs a decision the variants14 design did not make — e.g. the first incident's tally
(``tally.report_variant``) admitting at most one (or K) *unchecked* variant waiting on its own decision per incident,
later unchecked ones listed on it (its card naming each content) rather than each asking; or intake refusing new
variants of one incident past a per-incident rate. Either is an orchestrator change gated on a new input field.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery, through_check_retries
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, _fire_genuine, _with_dimension

_post = partial(post_delivery, statuses=(200, 202))
SDK_TRIES = 4
FORGED_CONTENTS = 3


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _waiting_on_genuine(env, incident: str) -> bool:
    status = env.host.get_status(incident)
    pending = (status.custom_status or {}).get("pending_approval") or {}
    return status.runtime_status in ("Running", "Pending") and pending.get("step") == "alert.genuine"


@pytest.mark.xfail(strict=True, reason="R13-02: under throttling each distinct forged content waits on its own "
                   "alert.genuine decision (variants14 item 1); bounding them needs a design decision (README)")
def test_forged_contents_under_throttling_make_one_waiting_decision_not_one_each(served):  # noqa: F811
    from firestop.lifecycle.incident import CHECK_ATTEMPTS

    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    assert confirm_outcomes(env, first) == ["not confirmed"] and _waiting_on_genuine(env, first)
    # the forger's own posts got the app throttled: every read of the next variants' checks answers 429
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=SDK_TRIES * CHECK_ATTEMPTS * FORGED_CONTENTS)
    variants = []
    for n in range(FORGED_CONTENTS):
        variant = _post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{101 + n}"))["id"]
        assert variant != first
        through_check_retries(env, variant)
        variants.append(variant)
    waiting = [v for v in variants if _waiting_on_genuine(env, v)]
    # without throttling each of these ends at once naming `first` (variants13): one decision in all
    assert len(waiting) <= 1, f"{len(waiting)} forged contents each wait for a responder: {waiting}"

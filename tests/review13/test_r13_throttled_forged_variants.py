"""R13-02 (medium, variants14 item 1 against the forger who provokes throttling): variants13's bound — "a forger's N
differing deliveries make one waiting incident, not N" — no longer holds once the forger gets the app throttled.

Attacker: the webhook-key holder. A forged delivery opens the slot's incident (not confirmed: it waits for a
responder). Each further distinct forged content starts a variant whose source check costs an Alerts Management read
(the README of variants14 names exactly this as how the forger provokes throttling). Under throttling every such
variant *could not check*; variants14 tries it 4 times (4 × the reads: the throttling feeds itself) and then the
variant waits for a responder on its own ``alert.genuine`` decision. N forged contents → N waiting incidents, each
an approval request a responder must decide (and each escalated at its timeout), each holding an orchestration.

Fixed (cap15): the first incident's tally counts, atomically, the variants whose first check could not check
(``tally.unchecked_place``); at most ``UNCHECKED_VARIANTS_WAITING`` (3, reasons at the constant) wait on their own
decision, later ones end ``needs_responder`` at once (one check, not ``CHECK_ATTEMPTS``), named in the first
incident's record. This test's bound was one waiting decision; the design chose a cap of 3 (a genuine variant among
the first few keeps its one-click decision in an honest outage), so it posts cap + 2 contents and expects cap.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery
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


def test_forged_contents_under_throttling_make_a_bounded_number_of_waiting_decisions(served):  # noqa: F811
    from firestop.lifecycle.incident import CHECK_ATTEMPTS, CHECK_WAITS, UNCHECKED_VARIANTS_WAITING as CAP

    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    assert confirm_outcomes(env, first) == ["not confirmed"] and _waiting_on_genuine(env, first)
    forged = CAP + 2
    # the forger's own posts got the app throttled: every read of the next variants' checks answers 429
    env.tenant.inject_fault("alerts.get", 429, retry_after=1, times=SDK_TRIES * CHECK_ATTEMPTS * forged)
    variants = []
    for n in range(forged):
        variant = _post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{101 + n}"))["id"]
        assert variant != first
        variants.append(variant)
    for wait in CHECK_WAITS:  # the further tries fall due (all at once: no decision's timeout runs out meanwhile)
        env.host.clock.set(env.host.clock.now() + timedelta(seconds=wait))
        env.host.run_until_idle()
    waiting = [v for v in variants if _waiting_on_genuine(env, v)]
    # without throttling each of these ends at once naming `first` (variants13): one decision in all
    assert len(waiting) <= CAP, f"{len(waiting)} forged contents each wait for a responder: {waiting}"
    for variant in set(variants) - set(waiting):  # the others ended, pointing a responder at the source
        ended = env.host.get_status(variant).output
        assert ended["status"] == "needs_responder" and first in ended["reason"], ended
    assert _waiting_on_genuine(env, first)

"""R12-06: a verdict blob made unreadable by a storage writer lost the genuine alert that joined after the list.

joins14's guarantee: intake keeps its pending join (P) then reads the run's verdict (R); the incident keeps its
verdict (V) then lists the pending joins (L). P before R, V before L: one of them sees the other. RT16-03 sealed the
verdict, so a blob written there by a Storage Blob Data writer — first (create-if-absent then keeps it: the real
verdict is never written), or over the real one — reads as "not answered". Its name is the same sha256 as the run's
``pending-joins/`` folder, which the writer lists. A delivery whose status read saw the check pending and whose P
came after L (V L P R) then read R = "not answered" and joined the forged incident: nobody started its variant, the
genuine alert was never checked nor contained.

Fixed: the incident publishes its check's outcome in its custom status before it lists (the checkpoint of the list
activity's scheduling), and intake, when R is "not answered", reads the incident's status once more: "not confirmed"
there, it starts the variant itself. Either that read saw the check pending — then P came before the outcome was
published, so before L: L sees P — or it saw "not confirmed" and intake starts it.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.variants13.test_j14_pending_joins import _Gate, _post_in_background, _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def test_a_join_after_the_list_with_an_unreadable_verdict_is_still_checked(served, monkeypatch):  # noqa: F811
    env, server, app = served
    from firestop.records.check_verdicts import verdict_name
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    received_at = str(env.host.get_status(forged).input["received_at"])
    records_store(get_settings()).create(verdict_name(forged, received_at), b'{"confirmed": false}',
                                         "application/json")  # the writer's blob, first: the real one never lands
    gate = _Gate(monkeypatch, "_keep_pending")
    thread, answers = _post_in_background(server, app, json.loads(RAW))
    assert gate.reached.wait(60)  # intake read the forged incident's status: check pending
    env.host.run_until_idle()  # V (kept nothing: the blob was there) L (nothing listed yet)
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    gate.release.set()  # P R
    thread.join(60)
    assert not thread.is_alive() and answers
    env.host.run_until_idle(advance_timers=True)
    own = _variant_of(json.loads(RAW))
    assert confirm_outcomes(env, own) == ["ok"], answers[0]
    assert _deny_rules(env, "203.0.113.200")  # contained automatically

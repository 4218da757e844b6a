"""RT8-06: every alert recorded onto a finished incident ("joined after close") added a line to the record's timeline,
without bound, and each one files a whole new revision of the record. ``correlated_after_close`` keeps its newest 100
and the samples 20, but the timeline kept them all: revision n holds n such lines, so n alerts wrote ~n²/2 lines in
all (JSON and Markdown revisions, each re-read, re-rendered and re-hashed by the next alert and by every view and
undo). The leaked-key rule splits by ``CallerIPAddress``: an attacker with many source IPs makes one evaluation
after containment fire one alert per IP (Azure Monitor splits up to thousands of dimension combinations), each
covered by the closed incident, each a revision — revision n carries n lines of ~1.2 KB (JSON + Markdown), so 6,000 of them ~21 GB of records. (With the webhook's function key
anyone can send them.)

Fixed: a line is added for the first ``MAX_AFTER_CLOSE`` alerts joined after close only; later ones are counted
(``correlated_after_close_count``) and listed among the newest, so a revision's size is bounded.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 — the fixture
from tests.intake.test_intake_new_activity import LEAKED_KEY, _again, _record
from tests.e2e.test_webhook import what_intake_did

#: A small cap for the test (the shipped one is 100): past it no alert may add a timeline line.
CAP = 5
LATE = 12


def test_alerts_joined_after_close_do_not_grow_the_record_without_bound(endpoint, monkeypatch):  # noqa: F811
    import firestop.functions.intake_call as intake_call

    monkeypatch.setattr(intake_call, "MAX_AFTER_CLOSE", CAP)
    env, call = endpoint
    first = call("post_alert", "alerts", LEAKED_KEY)
    incident = what_intake_did(first)["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    held = _record(env, incident)
    assert held["status"] == "contained"
    contained = datetime.fromisoformat(held["contained_at"])
    env.clients.clock.set(contained + timedelta(minutes=5))
    lines = len(held["timeline"])
    for n in range(LATE):  # one evaluation after containment, split by caller IP: one alert per IP
        late = call("post_alert", "alerts", _again(f"late-{n}", contained - timedelta(minutes=10), env.clients.clock.now()))
        assert what_intake_did(late)["outcome"] == "recorded", late.get_body()
    record = _record(env, incident)
    joined = [e for e in record["timeline"] if e["step"] == "alert joined after close"]
    assert record["correlated_after_close_count"] == LATE
    assert [e["alert_id"].rsplit("/", 1)[1] for e in record["correlated_after_close"]] == [f"late-{n}" for n in range(LATE - CAP, LATE)]
    assert len(joined) == CAP, f"{len(joined)} timeline lines for {LATE} late alerts"
    assert len(record["timeline"]) == lines + CAP


def test_a_redelivered_late_alert_older_than_the_listed_entries_is_a_duplicate(endpoint, monkeypatch):  # noqa: F811
    """The duplicate check of the after-close path was over the newest ``MAX_AFTER_CLOSE`` entries only: a redelivery
    of an older late alert was counted again (count 13 for 12 alerts). It is now over every late alert's key
    (``correlated_after_close_keys``, up to :data:`MAX_AFTER_CLOSE_KEYS`)."""
    import firestop.functions.intake_call as intake_call

    monkeypatch.setattr(intake_call, "MAX_AFTER_CLOSE", CAP)
    env, call = endpoint
    incident = what_intake_did(call("post_alert", "alerts", LEAKED_KEY))["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    contained = datetime.fromisoformat(_record(env, incident)["contained_at"])
    env.clients.clock.set(contained + timedelta(minutes=5))
    for n in range(LATE):
        call("post_alert", "alerts", _again(f"late-{n}", contained - timedelta(minutes=10), env.clients.clock.now()))
    counted = _record(env, incident)["correlated_count"]
    for n in (0, LATE - 1):  # the oldest (no longer listed) and the newest (listed), delivered again
        again = call("post_alert", "alerts", _again(f"late-{n}", contained - timedelta(minutes=10), env.clients.clock.now()))
        assert what_intake_did(again)["outcome"] == "duplicate", (n, again.get_body())
    record = _record(env, incident)
    assert record["correlated_after_close_count"] == LATE
    assert record["correlated_count"] == counted


def test_past_the_key_bound_late_alerts_are_counted_apart_as_unchecked(monkeypatch):
    """Past :data:`MAX_AFTER_CLOSE_KEYS` distinct late alerts no key is kept (the record stays bounded): a later one
    is counted in ``correlated_after_close_unchecked`` (which a redelivery may count twice), never in the exact
    count; a record filed before the keys existed is seeded from the entries it lists."""
    import firestop.functions.intake_call as intake_call

    monkeypatch.setattr(intake_call, "MAX_AFTER_CLOSE_KEYS", 3)
    record = {"received_at": "2026-11-29T03:00:00+00:00", "correlated_after_close": [{"alert_id": "old"}],
              "correlated_after_close_count": 1}
    assert intake_call.is_after_close_duplicate(record, {"alert_id": "old"})  # seeded from the listed entry
    for n in range(4):
        entry = {"alert_id": f"a{n}"}
        assert not intake_call.is_after_close_duplicate(record, entry)
        record = intake_call._revised(record, entry)
    assert record["correlated_after_close_count"] == 3  # old, a0, a1: exact
    assert record["correlated_after_close_unchecked"] == 2  # a2, a3: no room for their keys
    assert len(record["correlated_after_close_keys"]) == 3 * 16
    assert intake_call.is_after_close_duplicate(record, {"alert_id": "a1"})
    assert intake_call.is_after_close_duplicate(record, {"alert_id": "a3"})  # unchecked, but still listed
    assert not intake_call.is_after_close_duplicate(record, {"alert_id": "a4"})

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

#: A small cap for the test (the shipped one is 100): past it no alert may add a timeline line.
CAP = 5
LATE = 12


def test_alerts_joined_after_close_do_not_grow_the_record_without_bound(endpoint, monkeypatch):  # noqa: F811
    import firestop.functions.intake_call as intake_call

    monkeypatch.setattr(intake_call, "MAX_AFTER_CLOSE", CAP)
    env, call = endpoint
    first = call("post_alert", "alerts", LEAKED_KEY)
    incident = json.loads(first.get_body())["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    held = _record(env, incident)
    assert held["status"] == "contained"
    contained = datetime.fromisoformat(held["contained_at"])
    env.clients.clock.set(contained + timedelta(minutes=5))
    lines = len(held["timeline"])
    for n in range(LATE):  # one evaluation after containment, split by caller IP: one alert per IP
        late = call("post_alert", "alerts", _again(f"late-{n}", contained - timedelta(minutes=10), env.clients.clock.now()))
        assert late.headers["X-Firestop-Intake"] == "recorded", late.get_body()
    record = _record(env, incident)
    joined = [e for e in record["timeline"] if e["step"] == "alert joined after close"]
    assert record["correlated_after_close_count"] == LATE
    assert [e["alert_id"].rsplit("/", 1)[1] for e in record["correlated_after_close"]] == [f"late-{n}" for n in range(LATE - CAP, LATE)]
    assert len(joined) == CAP, f"{len(joined)} timeline lines for {LATE} late alerts"
    assert len(record["timeline"]) == lines + CAP

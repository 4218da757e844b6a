"""The suppression hole found in review, through the real Functions (``/api/alerts``), the local durable host and the
sandbox: the leaked-key rule firing again after the keys were rotated, for requests made *after* containment, starts a
new incident that rotates the keys again (following the first); a late evaluation of the rows the first containment
already answered is recorded onto it."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

from firestop.settings import REPO_ROOT

from .test_intake_eventgrid import endpoint  # noqa: F401  (fixture)
from tests.e2e.test_webhook import what_intake_did

LEAKED_KEY = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())


def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _again(alert_id: str, window_start: datetime, fired: datetime) -> dict:
    """The leaked-key rule's next alert: its Log Alerts V2 evaluation window starts at ``window_start``."""
    body = copy.deepcopy(LEAKED_KEY)
    essentials, condition = body["data"]["essentials"], body["data"]["alertContext"]["condition"]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/" + alert_id
    essentials["firedDateTime"] = _z(fired)
    condition["windowStartTime"], condition["windowEndTime"] = _z(window_start), _z(window_start + timedelta(minutes=15))
    return body


def _record(env, incident: str) -> dict:
    from firestop.records.store import filed_record

    return filed_record(env.settings, incident)


def _rotations(record: dict) -> int:
    return sum(1 for a in record["actions"] if a["runbook"] == "keys.rotate" and a["ok"])


def test_new_activity_after_the_keys_were_rotated_is_contained_again_a_late_evaluation_is_recorded(endpoint):
    env, call = endpoint
    first = call("post_alert", "alerts", LEAKED_KEY)
    assert what_intake_did(first)["outcome"] == "started"
    incident = what_intake_did(first)["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    held = _record(env, incident)
    assert held["status"] == "contained" and _rotations(held) == 1
    contained = datetime.fromisoformat(held["contained_at"])

    # a late evaluation of rows from before the rotation: the containment already answered them -> recorded
    clock = env.clients.clock
    clock.set(contained + timedelta(minutes=5))
    late = call("post_alert", "alerts", _again("late-eval", contained - timedelta(minutes=10), clock.now()))
    assert what_intake_did(late)["outcome"] == "recorded", late.get_body()
    assert what_intake_did(late)["correlatedTo"] == incident

    # 20 minutes after the rotation, the rule fires on requests made after it (the new key leaked too)
    clock.set(contained + timedelta(minutes=20))
    again = call("post_alert", "alerts", _again("after-rotation", contained + timedelta(minutes=5), clock.now()))
    body = what_intake_did(again)
    assert what_intake_did(again)["outcome"] == "started", body
    assert body["id"] != incident and body["follows"] == incident and "correlatedTo" not in body
    env.host.run_until_idle(body["id"], advance_timers=True)
    second = _record(env, body["id"])
    assert second["status"] == "contained" and second["follows"] == incident
    assert _rotations(second) == 1  # the keys were rotated again
    after = [e["alert_id"] for e in _record(env, incident).get("correlated_after_close") or []]
    assert [a.rsplit("/", 1)[1] for a in after] == ["late-eval"]  # only the late evaluation was recorded on the first

"""firestop.intake.coverage: when did the activity an alert reports begin (Azure's real shapes, parsed as the webhook
parses them: keep_context=False), and did a held incident's containment already cover it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from firestop.alerts import parse_alert
from firestop.intake.coverage import activity_start, containment_done, covered_by, incident_links

ROOT = Path(__file__).resolve().parents[2]
TEST_ACTIONS = ROOT / "tests" / "alerts" / "data" / "test-actions"
EXAMPLES = ROOT / "examples" / "alerts"


@pytest.mark.parametrize(("path", "field"), [
    (TEST_ACTIONS / "log-alert-v2.json", ("data", "alertContext", "condition", "windowStartTime")),
    (TEST_ACTIONS / "metric-static-threshold.json", ("data", "alertContext", "condition", "windowStartTime")),
    (TEST_ACTIONS / "metric-dynamic-threshold.json", ("data", "alertContext", "condition", "windowStartTime")),
    (TEST_ACTIONS / "activity-log-administrative.json", ("data", "alertContext", "eventTimestamp")),
    (EXAMPLES / "defender-credential-theft.json", ("properties", "startTimeUtc")),
], ids=lambda v: v.name if isinstance(v, Path) else v[-1])
def test_the_start_is_the_payloads_own_field(path, field):
    body = json.loads(path.read_text())
    value = body
    for name in field:
        value = value[name]
    expected = datetime.fromisoformat(value.rstrip("Z")[:26]).replace(tzinfo=timezone.utc)
    assert activity_start(parse_alert(path.read_bytes(), keep_context=False)) == expected


def test_no_start_time_is_none_and_never_covered():
    body = json.loads((TEST_ACTIONS / "activity-log-administrative.json").read_text())
    del body["data"]["alertContext"]["eventTimestamp"]
    alert = parse_alert(body, keep_context=False)
    assert activity_start(alert) is None
    record = {"status": "contained", "contained_at": "2099-01-01T00:00:00+00:00", "alert": {"alert_id": "x"}}
    assert covered_by(alert, record) is None


def test_before_containment_is_covered_after_it_is_new_activity():
    alert = parse_alert((TEST_ACTIONS / "log-alert-v2.json").read_bytes(), keep_context=False)
    start = activity_start(alert)
    record = {"incident_id": "inc-1", "status": "contained", "alert": {"alert_id": "other"}}
    assert covered_by(alert, {**record, "contained_at": (start + timedelta(seconds=1)).isoformat()})
    assert covered_by(alert, {**record, "contained_at": start.isoformat()}) is None  # began as containment completed
    assert covered_by(alert, {**record, "contained_at": (start - timedelta(minutes=20)).isoformat()}) is None
    assert covered_by(alert, record) is None  # no containment time: fail safe
    resolved = {**record, "status": "resolved", "contained_at": None, "resolved_at": (start + timedelta(1)).isoformat()}
    assert containment_done(resolved) == start + timedelta(1) and covered_by(alert, resolved)


def test_the_sentinel_incident_holding_the_handled_defender_alert_is_identity_linked():
    defender = json.loads((EXAMPLES / "defender-jailbreak.json").read_text())
    handled = parse_alert(json.dumps(defender), keep_context=False)
    sentinel = parse_alert((EXAMPLES / "sentinel-incident-jailbreak.json").read_bytes(), keep_context=False)
    record = {"incident_id": "inc-1", "status": "resolved", "alert": {"alert_id": handled.alert_id}}  # no times at all
    ids, links = incident_links(record)
    assert links == {"defender:" + defender["properties"]["systemAlertId"].lower()}
    assert "names defender:" in covered_by(sentinel, record)
    assert "same alert" in covered_by(handled, record)
    # a link recorded with an alert that joined the incident counts too; an unrelated one does not
    joined = {**record, "alert": {"alert_id": "a"}, "correlated_alerts": [{"alert_id": "b", "links": sorted(links)}]}
    assert covered_by(sentinel, joined)
    assert covered_by(sentinel, {**joined, "correlated_alerts": [{"alert_id": "b", "links": ["defender:nope"]}]}) is None

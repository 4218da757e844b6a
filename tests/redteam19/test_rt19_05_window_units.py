"""RT19-05 units: :func:`firestop.azure.monitor_source.window_differs` — the delivered evaluation window must be the
one the rule evaluated when the alert fired (its windowSize or overrideQueryTimeRange, ending at most 10 min before the
source's startDateTime), complete, and an activity log alert has none. The genuine examples' windows pass, so their
evidence is as before."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from firestop.alerts import parse_alert
from firestop.azure.monitor_source import window_differs
from firestop.settings import REPO_ROOT

LOG_RULE = {"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"windowSize": "PT15M"}}
FIRED = datetime(2026, 11, 29, 2, 20, 3, 504000, tzinfo=timezone.utc)  # examples/alerts/content-abuse.json


def _window(start: str | None, end: str | None) -> dict:
    return {"window_start": start, "window_end": end}


@pytest.mark.parametrize("name", ["content-abuse", "anomalous-usage", "leaked-key"])
def test_the_genuine_examples_windows_are_the_rules(name):
    raw = json.loads((REPO_ROOT / "examples" / "alerts" / f"{name}.json").read_text())
    alert = parse_alert(raw)
    doc = {"window_start": alert.window_start.isoformat(), "window_end": alert.window_end.isoformat()}
    assert window_differs(doc, LOG_RULE, alert.fired_at) is None


@pytest.mark.parametrize("start, end, why", [
    ("2026-11-29T02:34:00Z", "2026-11-29T02:35:00Z", "windowEndTime differs"),    # the red team's: after the attack
    ("2026-11-29T02:20:00Z", "2026-11-29T02:35:00Z", "windowEndTime differs"),    # the rule's length, moved after
    ("2026-11-29T01:05:00Z", "2026-11-29T01:20:00Z", "windowEndTime differs"),    # the rule's length, before the attack
    ("2026-11-29T02:19:00Z", "2026-11-29T02:20:00Z", "windowStartTime differs"),  # shortened to its last minute
    ("2026-11-29T02:05:00Z", None, "incomplete"),
    ("not a time", "2026-11-29T02:20:00Z", "incomplete"),
])
def test_a_moved_or_partial_window_is_not_the_alert(start, end, why):
    found = window_differs(_window(start, end), LOG_RULE, FIRED)
    assert found is not None and why in found, found


def test_no_window_delivered_is_left_to_the_lookback_and_an_override_counts():
    assert window_differs({}, LOG_RULE, FIRED) is None
    override = {"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"windowSize": "PT5M", "overrideQueryTimeRange": "PT1H"}}
    assert window_differs(_window("2026-11-29T01:20:00Z", "2026-11-29T02:20:00Z"), override, FIRED) is None


def test_an_activity_log_alert_given_a_window_and_a_rule_without_window_size_are_refused():
    window = _window("2026-11-29T02:05:00Z", "2026-11-29T02:20:00Z")
    assert "activity log alert" in window_differs(window, {"type": "Microsoft.Insights/activityLogAlerts"}, FIRED)
    assert "windowStartTime differs" in window_differs(window, {"type": "Microsoft.Insights/scheduledQueryRules",
                                                                "properties": {}}, FIRED)

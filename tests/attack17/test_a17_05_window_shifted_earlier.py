"""A17-05 (attacker A: the webhook key and the alert id; medium; fixed): RT19-05's window check let a forger's copy
move a log search alert's evidence window ten minutes back.

``monitor_source.window_differs`` accepted a delivered ``windowEndTime`` up to 600 s before the source's
``startDateTime`` — "a platform metric's window closes a few minutes before its evaluation" — for *every* rule kind,
and a length of the rule's ``windowSize`` ± 60 s. A log search alert's window is the query's time range ending when
the rule is evaluated (the real ``content-abuse`` delivery ends it at 02:20:00 for a start at 02:20:03.5; Microsoft's
test-action payloads give ``windowEndTime`` = ``firedDateTime``; Learn's Log Alerts V2 sample ends it where its query's
``between`` ends). Measured on RT19-05's own scenario (the same alert re-posted first, its window moved 9 min 50 s back
to 01:55:10-02:10:10): the copy was confirmed ("evaluation window ... match") and the sealed evidence kept 39 log rows
where the window that fired keeps 113 (threshold 30). For a PT5M rule the allowed shift exceeded the window.

Fixed: the allowance is per kind of rule (``monitor_source.WINDOW_END_BEFORE_START_SECONDS``, sources in its
comment): a log search alert's window ends at most 60 s before it started (the re-run's own slack), a metric alert's
600 s (platform metrics reach the evaluation late; no documented bound). Each test here fails before the fix (the
metric one only for its reason, which now names the kind and its bound; its bound is what must not change).

A genuine late log search alert (Azure retries an evaluation while logs are ingested late, ``alerts-troubleshoot-log
.md``; whether the retried evaluation keeps its first window end is not documented) whose window ends more than 60 s
before the alert started is treated like the forged copy: not confirmed, never dropped — the incident is opened and
its containment waits for a responder (:func:`test_a_genuine_late_log_alert_waits_for_a_responder`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam19.conftest import hand_fired_rules_trusted  # noqa: F401 (fixture)
from tests.redteam19.outcomes import step_outcomes
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery, timeline_of

RAW = (REPO_ROOT / "examples" / "alerts" / "content-abuse.json").read_bytes()
STARTED = datetime(2026, 11, 29, 2, 20, 3, tzinfo=timezone.utc)
LOG_PT5M = {"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"windowSize": "PT5M"}}
METRIC_PT5M = {"type": "Microsoft.Insights/metricAlerts", "properties": {"windowSize": "PT5M"}}


def _window(start: str, end: str) -> dict:
    return {"window_start": start, "window_end": end}


def test_a_log_search_window_disjoint_from_the_one_that_fired_is_refused():
    from firestop.azure.monitor_source import window_differs

    assert window_differs(_window("2026-11-29T02:15:00Z", "2026-11-29T02:20:00Z"), LOG_PT5M, STARTED) is None
    # the window that fired is 02:15-02:20; this one is 02:05:10-02:10:10 — no minute of it in common
    found = window_differs(_window("2026-11-29T02:05:10Z", "2026-11-29T02:10:10Z"), LOG_PT5M, STARTED)
    assert found and "windowEndTime differs" in found and "log search alert" in found and "60 s" in found, found


@pytest.mark.parametrize("end, refused", [
    ("2026-11-29T02:19:04Z", False),  # 59 s before it started: the re-run's slack
    ("2026-11-29T02:19:03Z", False),  # 60 s: the bound itself
    ("2026-11-29T02:19:02Z", True),   # 61 s (was accepted up to 600 s)
    ("2026-11-29T02:15:03Z", True),   # 5 min: a PT5M window wholly before the one that fired
    ("2026-11-29T02:21:03Z", False),  # 60 s after: a payload's rounding
    ("2026-11-29T02:21:04Z", True),   # 61 s after
])
def test_a_log_search_window_ends_within_60_s_of_its_start(end, refused):
    from datetime import timedelta

    from firestop.azure.monitor_source import window_differs

    stop = datetime.fromisoformat(end.replace("Z", "+00:00"))
    start = (stop - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    found = window_differs(_window(start, end), LOG_PT5M, STARTED)
    assert (found is not None) is refused, found


def test_a_metric_alert_keeps_its_ten_minute_allowance():
    """What must not change: platform metrics reach the evaluation late, so a metric alert's window may end up to
    600 s before the alert started (RT19-05's figure), not a second more."""
    from firestop.azure.monitor_source import window_differs

    assert window_differs(_window("2026-11-29T02:05:10Z", "2026-11-29T02:10:10Z"), METRIC_PT5M, STARTED) is None
    found = window_differs(_window("2026-11-29T02:05:00Z", "2026-11-29T02:10:00Z"), METRIC_PT5M, STARTED)
    assert found and "metric alert" in found and "600 s" in found, found


def _kept_rows(env, incident: str) -> int | None:
    import re

    for entry in timeline_of(env, incident):
        found = re.search(r"kept (\d+) log rows", str(entry.get("detail") or "")) if entry.get("step") == "snapshot-logs" else None
        if found:
            return int(found.group(1))
    return None


def _delivered_with_window(served, monkeypatch, start: str, end: str) -> tuple[object, str]:  # noqa: F811
    """The sandbox's Azure Monitor fires ``content-abuse``; its delivery is posted with the window ``start``-``end``
    (check on). Returns (env, the incident's id)."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    fire_genuine(env, RAW)
    body = json.loads(RAW)
    condition = body["data"]["alertContext"]["condition"]
    condition["windowStartTime"], condition["windowEndTime"] = start, end
    return env, post_delivery(env, server, app, body)["id"]


def test_a17_05_the_window_moved_9_min_50_s_back_is_not_the_alert(served, monkeypatch, hand_fired_rules_trusted):  # noqa: F811
    """RT19-05's scenario with A17-05's window: before the fix, confirmed and 39 of 113 rows kept as evidence."""
    env, incident = _delivered_with_window(served, monkeypatch, "2026-11-29T01:55:10Z", "2026-11-29T02:10:10Z")
    checks = confirm_checks(env, incident)
    threshold = int(json.loads(RAW)["data"]["alertContext"]["condition"]["allOf"][0]["threshold"])
    rows = _kept_rows(env, incident)
    assert [c[0] for c in checks] != ["ok"] or (rows is not None and rows > threshold), (checks, rows)
    assert any("windowEndTime differs" in detail for _, detail in checks), checks


def test_a_genuine_late_log_alert_waits_for_a_responder(served, monkeypatch, hand_fired_rules_trusted):  # noqa: F811
    """What a genuine late alert does: Azure Monitor's own delivery whose window ended 4 min before the alert started
    (an evaluation retried for late logs, if Azure kept its first window) cannot be told from a forger's: it is not
    confirmed, and never dropped — the incident is opened, the check's reason names the window, and no containment
    step runs without a responder."""
    env, incident = _delivered_with_window(served, monkeypatch, "2026-11-29T02:01:00Z", "2026-11-29T02:16:00Z")
    assert incident, "the late alert opened no incident"
    checks = confirm_checks(env, incident)
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "windowEndTime differs" in checks[0][1], checks
    done = step_outcomes(env, incident)
    assert done.get("alert.genuine") == ["awaiting approval"], done  # a responder decides
    assert "block-caller" not in done, done  # (the genuine delivery, confirmed, runs it)

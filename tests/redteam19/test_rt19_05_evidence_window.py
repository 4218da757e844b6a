"""RT19-05: the window the evidence snapshot keeps is the delivery's choice — a forger's copy of a real alert, posted
first, moves ``windowStartTime``/``windowEndTime`` past the attack and the sealed evidence holds none of it.

The source check compares a Common Alert Schema delivery's target, rule, firing time, severity, signal, condition,
route and (RT19-01) dimensions with the source, but not its evaluation window. ``evidence.snapshot_logs`` keeps the
account's rows of ``[windowStartTime, windowEndTime]`` (``runbooks.evidence.incident_window``), clamped only to
``[fired − FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS, fired + 15 min]``. The real ``aoai-content-abuse`` alert re-posted
first with its window moved to the 14th–15th minute *after* it fired is confirmed and contained as it should be — and
the incident's evidence item (hashed, on the ledger, what the record hands an auditor) covers one minute after the
attack: 2 log rows where the window that fired keeps 113 (the rule's threshold is 30). The attacker who raised the alert chooses what is kept of it.

Attacker: the webhook key and the alert id (an Azure Reader holds both), posted before Azure Monitor's delivery.

Fixed: the delivered window must be the one the rule evaluated — ending at most 10 min before the source's
``startDateTime`` (not after it), as long as its ``windowSize`` (``monitor_source.window_differs``) — else not confirmed.
"""

from __future__ import annotations

import json
import re

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery, timeline_of

RAW = (REPO_ROOT / "examples" / "alerts" / "content-abuse.json").read_bytes()


def _kept_rows(env, incident: str) -> tuple[int | None, list]:
    details = [str(e.get("detail") or "") for e in timeline_of(env, incident) if e.get("step") == "snapshot-logs"]
    for detail in details:
        found = re.search(r"kept (\d+) log rows", detail)
        if found:
            return int(found.group(1)), details
    return None, details


def _run(env, server, app, body) -> tuple[list, int | None, list]:
    incident = post_delivery(env, server, app, body)["id"]
    rows, details = _kept_rows(env, incident)
    return confirm_checks(env, incident), rows, details


def test_rt19_05_the_genuine_delivery_keeps_the_attack(served, monkeypatch, hand_fired_rules_trusted):  # noqa: F811
    """The control: as Azure Monitor delivers it, the snapshot keeps the rows of the window that fired."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    fire_genuine(env, RAW)
    checks, rows, details = _run(env, server, app, json.loads(RAW))
    assert [c[0] for c in checks] == ["ok"], checks
    threshold = int(json.loads(RAW)["data"]["alertContext"]["condition"]["allOf"][0]["threshold"])
    assert rows is not None and rows > threshold, details  # the window that fired: over the rule's threshold


@pytest.mark.parametrize("window", [("2026-11-29T02:34:00Z", "2026-11-29T02:35:00Z"),   # after the attack
                                    ("2026-11-29T01:20:00Z", "2026-11-29T01:35:00Z")],  # before it, the rule's length
                         ids=["after", "before"])
def test_rt19_05_a_moved_window_does_not_empty_the_evidence(served, monkeypatch, hand_fired_rules_trusted,  # noqa: F811
                                                            window):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    fire_genuine(env, RAW)
    forged = json.loads(RAW)
    condition = forged["data"]["alertContext"]["condition"]
    condition["windowStartTime"], condition["windowEndTime"] = window
    checks, rows, details = _run(env, server, app, forged)
    threshold = int(condition["allOf"][0]["threshold"])
    # either the copy is not the alert (its window is not the rule's window ending when it fired), or the evidence
    # still covers the window that fired: more rows than the rule's threshold (the alert fired because there were)
    assert [c[0] for c in checks] != ["ok"] or (rows is not None and rows > threshold), (checks, details)


def test_rt19_05_the_window_rule_unit():
    """The rule (unit): the rule's window ending when the alert started passes; shifted, stretched or for another kind
    of rule as :func:`firestop.azure.monitor_source.window_differs` says."""
    from datetime import datetime, timezone

    from firestop.azure.monitor_source import window_differs

    started = datetime(2026, 11, 29, 2, 20, 3, tzinfo=timezone.utc)
    rule = {"type": "Microsoft.Insights/scheduledQueryRules", "properties": {"windowSize": "PT15M"}}
    assert window_differs({"window_start": "2026-11-29T02:05:00Z", "window_end": "2026-11-29T02:20:00Z"}, rule, started) is None
    assert window_differs({}, rule, started) is None  # no window delivered: the evidence reads its lookback
    assert "windowEndTime" in window_differs({"window_start": "2026-11-29T02:21:00Z", "window_end": "2026-11-29T02:36:00Z"},
                                             rule, started)
    assert "windowStartTime" in window_differs({"window_start": "2026-11-29T02:19:00Z", "window_end": "2026-11-29T02:20:00Z"},
                                               rule, started)
    activity = {"type": "Microsoft.Insights/activityLogAlerts", "properties": {}}
    # (apr17) an activity log alert has no evaluation window: one given would choose its evidence, so it is refused
    assert "activity log alert" in window_differs({"window_start": "2000-01-01T00:00:00Z",
                                                   "window_end": "2000-01-01T00:01:00Z"}, activity, started)
    assert window_differs({}, activity, started) is None

"""render_alert_rows: the (field, value) rows the CLI's `alert show` prints."""

from __future__ import annotations

from firestop.alerts import parse_alert, render_alert_rows


def test_rows_for_the_resolved_metric_sample(load) -> None:
    alert = parse_alert(load("common-schema/metric-platform-static-resolved.json"))
    rows = render_alert_rows(alert)
    table = dict(rows)
    assert [k for k, _ in rows][:4] == ["Incident", "Alert ID", "Rule", "Rule ID"]
    assert table["Incident"] == alert.incident_key
    assert table["Severity"] == "Sev3"
    assert table["Condition"] == "Resolved"
    assert table["Fired"] == "2019-03-22 13:58:24.3 UTC"  # as every CLI text writes an instant (firestop.times)
    assert table["Resolved"] == "2019-03-22 14:03:16.2 UTC"
    assert table["Window"] == "-"
    assert table["Description"] == "-"  # "" is shown as absent
    assert table["Resource type"] == "microsoft.compute/virtualmachines"
    assert rows[-2:] == [("custom:Key1", "Value1"), ("custom:Key2", "Value2")]


def test_rows_for_budget_nulls(load) -> None:
    table = dict(render_alert_rows(parse_alert(load("test-actions/budget-forecasted.json"))))
    assert (table["Rule"], table["Severity"], table["Signal"], table["Targets"], table["Resource type"]) == ("-", "-", "-", "-", "-")
    assert table["Service"] == "CostAlerts"


def test_rows_list_targets_and_indicators_one_per_line(envelope) -> None:
    a = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
    b = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b"
    ctx = {"condition": {"allOf": [{"dimensions": [{"name": "CallerIPAddress", "value": "203.0.113.1"},
                                                   {"name": "ClientIP", "value": "203.0.113.2"}]}],
                         "windowStartTime": "2026-11-29T02:59:00Z", "windowEndTime": "2026-11-29T03:14:00Z"}}
    table = dict(render_alert_rows(parse_alert(envelope(ctx, alertTargetIDs=[a, b]))))
    assert table["Targets"] == f"{a}\n{b}"
    assert table["Caller IPs"] == "203.0.113.1\n203.0.113.2"
    assert table["Window"] == "2026-11-29 02:59:00.0 UTC → 2026-11-29 03:14:00.0 UTC"
    assert table["Operations"] == "-"


def test_render_is_pure(envelope) -> None:
    alert = parse_alert(envelope())
    before = alert.model_dump(mode="json")
    assert render_alert_rows(alert) == render_alert_rows(alert)
    assert alert.model_dump(mode="json") == before

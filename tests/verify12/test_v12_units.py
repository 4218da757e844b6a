"""verify12: the pure parts — a log rule's result split by its dimensions, window bounds, filter values, digests."""

from __future__ import annotations

from firestop.azure.monitor_source import delivered, filter_value, split_holding, window_seconds
from firestop.intake.accept import delivery_digest

CONDITION = {"dimensions": [{"name": "CallerIPAddress"}, {"name": "ModelDeploymentName"}], "metricMeasureColumn": "filtered",
             "timeAggregation": "Total", "operator": "GreaterThan", "threshold": 30}
COLUMNS = ["CallerIPAddress", "ModelDeploymentName", "filtered"]
ROWS = [["203.0.113.200", "gpt-4o", 94], ["198.51.100.10", "gpt-4o", 2], ["203.0.113.200", "gpt-35", 1]]


def test_a_split_holding_every_delivered_value_above_the_threshold_confirms():
    assert split_holding(COLUMNS, ROWS, CONDITION, {"caller_ips": ["203.0.113.200"], "deployments": ["GPT-4o"]}) is None


def test_a_value_present_below_the_threshold_or_in_another_split_does_not():
    assert split_holding(COLUMNS, ROWS, CONDITION, {"caller_ips": ["198.51.100.10"]}) is not None  # 2, not > 30
    assert split_holding(COLUMNS, ROWS, CONDITION, {"caller_ips": ["203.0.113.200"], "deployments": ["gpt-35"]}) is not None
    assert split_holding(COLUMNS, ROWS, CONDITION, {"principal_ids": ["oid-x"]}) is not None  # no such column


def test_several_periods_or_no_threshold_only_need_the_split():
    many = {**CONDITION, "failingPeriods": {"numberOfEvaluationPeriods": 4, "minFailingPeriodsToAlert": 2}}
    assert split_holding(COLUMNS, ROWS, many, {"caller_ips": ["198.51.100.10"]}) is None


def test_windows_and_filter_values_are_bounded():
    assert window_seconds("PT15M") == 900 and window_seconds("P2D") == 172800
    assert window_seconds("P3D") is None and window_seconds("PT0M") is None and window_seconds("15m") is None
    assert filter_value("deployments", "gpt-4o") == "gpt-4o"
    assert filter_value("deployments", "a' or 'x") is None and filter_value("caller_ips", "10.0.0.***") is None
    assert filter_value("principal_ids", "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b")


def test_only_acted_on_indicators_are_delivered_and_digests_tell_content_apart():
    alert = {"indicators": {"caller_ips": ["1.2.3.4"], "operation_names": ["x"], "deployments": []}}
    assert delivered(alert) == {"caller_ips": ["1.2.3.4"]}
    one = {"alert_id": "a", "indicators": {"caller_ips": ["1.2.3.4"], "truncated": []}}
    assert delivery_digest(one) == delivery_digest({"alert_id": "a", "indicators": {"caller_ips": ["1.2.3.4"]}})
    assert delivery_digest(one) != delivery_digest({"alert_id": "a", "indicators": {"caller_ips": ["1.2.3.5"]}})


def test_a_forged_value_found_outside_the_rules_own_split_columns_confirms_nothing():
    """Review of this session (after red team 15): the attacker's IP 10 times and the gateway's once. A value counts
    only as the split's value of one of the rule's own dimension columns; before, a rule without a split, a result
    without the split column, or the value in another column confirmed the gateway on the other rows' count."""
    rows = [["203.0.113.5", "10.0.0.4" if n == 0 else "203.0.113.5", 1] for n in range(10)] + [["10.0.0.4", "x", 1]]
    columns = ["CallerIPAddress", "ClientIp", "n"]
    count = {"metricMeasureColumn": "n", "timeAggregation": "Count", "operator": "GreaterThan", "threshold": 5}
    split = {**count, "dimensions": [{"name": "CallerIPAddress"}]}
    assert split_holding(columns, rows, split, {"caller_ips": ["203.0.113.5"]}) is None  # the genuine split
    assert split_holding(columns, rows, split, {"caller_ips": ["10.0.0.4"]}) is not None  # its split: 1, not > 5
    assert split_holding(columns, rows, count, {"caller_ips": ["10.0.0.4"]}) is not None  # the rule does not split
    assert split_holding(columns, rows, {**count, "dimensions": [{"name": "SourceIp"}]},
                         {"caller_ips": ["10.0.0.4"]}) is not None  # the result lacks the split column
    by_client = {**count, "dimensions": [{"name": "CallerIPAddress"}]}
    assert split_holding(columns, rows[:10], by_client, {"caller_ips": ["10.0.0.4"]}) is not None  # only in ClientIp

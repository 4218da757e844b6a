"""Every complete common-schema sample parses to the right values (spot checks per file)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from firestop.alerts import Alert, parse_alert

DATA = Path(__file__).resolve().parent / "data"


def sample_names(folder: str) -> list[str]:
    return sorted(p.name for p in (DATA / folder).glob("*.json"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


SUB = "/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"
TEST_ALERT_ID = f"{SUB}/providers/Microsoft.AlertsManagement/alerts/eeeeeeee-4444-5555-6666-ffffffffffff"
WORKSPACE = f"{SUB}/resourcegroups/test-RG/providers/microsoft.operationalinsights/workspaces/test-logAnalyticsWorkspace"

# file → expected attribute values (a spot check, not a full copy).
EXPECTED: dict[str, dict[str, object]] = {
    "common-schema/metric-platform-static-resolved.json": {
        "alert_id": "/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e",
        "rule_name": "WCUS-R2-Gen2",
        "rule_id": "/subscriptions/<subscription ID>/resourceGroups/<resource-group>/providers/microsoft.insights/metricAlerts/WCUS-R2-Gen2",
        "severity": 3,
        "signal_type": "Metric",
        "monitoring_service": "Platform",
        "monitor_condition": "Resolved",
        "fired_at": utc(2019, 3, 22, 13, 58, 24, 371321),
        "resolved_at": utc(2019, 3, 22, 14, 3, 16, 224631),
        "description": "",
        "target_ids": (
            "/subscriptions/<subscription ID>/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/wcus-r2-gen2",
        ),
        "resource_type": "microsoft.compute/virtualmachines",
        "custom_properties": {"Key1": "Value1", "Key2": "Value2"},
        "window_start": None,
        "window_end": None,
    },
    "test-actions/activity-log-administrative.json": {
        "alert_id": f"{SUB}/resourceGroups/test-RG/providers/microsoft.insights/activityLogAlerts/Test_Alert",
        "rule_name": "test-activityLogAlertRule",
        "rule_id": None,
        "severity": 4,
        "signal_type": "Activity Log",
        "monitoring_service": "Activity Log - Administrative",
        "monitor_condition": "Fired",
        "fired_at": utc(2025, 4, 15, 11, 26, 21, 386000),
        "resolved_at": None,
        "resource_type": "microsoft.compute/virtualmachines",
        "custom_properties": {},
        "indicators.operation_names": ("Microsoft.Compute/virtualMachines/restart/action",),
        "indicators.principal_ids": ("user@contoso.com",),
        "indicators.caller_ips": (),
    },
    "test-actions/availability-test-metric.json": {
        "rule_name": "test-availabilityTest-test-applicationInsights",
        "signal_type": "Metric",
        "resource_type": "microsoft.insights/components",
        "description": "Alertruledescription",
        "window_start": utc(2025, 4, 15, 17, 42, 34, 824000),
        "window_end": utc(2025, 4, 15, 17, 42, 34, 824000),
        "custom_properties": {"customKey1": "value1", "customKey2": "value2"},
    },
    "test-actions/budget-forecasted.json": {
        "alert_id": f"{SUB}/providers/Microsoft.CostManagement/alerts/Test_Alert",
        "rule_name": None,
        "severity": None,
        "signal_type": None,
        "monitoring_service": "CostAlerts",
        "target_ids": (),
        "resource_type": None,
        "fired_at": utc(2025, 4, 15, 17, 55, 39, 40000),
        "custom_properties": {},
        "essentials.configuration_items": ("budgets",),
        "essentials.origin_alert_id": None,
    },
    "test-actions/cost-budget-actual.json": {
        "severity": None,
        "signal_type": None,
        "target_ids": (),
        "resource_type": None,
        "monitor_condition": "Fired",
        "fired_at": utc(2025, 4, 15, 17, 53, 32, 996000),
    },
    "test-actions/log-alert-v1-metric-measurement.json": {
        "alert_id": TEST_ALERT_ID,
        "signal_type": "Log",
        "monitoring_service": "Log Analytics",
        "target_ids": (WORKSPACE,),
        "resource_type": "microsoft.operationalinsights/workspaces",
        "window_start": utc(2025, 4, 15, 17, 57, 27, 967000),
        "window_end": utc(2025, 4, 15, 17, 57, 27, 967000),
        "essentials.configuration_items": (),
        "essentials.alert_context_version": "1.1",
    },
    "test-actions/log-alert-v1-number-of-results.json": {
        "rule_name": "test-logAlertRule-v1-numResults",
        "window_start": utc(2025, 4, 15, 18, 4, 40, 852000),
        "essentials.configuration_items": ("test-computer",),
    },
    "test-actions/log-alert-v2.json": {
        "rule_name": "test-logAlertRule-v2",
        "monitoring_service": "Log Alerts V2",
        "signal_type": "Log",
        "window_start": utc(2025, 4, 15, 18, 8, 3, 626000),
        "window_end": utc(2025, 4, 15, 18, 8, 3, 626000),
        "custom_properties": {},
    },
    "test-actions/metric-dynamic-threshold.json": {
        "target_ids": (f"{SUB}/resourcegroups/test-RG/providers/Microsoft.Storage/storageAccounts/test-storageAccount",),
        "resource_type": "microsoft.storage/storageaccounts",
        "window_start": utc(2025, 4, 15, 18, 15, 16, 104000),
    },
    "test-actions/metric-static-threshold.json": {
        "rule_name": "test-metricAlertRule",
        "severity": 4,
        "target_ids": (f"{SUB}/resourcegroups/test-RG/providers/microsoft.storage/storageaccounts/test-storageAccount",),
        "resource_type": "microsoft.storage/storageaccounts",
        "fired_at": utc(2025, 4, 15, 18, 17, 12, 851000),
    },
    "test-actions/resource-health.json": {
        "signal_type": "Activity Log",
        "monitoring_service": "Resource Health",
        "resource_type": "microsoft.compute/virtualmachines",
        "indicators.operation_names": ("Microsoft.Resourcehealth/healthevent/Activated/action",),
        "indicators.principal_ids": (),
    },
    "test-actions/service-health.json": {
        "signal_type": "Activity Log",  # sent as "ActivityLog"
        "essentials.signal_type": "ActivityLog",
        "monitoring_service": "ServiceHealth",
        "monitor_condition": "Fired",  # resolution is in alertContext.status, not here
        "target_ids": (SUB,),
        "resource_type": "microsoft.resources/subscriptions",
        "essentials.configuration_items": (),
        "resolved_at": None,
    },
    "test-actions/smart-detector.json": {
        "monitoring_service": "SmartDetector",
        "signal_type": "Log",
        "fired_at": utc(2021, 10, 28, 19, 9, 9, 111508),
        "resource_type": "microsoft.insights/components",
        "window_start": None,
    },
}

COMPLETE_SAMPLES = [f"common-schema/{n}" for n in sample_names("common-schema")] + [
    f"test-actions/{n}" for n in sample_names("test-actions")
]


def _get(alert: Alert, dotted: str) -> object:
    value: object = alert
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def test_every_complete_sample_has_expectations() -> None:
    assert sorted(EXPECTED) == sorted(COMPLETE_SAMPLES)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_sample_parses_to_expected_values(rel: str, load_bytes) -> None:
    alert = parse_alert(load_bytes(rel))
    assert alert.schema_id == "azureMonitorCommonAlertSchema"
    for dotted, expected in EXPECTED[rel].items():
        assert _get(alert, dotted) == expected, dotted


@pytest.mark.parametrize("rel", COMPLETE_SAMPLES)
def test_sample_invariants(rel: str, load, load_bytes) -> None:
    raw = load(rel)
    alert = parse_alert(load_bytes(rel))
    # context kept exactly as sent
    assert alert.context == raw["data"]["alertContext"]
    # the same alert whatever the input type
    assert parse_alert(raw) == alert
    assert parse_alert(load_bytes(rel).decode("utf-8")) == alert
    # datetimes are aware UTC
    for value in (alert.fired_at, alert.resolved_at, alert.window_start, alert.window_end):
        assert value is None or value.utcoffset() == timezone.utc.utcoffset(None)
    # every target matches itself case-insensitively
    for target in alert.target_ids:
        assert alert.targets(target.upper())
    assert alert.incident_key.startswith("inc-") and len(alert.incident_key) == 20

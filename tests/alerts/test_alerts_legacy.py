"""Every non-common (legacy) sample is rejected with 400, the schema named, and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from firestop.alerts import AlertPayloadError, parse_alert

DATA = Path(__file__).resolve().parent / "data"
LEGACY = sorted(p.name for p in (DATA / "legacy").glob("*.json"))

# file → (field, text the reason must contain)
EXPECTED = {
    "activitylog-webhook-administrative.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "activitylog-webhook-recommendation.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "activitylog-webhook-resourcehealth.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "activitylog-webhook-security.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "activitylog-webhook-servicehealth.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "noncommon-activitylog-administrative.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "noncommon-budget.json": ("schemaId", "AIP Budget Notification"),
    "noncommon-log-v1-metric-measurement.json": ("$", "log alert V1 schema without schemaId"),
    "noncommon-log-v1-numresults.json": ("$", "log alert V1 schema without schemaId"),
    "noncommon-metric-dynamic.json": ("schemaId", "AzureMonitorMetricAlert"),
    "noncommon-metric-static.json": ("schemaId", "AzureMonitorMetricAlert"),
    "noncommon-resourcehealth.json": ("schemaId", "Microsoft.Insights/activityLogs"),
    "noncommon-servicehealth.json": ("schemaId", "Microsoft.Insights/activityLogs"),
}


def _reject(payload) -> AlertPayloadError:
    with pytest.raises(AlertPayloadError) as info:
        parse_alert(payload)
    return info.value


def test_every_legacy_sample_has_expectations() -> None:
    assert sorted(EXPECTED) == LEGACY


def _assert_enable_common_schema_fix(err: AlertPayloadError) -> None:
    assert "useCommonAlertSchema: true" in err.fix
    assert "webhook receiver" in err.fix
    assert '"Enable the common alert schema" = Yes' in err.fix


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_sample_rejected_with_schema_and_fix(name: str, load_bytes) -> None:
    err = _reject(load_bytes(f"legacy/{name}"))
    field, named = EXPECTED[name]
    assert err.http_status == 400
    assert err.field == field
    assert named in err.reason
    assert "not the common alert schema" in err.reason
    _assert_enable_common_schema_fix(err)
    assert str(err) == f"{err.field}: {err.reason}. Fix: {err.fix}"


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_sample_with_essentials_grafted_is_still_legacy(name: str, load, envelope) -> None:
    """Never misread legacy as common, even if it happens to carry an essentials block."""
    body = load(f"legacy/{name}")
    if isinstance(body.get("data"), dict):
        body["data"]["essentials"] = envelope()["data"]["essentials"]
    err = _reject(body)
    assert err.http_status == 400


def test_activity_log_webhook_without_schema_id(load) -> None:
    body = load("legacy/activitylog-webhook-administrative.json")
    del body["schemaId"]
    err = _reject(body)
    assert (err.http_status, err.field) == (400, "data.context.activityLog")
    assert "legacy activity-log webhook" in err.reason
    _assert_enable_common_schema_fix(err)


def test_classic_metric_alert_without_schema_id() -> None:
    err = _reject({"status": "Activated", "context": {"conditionType": "SingleResourceMultipleMetricCriteria"}})
    assert err.http_status == 400
    assert "classic metric alert" in err.reason
    _assert_enable_common_schema_fix(err)


def test_unknown_schema_id_is_400_with_fix(envelope) -> None:
    body = envelope()
    body["schemaId"] = "SomethingElse"
    err = _reject(body)
    assert (err.http_status, err.field) == (400, "schemaId")
    assert "SomethingElse" in err.reason
    _assert_enable_common_schema_fix(err)


def test_common_schema_id_matched_case_insensitively(envelope) -> None:
    body = envelope()
    body["schemaId"] = "AzureMonitorCommonAlertSchema"
    assert parse_alert(body).schema_id == "AzureMonitorCommonAlertSchema"

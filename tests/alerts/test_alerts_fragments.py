"""Each alertContext fragment, wrapped in a synthetic envelope, parses; typed views are right."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from firestop.alerts import Alert, parse_alert

DATA = Path(__file__).resolve().parent / "data"
FRAGMENTS = sorted(p.name.removesuffix(".alertContext.json") for p in (DATA / "context-fragments").glob("*.json"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# fragment → (monitoringService, signalType, expected kind, window_start, window_end,
#             caller_ips, operation_names, principal_ids)
FRAGMENT_EXPECTED = {
    "activitylog-administrative": (
        "Activity Log - Administrative", "Activity Log", "activity_log", None, None,
        (), ("Microsoft.Compute/virtualMachines/restart/action",),
        ("22223333-cccc-4444-dddd-5555eeee6666",),
    ),
    "activitylog-autoscale": (
        "Activity Log - Autoscale", "Activity Log", "activity_log", None, None,
        (), ("Microsoft.Insights/AutoscaleSettings/Scaleup/Action",), ("Microsoft.Insights/autoscaleSettings",),
    ),
    "activitylog-policy": (
        "Activity Log - Policy", "Activity Log", "activity_log", None, None,
        (), ("Microsoft.Resources/checkPolicyCompliance/read", "Microsoft.Authorization/policies/audit/action"), ("<GUID>",),
    ),
    "activitylog-resourcehealth": (
        "Resource Health", "Activity Log", "resource_health", None, None,
        (), ("Microsoft.Resourcehealth/healthevent/Activated/action",), (),
    ),
    "activitylog-security": (
        "Activity Log - Security", "Activity Log", "activity_log", None, None,
        (), ("Microsoft.Security/locations/alerts/activate/action",), (),
    ),
    "activitylog-servicehealth": (
        "ServiceHealth", "ActivityLog", "service_health", None, None,
        (), ("Microsoft.ServiceHealth/maintenance/action",), (),
    ),
    "activitylog-servicehealth.string-enums-variant": (
        "ServiceHealth", "Activity Log", "service_health", None, None,
        (), ("Microsoft.ServiceHealth/maintenance/action",), (),
    ),
    "log-alerts-v2": (
        "Log Alerts V2", "Log", "log_v2", utc(2020, 7, 7, 13, 54, 34), utc(2020, 7, 9, 13, 54, 34), (), (), (),
    ),
    "log-search-v1-applicationinsights": (
        "Application Insights", "Log", "log_v1", utc(2019, 3, 22, 13, 36, 33), utc(2019, 3, 22, 13, 51, 33),
        ("1.1.1.1",), (), (),
    ),
    "log-search-v1-loganalytics": (
        "Log Analytics", "Log", "log_v1", utc(2019, 3, 22, 13, 36, 31), utc(2019, 3, 22, 13, 51, 31), (), (), (),
    ),
    "metric-platform-dynamic-threshold": (
        "Platform", "Metric", "metric", utc(2021, 7, 20, 5, 7, 26, 363000), utc(2021, 7, 20, 5, 12, 26, 363000), (), (), (),
    ),
    "metric-platform-static-threshold": (
        "Platform", "Metric", "metric", utc(2019, 3, 22, 13, 40, 3, 64000), utc(2019, 3, 22, 13, 45, 3, 64000), (), (), (),
    ),
    "metric-platform-webtest-availability": (
        "Platform", "Metric", "metric", utc(2019, 3, 22, 13, 40, 3, 64000), utc(2019, 3, 22, 13, 45, 3, 64000), (), (), (),
    ),
    "prometheus": ("Prometheus", "Metric", "prometheus", None, None, (), (), ()),
    "simple-log-alert": ("Simple Log Alert", "Log", "simple_log", None, None, (), ("GET /api/orders",), ()),
}


def test_every_fragment_has_expectations() -> None:
    assert sorted(FRAGMENT_EXPECTED) == FRAGMENTS


def _wrap(name: str, load, envelope) -> Alert:
    service, signal, *_ = FRAGMENT_EXPECTED[name]
    context = load(f"context-fragments/{name}.alertContext.json")["alertContext"]
    return parse_alert(envelope(context, monitoringService=service, signalType=signal))


@pytest.mark.parametrize("name", FRAGMENTS)
def test_fragment_in_envelope_parses(name: str, load, envelope) -> None:
    service, signal, kind, start, end, ips, ops, principals = FRAGMENT_EXPECTED[name]
    alert = _wrap(name, load, envelope)
    raw = load(f"context-fragments/{name}.alertContext.json")["alertContext"]
    assert alert.context == raw
    assert alert.monitoring_service == service
    assert alert.signal_type in ("Metric", "Log", "Activity Log")
    assert (alert.window_start, alert.window_end) == (start, end)
    assert alert.indicators.caller_ips == ips
    assert alert.indicators.operation_names == ops
    assert alert.indicators.principal_ids == principals
    typed = alert.typed_context
    assert typed.kind == kind
    assert typed.raw == raw


def test_metric_typed_values(load, envelope) -> None:
    ctx = _wrap("metric-platform-static-threshold", load, envelope).typed_context
    crit = ctx.condition.all_of[0]
    assert ctx.condition_type == "SingleResourceMultipleMetricCriteria"
    assert ctx.condition.window_size == "PT5M"
    assert (crit.metric_name, crit.threshold, crit.metric_value) == ("Percentage CPU", 25.0, 31.1105)
    assert crit.dimensions[0].name == "ResourceId"
    dyn = _wrap("metric-platform-dynamic-threshold", load, envelope).typed_context.condition.all_of[0]
    assert (dyn.alert_sensitivity, dyn.threshold, dyn.failing_periods.min_failing_periods_to_alert) == ("High", 47658.0, 1)
    web = _wrap("metric-platform-webtest-availability", load, envelope).typed_context.condition.all_of[0]
    assert web.web_test_name == "myAvailabilityTest-myApplication" and web.metric_namespace is None


def test_log_v1_typed_values(load, envelope) -> None:
    ctx = _wrap("log-search-v1-loganalytics", load, envelope).typed_context
    assert ctx.search_interval_start == utc(2019, 3, 22, 13, 36, 31)  # "3/22/2019 1:36:31 PM"
    assert ctx.search_interval_end == utc(2019, 3, 22, 13, 51, 31)  # SearchIntervalEndtimeUtc
    assert (ctx.result_count, ctx.threshold, ctx.search_interval_minutes) == (2, 10000.0, 15)
    assert ctx.included_search_results is True  # "True"
    assert ctx.affected_configuration_items == ("INC-Gen2Alert",)
    table = ctx.search_results.tables[0]
    assert [c.name for c in table.columns] == ["$table", "Computer", "TimeGenerated"]
    assert table.records()[1] == {"$table": "Contoso", "Computer": "33445566b", "TimeGenerated": "2018-02-02T15:16:53.932Z"}
    assert ctx.search_results.data_sources[0].tables == ("Heartbeat",)
    assert not ctx.results_omitted
    ai = _wrap("log-search-v1-applicationinsights", load, envelope).typed_context
    assert ai.application_id == "00001111-aaaa-2222-bbbb-3333cccc4444" and ai.threshold == 10000.0


def test_log_v2_and_simple_log_typed_values(load, envelope) -> None:
    crit = _wrap("log-alerts-v2", load, envelope).typed_context.condition.all_of[0]
    assert crit.target_resource_types == ("Microsoft.Compute/virtualMachines",)
    assert (crit.metric_measure_column, crit.operator, crit.threshold) == ("CounterValue", "LowerThan", 1.0)
    assert crit.link_to_search_results_api.startswith("https://api.loganalytics.io/v1/")
    simple = _wrap("simple-log-alert", load, envelope).typed_context
    crit = simple.condition.all_of[0]
    assert (crit.operator, crit.threshold, crit.dimensions, crit.target_resource_types) == (None, None, (), ())
    record = crit.event_records()[0]
    assert record["type"] == "System.NullReferenceException"
    assert record["operation_Name"] == "GET /api/orders"


def test_activity_log_typed_values(load, envelope) -> None:
    admin = _wrap("activitylog-administrative", load, envelope).typed_context
    assert admin.claims["appid"] == "11112222-bbbb-3333-cccc-4444dddd5555"  # decoded JSON string
    assert admin.authorization.action == "Microsoft.Compute/virtualMachines/restart/action"
    assert admin.event_timestamp == utc(2019, 3, 22, 13, 56, 31, 291715)
    policy = _wrap("activitylog-policy", load, envelope).typed_context
    assert len(policy.policies) == 1
    assert policy.policies[0]["policyDefinitionEffect"] == "AuditIfNotExists"
    security = _wrap("activitylog-security", load, envelope).typed_context
    assert security.json_property("remediationSteps") == ["No user action is necessary"]
    assert security.properties["compromisedEntity"] == "testVM"
    autoscale = _wrap("activitylog-autoscale", load, envelope).typed_context
    assert autoscale.json_property("activeAutoscaleProfile")["Capacity"]["Maximum"] == "10"


def test_service_health_int_and_string_enum_variants(load, envelope) -> None:
    ints = _wrap("activitylog-servicehealth", load, envelope).typed_context
    strings = _wrap("activitylog-servicehealth.string-enums-variant", load, envelope).typed_context
    assert (ints.channels, ints.event_source, ints.level) == (1, 2, 3)
    assert (strings.event_source, strings.level) == ("ServiceHealth", "Informational")
    for ctx in (ints, strings):
        props = ctx.properties
        assert props.impacted_services[0].service_name == "Azure Synapse Analytics"  # from a JSON string
        assert props.impacted_services[0].impacted_regions == ("East US",)
        assert props.impact_start_time == utc(2019, 6, 26, 4)
        assert (props.stage, props.is_hir) == ("Planned", False)
        assert not ctx.is_resolved


def test_resource_health_and_prometheus_typed_values(load, envelope) -> None:
    rh = _wrap("activitylog-resourcehealth", load, envelope).typed_context
    assert (rh.properties.current_health_status, rh.properties.previous_health_status, rh.properties.cause) == (
        "Unavailable", "Available", "UserInitiated",
    )
    prom = _wrap("prometheus", load, envelope).typed_context
    assert (prom.expression, prom.for_, prom.labels["cluster"]) == ("sql_up > 0", "PT2M", "myCluster1")
    assert prom.rule_group.endswith("/prometheusRuleGroups/myRuleGroup")


def test_complete_samples_typed_values(load) -> None:
    sh = parse_alert(load("test-actions/service-health.json")).typed_context
    assert sh.is_resolved and sh.properties.is_synthetic is True  # "IsSynthetic": "True"
    assert sh.properties.impacted_services[0].service_name == "AzureServiceName"  # array, not string
    budget = parse_alert(load("test-actions/cost-budget-actual.json")).typed_context
    assert budget.alert_data.spent == Decimal("11111.00")
    assert budget.alert_data.threshold == Decimal("25.00")
    forecast = parse_alert(load("test-actions/budget-forecasted.json")).typed_context
    assert (forecast.alert_data.threshold_type, forecast.alert_data.forecast) == ("Forecasted", Decimal("1111.11"))
    smart = parse_alert(load("test-actions/smart-detector.json")).typed_context
    assert smart.smart_detector_id == "DependencyPerformanceDegradationDetector"
    assert smart.analysis_timestamp == utc(2025, 4, 15, 18, 23, 16, 577000)
    v1 = parse_alert(load("test-actions/log-alert-v1-metric-measurement.json")).typed_context
    assert v1.included_search_results is True and v1.search_results.tables[0].rows[0] == ("2025-04-15T17:57:27.967Z", 11)
    test_admin = parse_alert(load("test-actions/activity-log-administrative.json")).typed_context
    assert test_admin.claims == {} and test_admin.event_description == ""


def test_unknown_monitoring_service_keeps_raw(envelope) -> None:
    alert = parse_alert(envelope({"anything": [1, 2]}, monitoringService="Brand New Service"))
    typed = alert.typed_context
    assert typed.kind == "unknown" and typed.raw == {"anything": [1, 2]}
    assert "Brand New Service" in typed.reason


def test_malformed_context_parts_are_tolerated_not_raised() -> None:
    from firestop.alerts import parse_context

    typed = parse_context("Platform", {"condition": {"allOf": "not a list"}, "properties": 5})
    assert typed.kind == "metric" and typed.condition.all_of == () and typed.properties == {}
    assert parse_context("Platform", "not a dict").raw == {}

"""One hand-made edge case per quirk listed in shared/corpus/alerts/NOTES.md."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from firestop.alerts import AlertPayloadError, parse_alert

AOAI = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/aoai-prod"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# --- essentials -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "expected"),
    [("Sev0", 0), ("Sev3", 3), ("sev4", 4), ("Sev 2", 2), ("3", 3), (" 1 ", 1), (2, 2), (None, None), ("", None)],
)
def test_severity_forms(envelope, sent, expected) -> None:
    assert parse_alert(envelope(severity=sent)).severity == expected


@pytest.mark.parametrize("sent", ["Sev5", "Sev-1", "5", 5, -1, True, "Critical", 2.5])
def test_severity_out_of_range_is_422(envelope, sent) -> None:
    with pytest.raises(AlertPayloadError) as info:
        parse_alert(envelope(severity=sent))
    assert (info.value.http_status, info.value.field) == (422, "data.essentials.severity")


def test_budget_style_null_essentials(envelope) -> None:
    alert = parse_alert(
        envelope(alertRule=None, severity=None, signalType=None, alertTargetIDs=None, originAlertId=None, monitoringService="CostAlerts")
    )
    assert (alert.rule_name, alert.severity, alert.signal_type, alert.target_ids, alert.resource_type) == (None, None, None, (), None)
    assert alert.essentials.origin_alert_id is None


@pytest.mark.parametrize("items", [..., [], None])
def test_configuration_items_missing_empty_or_null(envelope, items) -> None:
    assert parse_alert(envelope(configurationItems=items)).essentials.configuration_items == ()


def test_configuration_items_scalars_become_text(envelope) -> None:
    assert parse_alert(envelope(configurationItems=["vm", 7, None])).essentials.configuration_items == ("vm", "7")


@pytest.mark.parametrize("key", ["alertRuleID", "alertRuleId"])
def test_alert_rule_id_either_spelling(envelope, key) -> None:
    assert parse_alert(envelope(**{key: "/rules/r1"})).rule_id == "/rules/r1"


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("ActivityLog", "Activity Log"),
        ("Activity Log", "Activity Log"),
        ("activity_log", "Activity Log"),
        ("metric", "Metric"),
        ("LOG", "Log"),
        ("  Log ", "Log"),
        ("Health", "Health"),  # unknown: kept as sent
        ("", None),
        (None, None),
    ],
)
def test_signal_type_normalised(envelope, sent, expected) -> None:
    alert = parse_alert(envelope(signalType=sent))
    assert alert.signal_type == expected
    assert alert.essentials.signal_type == sent  # essentials keep what was sent


def test_seven_digit_fractional_seconds(envelope) -> None:
    alert = parse_alert(
        envelope(monitorCondition="Resolved", firedDateTime="2019-03-22T13:58:24.3713213Z", resolvedDateTime="2019-03-22T14:03:16.2246313Z")
    )
    assert alert.fired_at == utc(2019, 3, 22, 13, 58, 24, 371321)
    assert alert.resolved_at == utc(2019, 3, 22, 14, 3, 16, 224631)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2019-03-22T15:58:24+02:00", utc(2019, 3, 22, 13, 58, 24)),  # offset → UTC
        ("2019-03-22T13:58:24", utc(2019, 3, 22, 13, 58, 24)),  # naive → UTC
        ("3/22/2019 1:58:24 PM", utc(2019, 3, 22, 13, 58, 24)),  # locale form
    ],
)
def test_fired_date_time_forms_become_utc(envelope, sent, expected) -> None:
    alert = parse_alert(envelope(firedDateTime=sent))
    assert alert.fired_at == expected and alert.fired_at.tzinfo == timezone.utc


@pytest.mark.parametrize("sent", ["resolved", "RESOLVED", " Resolved "])
def test_monitor_condition_case_insensitive(envelope, sent) -> None:
    alert = parse_alert(envelope(monitorCondition=sent))
    assert alert.monitor_condition == "Resolved" and alert.resolved_at is None  # resolvedDateTime optional


def test_numbers_where_strings_expected(envelope) -> None:
    alert = parse_alert(envelope(essentialsVersion=1.0, alertContextVersion=1.1, description=42))
    assert (alert.essentials.essentials_version, alert.essentials.alert_context_version, alert.description) == ("1.0", "1.1", "42")


def test_unknown_essentials_are_kept(envelope) -> None:
    alert = parse_alert(envelope(targetResourceGroup="rg-ai", investigationLink="https://portal/x"))
    assert alert.essentials.target_resource_group == "rg-ai"
    assert alert.essentials.investigation_link == "https://portal/x"


# --- target ids -------------------------------------------------------------


def test_target_ids_canonical_case_kept_and_compared_case_insensitively(envelope) -> None:
    alert = parse_alert(envelope(alertTargetIDs=[AOAI.lower() + "/", " " + AOAI.upper(), AOAI]))
    assert alert.target_ids == (AOAI.lower(),)  # duplicates by case dropped, first spelling kept
    assert alert.targets(AOAI) and alert.targets(AOAI.upper()) and alert.targets(AOAI.lstrip("/") + "/")
    assert not alert.targets(AOAI + "-other") and not alert.targets("") and not alert.targets(None)  # type: ignore[arg-type]
    assert alert.resource_type == "microsoft.cognitiveservices/accounts"


def test_upper_case_resource_log_ids(envelope) -> None:
    alert = parse_alert(envelope(alertTargetIDs=[AOAI.upper()]))
    assert alert.resource_type == "microsoft.cognitiveservices/accounts"
    assert alert.targets(AOAI)


def test_subscription_target(envelope) -> None:
    alert = parse_alert(envelope(alertTargetIDs=["/subscriptions/11111111-1111-1111-1111-111111111111"]))
    assert alert.resource_type == "microsoft.resources/subscriptions"


def test_resource_type_falls_back_to_target_resource_type(envelope) -> None:
    alert = parse_alert(envelope(alertTargetIDs=None, targetResourceType="Microsoft.CognitiveServices/accounts"))
    assert alert.resource_type == "microsoft.cognitiveservices/accounts"
    odd = parse_alert(envelope(alertTargetIDs=["not-an-arm-id"], targetResourceType=None))
    assert odd.target_ids == ("/not-an-arm-id",) and odd.resource_type is None


def test_single_string_target_is_accepted(envelope) -> None:
    assert parse_alert(envelope(alertTargetIDs=AOAI)).target_ids == (AOAI,)


# --- customProperties -------------------------------------------------------


@pytest.mark.parametrize("custom", [..., None, {}])
def test_custom_properties_absent_or_null(envelope, custom) -> None:
    assert parse_alert(envelope(custom=custom)).custom_properties == {}


def test_custom_property_values_become_text(envelope) -> None:
    alert = parse_alert(envelope(custom={"s": "v", "n": 3, "b": True, "z": None, "o": {"b": 1, "a": [2]}}))
    assert alert.custom_properties == {"s": "v", "n": "3", "b": "true", "z": "", "o": '{"a":[2],"b":1}'}


# --- alertContext -----------------------------------------------------------


@pytest.mark.parametrize("context", [None, {}])
def test_alert_context_null_or_empty(envelope, context) -> None:
    body = envelope()
    body["data"]["alertContext"] = context
    alert = parse_alert(body)
    assert alert.context == {} and (alert.window_start, alert.window_end) == (None, None)


def test_alert_context_missing(envelope) -> None:
    body = envelope()
    del body["data"]["alertContext"]
    assert parse_alert(body).context == {}


def test_metric_window_absent_and_threshold_string(envelope) -> None:
    ctx = {"conditionType": "SingleResourceMultipleMetricCriteria", "condition": {"windowSize": "PT5M", "allOf": [{"threshold": "25", "metricValue": 7.727, "dimensions": []}]}}
    alert = parse_alert(envelope(ctx))
    assert (alert.window_start, alert.window_end) == (None, None)
    assert alert.typed_context.condition.all_of[0].threshold == 25.0


def test_unparseable_context_window_is_none_not_an_error(envelope) -> None:
    alert = parse_alert(envelope({"condition": {"windowStartTime": "soon", "windowEndTime": 5}}))
    assert (alert.window_start, alert.window_end) == (None, None)


def test_log_v1_locale_times_and_endtime_spellings(envelope) -> None:
    lower_t = {"SearchIntervalStartTimeUtc": "3/22/2019 1:36:31 PM", "SearchIntervalEndtimeUtc": "3/22/2019 1:51:31 PM"}
    upper_t = {"SearchIntervalStartTimeUtc": "2019-03-22T13:36:31Z", "SearchIntervalEndTimeUtc": "2019-03-22T13:51:31Z"}
    for ctx in (lower_t, upper_t):
        alert = parse_alert(envelope(ctx, monitoringService="Log Analytics", signalType="Log"))
        assert (alert.window_start, alert.window_end) == (utc(2019, 3, 22, 13, 36, 31), utc(2019, 3, 22, 13, 51, 31))
        assert alert.typed_context.search_interval_end == utc(2019, 3, 22, 13, 51, 31)


@pytest.mark.parametrize(
    ("ctx", "expected"),
    [
        ({"IncludedSearchResults": "True"}, True),
        ({"IncludeSearchResults": True}, True),
        ({"IncludedSearchResults": "False", "IncludeSearchResults": True}, False),
        ({"IncludedSearchResults": "maybe"}, None),
    ],
)
def test_log_v1_included_search_results_forms(envelope, ctx, expected) -> None:
    typed = parse_alert(envelope(ctx, monitoringService="Log Analytics")).typed_context
    assert typed.included_search_results is expected


def test_log_v1_results_omitted_over_256kb(envelope) -> None:
    ctx = {"SearchQuery": "Heartbeat", "IncludedSearchResults": "False", "LinkToSearchResultsAPI": "https://api.loganalytics.io/v1/workspaces/w/query?query=Heartbeat"}
    typed = parse_alert(envelope(ctx, monitoringService="Log Analytics")).typed_context
    assert typed.results_omitted and typed.link_to_search_results_api.startswith("https://api.loganalytics.io/")


@pytest.mark.parametrize(("threshold", "expected"), [(0, 0.0), (10000.0, 10000.0), ("12.5", 12.5), ("n/a", None)])
def test_log_v1_threshold_int_float_or_string(envelope, threshold, expected) -> None:
    typed = parse_alert(envelope({"Threshold": threshold}, monitoringService="Application Insights")).typed_context
    assert typed.threshold == expected


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("['Microsoft.Compute/virtualMachines']", ("Microsoft.Compute/virtualMachines",)),
        ("['A/b', 'C/d']", ("A/b", "C/d")),
        ('["A/b"]', ("A/b",)),
        (["A/b"], ("A/b",)),
        ("[Microsoft.Compute/virtualMachines]", ("Microsoft.Compute/virtualMachines",)),
        (None, ()),
    ],
)
def test_log_v2_target_resource_types_pythonish_string(envelope, sent, expected) -> None:
    ctx = {"conditionType": "LogQueryCriteria", "condition": {"allOf": [{"targetResourceTypes": sent}]}}
    typed = parse_alert(envelope(ctx, monitoringService="Log Alerts V2")).typed_context
    assert typed.condition.all_of[0].target_resource_types == expected


def test_log_analytics_service_with_v2_shape_is_typed_as_v2(envelope) -> None:
    ctx = {"conditionType": "LogQueryCriteria", "condition": {"allOf": [{"searchQuery": "Heartbeat"}]}}
    assert parse_alert(envelope(ctx, monitoringService="Log Analytics")).typed_context.kind == "log_v2"


def test_activity_log_claims_json_string_gives_ip_and_oid(envelope) -> None:
    claims = json.dumps({"ipaddr": "203.0.113.9", "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid-1"})
    ctx = {"claims": claims, "caller": "alice@contoso.com", "operationName": "Microsoft.CognitiveServices/accounts/listKeys/action",
           "authorization": {"action": "Microsoft.CognitiveServices/accounts/listKeys/action", "scope": AOAI},
           "httpRequest": json.dumps({"clientIpAddress": "198.51.100.4"})}
    alert = parse_alert(envelope(ctx, monitoringService="Activity Log - Administrative", signalType="Activity Log"))
    assert alert.indicators.caller_ips == ("203.0.113.9", "198.51.100.4")
    assert alert.indicators.principal_ids == ("oid-1", "alice@contoso.com")
    assert alert.indicators.operation_names == ("Microsoft.CognitiveServices/accounts/listKeys/action",)


@pytest.mark.parametrize("claims", ["{not json", "", None, "[1, 2]", 7])
def test_activity_log_bad_claims_tolerated(envelope, claims) -> None:
    alert = parse_alert(envelope({"claims": claims, "caller": "bob"}, monitoringService="Activity Log - Administrative"))
    assert alert.indicators.principal_ids == ("bob",)
    assert alert.typed_context.claims == {}


def test_service_health_impacted_services_string_or_array(envelope) -> None:
    services = [{"ImpactedRegions": [{"RegionName": "West Europe"}], "ServiceName": "Azure OpenAI Service"}]
    for sent in (json.dumps(services), services):
        typed = parse_alert(envelope({"properties": {"impactedServices": sent}}, monitoringService="ServiceHealth")).typed_context
        assert typed.properties.impacted_services[0].service_name == "Azure OpenAI Service"
        assert typed.properties.impacted_services[0].impacted_regions == ("West Europe",)
    broken = parse_alert(envelope({"properties": {"impactedServices": "[{oops"}}, monitoringService="ServiceHealth")).typed_context
    assert broken.properties.impacted_services == ()


def test_service_health_resolved_is_in_context_not_monitor_condition(load) -> None:
    alert = parse_alert(load("test-actions/service-health.json"))
    assert alert.monitor_condition == "Fired" and alert.typed_context.is_resolved


def test_activity_log_event_description_key_with_spaces(envelope) -> None:
    ctx = {"Activity Log Event Description": "restart requested", "operationName": "x"}
    typed = parse_alert(envelope(ctx, monitoringService="Activity Log - Administrative")).typed_context
    assert typed.event_description == "restart requested"


def test_policy_policies_json_string(envelope) -> None:
    ctx = {"properties": {"policies": json.dumps([{"policyDefinitionEffect": "Deny"}])}}
    typed = parse_alert(envelope(ctx, monitoringService="Activity Log - Policy")).typed_context
    assert typed.policies == ({"policyDefinitionEffect": "Deny"},)
    assert parse_alert(envelope({"properties": {"policies": "{bad"}}, monitoringService="Activity Log - Policy")).typed_context.policies == ()


# --- indicators from log rows and dimensions ---------------------------------


def test_log_v1_search_results_caller_ip_columns(envelope) -> None:
    ctx = {
        "SearchResults": {
            "tables": [
                {
                    "name": "PrimaryResult",
                    "columns": [
                        {"name": "CallerIPAddress", "type": "string"},
                        {"name": "OperationName", "type": "string"},
                        {"name": "callerIpAddress", "type": "string"},
                        {"name": "ClientIP", "type": "string"},
                        {"name": "Count", "type": "long"},
                    ],
                    "rows": [
                        ["203.0.113.77", "ChatCompletions_Create", "203.0.113.77", "198.51.100.1:443", 10],
                        ["10.0.0.***", "Embeddings_Create", "2001:db8::1", "[2001:db8::2]:8443", 3],
                        "not a row",
                        ["203.0.113.78"],
                    ],
                },
                "not a table",
            ]
        }
    }
    alert = parse_alert(envelope(ctx, monitoringService="Log Analytics", signalType="Log"))
    assert alert.indicators.caller_ips == ("203.0.113.77", "198.51.100.1", "2001:db8::1", "2001:db8::2", "203.0.113.78")
    assert alert.indicators.operation_names == ("ChatCompletions_Create", "Embeddings_Create")


def test_simple_log_alert_event_rows_with_ip(envelope) -> None:
    ctx = {
        "conditionType": "LogQueryCriteria",
        "condition": {
            "windowSize": None,
            "allOf": [{"operator": None, "threshold": None, "dimensions": None,
                       "event": [[{"name": "ipaddr", "value": "192.0.2.10"}, {"name": "operation_Name", "value": "POST /chat"}],
                                 [{"name": "client_IP", "value": "192.0.2.11"}]]}],
            "windowStartTime": None,
            "windowEndTime": None,
        },
    }
    alert = parse_alert(envelope(ctx, monitoringService="Simple Log Alert", signalType="Log"))
    assert alert.indicators.caller_ips == ("192.0.2.10", "192.0.2.11")
    assert alert.indicators.operation_names == ("POST /chat",)
    assert (alert.window_start, alert.window_end) == (None, None)
    assert alert.typed_context.condition.all_of[0].event_records()[1] == {"client_IP": "192.0.2.11"}


def test_dimension_caller_ip_and_principal(envelope) -> None:
    ctx = {"conditionType": "LogQueryCriteria", "condition": {"allOf": [{"dimensions": [
        {"name": "CallerIPAddress", "value": "203.0.113.77"},
        {"name": "PrincipalId", "value": "0f0f0f0f-0000-0000-0000-000000000000"},
        {"name": "Computer", "value": "vm1"},
        {"name": "IP", "value": "not-an-ip"},
    ]}]}}
    alert = parse_alert(envelope(ctx, monitoringService="Log Alerts V2", signalType="Log"))
    assert alert.indicators.caller_ips == ("203.0.113.77",)
    assert alert.indicators.principal_ids == ("0f0f0f0f-0000-0000-0000-000000000000",)

"""The API Management consumer a Log Alerts V2 rule split by ``ApimSubscriptionId`` names (indicators.apim_subscriptions)."""

from __future__ import annotations

from firestop.alerts.indicators import MAX_INDICATORS, extract_indicators


def test_apim_subscription_dimension_and_column_give_the_consumer():
    context = {"condition": {"allOf": [{"dimensions": [
        {"name": "ApimSubscriptionId", "value": "partner-acme"}, {"name": "CallerIpAddress", "value": "203.0.113.90"}]}]},
        "SearchResults": {"tables": [{"columns": [{"name": "ApimSubscriptionId"}, {"name": "calls"}],
                                      "rows": [["PARTNER-ACME", 3], ["partner-beta", 9], [" ", 1], [None, 2]]}]}}
    found = extract_indicators(context)
    # de-duplicated case-insensitively (the first spelling read is kept), blanks skipped
    assert [s.lower() for s in found.apim_subscriptions] == ["partner-acme", "partner-beta"]
    assert found.caller_ips == ("203.0.113.90",)
    assert found.deployments == () and found.truncated == ()


def test_apim_subscriptions_are_capped():
    rows = [[f"sid-{i}"] for i in range(MAX_INDICATORS + 5)]
    found = extract_indicators({"SearchResults": {"tables": [{"columns": [{"name": "ApimSubscriptionId"}], "rows": rows}]}})
    assert len(found.apim_subscriptions) == MAX_INDICATORS and found.truncated == ("apim_subscriptions",)


def test_no_dimension_no_consumer():
    assert extract_indicators({"condition": {"allOf": [{"dimensions": [{"name": "CallerIPAddress", "value": "203.0.113.9"}]}]}}
                              ).apim_subscriptions == ()

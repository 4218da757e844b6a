"""verify13: the pure parts of the Activity Log event check (firestop.azure.activity_source)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from firestop.azure import activity_source as A

AT = datetime(2026, 11, 29, 1, 47, 12, 902000, tzinfo=timezone.utc)
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
LIST_KEYS = "Microsoft.CognitiveServices/accounts/listKeys/action"
RULE = {"properties": {"condition": {"allOf": [{"field": "category", "equals": "Administrative"},
                                               {"field": "operationName", "equals": LIST_KEYS}]}}}
REF = {"correlationId": "5d6c0e3a-8b1f-4e27-9a61-0c3f2b7d9e41", "eventDataId": "c2b1a0f9-8e7d-4c6b-a5f4-e3d2c1b0a9f8",
       "eventTimestamp": AT}


def _event(**changes) -> dict:
    event = {"eventDataId": REF["eventDataId"], "correlationId": REF["correlationId"],
             "eventTimestamp": "2026-11-29T01:47:12.9020000Z", "resourceId": ACCOUNT,
             "category": {"value": "Administrative"}, "operationName": {"value": LIST_KEYS},
             "authorization": {"action": LIST_KEYS, "scope": ACCOUNT}, "caller": "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d",
             "claims": {"ipaddr": "192.0.2.201",
                        "http://schemas.microsoft.com/identity/claims/objectidentifier": "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"},
             "httpRequest": {"clientIpAddress": "192.0.2.201"}}
    event.update(changes)
    return event


ALERT = {"target_ids": [ACCOUNT.lower()], "indicators": {"operation_names": [LIST_KEYS]}}
WANTED = {"caller_ips": ["192.0.2.201"], "principal_ids": ["d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"]}


def test_the_event_the_alert_reports_confirms():
    assert A.compare_event(_event(), REF, ALERT, RULE, AT + timedelta(seconds=40), WANTED) is None


@pytest.mark.parametrize("changes, why", [
    ({"operationName": {"value": "Microsoft.CognitiveServices/accounts/regenerateKey/action"},
      "authorization": {"action": "Microsoft.CognitiveServices/accounts/regenerateKey/action"}}, "operation"),
    ({"resourceId": ACCOUNT.replace("prod", "dev")}, "not the alert's target"),
    ({"eventTimestamp": "2026-11-29T01:47:20.0000000Z"}, "not the delivered one"),
    ({"claims": {"ipaddr": "192.0.2.201"}, "caller": "someone@contoso.com"}, "principal"),
    ({"category": {"value": "Policy"}}, "condition"),
])
def test_an_event_that_differs_does_not_confirm(changes, why):
    assert why in (A.compare_event(_event(**changes), REF, ALERT, RULE, AT + timedelta(seconds=40), WANTED) or "")


def test_an_event_long_before_the_alert_is_not_its_event():
    late = AT + timedelta(seconds=A.MAX_EVENT_LAG_SECONDS + 60)
    assert "not the event this alert fired for" in A.compare_event(_event(), REF, ALERT, RULE, late, WANTED)


def test_a_kind_the_event_cannot_give_is_not_confirmed():
    wanted = {**WANTED, "deployments": ["gpt-4o"]}
    assert "deployment 'gpt-4o'" in A.compare_event(_event(), REF, ALERT, RULE, AT, wanted)


def test_a_condition_field_the_check_cannot_read_fails_safe():
    rule = {"properties": {"condition": {"allOf": [{"field": "somethingElse", "equals": "x"}]}}}
    assert "not one this check reads" in A.condition_holds(_event(), rule["properties"]["condition"])
    assert A.condition_holds(_event(), {"allOf": [{"anyOf": [{"field": "operationName", "equals": "x"},
                                                               {"field": "operationName", "equals": LIST_KEYS}]}]}) is None
    assert A.condition_holds(_event(), {}) is not None


@pytest.mark.parametrize("ref", [None, "", "not json", json.dumps({"correlationId": "x' or '1", "eventDataId": REF["eventDataId"],
                                                                     "eventTimestamp": "2026-11-29T01:47:12Z"}),
                                 json.dumps({"correlationId": REF["correlationId"], "eventDataId": "../x",
                                             "eventTimestamp": "2026-11-29T01:47:12Z"}),
                                 json.dumps({"correlationId": REF["correlationId"], "eventDataId": REF["eventDataId"],
                                             "eventTimestamp": "yesterday"})])
def test_only_guids_and_a_time_reach_the_filter(ref):
    found, why = A.parse_event_ref(ref)
    assert found is None and why


def test_the_filter_is_the_spec_pattern_for_a_correlation_id():
    found, _ = A.parse_event_ref(json.dumps({**REF, "eventTimestamp": "2026-11-29T01:47:12.902+00:00"}))
    assert A.event_filter(found) == ("eventTimestamp ge '2026-11-29T01:46:12Z' and eventTimestamp le "
                                     "'2026-11-29T01:48:12Z' and correlationId eq '5d6c0e3a-8b1f-4e27-9a61-0c3f2b7d9e41'")


def test_the_role_holds_the_activity_log_read():
    from runbooks.permissions import ORCHESTRATOR_ACTIONS

    assert "Microsoft.Insights/eventtypes/values/read" in ORCHESTRATOR_ACTIONS
    from firestop.settings import REPO_ROOT

    params = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    assert "Microsoft.Insights/eventtypes/values/read" in params["parameters"]["customRoleActions"]["value"]


def test_the_responder_is_sent_to_the_activity_log():
    from firestop.lifecycle.cli_hints import GENUINE_STEP, unconfirmed_hint

    why = A.REASON_PREFIX + "the Activity Log event does not name the delivered principal 'x'"
    hint = unconfirmed_hint({"pending_approval": {"step": GENUINE_STEP, "why": "alert not confirmed at its source: x"},
                             "timeline_so_far": [{"step": "confirm alert at source", "detail": f"azure-monitor: {why}"}]})
    assert "Activity log" in hint and "correlation id" in hint and "metric" not in hint, hint

"""RT8-05: an impossible calendar date in a security alert or Event Grid event time (``2026-13-29T02:24:00Z``,
``2026-02-30…``) passed the ISO 8601 pattern and raised ValueError out of ``datetime.fromisoformat``: ``POST /api/alerts``
answered 503 (the sender retries the same malformed payload five times) and ``POST /api/events`` 503 for the whole
delivery, where every other malformed field is a 4xx naming the field. Fixed: 422 naming the field (alerts), and the
event refused with its field while the delivery's other events are accepted (events)."""

from __future__ import annotations

import copy
import json

import pytest

from firestop.alerts import AlertPayloadError, parse_alert
from firestop.settings import REPO_ROOT
from tests.intake.test_intake_eventgrid import _policy_event, endpoint  # noqa: F401 — the fixture

DEFENDER = json.loads((REPO_ROOT / "examples" / "alerts" / "defender-jailbreak.json").read_text())


@pytest.mark.parametrize("when", ["2026-13-29T02:24:00Z", "2026-02-30T02:24:00.0000000Z", "2026-11-29T25:24:00Z"])
def test_an_impossible_defender_time_is_a_422_naming_the_field(when):
    body = copy.deepcopy(DEFENDER)
    body["properties"]["startTimeUtc"] = when
    with pytest.raises(AlertPayloadError) as refused:
        parse_alert(json.dumps(body).encode())
    assert refused.value.http_status == 422
    assert refused.value.field.endswith("startTimeUtc")


def test_the_webhook_answers_422_not_503(endpoint):  # noqa: F811
    _, call = endpoint
    body = copy.deepcopy(DEFENDER)
    body["properties"]["startTimeUtc"] = "2026-13-29T02:24:00Z"
    answer = call("post_alert", "alerts", body)
    assert answer.status_code == 422, answer.get_body()[:300]


def test_an_impossible_event_time_does_not_fail_the_delivery(endpoint):  # noqa: F811
    _, call = endpoint
    sub = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
    bad, good = _policy_event("ev-bad", sub), _policy_event("ev-good", sub)
    bad["eventTime"] = "2026-02-30T03:10:00Z"
    answer = call("post_events", "events", [bad, good])
    body = json.loads(answer.get_body())
    assert answer.status_code == 400, body
    assert body["rejected"][0]["field"] == "eventTime", body
    assert [a["id"] for a in body["accepted"]] == ["ev-good"], body

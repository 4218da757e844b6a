"""RT9-01: an unpaired UTF-16 surrogate escape (``"\\ud800"``) in an identifier the intake hashes — ``alertId``, an
``alertTargetIDs`` item, a Defender ``systemAlertId``, an Event Grid event's ``id``/``topic``/``subject`` — passed
every check (orjson refuses the body, the standard library's decoder then takes it; the webhook's essentials check and
the Essentials model both accept a lone surrogate) and then raised out of ``str.encode("utf-8")`` (incident key, slot
id) or the Alert model (``string_unicode``): ``POST /api/alerts`` answered 503 (Azure Monitor retries the same payload)
and ``POST /api/events`` 503 for the whole delivery, its valid events not accepted. Azure never sends such an id; it is
now a 422 naming the field (alerts), or that event refused with its field while the others are accepted (events).
Text that is not an identifier (rule names, descriptions, user agents, entities) is still accepted as before."""

from __future__ import annotations

import copy
import json

import pytest

from firestop.settings import REPO_ROOT
from tests.intake.test_intake_eventgrid import _policy_event, endpoint  # noqa: F401 — the fixture

LEAKED = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
DEFENDER = json.loads((REPO_ROOT / "examples" / "alerts" / "defender-suspicious-user-agent.json").read_text())
SUB = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
       "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def _essentials(field: str, value) -> bytes:
    body = copy.deepcopy(LEAKED)
    body["data"]["essentials"][field] = value(body["data"]["essentials"][field])
    return json.dumps(body).encode()  # ASCII: the surrogate travels as the escape \ud800, as a sender would write it


@pytest.mark.parametrize("field, value", [
    ("alertId", lambda v: v + "\udc00"),
    ("alertTargetIDs", lambda v: [t + "\ud800" for t in v]),
])
def test_a_surrogate_in_an_essentials_id_is_a_422_naming_it(endpoint, field, value):  # noqa: F811
    _, call = endpoint
    answer = call("post_alert", "alerts", _essentials(field, value))
    body = json.loads(answer.get_body())
    assert answer.status_code == 422, body
    assert body["field"] == f"data.essentials.{field}", body
    assert "surrogate" in body["reason"], body


def test_a_surrogate_in_a_defender_system_alert_id_is_a_422(endpoint):  # noqa: F811
    _, call = endpoint
    body = copy.deepcopy(DEFENDER)
    body["properties"]["systemAlertId"] += "\ud800"
    answer = call("post_alert", "alerts", json.dumps(body).encode())
    assert answer.status_code == 422, answer.get_body()[:300]
    assert "systemAlertId" in json.loads(answer.get_body())["field"]


def test_surrogates_in_alert_text_are_still_accepted(endpoint):  # noqa: F811
    _, call = endpoint
    body = copy.deepcopy(DEFENDER)
    body["properties"]["extendedProperties"]["User agent"] += "\ud800"  # the caller's own text: never a reason to refuse
    body["properties"]["alertDisplayName"] += "\udc00"
    answer = call("post_alert", "alerts", json.dumps(body).encode())
    assert answer.status_code == 202, answer.get_body()[:300]
    assert call("post_alert", "alerts", _essentials("alertRule", lambda v: v + "\ud800")).status_code == 202


@pytest.mark.parametrize("field", ["id", "topic", "subject"])
def test_a_surrogate_in_an_event_id_refuses_that_event_only(endpoint, field):  # noqa: F811
    _, call = endpoint
    bad, good = _policy_event("ev-bad", SUB), _policy_event("ev-good", SUB)
    bad[field] += "\ud800"
    answer = call("post_events", "events", json.dumps([bad, good]).encode())
    body = json.loads(answer.get_body())
    assert answer.status_code == 400, body
    assert body["rejected"][0]["field"] == field and "surrogate" in body["rejected"][0]["reason"], body
    assert [a["id"] for a in body["accepted"]] == ["ev-good"], body

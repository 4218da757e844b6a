"""events17: ``POST /api/events`` answers every accepted event alike, whatever intake did with it.

The route is opened by the action group's host key (``infra/azuredeploy.json``). Before, its 200 listed
``{"index", "id", "incident", "outcome"}`` per event, so a key holder learnt whether an incident was open on an
account (intake16's noticed oracle, ``tests/intake16/test_i16_events_outcome_oracle.py``). Now an accepted event is
``{"index", "id"}``; the outcome and the incident go on the log (one ``event_intake`` line per event, and the
request's line). Rejection depends on the batch alone: whether a batch of Graph events is refused (413) no longer
depends on which of its events this instance accepted earlier."""

from __future__ import annotations

import json
import sys

import pytest

from tests.intake.test_intake_eventgrid import DEV, PROD, _policy_event, endpoint, intake_of  # noqa: F401 (fixture)
from tests.redteam4.test_rt4_graph_event import REAL_ID, _graph_event

CE_BATCH = "application/cloudevents-batch+json"


def _without_ids(body: dict) -> dict:
    return {k: [{f: v for f, v in e.items() if f not in ("index", "id")} for e in value] if isinstance(value, list) else value
            for k, value in body.items()}


def test_a_correlated_and_a_started_event_get_the_same_answer_and_the_log_tells_them_apart(endpoint):  # noqa: F811
    env, call = endpoint
    assert call("post_events", "events", [_policy_event("genuine-1", PROD)]).status_code == 200  # opens an incident
    probe = call("post_events", "events", [_policy_event("probe-1", PROD)])
    quiet = call("post_events", "events", [_policy_event("probe-2", DEV)])
    assert probe.status_code == quiet.status_code == 200
    assert json.loads(probe.get_body()) == {"accepted": [{"index": 0, "id": "probe-1"}], "ignored": []}
    assert json.loads(quiet.get_body()) == {"accepted": [{"index": 0, "id": "probe-2"}], "ignored": []}
    assert {k.lower() for k in probe.headers} == {k.lower() for k in quiet.headers}
    # operators still see what intake did: on the event's line and on the request's line
    assert [e["outcome"] for e in intake_of(probe)] == ["correlated"] and probe.intake["outcome"] == "correlated"
    assert [e["outcome"] for e in intake_of(quiet)] == ["started"] and quiet.intake["outcome"] == "started"
    assert probe.intake["incident_id"] == intake_of(probe)[0]["incident"] != intake_of(quiet)[0]["incident"]


def test_a_batch_with_a_bad_event_names_it_and_lists_the_others_alike(endpoint):  # noqa: F811
    env, call = endpoint
    call("post_events", "events", [_policy_event("genuine-2", PROD)])
    bad = _policy_event("bad", PROD)
    del bad["subject"]
    onto_open = call("post_events", "events", [_policy_event("p-1", PROD), bad])
    onto_none = call("post_events", "events", [_policy_event("p-2", DEV), bad])
    assert onto_open.status_code == onto_none.status_code == 400
    assert _without_ids(json.loads(onto_open.get_body())) == _without_ids(json.loads(onto_none.get_body()))
    assert json.loads(onto_open.get_body())["error"] == "events[1].subject"
    assert onto_open.intake["outcome"] == "correlated" and onto_none.intake["outcome"] == "started"


def test_a_graph_batch_is_refused_or_not_by_its_own_size_never_by_what_was_accepted_before(endpoint, monkeypatch):  # noqa: F811
    """Fails before events17: the 413's count left out the events this instance had accepted, so ``[known, new]``
    was taken (200) where ``[new, new]`` was refused (413) — telling whether an event had been delivered here."""
    env, call = endpoint
    module = sys.modules["firestop.functions.http_events"]
    monkeypatch.setattr(module, "MAX_GRAPH_FETCHES", 1)
    monkeypatch.setattr(module, "_clock", lambda: 0.0)
    assert call("post_events", "events", [_graph_event("g-1", REAL_ID)], content_type=CE_BATCH).status_code == 200
    known = call("post_events", "events", [_graph_event("g-1", REAL_ID), _graph_event("g-2", REAL_ID)], content_type=CE_BATCH)
    fresh = call("post_events", "events", [_graph_event("g-3", REAL_ID), _graph_event("g-4", REAL_ID)], content_type=CE_BATCH)
    assert known.status_code == fresh.status_code == 413, (known.get_body(), fresh.get_body())
    assert _without_ids(json.loads(known.get_body())) == _without_ids(json.loads(fresh.get_body()))
    assert json.loads(known.get_body())["not_fetched_count"] == 2  # g-1 too: accepted before, a replay finds it duplicate
    replay = call("post_events", "events", [_graph_event("g-1", REAL_ID)], content_type=CE_BATCH)
    assert replay.status_code == 200 and intake_of(replay)[0]["outcome"] == "duplicate"


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
def test_the_answer_holds_no_incident_id_in_any_form(endpoint, schema):  # noqa: F811
    env, call = endpoint
    event = _policy_event("only-1", PROD)
    if schema == "cloudevents":
        event = {"specversion": "1.0", "id": "only-1", "source": event["topic"], "subject": PROD,
                 "type": "Microsoft.PolicyInsights.PolicyStateCreated", "time": "2026-11-29T03:12:00Z", "data": event["data"]}
    answer = call("post_events", "events", [event],
                  content_type=CE_BATCH if schema == "cloudevents" else "application/json")
    assert answer.status_code == 200, answer.get_body()
    incident = intake_of(answer)[0]["incident"]
    assert incident and incident not in answer.get_body().decode() and "inc-" not in answer.get_body().decode()

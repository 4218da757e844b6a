"""A 413 for too many Graph events no longer leaves the batch's other events unaccepted (lifecycle7; session 6 note).

RT6-04 answered a delivery with more than ``MAX_GRAPH_FETCHES`` Graph events 413 before anything was accepted. Event
Grid does not retry a webhook's 413 (Learn, "Event Grid message delivery and retry"): it dead-letters the batch, or
drops it without a dead-letter destination — the batch's policy and Key Vault events with it. Now the 413 fetches no
Graph alert but accepts every event that needs no fetch, and names the Graph events it did not fetch; a replay of the
batch (from the dead-letter destination, or a redelivery) finds those accepted events ``duplicate``: nothing starts
twice, nothing is fetched, and the replay split within the bound accepts the Graph alerts.
"""

from __future__ import annotations

import json
import sys

from tests.intake.test_intake_eventgrid import DEV, PROD, SUB, _sample, endpoint, intake_of  # noqa: F401  (fixture)
from tests.redteam4.test_rt4_graph_event import REAL_ID, _graph_event

CE_BATCH = "application/cloudevents-batch+json"


def _policy(event_id: str, subject: str) -> dict:
    event = _sample("policy-state-created.cloudevents.json")[0]
    event.update({"id": event_id, "source": f"/subscriptions/{SUB}", "subject": subject, "time": "2026-11-29T03:12:00Z"})
    return event


def _fetches(env) -> int:
    return sum(1 for r in env.tenant.requests if r.operation == "security.alerts_v2.get")


def test_413_accepts_the_events_that_need_no_fetch_and_a_replay_is_exactly_once(endpoint, monkeypatch):
    env, call = endpoint
    import firestop.functions.http_events  # noqa: F401

    module = sys.modules["firestop.functions.http_events"]
    monkeypatch.setattr(module, "MAX_GRAPH_FETCHES", 3)
    monkeypatch.setattr(module, "_clock", lambda: 0.0)  # the 20 s fetch bound is not this test's (it has its own, RT6-04)
    graph = [_graph_event(f"ev-{i}", REAL_ID) for i in range(4)]
    batch = [_policy("pol-1", DEV), *graph, _policy("pol-2", PROD)]

    answer = call("post_events", "events", batch, content_type=CE_BATCH)
    body = json.loads(answer.get_body())
    assert answer.status_code == 413 and "maxEventsPerBatch" in body["fix"], body
    assert [(a["id"], a["outcome"]) for a in intake_of(answer)] == [("pol-1", "started"), ("pol-2", "started")], body
    assert [n["index"] for n in body["not_fetched"]] == [1, 2, 3, 4] and body["not_fetched_count"] == 4
    assert _fetches(env) == 0  # bounded: no Graph fetch at all
    instances = {s.instance_id for s in env.host.list_instances()}
    assert {a["incident"] for a in intake_of(answer)} <= instances

    again = call("post_events", "events", batch, content_type=CE_BATCH)  # a redelivery of the same batch
    second = json.loads(again.get_body())
    assert again.status_code == 413 and [a["outcome"] for a in intake_of(again)] == ["duplicate", "duplicate"], second
    assert [a["incident"] for a in intake_of(again)] == [a["incident"] for a in intake_of(answer)]
    assert {s.instance_id for s in env.host.list_instances()} == instances and _fetches(env) == 0

    # the dead-lettered batch replayed within the bound: the Graph alerts are fetched and accepted, the rest are duplicates
    first_half = call("post_events", "events", batch[:3], content_type=CE_BATCH)
    second_half = call("post_events", "events", batch[3:], content_type=CE_BATCH)
    assert first_half.status_code == 200 and second_half.status_code == 200
    outcomes = {a["id"]: a["outcome"] for half in (first_half, second_half) for a in intake_of(half)}
    assert outcomes["pol-1"] == outcomes["pol-2"] == "duplicate" and set(outcomes) == {e["id"] for e in batch}, outcomes
    assert _fetches(env) == 4

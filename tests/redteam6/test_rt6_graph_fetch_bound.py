"""RT6-04: one Event Grid delivery can cause 5,000 sequential Microsoft Graph fetches.

Attack: ``POST /api/events`` accepts up to 5,000 events per delivery (Event Grid's ``maxEventsPerBatch`` ceiling), and
each ``Microsoft.Graph.AlertCreated`` event is fetched from Graph (``GET /v1.0/security/alerts_v2/{id}``) one after the
other before intake. A batch of 5,000 such events (a noisy tenant, a misconfigured subscription, or a sender holding
the function key) holds the request for thousands of Graph round trips: far past the 30 s Event Grid waits for an
answer ("Event Grid message delivery and retry"), so Event Grid counts the delivery failed and redelivers the whole
batch — which fetches everything again, burning Graph's throttling budget the real alerts need.

Fix (``firestop/functions/http_events.py``): more than ``MAX_GRAPH_FETCHES`` Graph events in one delivery is a 413
before anything is fetched (the fix: the subscription's ``maxEventsPerBatch``; Event Grid dead-letters a 413 when a
dead-letter destination is set, nothing is dropped silently); and once a delivery's fetches have taken
``MAX_GRAPH_SECONDS`` (below 30 s), the remaining events are answered 503 for redelivery, listed as ``deferred`` — the
redelivery does not fetch again what was already accepted. The test's clock is virtual: each fetch "takes" 8 s.
"""

from __future__ import annotations

import json
import sys

from tests.intake.test_intake_eventgrid import endpoint, intake_of  # noqa: F401  (fixture)
from tests.redteam4.test_rt4_graph_event import REAL_ID, _graph_event

CE_BATCH = "application/cloudevents-batch+json"


def _module():
    import firestop.functions.http_events  # noqa: F401  (the package exports the Blueprint under that name)

    return sys.modules["firestop.functions.http_events"]


def _fetches(env) -> int:
    return sum(1 for r in env.tenant.requests if r.operation == "security.alerts_v2.get")


def test_rt6_04_too_many_graph_events_in_one_delivery_is_413_before_any_fetch(endpoint, monkeypatch):
    env, call = endpoint
    monkeypatch.setattr(_module(), "MAX_GRAPH_FETCHES", 3)
    batch = [_graph_event(f"ev-{i}", REAL_ID) for i in range(4)]
    answer = call("post_events", "events", batch, content_type=CE_BATCH)
    body = json.loads(answer.get_body())
    assert answer.status_code == 413 and "maxEventsPerBatch" in body["fix"] and "4 Microsoft.Graph.AlertCreated" in body["reason"], body
    assert _fetches(env) == 0
    ok = call("post_events", "events", batch[:3], content_type=CE_BATCH)  # within the bound: fetched and accepted
    assert ok.status_code == 200 and len(json.loads(ok.get_body())["accepted"]) == 3 and _fetches(env) == 3


def test_rt6_04_slow_fetches_defer_the_rest_to_a_redelivery_that_does_not_fetch_again(endpoint, monkeypatch):
    env, call = endpoint
    module = _module()
    ticks = iter(range(0, 10_000, 8))  # every read of the clock: 8 s later (one fetch between reads)
    monkeypatch.setattr(module, "_clock", lambda: float(next(ticks)))
    batch = [_graph_event(f"slow-{i}", REAL_ID) for i in range(5)]
    answer = call("post_events", "events", batch, content_type=CE_BATCH)
    body = json.loads(answer.get_body())
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5", body
    done = [a["id"] for a in body["accepted"]]
    later = [d["id"] for d in body["deferred"]]
    assert done and later and done + later == [f"slow-{i}" for i in range(5)], body  # none dropped, in order
    assert _fetches(env) == len(done) < 5

    for _ in range(5):  # Event Grid's redeliveries (bounded): each makes progress, none fetches an alert twice
        retried = call("post_events", "events", batch, content_type=CE_BATCH)
        again = json.loads(retried.get_body())
        assert [a["id"] for a in again["accepted"]][:len(done)] == done, again
        assert all(a["outcome"] == "duplicate" for a in intake_of(retried)[:len(done)]), again
        assert len(again["accepted"]) > len(done) or retried.status_code == 200, again
        done = [a["id"] for a in again["accepted"]]
        if retried.status_code == 200:
            break
    assert retried.status_code == 200 and done == [f"slow-{i}" for i in range(5)], again
    assert _fetches(env) == 5  # each Graph alert fetched once across all deliveries

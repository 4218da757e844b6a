"""RT4-02: a Graph AlertCreated event whose alert id is ``.`` or ``..`` makes msgraph-sdk fetch another resource.

The id is put into ``/security/alerts_v2/{alert-id}`` by kiota's URI template, which percent-encodes ``/`` but not a
whole ``.``/``..`` segment; httpx then removes the dot segment, so ``.`` fetches ``GET /v1.0/security/alerts_v2``
(the tenant's whole alert list) and ``..`` fetches ``GET /v1.0/security``. Whatever answers is not an alert: the
failure propagates as a 503, and since ``/api/events`` stops at the first 503, every valid event after it in the
delivery is never read — Event Grid retries the same poisoned batch until it gives up, and the real alert behind
the poison event is lost. Expected: the id refused as malformed (400 naming ``data.resourceData.id``), the
batch's valid events still accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.intake.test_intake_eventgrid import endpoint, intake_of  # noqa: F401  (fixture)

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "eventgrid" / "graph-alert-created.cloudevents.json"
REAL_ID = "da2516935104399999999_5f0c2e8a"


def _graph_event(event_id: str, alert_id: str) -> dict:
    sample = json.loads(SAMPLE.read_text())
    sample["id"] = event_id
    sample["data"] = {**sample["data"], "resourceData": {"id": alert_id}, "resource": f"security/alerts_v2/{alert_id}"}
    return sample


@pytest.mark.parametrize("poison", [".", ".."])
def test_rt4_02_dot_segment_graph_id_is_refused_and_does_not_poison_the_batch(endpoint, poison):
    env, call = endpoint
    batch = [_graph_event("ev-poison", poison), _graph_event("ev-real", REAL_ID)]
    answer = call("post_events", "events", batch, content_type="application/cloudevents-batch+json")
    body = json.loads(answer.get_body())
    assert answer.status_code == 400, body
    assert body["rejected"][0]["field"] == "data.resourceData.id", body
    assert [a["id"] for a in body["accepted"]] == ["ev-real"], body


def test_rt4_05_a_validation_event_cannot_hide_the_events_after_it():
    """RT4-05: a delivery whose first event is the subscription-validation event was answered 200 with the
    validation code and every event after it silently dropped (never accepted, never rejected)."""
    from firestop.intake.eventgrid import DeliveryError, read_delivery

    validation = {"id": "v1", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "subject": "", "dataVersion": "1",
                  "eventTime": "2026-11-29T03:10:00Z", "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}}
    alone = read_delivery(json.dumps([validation]).encode(), "application/json")
    assert alone.validation_code == "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"
    real = {"id": "e1", "eventType": "Microsoft.PolicyInsights.PolicyStateChanged", "subject": "/subscriptions/x", "data": {}}
    with pytest.raises(DeliveryError) as refused:
        read_delivery(json.dumps([validation, real]).encode(), "application/json")
    assert refused.value.status == 400


@pytest.mark.parametrize("status", [400, 409, 410])
def test_a_graph_4xx_for_one_alert_rejects_that_event_only(endpoint, status):
    """Red-team leftover: Graph answering a 4xx other than 403/404 for one alert made /api/events answer 503 for the
    whole batch (retried by Event Grid until it gives up). That event alone is rejected; the others are accepted."""
    env, call = endpoint
    env.tenant.inject_fault("security.alerts_v2.get", status)  # the first fetch only: the second event's succeeds
    batch = [_graph_event("ev-refused", REAL_ID), _graph_event("ev-real", REAL_ID)]
    answer = call("post_events", "events", batch, content_type="application/cloudevents-batch+json")
    body = json.loads(answer.get_body())
    assert answer.status_code == 400, body
    assert body["rejected"] == [{"index": 0, "field": "data.resourceData.id",
                                 "reason": f"Microsoft Graph refused the fetch of this security alert (HTTP {status})"}], body
    assert [a["id"] for a in body["accepted"]] == ["ev-real"], body


def test_a_graph_401_is_retried_by_event_grid_not_recorded_by_id(endpoint):
    """401 is the app's token failing (expired, revoked, a claims challenge): transient, unlike a 403. Recording the
    alert by id only would leave a real alert uncontained with nothing retrying it (red team 6, F1): the delivery is
    answered 503, and Event Grid's redelivery fetches the alert and routes it."""
    env, call = endpoint
    env.tenant.inject_fault("security.alerts_v2.get", 401)  # the first fetch only
    event = _graph_event("ev-401", REAL_ID)
    answer = call("post_events", "events", [event], content_type="application/cloudevents-batch+json")
    assert answer.status_code == 503, answer.get_body()
    retried = call("post_events", "events", [event], content_type="application/cloudevents-batch+json")
    body = json.loads(retried.get_body())
    assert retried.status_code == 200 and [a["id"] for a in body["accepted"]] == ["ev-401"], body
    assert intake_of(retried)[0]["outcome"] == "started", body  # fetched this time: its incident starts (the log says)
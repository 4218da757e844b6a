"""POST/OPTIONS /api/events (Event Grid schema and CloudEvents 1.0) through the real function, local durable host,
and the alert intake; plus one incident across sources through POST /api/alerts."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from pathlib import Path

import azure.functions as func
import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import what_intake_did

SAMPLES = Path(__file__).parent / "samples" / "eventgrid"
SUB = "11111111-2222-3333-4444-555555555555"
DEV = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
PROD = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.KeyVault/vaults/kv-contoso-ai"


def _sample(name: str):
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def endpoint(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from tests.e2e.test_webhook import invoke_seen

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        app = function_app()

        def call(function: str, route: str, body=None, *, method="POST", content_type="application/json", headers=None):
            raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
            request = func.HttpRequest(method=method, url=f"http://localhost:7071/api/{route}",
                                       headers={"content-type": content_type, **(headers or {})}, body=raw)
            with event_intake_lines() as lines:
                response = invoke_seen(app, function, request, server=server)  # carries its request line (intake)
            response.events_intake = list(lines)  # and, for /api/events, one event_intake line per accepted event
            return response

        yield env, call
    env.close()


@contextlib.contextmanager
def event_intake_lines():
    """The ``event_intake`` lines (:func:`firestop.functions.http_events._log_intake`) written while the block runs."""
    from firestop.telemetry.logs import fields_of

    lines: list[dict] = []

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            fields = fields_of(record)
            if fields is not None and fields.get("event") == "event_intake":
                lines.append(fields)

    logger, handler = logging.getLogger("firestop.intake.eventgrid"), _Lines(logging.INFO)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def intake_of(response) -> list[dict]:
    """What intake did with each accepted event of a delivery ``call`` made, from its ``event_intake`` log lines (the
    operators' view; the answer no longer says it, events17): ``[{"index", "id", "incident", "outcome"}]`` in the
    order of the answer's ``accepted`` (what its entries carried before)."""
    seen = {}
    for line in response.events_intake:
        where, _, event_id = str(line.get("detail")).partition(" id=")
        seen[int(where[len("events["):-1])] = {"id": event_id, "incident": line.get("incident_id"),
                                               "outcome": line.get("outcome")}
    accepted = json.loads(response.get_body()).get("accepted") or []
    return [{"index": a["index"], **seen[a["index"]]} for a in accepted]


def _policy_event(event_id: str, subject: str, state: str = "NonCompliant") -> dict:
    event = copy.deepcopy(_sample("policy-state-changed.eventgrid.json")[0])
    event.update({"id": event_id, "topic": f"/subscriptions/{SUB}", "subject": subject, "eventTime": "2026-11-29T03:10:00.1234567Z"})
    event["data"].update({"complianceState": state, "timestamp": "2026-11-29T03:09:58.0000000Z", "subscriptionId": SUB,
                          "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/037eea7a-bd0a-46c5-9a66-03aea78705d3"})
    return event


def _secret_event(event_id: str, name: str = "openai-api-key") -> dict:
    event = copy.deepcopy(_sample("keyvault-secret-new-version.eventgrid.json")[0])
    event.update({"id": event_id, "topic": VAULT, "subject": name, "eventType": "Microsoft.KeyVault.SecretNearExpiry",
                  "eventTime": "2026-11-29T03:11:00Z"})
    event["data"].update({"vaultName": "kv-contoso-ai", "objectName ": name})
    return event


def test_subscription_validation_echoes_the_code_and_never_fetches_the_url(endpoint):
    env, call = endpoint
    answer = call("post_events", "events", _sample("subscription-validation.eventgrid.json"),
                  headers={"aeg-event-type": "SubscriptionValidation"})
    assert answer.status_code == 200
    assert json.loads(answer.get_body()) == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    assert env.tenant.unrouted == []  # the validationUrl was not called (it would be an unrouted request)


def test_cloudevents_abuse_protection_preflight(endpoint):
    _, call = endpoint
    ok = call("post_events", "events", method="OPTIONS", headers={"WebHook-Request-Origin": "eventgrid.azure.net"})
    assert ok.status_code == 200 and ok.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert call("post_events", "events", method="OPTIONS", headers={"WebHook-Request-Origin": "evil.example"}).status_code == 403
    assert call("post_events", "events", method="OPTIONS").status_code == 400


def test_a_bad_event_is_named_by_index_and_field_and_nothing_valid_is_lost_and_redelivery_is_exactly_once(endpoint):
    env, call = endpoint
    bad = _policy_event("evt-3", DEV)
    del bad["id"]
    batch = [_policy_event("evt-1", DEV), _policy_event("evt-2", PROD, state="Compliant"), bad, _secret_event("evt-4"),
             _secret_event("evt-5", name="some-other-secret")]
    answer = call("post_events", "events", batch)
    body = json.loads(answer.get_body())
    assert answer.status_code == 400 and body["index"] == 2 and body["field"] == "id" and body["error"] == "events[2].id"
    assert body["accepted"] == [{"index": 0, "id": "evt-1"}, {"index": 3, "id": "evt-4"}]  # alike, whatever intake did
    first = intake_of(answer)
    assert [(a["index"], a["outcome"]) for a in first] == [(0, "started"), (3, "started")]
    assert [i["index"] for i in body["ignored"]] == [1, 4]
    instances = {s.instance_id for s in env.host.list_instances()}
    assert {a["incident"] for a in first} <= instances
    redelivered = call("post_events", "events", batch)  # Event Grid redelivers the same events
    again = intake_of(redelivered)
    assert json.loads(redelivered.get_body())["accepted"] == body["accepted"]
    assert [a["outcome"] for a in again] == ["duplicate", "duplicate"]
    assert [a["incident"] for a in again] == [a["incident"] for a in first]
    assert {s.instance_id for s in env.host.list_instances()} == instances


def test_cloudevents_single_and_batch_and_the_docs_sample_parse(endpoint):
    _, call = endpoint
    single = _sample("policy-state-created.cloudevents.json")[0]
    single.update({"id": "ce-1", "source": f"/subscriptions/{SUB}", "subject": DEV, "time": "2026-11-29T03:12:00Z"})
    answer = call("post_events", "events", single, content_type="application/cloudevents+json; charset=utf-8")
    assert answer.status_code == 200 and intake_of(answer)[0]["outcome"] in ("started", "correlated")
    docs = call("post_events", "events", _sample("policy-state-created.cloudevents.json"), content_type="application/cloudevents-batch+json")
    assert docs.status_code == 200 and len(json.loads(docs.get_body())["accepted"]) == 1
    docs_eg = call("post_events", "events", _sample("policy-state-changed.eventgrid.json"))
    assert docs_eg.status_code == 200
    assert call("post_events", "events", {"not": "a batch"}).status_code == 400
    assert call("post_events", "events", b"[]").status_code == 400
    assert call("post_events", "events", b"x" * 1_048_577).status_code == 413


def test_policy_event_routes_to_public_network_exposure():
    from firestop.alerts.sources.eventgrid import event_alert

    alert = event_alert(_policy_event("evt-9", DEV), cloud_events=False)
    assert alert.routed_playbook == "public-network-exposure" and alert.targets(DEV)


def test_defender_alert_monitor_log_alert_and_sentinel_incident_make_one_incident(endpoint):
    env, call = endpoint
    examples = REPO_ROOT / "examples" / "alerts"
    monitor = json.loads((examples / "content-abuse.json").read_text())
    monitor["data"]["essentials"].update({"alertRule": "aoai-jailbreak-attempts", "alertTargetIDs": [PROD.lower()],
                                          "alertId": f"/subscriptions/{SUB}/providers/Microsoft.AlertsManagement/alerts/jb-1"})
    monitor["data"]["customProperties"] = {"firestop-playbook": "ai-jailbreak"}
    first = call("post_alert", "alerts", json.loads((examples / "defender-jailbreak.json").read_text()))
    incident = what_intake_did(first)["id"]
    assert first.status_code == 202 and what_intake_did(first)["outcome"] == "started"
    second = call("post_alert", "alerts", monitor)
    third = call("post_alert", "alerts", json.loads((examples / "sentinel-incident-jailbreak.json").read_text()))
    for answer in (second, third):
        body = what_intake_did(answer)
        assert answer.status_code == 202, body
        assert body["id"] == incident and what_intake_did(answer)["outcome"] == "correlated"
    env.host.run_until_idle(incident, advance_timers=True)
    record = json.loads((env.settings.records_dir / f"{incident}.json").read_text())
    assert record["playbook"]["name"] == "ai-jailbreak" and record["correlated_count"] == 2
    recorded = json.dumps(record["correlated_alerts"])
    assert "jb-1" in recorded and "securityinsights/incidents" in recorded.lower()
    # the one incident wrote back to both sources: Sentinel incident closed with its comments, Defender alert resolved
    from azure.mgmt.security import SecurityCenter
    from firestop.azure.sentinel import SentinelClient

    si = SentinelClient(env.tenant.credential, transport=env.tenant.transport)
    sentinel_id = json.loads((examples / "sentinel-incident-jailbreak.json").read_text())["object"]["id"]
    assert si.get_incident(sentinel_id)["properties"]["status"] == "Closed"
    assert len(si.list_comments(sentinel_id)) == 3
    sc = SecurityCenter(env.tenant.credential, SUB, transport=env.tenant.transport)
    statuses = {a.alert_type: a.status for a in sc.alerts.list_by_resource_group("rg-ai-prod")}
    assert statuses.pop("AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt") == "Resolved"
    assert set(statuses.values()) == {"Active"}  # the other families' alerts are untouched

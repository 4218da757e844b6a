"""``POST /api/alerts`` of function_app.py, run by the local host with the SDK's real Durable client."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

import azure.functions as func
import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
LEGACY = REPO_ROOT / "tests" / "alerts" / "data" / "legacy" / "noncommon-metric-static.json"
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-ai-prod/providers/"
           "microsoft.cognitiveservices/accounts/contoso-openai-prod")
OTHER_ACCOUNT = ACCOUNT.replace("contoso-openai-prod", "contoso-openai-dr")


@pytest.fixture
def served(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        yield env, server, function_app()
    env.close()


def post(app, server, body: bytes, content_type: str = "application/json"):
    """POST ``body`` to the webhook as a key holder would. The response also carries ``intake``: the fields of the
    request's log line (``outcome``, ``incident_id``, ``alert_id``: what operators see of what intake did; the
    caller's answer says none of it since intake16)."""
    request = func.HttpRequest(
        method="POST", url="http://localhost:7071/api/alerts", headers={"content-type": content_type}, body=body
    )
    return invoke_seen(app, "post_alert", request, server=server)


def invoke_seen(app, function: str, request, **kwargs):
    """``firestop.runtime.invoke_http_function`` with the request's log line attached to the response as ``intake``
    (``{}`` when the function wrote none)."""
    from firestop.runtime import invoke_http_function

    with request_lines() as lines:
        response = invoke_http_function(app, function, request, **kwargs)
    mine = [line for line in lines if line.get("route") == function]
    sent = _alert_id_of(request.get_body() or b"")
    # the line of this alert (a thread of a concurrent test may have posted another); else the last line
    response.intake = next((line for line in reversed(mine) if line.get("alert_id") == sent), mine[-1] if mine else {})
    return response


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        from firestop.telemetry.logs import fields_of

        fields = fields_of(record)
        if fields is not None and fields.get("event") == "request":
            self.lines.append(fields)


@contextlib.contextmanager
def request_lines():
    """The ``request`` log lines (:mod:`firestop.telemetry.requests`) written while the block runs (any thread)."""
    logger = logging.getLogger("firestop.http")
    handler = _Lines()
    with _capturing_lock:  # concurrent deliveries of one test: the level set by the first, restored by the last
        if not _capturing:
            _capturing.append(logger.level)
            logger.setLevel(logging.INFO)
        _capturing.append(None)
        logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        with _capturing_lock:
            logger.removeHandler(handler)
            _capturing.pop()
            if len(_capturing) == 1:
                logger.setLevel(_capturing.pop())


_capturing_lock = threading.Lock()
_capturing: list = []  # [the logger's level before, one None per capture running]


def _alert_id_of(body: bytes) -> str | None:
    try:
        return json.loads(body)["data"]["essentials"]["alertId"]
    except (ValueError, KeyError, TypeError):
        return None


def what_intake_did(response) -> dict:
    """What intake did with a delivery :func:`post` made, from its request log line (the operators' view; the
    answer no longer says it, intake16): ``{"outcome", "id", "correlatedTo", "partOf", "follows"}``, the keys the
    202 carried before, those without a value left out."""
    line = response.intake
    view = {"outcome": line.get("outcome"), "id": line.get("incident_id"), "correlatedTo": line.get("correlated_to"),
            "partOf": line.get("part_of"), "follows": line.get("follows")}
    return {k: v for k, v in view.items() if v is not None or k == "id"}


def outcome(response) -> str | None:
    """What intake did with a delivery :func:`post` made (its request line's ``outcome``)."""
    return response.intake.get("outcome")


def incident_of(response) -> str | None:
    """The incident a delivery :func:`post` made reached (its request line's ``incident_id``), None when none."""
    return response.intake.get("incident_id")


def alert_body(*, alert_id: str | None = None, target: str = ACCOUNT, condition: str = "Fired",
               resolved: str | None = None) -> bytes:
    """The example alert with a fresh (or given) alertId, target and condition."""
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    essentials = body["data"]["essentials"]
    essentials["alertId"] = alert_id or f"/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}"
    essentials["alertTargetIDs"] = [target]
    essentials["monitorCondition"] = condition
    if resolved:
        essentials["resolvedDateTime"] = resolved
    return json.dumps(body).encode()


@pytest.fixture
def raised(served, monkeypatch) -> list[tuple[str, str, Any]]:
    """Every external event that reaches the durable store: (instance id, name, data)."""
    env, _, _ = served
    seen: list[tuple[str, str, Any]] = []
    original = env.host.raise_event

    def record(instance_id: str, event_name: str, data: Any = None) -> None:
        original(instance_id, event_name, data)
        # raised through the SDK client, the data arrives as JSON text (azure-functions-durable-python#295)
        seen.append((instance_id, event_name, json.loads(data) if isinstance(data, str) else data))

    monkeypatch.setattr(env.host, "raise_event", record)
    return seen


@pytest.fixture
def tallied(served, monkeypatch) -> list[tuple[str, str, Any]]:
    """Every batch of joined alerts signalled to an incident's tally entity: (incident id, operation, data)."""
    env, _, _ = served
    seen: list[tuple[str, str, Any]] = []
    original = env.host.signal_entity_json

    def record(entity_id: Any, operation: str, input_json: str | None) -> None:
        original(entity_id, operation, input_json)
        name, key = entity_id
        assert name == "incident_alerts"
        data = json.loads(input_json)
        seen.append((key, operation, json.loads(data) if isinstance(data, str) else data))

    monkeypatch.setattr(env.host, "signal_entity_json", record)
    return seen


def answer(response) -> dict:
    return json.loads(response.get_body())


def incidents(env) -> list:
    """Incident orchestrations (not their step-group sub-orchestrations)."""
    return [i for i in env.host.list_instances() if i.name == "incident_orchestrator"]


def get_status(app, server, link: str) -> tuple[int, dict]:
    """GET the status route a 202 links to (``/api/alerts/{delivery id}/status``), as the alert sender would."""
    from urllib.parse import unquote, urlsplit

    from firestop.runtime import invoke_http_function

    delivery = unquote(urlsplit(link).path.split("/")[-2])
    params = {k: v for k, v in (pair.split("=", 1) for pair in urlsplit(link).query.split("&") if "=" in pair)}
    request = func.HttpRequest(method="GET", url=link, headers={}, body=b"", route_params={"delivery_id": delivery},
                               params=params)
    response = invoke_http_function(app, "alert_status", request, server=server)
    return response.status_code, json.loads(response.get_body())


def test_alert_is_accepted_and_the_incident_completes(served):
    env, server, app = served
    response = post(app, server, EXAMPLE.read_bytes())
    assert response.status_code == 202 and outcome(response) == "started"
    incident_id = incident_of(response)
    assert incident_id.startswith("inc-")
    env.host.run_until_idle(advance_timers=True)
    assert env.host.get_status(incident_id).runtime_status == "Completed"
    record = json.loads((env.settings.records_dir / f"{incident_id}.json").read_text())
    assert record["status"] == "contained"


def test_redelivery_starts_nothing_new(served):
    env, server, app = served
    first = post(app, server, EXAMPLE.read_bytes())
    env.host.run_until_idle(advance_timers=True)
    again = post(app, server, EXAMPLE.read_bytes())
    assert again.status_code == 202 and answer(again) == answer(first)
    assert outcome(again) == "duplicate" and incident_of(again) == incident_of(first)
    assert len(env.host.list_instances(name="incident_orchestrator")) == 1
    assert env.host.get_status(incident_of(first)).runtime_status == "Completed"  # not restarted


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"schemaId": ', "application/json", 400, "$"),
        (LEGACY.read_bytes(), "application/json", 400, "schemaId"),
        (b'{"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {}}}', "application/json", 422, "data.essentials"),
        (EXAMPLE.read_bytes(), "text/plain", 415, "content-type"),
        (b"[" + b" " * 300_000 + b"]", "application/json", 413, "$"),
    ],
)
def test_bad_payloads_are_refused_before_anything_starts(served, body, content_type, status, field):
    env, server, app = served
    response = post(app, server, body, content_type)
    assert response.status_code == status
    answer = json.loads(response.get_body())
    assert answer["error"].startswith(field) and answer["fix"]
    assert env.host.list_instances() == []


# -- 202: the answer once the alert is recorded -------------------------------------
def test_the_202_names_the_delivery_and_its_status_route_only(served):
    env, server, app = served
    response = post(app, server, EXAMPLE.read_bytes())
    body = answer(response)
    assert response.status_code == 202
    from firestop.alerts import parse_alert
    from firestop.intake import CorrelationKey, slot_id
    from firestop.intake.correlation import alert_keys
    from firestop.trust.seal import delivery_id, delivery_token, load_seal_key

    [key] = alert_keys(parse_alert(EXAMPLE.read_bytes()), CorrelationKey.RESOURCE)
    assert incident_of(response) == slot_id(key) and outcome(response) == "started"  # the log line says it
    essentials = json.loads(EXAMPLE.read_text())["data"]["essentials"]
    delivery = delivery_id(essentials["alertId"], "Fired")
    assert body == {"deliveryId": delivery, "statusUri": body["statusUri"]}  # no incident id, no Durable management URL
    token = delivery_token(delivery, key=load_seal_key())
    assert response.headers["Location"] == body["statusUri"] == f"{server.base_url}/api/alerts/{delivery}/status?token={token}"
    assert dict(response.headers) == {"Location": body["statusUri"]}  # no outcome header
    text = response.get_body().decode()
    assert "code=" not in text and "runtime/webhooks" not in text and slot_id(key) not in text
    status, state = get_status(app, server, body["statusUri"])
    assert (status, state["deliveryId"], state["status"]) == (200, delivery, "received")
    assert set(state) == {"deliveryId", "status", "message"}


def test_the_status_route_reads_no_store_and_refuses_what_is_not_an_id(served, monkeypatch):
    """A delivery token is proof enough that the delivery was taken (only the app seals one): the route answers
    without reading the durable store — so nothing about any incident can come out of it."""
    from firestop.trust.seal import delivery_id, delivery_token, load_seal_key

    env, server, app = served
    delivery = delivery_id("/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/a", "Fired")
    token = delivery_token(delivery, key=load_seal_key())

    def refuse(*args, **kwargs):
        raise AssertionError("the status route read the durable store")

    monkeypatch.setattr(env.host, "get_status", refuse)
    monkeypatch.setattr(env.host, "list_instances", refuse)
    assert get_status(app, server, f"{server.base_url}/api/alerts/{delivery}/status?token={token}")[0] == 200
    # anything not shaped as a delivery id is 400 naming the field before any token is checked (an incident id, an
    # overlong or upper-case one included): the answer says what a delivery id is, nothing of incident ids
    for odd in ("x" * 300, "dlv-0123", delivery.upper(), delivery + "0", "inc-33906e911c7aff74"):
        status, body = get_status(app, server, f"{server.base_url}/api/alerts/{odd}/status?token={token}")
        assert status == 400 and body["field"] == "delivery_id", (odd, body)
        assert "delivery id" in body["reason"] and "incident" not in body["reason"], body


def test_the_status_route_answers_only_the_sender_of_that_delivery(served):
    """Without the token of the 202 that took the delivery, or with another delivery's, the answer is 403 — and the
    incident status tokens handed out before intake16 (purpose ``alert-status``, bound to an incident id) answer 403
    too, with nothing of the incident in it."""
    from firestop.trust.seal import load_seal_key

    env, server, app = served
    first_response = post(app, server, alert_body(target=ACCOUNT))
    first, other = answer(first_response), answer(post(app, server, alert_body(target=OTHER_ACCOUNT)))
    assert first["deliveryId"] != other["deliveryId"]
    bare = f"{server.base_url}/api/alerts/{first['deliveryId']}/status"
    own_token = first["statusUri"].split("?token=", 1)[1]
    other_token = other["statusUri"].split("?token=", 1)[1]
    incident = incident_of(first_response)
    old = load_seal_key().sign("alert-status", incident, "firestop-alert-status")  # a link handed out before
    for link in (bare, f"{bare}?token=", f"{bare}?token={other_token}", f"{bare}?token={own_token}x",
                 f"{bare}?token={'v1.' * 40}", f"{server.base_url}/api/alerts/{other['deliveryId']}/status?token={own_token}",
                 f"{bare}?token={old}"):
        status, body = get_status(app, server, link)
        assert status == 403, link
        assert body["error"] == "token" and "statusUri" in body["fix"] and "runtimeStatus" not in body
        assert incident not in json.dumps(body)
    assert get_status(app, server, first["statusUri"])[0] == 200
    assert get_status(app, server, other["statusUri"])[0] == 200


def test_received_at_comes_from_the_clock_the_durable_host_uses(served):
    env, server, app = served
    response = post(app, server, EXAMPLE.read_bytes())
    assert env.host.get_status(incident_of(response)).input["received_at"] == env.tenant.clock.now().isoformat()


def test_every_repeat_gets_the_same_answer_even_when_delivered_concurrently(served, raised):
    env, server, app = served
    payload = alert_body()
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def deliver() -> None:
        response = post(app, server, payload)
        with lock:
            answers.append((response.status_code, response.get_body()))

    threads = [threading.Thread(target=deliver) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 12 and len(set(answers)) == 1 and answers[0][0] == 202
    assert len(incidents(env)) == 1 and raised == []


# -- correlation -----------------------------------------------------------------------
def test_a_second_alert_for_the_same_resource_joins_the_open_incident(served, raised, tallied):
    env, server, app = served
    first_response = post(app, server, alert_body())
    first = {"id": incident_of(first_response), **answer(first_response)}
    second_payload = alert_body(target=ACCOUNT.upper())  # same resource, other spelling
    response = post(app, server, second_payload)
    body = answer(response)
    assert response.status_code == 202
    assert (outcome(response), incident_of(response)) == ("correlated", first["id"])
    assert set(body) == {"deliveryId", "statusUri"} and body["statusUri"] != first["statusUri"]  # its own delivery
    assert [i.instance_id for i in env.host.list_instances()] == [first["id"]]
    assert raised == []  # joined alerts go to the incident's tally entity, not its history
    [(instance_id, operation, data)] = tallied
    assert (instance_id, operation) == (first["id"], "add")
    from firestop.alerts import parse_alert

    alert = parse_alert(second_payload)
    assert data["count"] == 1 and [a["alert_id"] for a in data["alerts"]] == [alert.alert_id]
    assert data["received_at"] == env.tenant.clock.now().isoformat()
    again = post(app, server, second_payload)
    assert (again.status_code, answer(again)) == (202, body)  # a repeat: same answer, nothing started
    assert len(incidents(env)) == 1


def test_alerts_for_other_resources_or_after_the_window_start_their_own_and_a_late_one_is_recorded(served, raised):
    env, server, app = served
    first_response, other_response = post(app, server, alert_body()), post(app, server, alert_body(target=OTHER_ACCOUNT))
    first, other = {"id": incident_of(first_response)}, {"id": incident_of(other_response)}
    assert other["id"] != first["id"] and outcome(other_response) == "started"
    env.host.run_until_idle(advance_timers=True)
    assert {i.runtime_status for i in incidents(env)} <= {"Completed", "Failed"}
    first_record = json.loads((env.settings.records_dir / f"{first['id']}.json").read_text())
    assert first_record["status"] == "contained"
    # the same route, within the window after the incident ended and held: recorded onto it (a record revision)
    late_body = alert_body()
    late = post(app, server, late_body)
    assert (outcome(late), incident_of(late)) == ("recorded", first["id"])
    revision = json.loads((env.settings.records_dir / f"{first['id']}.rev2.json").read_text())
    assert revision["correlated_after_close"][0]["alert_id"] == json.loads(late_body)["data"]["essentials"]["alertId"]
    assert revision["timeline"][-1]["step"] == "alert joined after close" and revision["status"] == "contained"
    again = post(app, server, late_body)  # a redelivery is not recorded twice
    assert outcome(again) == "duplicate" and not (env.settings.records_dir / f"{first['id']}.rev3.json").exists()
    assert len(incidents(env)) == 2
    env.tenant.clock.advance(3601)  # past the window: a new incident contains again
    later = post(app, server, alert_body())
    assert incident_of(later) not in (first["id"], other["id"]) and outcome(later) == "started"
    assert [name for _, name, _ in raised] == []


def test_the_correlation_window_is_an_app_setting(served, raised, monkeypatch):
    env, server, app = served
    monkeypatch.setenv("FIRESTOP_CORRELATION_WINDOW_SECONDS", "60")
    first = incident_of(post(app, server, alert_body()))
    env.tenant.clock.advance(61)
    assert outcome(post(app, server, alert_body())) == "started"
    assert len(incidents(env)) == 2
    monkeypatch.setenv("FIRESTOP_CORRELATION_WINDOW_SECONDS", "3600")
    joined = post(app, server, alert_body())
    assert (outcome(joined), incident_of(joined)) == ("correlated", first)


def test_a_burst_of_distinct_alerts_for_one_resource_starts_one_incident(served, raised, tallied):
    env, server, app = served
    payloads = [alert_body() for _ in range(10)]
    results: list[dict] = []
    lock = threading.Lock()

    def deliver(payload: bytes) -> None:
        response = post(app, server, payload)
        with lock:
            results.append({"status": response.status_code, "id": incident_of(response), "outcome": outcome(response),
                            **answer(response)})

    threads = [threading.Thread(target=deliver, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [incident] = incidents(env)
    assert {r["status"] for r in results} == {202} and {r["id"] for r in results} == {incident.instance_id}
    assert sum(r["outcome"] == "correlated" for r in results) == 9 and len({r["deliveryId"] for r in results}) == 10
    assert raised == [] and sum(d["count"] for _, _, d in tallied) == 9
    assert sorted(a["alert_id"] for _, _, d in tallied for a in d["alerts"]) == sorted(
        json.loads(p)["data"]["essentials"]["alertId"] for p in payloads
        if json.loads(p)["data"]["essentials"]["alertId"] != incident.input["alert"]["alert_id"])


# -- Resolved --------------------------------------------------------------------------
def test_resolved_reaches_the_open_incident_and_never_starts_one(served, raised):
    env, server, app = served
    alert_id = f"/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}"
    fired = {"id": incident_of(post(app, server, alert_body(alert_id=alert_id)))}
    resolved_payload = alert_body(alert_id=alert_id, condition="Resolved", resolved="2026-11-29T03:50:00Z")
    response = post(app, server, resolved_payload)
    body = answer(response)
    assert response.status_code == 202 and (outcome(response), incident_of(response)) == ("resolved", fired["id"])
    assert raised == [(fired["id"], "alert_resolved", {"alert_id": alert_id, "resolved_at": "2026-11-29T03:50:00+00:00",
                                                       "received_at": env.tenant.clock.now().isoformat()})]
    env.host.run_until_idle(advance_timers=True)
    repeat = post(app, server, resolved_payload)  # redelivered after the incident closed: same answer, no event
    assert (repeat.status_code, answer(repeat)) == (202, body) and len(raised) == 1
    unknown = post(app, server, alert_body(target=OTHER_ACCOUNT, condition="Resolved"))
    assert unknown.status_code == 202 and set(answer(unknown)) == {"deliveryId", "statusUri"}  # the same answer as any
    assert (outcome(unknown), incident_of(unknown)) == ("no_incident", None)
    assert len(incidents(env)) == 1 and len(raised) == 1


def test_resolved_for_an_incident_that_already_finished_changes_nothing(served, raised):
    env, server, app = served
    alert_id = f"/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}"
    fired = {"id": incident_of(post(app, server, alert_body(alert_id=alert_id)))}
    env.host.run_until_idle(advance_timers=True)
    closed = post(app, server, alert_body(alert_id=alert_id, condition="Resolved"))
    assert closed.status_code == 202 and set(answer(closed)) == {"deliveryId", "statusUri"}
    assert (outcome(closed), incident_of(closed)) == ("closed", fired["id"])
    assert raised == [] and len(incidents(env)) == 1


# -- 4xx ------------------------------------------------------------------------------
def test_malformed_json_is_answered_with_its_position(served):
    env, server, app = served
    response = post(app, server, b'{"schemaId": "azureMonitorCommonAlertSchema",\n  "data": {,}}')
    body = answer(response)
    assert response.status_code == 400 and body["field"] == "$"
    assert body["position"] == {"line": 2, "column": 12, "offset": 57}
    assert "line 2, column 12" in body["reason"] and body["fix"]


def test_schema_errors_name_the_field_path_and_the_reason(served):
    env, server, app = served
    payload = json.loads(EXAMPLE.read_text())
    payload["data"]["essentials"]["firedDateTime"] = "yesterday"
    response = post(app, server, json.dumps(payload).encode())
    body = answer(response)
    assert response.status_code == 422
    assert body["field"] == body["error"] == "data.essentials.firedDateTime"
    assert "yesterday" in body["reason"] and "ISO 8601" in body["fix"]
    assert env.host.list_instances() == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/json; charset=utf-8", 202), ("text/json", 202), ("application/vnd.azure+json", 202), ("", 202),
     ("application/x-www-form-urlencoded", 415), ("application/json; charset=utf-16", 415), ("text/plain", 415)],
)
def test_content_types(served, content_type, status):
    env, server, app = served
    response = post(app, server, alert_body(), content_type)
    assert response.status_code == status
    assert len(env.host.list_instances()) == (1 if status == 202 else 0)
    if status == 415:
        assert answer(response)["error"] == "content-type" and "application/json" in answer(response)["fix"]


def test_the_size_limit_is_256_kb_exactly(served):
    env, server, app = served
    payload = json.loads(EXAMPLE.read_text())
    payload["data"]["customProperties"]["padding"] = ""
    base = len(json.dumps(payload).encode())
    payload["data"]["customProperties"]["padding"] = "x" * (262_144 - base)
    at_limit = json.dumps(payload).encode()
    assert len(at_limit) == 262_144
    assert post(app, server, at_limit).status_code == 202
    response = post(app, server, at_limit + b" ")
    assert response.status_code == 413 and "262,145 bytes" in answer(response)["reason"]


def test_the_webhook_requires_a_function_key(served):
    """401 without a valid key: the Functions host's job on Azure (auth level FUNCTION), ``firestop serve``'s locally."""
    from firestop.runtime.serve import FunctionsServer

    env, _, app = served
    key = "k-" + uuid.uuid4().hex
    with FunctionsServer(app, env.host, function_key=key, port=0, realtime_factor=0) as server:
        def call(query: str = "", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
            request = urllib.request.Request(f"{server.base_url}/api/alerts{query}", data=alert_body(alert_id="/k/1"),
                                             method="POST", headers={"Content-Type": "application/json", **(headers or {})})
            try:
                with urllib.request.urlopen(request) as response:  # noqa: S310 — loopback test server
                    return response.status, response.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()

        assert call() == (401, b"")
        assert call("?code=wrong")[0] == 401
        assert call(headers={"x-functions-key": key + "x"})[0] == 401
        assert incidents(env) == []
        status, body = call(headers={"x-functions-key": key})
        assert status == 202 and set(json.loads(body)) == {"deliveryId", "statusUri"} and len(incidents(env)) == 1


# -- 503: never a 500, never a 202 for what was not recorded -----------------------------
def test_a_storage_failure_while_starting_answers_503_and_records_nothing(served, monkeypatch):
    import sqlite3

    env, server, app = served

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(env.host, "start_new_json", locked)
    response = post(app, server, alert_body())
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert answer(response)["error"] == "unavailable"
    assert env.host.list_instances() == []


def test_a_storage_failure_while_joining_answers_503(served, monkeypatch):
    import sqlite3

    env, server, app = served
    post(app, server, alert_body())

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(env.host, "raise_event", locked)
    monkeypatch.setattr(env.host, "signal_entity_json", locked)  # where joined alerts go (the tally entity)
    assert post(app, server, alert_body()).status_code == 503
    assert post(app, server, alert_body(condition="Resolved")).status_code == 503


def test_an_unreachable_durable_store_answers_503(served):
    env, server, app = served
    binding = server.client_binding_json()
    server.stop()
    from firestop.runtime import invoke_http_function

    request = func.HttpRequest(method="POST", url="http://localhost:7071/api/alerts",
                               headers={"content-type": "application/json"}, body=alert_body())
    response = invoke_http_function(app, "post_alert", request, client_binding_json=binding)
    assert response.status_code == 503


def test_an_internal_error_answers_503_not_500(served, monkeypatch):
    env, server, app = served
    import firestop.intake

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(firestop.intake, "accept_alert", broken)
    response = post(app, server, alert_body())
    assert response.status_code == 503 and "a bug" not in response.get_body().decode()
    assert env.host.list_instances() == []


def test_a_bad_correlation_setting_answers_503_naming_the_setting(served, monkeypatch):
    env, server, app = served
    monkeypatch.setenv("FIRESTOP_CORRELATION_KEY", "tenant")
    response = post(app, server, alert_body())
    assert response.status_code == 503 and "FIRESTOP_CORRELATION_KEY" in answer(response)["reason"]
    assert env.host.list_instances() == []

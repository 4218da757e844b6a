"""Property: whatever arrives at ``POST /api/alerts``, the answer is 2xx or 4xx, and a 4xx starts nothing.

Mutated corpus payloads (structural edits, stringified values, corrupted and
truncated bytes) and random content types go through the real function
(``invoke_http_function`` with the SDK's Durable client against the local
management API and durable host). For every request: no exception escapes,
the status is 2xx or 4xx (never 5xx: the store is healthy here), a 4xx leaves
the set of orchestrations and the raised events unchanged, and a 202 names an
instance that exists.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from firestop.settings import REPO_ROOT

DATA = REPO_ROOT / "tests" / "alerts" / "data"
BASES: list[dict[str, Any]] = [
    json.loads(p.read_text(encoding="utf-8"))
    for folder in ("common-schema", "test-actions", "legacy")
    for p in sorted((DATA / folder).glob("*.json"))
] + [json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text(encoding="utf-8"))]

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20)
tricky = st.sampled_from(["", "Fired", "Resolved", "resolved", "Sev0", "Sev7", "ActivityLog", "/", "//x", "/subscriptions/x",
                          "2019-03-22T13:58:24.3713213Z", "3/22/2019 1:36:31 PM", "9999-99-99", "[]", "{}", "null", "🔥"])
values = st.recursive(scalars | tricky, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8) | tricky, c, max_size=3),
                      max_leaves=8)
content_types = st.sampled_from(["application/json"] * 12 + ["application/json; charset=utf-8", "text/json", ""] + [
    "text/plain", "application/xml", "application/json; charset=latin-1", "multipart/form-data", ";", "json"])


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, prefix + (index,)))
    return out


def _mutate(root: Any, data: st.DataObject) -> Any:
    for _ in range(data.draw(st.integers(0, 4), label="mutations")):
        path = data.draw(st.sampled_from(_paths(root)), label="path")
        op = data.draw(st.sampled_from(["replace", "delete", "stringify", "add"]), label="op")
        if not path:
            root = data.draw(values, label="root") if op == "replace" else root
            continue
        parent = root
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "replace":
            parent[last] = data.draw(values, label="value")
        elif op == "delete":
            del parent[last]
        elif op == "stringify":
            parent[last] = json.dumps(parent[last])
        elif isinstance(parent[last], dict):
            parent[last][data.draw(st.text(max_size=8) | tricky, label="key")] = data.draw(values, label="value")
        elif isinstance(parent[last], list):
            parent[last].append(data.draw(values, label="item"))
    return root


@pytest.fixture
def webhook(firestop_home, monkeypatch):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from tests.e2e.test_webhook import invoke_seen

    env = sandbox_environment()
    raised: list[str] = []
    original = env.host.raise_event

    def record(instance_id: str, name: str, data: Any = None) -> None:
        original(instance_id, name, data)
        raised.append(instance_id)

    monkeypatch.setattr(env.host, "raise_event", record)
    with ManagementServer(env.host) as server:
        app = function_app()

        def post(body: bytes, content_type: str):
            headers = {"content-type": content_type} if content_type else {}
            request = func.HttpRequest(method="POST", url="http://localhost:7071/api/alerts", headers=headers, body=body)
            return invoke_seen(app, "post_alert", request, server=server)

        yield env, post, raised
    env.close()


def _check(webhook, body: bytes, content_type: str) -> None:
    env, post, raised = webhook
    before = {(s.instance_id, s.created_time) for s in env.host.list_instances()}
    events_before = len(raised)
    response = post(body, content_type)
    status = response.status_code
    event(f"answer {status} {response.intake.get('outcome')}")  # what intake did: the request's log line
    assert 200 <= status < 300 or 400 <= status < 500, response.get_body()
    answer = json.loads(response.get_body())
    if status >= 400:
        assert answer["error"] and answer["reason"] and answer["fix"]
        assert {(s.instance_id, s.created_time) for s in env.host.list_instances()} == before
        assert len(raised) == events_before
    elif status == 202:  # the same answer whatever intake did (intake16); the log line names the incident
        assert set(answer) == {"deliveryId", "statusUri"} and "X-Firestop-Intake" not in response.headers
        incident = response.intake.get("incident_id")
        if incident is not None:
            assert env.host.get_status(incident).runtime_status in ("Pending", "Running", "Completed")


WEBHOOK_FUZZ = settings(max_examples=150, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                               HealthCheck.data_too_large])


@WEBHOOK_FUZZ
@given(st.sampled_from(range(len(BASES))), st.data(), content_types)
def test_mutated_payloads_get_2xx_or_4xx_and_a_rejection_starts_nothing(webhook, index, data, content_type):
    body = copy.deepcopy(BASES[index])
    essentials = body.get("data", {}).get("essentials")
    if isinstance(essentials, dict) and data.draw(st.booleans(), label="fresh alertId"):
        essentials["alertId"] = "/fuzz/" + data.draw(st.text(min_size=1, max_size=12), label="alertId")
        essentials["monitorCondition"] = data.draw(st.sampled_from(["Fired", "Resolved"]), label="condition")
    mutated = _mutate(body, data)
    _check(webhook, json.dumps(mutated).encode(), content_type)


@WEBHOOK_FUZZ
@given(st.sampled_from(range(len(BASES))), st.data())
def test_corrupted_bytes_get_2xx_or_4xx_and_a_rejection_starts_nothing(webhook, index, data):
    raw = json.dumps(BASES[index]).encode()
    cut = data.draw(st.just(len(raw)) | st.integers(0, len(raw)), label="cut")
    at = data.draw(st.integers(0, cut), label="at")
    noise = data.draw(st.binary(max_size=6), label="noise")
    _check(webhook, raw[:at] + noise + raw[at:cut], "application/json")

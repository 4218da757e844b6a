"""``POST /api/alerts`` of function_app.py, run by the local host with the SDK's real Durable client."""

from __future__ import annotations

import json
import urllib.request

import azure.functions as func
import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
LEGACY = REPO_ROOT / "tests" / "alerts" / "data" / "legacy" / "noncommon-metric-static.json"


@pytest.fixture
def served(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        yield env, server, function_app()
    env.close()


def post(app, server, body: bytes, content_type: str = "application/json"):
    from firestop.runtime import invoke_http_function

    request = func.HttpRequest(
        method="POST", url="http://localhost:7071/api/alerts", headers={"content-type": content_type}, body=body
    )
    return invoke_http_function(app, "post_alert", request, server=server)


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url) as response:  # noqa: S310 — loopback test server
        return response.status, json.loads(response.read())


def test_alert_is_accepted_and_the_incident_completes(served):
    env, server, app = served
    response = post(app, server, EXAMPLE.read_bytes())
    assert response.status_code == 202
    links = json.loads(response.get_body())
    assert links["id"].startswith("inc-")
    env.host.run_until_idle(advance_timers=True)
    status, body = get_json(links["statusQueryGetUri"])
    assert status == 200 and body["runtimeStatus"] == "Completed"
    assert body["output"]["status"] == "contained"


def test_redelivery_starts_nothing_new(served):
    env, server, app = served
    first = json.loads(post(app, server, EXAMPLE.read_bytes()).get_body())
    env.host.run_until_idle(advance_timers=True)
    again = post(app, server, EXAMPLE.read_bytes())
    assert again.status_code == 202
    assert json.loads(again.get_body())["id"] == first["id"]
    assert len(env.host.list_instances(name="incident_orchestrator")) == 1
    assert env.host.get_status(first["id"]).runtime_status == "Completed"  # not restarted


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

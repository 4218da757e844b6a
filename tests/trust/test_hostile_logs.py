"""Log forging (issue 11, item 9): outside values are logged with %r, so a principal id, an alert id or a
target carrying a line break stays on its record's one line."""

from __future__ import annotations

import json
import logging

import azure.functions as func
import pytest

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
FORGED = "x\nWARNING:firestop.api:approve of inc-1/rotate-keys by oid-alice"


@pytest.fixture
def served(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer

    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        yield function_app(), server
    env.close()


def call(app, server, name, *, method="POST", url, body=b"", headers=None, route=None):
    from firestop.runtime import invoke_http_function

    request = func.HttpRequest(method=method, url=url, headers=headers or {}, body=body, route_params=route or {})
    return invoke_http_function(app, name, request, server=server)


def one_line_each(records) -> list[str]:
    formatter = logging.Formatter("%(levelname)s:%(name)s:%(message)s")
    lines = [formatter.format(r) for r in records if r.name.startswith("firestop") and not r.exc_info]
    assert lines
    for line in lines:
        assert "\n" not in line and "\r" not in line, line
    return lines


def test_alert_id_and_principal_with_line_breaks_stay_on_one_line(served, caplog):
    from firestop.functions.principal import encode_principal

    app, server = served
    caplog.set_level(logging.INFO, logger="firestop")
    doc = json.loads(EXAMPLE.read_text())
    doc["data"]["essentials"]["alertId"] = "/alerts/a\nWARNING:firestop.intake:forged"
    answer = call(app, server, "post_alert", url="http://localhost/api/alerts", body=json.dumps(doc).encode(),
                  headers={"content-type": "application/json"})
    assert answer.status_code == 202
    principal = encode_principal(FORGED)
    body = json.dumps({"target": "/subscriptions/s/x\nWARNING forged", "mode": "plan"}).encode()
    call(app, server, "run_runbook_http", url="http://localhost/api/runbooks/network.lock", body=body,
         headers={"X-MS-CLIENT-PRINCIPAL": principal}, route={"name": "network.lock"})
    lines = one_line_each(caplog.records)
    assert any("\\nWARNING:firestop.intake:forged" in line for line in lines)  # there, escaped
    assert not any(line.startswith("WARNING:firestop.api:approve") for line in lines)


def test_serve_logs_the_request_line_escaped(firestop_home, caplog):
    import socket

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime.serve import FunctionsServer

    env = sandbox_environment()
    server = FunctionsServer(function_app(), env.host, function_key="k" * 20, port=0, realtime_factor=0).start()
    caplog.set_level(logging.INFO, logger="firestop.serve")
    caplog.set_level(logging.INFO, logger="firestop.http")  # the request line (firestop.telemetry.requests)
    try:
        with socket.create_connection(server._httpd.server_address[:2], timeout=30) as conn:
            conn.sendall(b"GET /api/x\x1b[2J\x0bINFO:forged HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while conn.recv(65536):
                pass
    finally:
        server.stop()
        env.close()
    lines = one_line_each(caplog.records)
    assert any("\\x1b[2J\\x0bINFO:forged" in line for line in lines)

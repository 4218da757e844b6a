"""Structured log lines: one per request on ``serve`` (method, path without query, status, ms, caller), values from
outside made safe (no forged lines, no secrets), JSON lines on request."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request

import pytest

from firestop.telemetry.logs import StructuredFormatter, configure_logging, event, log_format, register_secret, safe


def test_safe_escapes_control_characters_bounds_and_redacts():
    register_secret("s3cr3t-value-registered")
    assert safe("a\nINFO request forged=1") == "a\\nINFO request forged=1"
    assert safe("x\r\x00\u2028y") == "x\\r\\x00\\u2028y"
    assert safe("token s3cr3t-value-registered here") == "token [redacted] here"
    assert safe("key 0123456789abcdef0123456789abcdef!") == "key [redacted]!"  # an Azure AI services key's shape
    assert safe("https://x.webhook.office.com/webhookb2/abc") == "[redacted]"
    assert len(safe("y" * 10_000)) == 200 and safe("y" * 10_000).endswith("…")
    assert safe(3) == 3 and safe(None) is None and safe(True) is True
    # what must stay readable: resource IDs, GUIDs, fingerprints
    rid = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
    assert safe(rid) == rid and safe("sha256:0123456789ab") == "sha256:0123456789ab"


def test_text_and_json_lines():
    logger = logging.getLogger("firestop.test-lines")
    text, js = io.StringIO(), io.StringIO()
    for stream, fmt in ((text, "text"), (js, "json")):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(StructuredFormatter(fmt))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        event(logger, "decision", {"incident_id": "inc-1", "step": "rotate keys", "outcome": "done", "target": None,
                                   "detail": 'said "hi"\nINFO forged'})
        logger.warning("plain %r", "line\nforged")
    finally:
        logger.handlers.clear()
    lines = text.getvalue().splitlines()
    assert len(lines) == 2  # newlines inside values never start a line
    assert lines[0].endswith('INFO decision incident_id=inc-1 step="rotate keys" outcome=done detail="said \\"hi\\"\\nINFO forged"')
    assert "target" not in lines[0]
    records = [json.loads(line) for line in js.getvalue().splitlines()]
    assert records[0]["event"] == "decision" and records[0]["step"] == "rotate keys"
    assert records[0]["detail"] == 'said "hi"\\nINFO forged' and records[0]["level"] == "INFO"
    assert records[1]["message"] == "plain 'line\\nforged'" and records[1]["logger"] == "firestop.test-lines"


def test_log_format_setting():
    assert log_format({}) == "text" and log_format({"FIRESTOP_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="FIRESTOP_LOG_FORMAT"):
        log_format({"FIRESTOP_LOG_FORMAT": "xml"})


def test_unconfigured_logger_builds_nothing(monkeypatch):
    """The CLI configures no handler: an event costs one isEnabledFor and builds no line."""
    import firestop.telemetry.logs as logs

    monkeypatch.setattr(logs, "kv_line", lambda fields: pytest.fail("a line was built for a disabled logger"))
    logger = logging.getLogger("firestop.test-disabled")
    logger.setLevel(logging.WARNING)
    event(logger, "request", {"path": "/x"})


# -- serve: one line per request -------------------------------------------------
def _call(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback test server
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def serve(firestop_home):
    """``firestop serve``'s FunctionsServer on function_app.py and the sandbox, its log lines captured (text)."""
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime.serve import FunctionsServer
    from firestop.telemetry.start import start_telemetry

    stream = io.StringIO()
    handler = configure_logging(stream, fmt="text")
    env = sandbox_environment()
    key, system = "fk-" + "K" * 40, "sk-" + "S" * 40
    start_telemetry({}, secrets=(key, system))
    server = FunctionsServer(function_app(), env.host, function_key=key, system_key=system, port=0,
                             realtime_factor=0).start()
    try:
        yield server, key, stream
    finally:
        server.stop()
        env.close()
        for name in ("firestop",):
            logging.getLogger(name).removeHandler(handler)


def test_serve_logs_one_line_per_request_without_query_or_secrets(serve):
    from firestop.trust import encode_principal

    server, key, stream = serve
    alice = encode_principal("oid-alice", name="alice@contoso.example")
    sent = [
        (f"/api/incidents?code={key}", {"X-MS-CLIENT-PRINCIPAL": alice}, 200),  # the key in the query string
        ("/api/incidents", {"x-functions-key": key, "X-MS-CLIENT-PRINCIPAL": alice}, 200),
        ("/api/incidents/inc-0123456789abcdef0123456789abcdef%0aINFO%20forged", {"x-functions-key": key, "X-MS-CLIENT-PRINCIPAL": alice}, (400, 404)),
        (f"/api/incidents/{key}", {"x-functions-key": key, "X-MS-CLIENT-PRINCIPAL": alice}, 404),  # a secret in the path
        ("/api/incidents", {"x-functions-key": "wrong", "X-MS-CLIENT-PRINCIPAL": alice}, 401),
        ("/api/nowhere?code=abc", {}, 404),
    ]
    answered = []
    for path, headers, status in sent:
        answered.append(_call(server.base_url + path, headers))
        assert answered[-1] in (status if isinstance(status, tuple) else (status,)), path
    server.stop()  # every answer written (and logged) before the lines are read
    lines = [line for line in stream.getvalue().splitlines() if " INFO request " in line]
    assert len(lines) == len(sent), stream.getvalue()
    # One line per request. Their order is the order the lines were written: a request's line follows its answer,
    # so the client's next request can be answered and logged first. Each line is found by what it holds.
    assert sorted(int(line.split(" status=")[1].split(" ")[0]) for line in lines) == sorted(answered)
    for line in lines:
        assert "duration_ms=" in line and key not in line and "code=" not in line and "?" not in line
    listed = [line for line in lines if "method=GET path=/api/incidents route=list_incidents_http status=200" in line]
    assert len(listed) == 2 and all("caller=alice@contoso.example caller_id=oid-alice" in line for line in listed), lines
    (forged,) = [line for line in lines if "%0a" in line or "\\x0a" in line]  # the encoded newline stays one line
    assert f" status={answered[2]} " in forged and "0123456789abcdef0123456789abcdef" not in forged  # key-shaped: redacted
    (secret,) = [line for line in lines if f" status={answered[3]} " in line and "[redacted]" in line and "%0a" not in line and "\\x0a" not in line]
    (refused,) = [line for line in lines if " status=401 " in line]
    assert "caller=" not in refused  # refused before the function: nobody was believed
    full = stream.getvalue()
    assert key not in full and "\nINFO forged" not in full and not any(l.startswith("INFO forged") for l in full.splitlines())


# -- the Functions host: @observed owns the line ----------------------------------
def test_every_http_function_is_observed():
    from firestop.cli.wiring import function_app
    from firestop.runtime.functions import index_app
    from firestop.runtime.serve import http_routes

    app = function_app()
    unobserved = []
    for route in http_routes(app):
        fn = index_app(app).function(route.function).fn
        while fn is not None and not getattr(fn, "__firestop_observed__", False):
            fn = getattr(fn, "__wrapped__", None)
        if fn is None:
            unobserved.append(route.function)
    assert unobserved == [], "decorate these with @observed (firestop.telemetry.requests), right above def"


def test_observed_logs_one_line_when_nothing_in_front_noted_it(caplog):
    import asyncio

    import azure.functions as func

    from firestop.telemetry.requests import note, note_caller, observed
    from firestop.trust import Principal

    @observed
    def teapot(req: func.HttpRequest) -> func.HttpResponse:
        note_caller(Principal(object_id="oid-bob", name="bob"))
        note(outcome="brewed")
        return func.HttpResponse("x", status_code=418)

    @observed
    async def broken(req: func.HttpRequest, client) -> func.HttpResponse:
        raise RuntimeError("boom")

    req = func.HttpRequest("GET", "https://app.azurewebsites.net/api/tea/inc-1?code=hunter2-hunter2", body=b"",
                           route_params={"incident_id": "inc-1"})
    with caplog.at_level("INFO", logger="firestop.http"):
        assert teapot(req).status_code == 418
        with pytest.raises(RuntimeError):
            asyncio.run(broken(req, client=None))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("request method=GET path=/api/tea/inc-1 route=teapot status=418 duration_ms=")
    assert lines[0].endswith("incident_id=inc-1 caller=bob caller_id=oid-bob outcome=brewed")
    assert " status=500 " in lines[1] and "route=broken" in lines[1] and "hunter2" not in " ".join(lines)

"""``audit show --app`` when the app keeps no such audit: the CLI command to type (with ``--app``), not the API route.

New-user trial 9: ``audit show --app URL`` on an app without an audit said "run one: POST /api/audits (responder) or
wait for audit_timer" — the HTTP route, where every other ``--app`` refusal names the CLI command."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firestop.cli.remote import RemoteApp, RemoteError


class NoAudit(BaseHTTPRequestHandler):
    """The app's own 404s for these routes (firestop/functions/audit.py)."""

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        if path == "/api/audits/latest":
            status, body = 404, {"error": "audit_id", "reason": "no audit has been kept yet",
                                 "fix": "run one: POST /api/audits (responder) or wait for audit_timer"}
        elif path == "/api/audits/controls":
            status, body = 403, {"error": "role", "reason": "caller lacks the reader role", "fix": "ask an admin"}
        else:
            status, body = 404, {"error": "audit_id", "reason": f"no audit {path.rsplit('/', 1)[-1]}",
                                 "fix": "see GET /api/audits/latest"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def app(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), NoAudit)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    remote = RemoteApp(f"http://127.0.0.1:{server.server_address[1]}", scope="api://firestop/.default")
    monkeypatch.setattr(remote, "_bearer", lambda: "test-token")
    yield remote
    server.shutdown()
    server.server_close()


def test_no_audit_yet_names_audit_run_with_the_app(app):
    with pytest.raises(RemoteError) as refused:
        app.audit(None)
    text = str(refused.value)
    assert refused.value.exit_code == 2
    assert f"python -m firestop audit run --app {app.origin}" in text, text
    assert "POST /api/audits" not in text, text


def test_an_unknown_audit_id_names_audit_show_with_the_app(app):
    with pytest.raises(RemoteError) as refused:
        app.audit("audit-20000101T000000Z-0000")
    text = str(refused.value)
    assert refused.value.exit_code == 2 and "audit-20000101T000000Z-0000" in text
    assert f"python -m firestop audit show --app {app.origin}" in text and "GET /api/audits" not in text, text


def test_other_refusals_keep_the_apps_words(app):
    with pytest.raises(RemoteError) as refused:
        app.audit_controls()
    assert str(refused.value) == "caller lacks the reader role; ask an admin"

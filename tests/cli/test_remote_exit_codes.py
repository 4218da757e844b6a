"""Remote mode gives an app's refusal the local command's exit code: an undo refused with ``code`` ``busy`` or
``relied_on`` (a responder must resolve it) is exit 3 as ``incident undo`` prints locally, ``nothing_to_undo`` and
other 4xx are exit 2 (:data:`firestop.cli.remote.NEEDS_RESPONDER_CODES`). The app's answers are served by a loopback
HTTP server speaking the API's error shape ``{"error", "reason", "fix", "code"}``."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace

import pytest

from tests.stub_servers import ThreadingHTTPServer  # shutdown() at once (no 0.05 s poll per teardown)
from firestop.cli.remote import RemoteApp, RemoteError
from firestop.functions.http_responders import BUSY, NOTHING_TO_UNDO, RELIED_ON


@pytest.fixture()
def app_answering():
    """``set(status, body)`` → a RemoteApp on a loopback server that answers every request with it."""
    answer: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def _reply(self):
            raw = json.dumps(answer["body"]).encode()
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _reply

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    remote = RemoteApp(f"http://127.0.0.1:{server.server_address[1]}", scope="api://test/.default")
    remote._credential = SimpleNamespace(get_token=lambda scope: SimpleNamespace(token="t"))

    def answering(status: int, body: dict) -> RemoteApp:
        answer.update(status=status, body=body)
        return remote

    yield answering
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("code, exit_code", [(RELIED_ON, 3), (BUSY, 3), (NOTHING_TO_UNDO, 2), (None, 2)])
def test_an_undo_refusal_exits_as_the_local_command_does(app_answering, code, exit_code):
    body = {"error": "step", "reason": "step 'lock-network' is relied on by a later incident", "fix": "undo it first",
            **({"code": code} if code else {})}
    with pytest.raises(RemoteError) as raised:
        app_answering(409, body).undo("inc-0123456789abcdef", "lock-network")
    assert raised.value.exit_code == exit_code
    assert str(raised.value) == "step 'lock-network' is relied on by a later incident; undo it first"


def test_a_code_on_a_manual_run_refusal_is_exit_2(app_answering):
    with pytest.raises(RemoteError) as raised:
        app_answering(409, {"error": "run_id", "reason": "already undone", "fix": "", "code": NOTHING_TO_UNDO}).manual_undo(
            "manual-2026-11-29/api-run-031440-ab12")
    assert raised.value.exit_code == 2


@pytest.mark.parametrize("status", [401, 409])
@pytest.mark.parametrize("odd", [["busy"], {"x": 1}, 7, None])
def test_a_refusal_with_odd_reason_fix_or_code_is_still_a_clean_error(app_answering, status, odd):
    """Whatever answers at --app (a gateway, a wrong origin) chooses the body: a list or an object where a string
    belongs is ignored, never a TypeError with a traceback (red team 6, F2)."""
    with pytest.raises(RemoteError) as raised:
        app_answering(status, {"error": "step", "reason": odd, "fix": odd, "code": odd}).undo("inc-0123456789abcdef", "lock-network")
    assert raised.value.exit_code == 2
    assert "[" not in str(raised.value) and "{" not in str(raised.value)

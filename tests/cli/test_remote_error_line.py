"""Remote mode's one-line errors: the app's reason and its fix, each said once."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firestop.cli.remote import RemoteApp, RemoteError

REASON = ("step 'lock-network' on /subscriptions/s/accounts/a is relied on by a later incident, inc-2; nothing was undone — "
          "undo inc-2 first, or decide with that incident's responders")


class Refusing(BaseHTTPRequestHandler):
    answers = {"/api/incidents/inc-1/undo": (409, {"error": "step", "reason": REASON, "fix": "undo inc-2 first"}),
               "/api/incidents/inc-3/undo": (409, {"error": "step", "reason": "nothing left to undo", "fix": "see incident show inc-3"})}

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.answers[self.path]
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
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    remote = RemoteApp(f"http://127.0.0.1:{server.server_address[1]}", scope="api://firestop/.default")
    monkeypatch.setattr(remote, "_bearer", lambda: "test-token")
    yield remote
    server.shutdown()
    server.server_close()


def test_a_fix_the_reason_already_says_is_not_repeated(app):
    with pytest.raises(RemoteError) as refused:
        app.undo("inc-1", "lock-network")
    assert refused.value.exit_code == 2
    assert str(refused.value) == REASON  # it read "…responders; undo inc-2 first" — the fix twice


def test_a_fix_the_reason_does_not_say_is_appended(app):
    with pytest.raises(RemoteError) as refused:
        app.undo("inc-3", None)
    assert str(refused.value) == "nothing left to undo; see incident show inc-3"


def test_no_scope_says_which_variable_to_set_and_where_the_recipe_is(monkeypatch):
    """New-user trial 8: the refusal pointed to "Deploy to Azure, step 2", which creates the app registration but
    not the delegated scope the CLI signs in for (that is Remote mode's recipe, step 1); it now says what to export."""
    from firestop.cli.remote import SCOPE_ENV, RemoteApp, RemoteError

    monkeypatch.delenv(SCOPE_ENV, raising=False)
    with pytest.raises(RemoteError) as refused:
        RemoteApp("http://127.0.0.1:7071")
    text = str(refused.value)
    assert f"export {SCOPE_ENV}=api://" in text and "Remote mode" in text and "Deploy to Azure, step 2" not in text

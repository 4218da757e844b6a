"""RT3-06: remote mode (``--app``) follows HTTP redirects with urllib's default handler, which re-sends every
request header — ``Authorization: Bearer <the responder's Entra token>`` included — to whatever host the
Location names (another origin, even plain http). A redirect anywhere on the app's path (a gateway/custom-domain
rule, a proxy) hands the responder's token for the app's API to a third party.

Fixed: remote calls go through an opener that never follows a redirect; a 3xx is a RemoteError (exit 2) naming
the Location without its query. Kept as a regression test."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.stub_servers import HTTPServer  # shutdown() at once (no 0.05 s poll per teardown)


def test_remote_mode_never_sends_the_token_to_another_origin():
    from firestop.cli.remote import RemoteApp, RemoteError

    seen = {}

    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen["auth"] = self.headers.get("Authorization")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args):
            pass

    other = HTTPServer(("127.0.0.1", 0), Other)

    class App(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{other.server_port}/collect?code=s3cret")
            self.end_headers()

        def log_message(self, *args):
            pass

    app = HTTPServer(("127.0.0.1", 0), App)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True) for s in (other, app)]
    for t in threads:
        t.start()
    try:
        remote = RemoteApp.__new__(RemoteApp)
        remote.origin, remote.scope, remote._credential, remote._token = f"http://127.0.0.1:{app.server_port}", "api://x/.default", None, "tok.en.sig"
        with pytest.raises(RemoteError) as raised:
            remote.incidents()
    finally:
        for s in (other, app):
            s.shutdown()
            s.server_close()
    assert "auth" not in seen, "the redirect was followed"
    assert seen.get("auth") is None, "the responder's bearer token reached another origin"
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "302" in message and f"http://localhost:{other.server_port}/collect" in message and "--app" in message
    assert "s3cret" not in message and "?" not in message.split("collect")[1][:1] and "tok.en.sig" not in message


@pytest.mark.parametrize("url", ["http://app.example", "http://localhost.example.com", "http://127.0.0.1.nip.io"])
def test_plain_http_to_anything_but_loopback_is_refused_naming_the_flag_and_the_fix(url):
    from firestop.cli.remote import RemoteError, app_url

    with pytest.raises(RemoteError) as raised:
        app_url(url)
    assert raised.value.exit_code == 2 and str(raised.value).startswith("--app:") and "https://" in str(raised.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:7071", "http://localhost:7071", "http://[::1]:7071"])
def test_plain_http_to_loopback_is_allowed_for_firestop_serve(url):
    from firestop.cli.remote import app_url

    assert app_url(url) == url

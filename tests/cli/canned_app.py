"""A stand-in Firestop app for remote-mode (``--app``) tests: a loopback HTTP server answering each request with the
JSON an ``answer(method, path)`` function gives (``(status, body)``), and a :class:`~firestop.cli.remote.RemoteApp`
pointed at it with a fixed bearer token. The CLI's request building and error lines run as they do against a real app.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.stub_servers import ThreadingHTTPServer  # shutdown() at once (no 0.05 s poll per teardown)
from firestop.cli.remote import RemoteApp

Answer = Callable[[str, str], "tuple[int, dict[str, Any]]"]


class _Canned(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body = self.server.answer(self.command, self.path.split("?")[0])  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names

    def log_message(self, *args: Any) -> None:  # quiet
        pass


def canned_remote(monkeypatch: Any, answer: Answer) -> Iterator[RemoteApp]:
    """Yield a RemoteApp talking to a server that answers with ``answer``; for a fixture's ``yield from``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    server.answer = answer  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    remote = RemoteApp(f"http://127.0.0.1:{server.server_address[1]}", scope="api://firestop/.default")
    monkeypatch.setattr(remote, "_bearer", lambda: "test-token")
    try:
        yield remote
    finally:
        server.shutdown()
        server.server_close()

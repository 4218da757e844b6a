"""Stopping the local servers returns at once, not after the loop's next poll (firestop/runtime/wakeup.py).

Each loop runs with a 30 s poll interval: before the wake-up, ``shutdown()`` waited for that poll to end."""

from __future__ import annotations

import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from firestop.runtime.httpserver import BoundedHTTPServer, Limits, make_handler
from firestop.runtime.wakeup import PromptShutdownMixin

POLL = 30.0


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        return


class _Prompt(PromptShutdownMixin, ThreadingHTTPServer):
    pass


def _servers():
    return [("mixin", lambda: _Prompt(("127.0.0.1", 0), _Ok)),
            ("bounded", lambda: BoundedHTTPServer(("127.0.0.1", 0), make_handler(lambda *a: (200, {}, b"ok")), Limits(workers=2)))]


@pytest.mark.parametrize("make", [m for _, m in _servers()], ids=[n for n, _ in _servers()])
def test_shutdown_returns_at_once_and_answers_before_it_are_whole(make):
    server = make()
    loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True)
    loop.start()
    try:
        for _ in range(3):  # served while running (the wake-up socket is not mistaken for a connection)
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/x", timeout=30) as answer:
                assert answer.status == 200 and answer.read() == b"ok"
        started = time.monotonic()
        server.shutdown()
        loop.join(POLL)
        assert not loop.is_alive()
        assert time.monotonic() - started < POLL / 3, "shutdown waited for the poll interval"
    finally:
        server.server_close()


@pytest.mark.parametrize("make", [m for _, m in _servers()], ids=[n for n, _ in _servers()])
def test_a_shutdown_before_the_loop_runs_makes_it_return_and_a_second_loop_serves_and_stops(make):
    server = make()
    try:
        server.shutdown()  # nothing running: returns; the loop started next returns at once
        first = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True)
        first.start()
        first.join(POLL / 3)
        assert not first.is_alive()
        second = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True)
        second.start()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/x", timeout=30) as answer:
            assert answer.read() == b"ok"
        started = time.monotonic()
        server.shutdown()
        second.join(POLL)
        assert not second.is_alive() and time.monotonic() - started < POLL / 3
    finally:
        server.server_close()


def test_a_server_that_cannot_bind_leaves_no_wakeup_socket_open(monkeypatch):
    from firestop.runtime import wakeup

    made: list[wakeup.Wakeup] = []

    class Kept(wakeup.Wakeup):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    taken = _Prompt(("127.0.0.1", 0), _Ok)
    try:
        monkeypatch.setattr(wakeup, "Wakeup", Kept)
        with pytest.raises(OSError):
            _Prompt(("127.0.0.1", taken.server_address[1]), _Ok)
        assert len(made) == 1 and made[0].reader.fileno() == -1 and made[0]._writer.fileno() == -1
    finally:
        taken.server_close()

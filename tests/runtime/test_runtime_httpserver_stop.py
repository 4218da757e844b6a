"""Stopping ``firestop serve``'s HTTP server waits for answers already written to be logged
(firestop/runtime/httpserver.py, ``BoundedHTTPServer.answering`` / ``server_close``)."""

from __future__ import annotations

import logging
import threading
import urllib.request

from firestop.runtime.httpserver import BoundedHTTPServer, Limits, make_handler


class _HeldHandler(logging.Handler):
    """Records ``request`` lines; the first one waits for ``unblock`` (a log writer that is slow right then)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.entered = threading.Event()
        self.unblock = threading.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entered.set()
        assert self.unblock.wait(30)
        self.lines.append(record.getMessage())


def test_server_close_waits_for_the_line_of_an_answer_the_client_already_has():
    server = BoundedHTTPServer(("127.0.0.1", 0), make_handler(lambda *a: (200, {}, b"{}")), Limits(workers=2))
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    held = _HeldHandler()
    logger = logging.getLogger("firestop.http")
    level = logger.level
    logger.setLevel(logging.INFO)  # setLevel clears the loggers' isEnabledFor cache; assigning .level does not
    logger.addHandler(held)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ping", timeout=30) as answer:
            assert answer.status == 200 and answer.read() == b"{}"  # the client has its answer ...
        assert held.entered.wait(30)  # ... and the line is being written, held
        server.shutdown()
        closer = threading.Thread(target=server.server_close, kwargs={"grace": 30.0})
        closer.start()
        closer.join(0.3)
        assert closer.is_alive(), "server_close returned while an answered request's line was still unwritten"
        held.unblock.set()
        closer.join(30)
        assert not closer.is_alive()
        assert len(held.lines) == 1 and "status=200" in held.lines[0]
    finally:
        held.unblock.set()
        logger.removeHandler(held)
        logger.setLevel(level)

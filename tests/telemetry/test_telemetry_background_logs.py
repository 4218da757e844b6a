"""``firestop serve``'s log lines are written by a thread of their own: a stream that blocks (a pipe whose reader
lags) holds up no thread that logs, and every line still arrives, in order, formatted as the synchronous handler
formats it."""

from __future__ import annotations

import io
import logging
import threading

from firestop.telemetry.logs import BackgroundStreamHandler, configure_logging, event, register_secret


class _HeldStream(io.StringIO):
    """A stream whose writes wait until ``go`` is set (a full pipe); ``entered`` is set at the first write."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        assert self.go.wait(10), "the test never released the stream"
        return super().write(text)


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def test_a_blocked_stream_holds_up_no_thread_that_logs_and_every_line_arrives_in_order():
    stream = _HeldStream()
    handler = BackgroundStreamHandler(stream, max_lines=100)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = _logger("firestop.test-background", handler)
    try:
        logger.info("line 0")
        assert stream.entered.wait(10)  # the writer is stuck in the stream's write
        finished = threading.Event()

        def log_more() -> None:  # a server thread writing its request lines
            for i in range(1, 50):
                logger.info("line %d", i)
            finished.set()

        threading.Thread(target=log_more, daemon=True).start()
        assert finished.wait(10), "a thread that logs waited for the blocked stream"
        assert stream.getvalue() == ""  # nothing written yet: the stream is still blocked
        stream.go.set()
        handler.flush()  # returns once every line logged before it is written
        assert stream.getvalue().splitlines() == [f"line {i}" for i in range(50)]
    finally:
        stream.go.set()
        handler.close()
        logger.handlers[:] = []


def test_a_full_queue_makes_the_logging_thread_wait_never_drops():
    stream = _HeldStream()
    handler = BackgroundStreamHandler(stream, max_lines=5)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = _logger("firestop.test-background-full", handler)
    try:
        logger.info("first")
        assert stream.entered.wait(10)
        for i in range(5):  # fills the queue while the writer holds "first"
            logger.info("queued %d", i)
        done = threading.Event()
        threading.Thread(target=lambda: (logger.info("sixth"), done.set()), daemon=True).start()
        assert not done.wait(0.2)  # bounded: the sixth waits for room (a bounded wait, only to see it has not returned)
        stream.go.set()
        assert done.wait(10)
        handler.flush()
        assert stream.getvalue().splitlines() == ["first", *(f"queued {i}" for i in range(5)), "sixth"]
    finally:
        stream.go.set()
        handler.close()
        logger.handlers[:] = []


def test_configure_logging_background_formats_as_the_synchronous_handler_and_close_writes_the_rest():
    register_secret("bg-s3cr3t-value-registered")
    lines = {}
    for background in (False, True):
        stream = io.StringIO()
        handler = configure_logging(stream, fmt="text", loggers=("firestop.test-bg-format",), background=background)
        assert isinstance(handler, BackgroundStreamHandler) is background
        logger = logging.getLogger("firestop.test-bg-format")
        logger.propagate = False
        event(logger, "request", {"path": "/api/x\nINFO forged", "detail": "token bg-s3cr3t-value-registered"})
        handler.close()  # logging.shutdown at exit does flush + close: what was logged is written
        logger.removeHandler(handler)
        lines[background] = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]  # without the time
    assert lines[True] == lines[False] and len(lines[True]) == 1
    assert "forged" in lines[True][0] and "\nINFO" not in lines[True][0] and "bg-s3cr3t" not in lines[True][0]


def test_reconfiguring_closes_the_previous_background_writer():
    first = configure_logging(io.StringIO(), fmt="text", loggers=("firestop.test-bg-again",), background=True)
    second = configure_logging(io.StringIO(), fmt="text", loggers=("firestop.test-bg-again",), background=True)
    try:
        assert not first._writer.is_alive() and second._writer.is_alive()
        assert logging.getLogger("firestop.test-bg-again").handlers == [second]
    finally:
        second.close()
        logging.getLogger("firestop.test-bg-again").removeHandler(second)

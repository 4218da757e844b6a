"""The Durable SDK client's HTTP calls to a management endpoint in this process, without a socket.

The SDK's ``DurableOrchestrationClient`` sends every call (``get_status``,
``start_new``, ``signal_entity``, …) through one module-global
``aiohttp.ClientSession`` (``azure.durable_functions.models.utils.http_utils``),
to the ``rpcBaseUrl`` of its binding. Inside ``firestop serve`` and the
in-process harness that URL is a loopback :class:`~firestop.runtime.management.ManagementServer`
in the same process, so each call was a loopback TCP round trip through a
second ``http.server`` thread — 2–3 per alert webhook, most of a storm's time.

:class:`InProcessConnector` is an ``aiohttp.TCPConnector`` whose connections
to a **registered origin** (``http://127.0.0.1:<port>`` of a running
ManagementServer, :func:`register`) are an in-memory transport: the request
bytes aiohttp writes (built by the SDK and aiohttp, unchanged) are parsed
here, answered by the server's own :meth:`~firestop.runtime.management.ManagementServer.answer_bytes`
on a thread of the loop's default executor (SQLite work, possibly waiting on
another process's write lock, never blocks the worker loop) — or, for a read
while the host's store lock is free, right on the loop — and the HTTP/1.1
response bytes are fed to aiohttp's own parser. Request building, status
handling and JSON parsing stay the SDK's and aiohttp's; only the socket is
gone. Any other origin goes over TCP as before.

:func:`ensure_session` (called on the worker loop before each function
invocation) makes the SDK's shared session one with this connector — with
the SDK's own timeout and connection limits — if it is not already (first
use, or the SDK closed it after a connection error); nothing of the SDK is
patched or replaced.

Same semantics as over the socket: the loopback listener still runs (links
handed out, other clients), the path secret is checked the same way, and
cross-process work still meets in the shared SQLite store.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from http import HTTPStatus
from typing import Any, Callable

import aiohttp
from aiohttp.client_proto import ResponseHandler
from multidict import CIMultiDict

from . import sdk_http  # (stdlib only; the SDK's own module is still loaded on demand by sdk_http.module())

#: ``answer(method, path, headers, body) -> (status, headers, body bytes)``; path includes the query.
Answer = Callable[[str, str, Any, bytes], "tuple[int, dict[str, str], bytes]"]

_lock = threading.Lock()
_endpoints: dict[tuple[str, int], "tuple[Answer, Answer | None]"] = {}
#: Open in-memory connections per origin: closed when the origin is unregistered, so a kept-alive pooled
#: connection never reaches a stopped server (or a new one that later gets the same port).
_connections: "dict[tuple[str, int], weakref.WeakSet[_InProcessTransport]]" = {}
#: Largest request the in-memory transport buffers (bytes; the management routes take ≤ 1 MiB bodies).
MAX_REQUEST = 4 << 20


def register(host: str, port: int, answer: Answer, answer_now: Answer | None = None) -> None:
    """Serve ``http://host:port`` in-process with ``answer`` (a ManagementServer's :meth:`answer_bytes`, run on
    an executor thread). ``answer_now``: tried first on the event loop; returns None when it would have to wait
    (then ``answer`` runs on the executor) — a ManagementServer's :meth:`answer_now`, for reads."""
    with _lock:
        _endpoints[(host, port)] = (answer, answer_now)


def unregister(host: str, port: int) -> None:
    with _lock:
        _endpoints.pop((host, port), None)
        open_ = list(_connections.pop((host, port), ()))
    for transport in open_:
        transport.close_threadsafe()


def endpoint(host: str | None, port: int | None) -> "tuple[Answer, Answer | None] | None":
    if host is None or port is None:
        return None
    return _endpoints.get((host, port))


class _InProcessTransport(asyncio.Transport):
    """One keep-alive "connection": buffers a request, answers it, feeds the response to the protocol."""

    def __init__(self, answers: "tuple[Answer, Answer | None]", protocol: ResponseHandler,
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._answer, self._answer_now = answers
        self._protocol = protocol
        self._loop = loop
        self._buffer = bytearray()
        self._busy = False
        self._closing = False

    # -- what aiohttp calls -------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._buffer += data
        self._maybe_dispatch()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def close_threadsafe(self) -> None:
        """:meth:`close` from any thread (the endpoint was unregistered)."""
        if not self._closing:
            self._closing = True
            try:
                self._loop.call_soon_threadsafe(self._protocol.connection_lost, None)
            except RuntimeError:  # the loop is closed: nothing left to tell
                pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return not self._closing

    def can_write_eof(self) -> bool:
        return False

    # -- requests -------------------------------------------------------------
    def _maybe_dispatch(self) -> None:
        if self._busy:
            return
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_REQUEST:
                self._reply(431, {}, b"", close=True)
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, _version = head[0].split(" ", 2)
        except ValueError:
            self._reply(400, {}, b"", close=True)
            return
        headers: CIMultiDict[str] = CIMultiDict()
        for line in head[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                self._reply(400, {}, b"", close=True)
                return
            headers.add(name.strip(), value.strip())
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            self._reply(411, {}, b"", close=True)  # the SDK posts json= bodies, always with a Content-Length
            return
        try:
            length = int(headers.get("Content-Length") or 0)
        except ValueError:
            self._reply(400, {}, b"", close=True)
            return
        if length < 0 or length > MAX_REQUEST:
            self._reply(413, {}, b"", close=True)
            return
        start = end + 4
        if len(self._buffer) < start + length:
            return  # the body is still being written
        body = bytes(self._buffer[start:start + length])
        del self._buffer[:start + length]
        self._busy = True
        now = None
        if self._answer_now is not None:
            try:
                now = self._answer_now(method, target, headers, body)
            except Exception:  # noqa: BLE001 - answered on the executor instead, which reports it
                now = None
        if now is not None:
            future: asyncio.Future = self._loop.create_future()
            future.set_result(now)
        else:
            future = self._loop.run_in_executor(None, self._answer, method, target, headers, body)
        future.add_done_callback(self._answered)  # called soon, never inside this write

    def _answered(self, future: "asyncio.Future[tuple[int, dict[str, str], bytes]]") -> None:
        self._busy = False
        if self._closing:
            return
        if future.cancelled() or future.exception() is not None:
            self._reply(500, {}, b"", close=True)
            return
        code, headers, body = future.result()
        self._reply(code, headers, body)
        if self._buffer and not self._closing:
            self._maybe_dispatch()

    def _reply(self, code: int, headers: dict[str, str], body: bytes, *, close: bool = False) -> None:
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {code} {reason}"]
        if not any(k.lower() == "content-type" for k in headers):
            lines.append("Content-Type: application/json; charset=utf-8")
        for key, value in headers.items():
            if key.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            lines.append(f"{key}: {str(value).replace(chr(13), ' ').replace(chr(10), ' ')}")
        lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
            self._buffer.clear()
        self._protocol.data_received(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        if close:
            self.close()


class InProcessConnector(aiohttp.TCPConnector):
    """A TCPConnector that reaches :func:`register`-ed origins in memory (module docstring)."""

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> ResponseHandler:
        answers = None if req.proxy or req.is_ssl() else endpoint(req.url.raw_host, req.port)
        if answers is None:
            return await super()._create_connection(req, traces, timeout)
        protocol = ResponseHandler(self._loop)
        transport = _InProcessTransport(answers, protocol, self._loop)
        key = (req.url.raw_host, req.port)
        with _lock:
            if _endpoints.get(key) is not answers:  # unregistered meanwhile
                raise aiohttp.ClientConnectionError(f"in-process endpoint {key} is gone")
            _connections.setdefault(key, weakref.WeakSet()).add(transport)
        protocol.connection_made(transport)
        return protocol


async def ensure_session() -> None:
    """On the worker loop: make the Durable SDK's shared client session one with :class:`InProcessConnector`.

    Same timeout and limits as the SDK's ``http_utils._get_session`` (4 min total, 10 s connect, 30
    connections). A session the SDK made itself (its own TCPConnector, before this ran) is
    closed here before it is replaced.
    """
    http_utils = sdk_http.module()  # the SDK's own module, never the stand-in (sdk_http.py)
    current = getattr(http_utils, "_client_session", None)
    if current is not None and not current.closed and isinstance(current.connector, InProcessConnector):
        return
    if current is not None and not current.closed:
        await current.close()
    http_utils._client_session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=240, sock_connect=10, sock_read=None),
        connector=InProcessConnector(limit=30, limit_per_host=30, enable_cleanup_closed=True))

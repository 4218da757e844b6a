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

:class:`InProcessSession` (what :func:`ensure_session` installs) goes one step further for the SDK's own calls:
its ``get``/``post``/``delete`` to a registered origin skip aiohttp's request and response machinery (yarl
URL, ``ClientRequest``, writer, ``ResponseHandler`` and parser, ``ClientResponse``) and hand the same request —
the target aiohttp would send (``yarl.URL(url).raw_path_qs``), the SDK's headers, ``json=`` serialised as
aiohttp does (``json.dumps`` encoded UTF-8, ``Content-Type: application/json``) — to the same
``answer_now``/``answer`` the in-memory transport calls, and give back an object with what the SDK and
:mod:`firestop.instance_listing` read of a response (``status``, ``headers``, ``json(content_type=None)``:
``None`` for an empty body, as aiohttp). A status read through the SDK client cost ~820 µs of the worker
loop's CPU that way against ~170 µs for the host's read itself (``bench``: timeit on the loop, load ~5);
a hot incident reads its status once per batch of joined alerts, a storm once per alert. Any other origin,
or a call with arguments it does not take (``data=``, ``params=``, …), goes through the inner aiohttp session
(this connector) unchanged; an origin unregistered meanwhile is looked up per request, so a stopped server is
never answered for.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from http import HTTPStatus
from typing import Any, Callable

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.http import SERVER_SOFTWARE
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

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


#: The SDK's session settings (``http_utils._get_session``, azure-functions-durable 1.7.0): 4 minutes in all for a
#: call, 30 connections per host — so at most 30 calls in flight to one origin.
SESSION_TOTAL_SECONDS = 240.0
SESSION_LIMIT = 30
#: What aiohttp's ClientSession adds to every request (``ClientRequest.DEFAULT_HEADERS``, ``User-Agent``).
_DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": SERVER_SOFTWARE}


class _Answered:
    """An answer of a registered origin, with what the SDK and :mod:`firestop.instance_listing` read of an aiohttp
    ``ClientResponse``: ``status``, ``headers`` (case-insensitive), ``read``/``text``/``json``. Also its own async
    context manager (``async with session.get(...) as response``)."""

    __slots__ = ("status", "headers", "_body", "method", "url")

    def __init__(self, method: str, url: URL, status: int, headers: dict[str, str], body: bytes) -> None:
        out: CIMultiDict[str] = CIMultiDict()
        if not any(k.lower() == "content-type" for k in headers):
            out["Content-Type"] = "application/json; charset=utf-8"
        for key, value in headers.items():  # as the in-memory transport writes them (_InProcessTransport._reply)
            if key.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            out.add(key, str(value).replace("\r", " ").replace("\n", " "))
        out["Content-Length"] = str(len(body))
        self.method, self.url, self.status, self._body = method, url, status, body
        self.headers = CIMultiDictProxy(out)

    @property
    def ok(self) -> bool:
        return self.status < 400

    def _encoding(self) -> str:
        """The Content-Type's charset, else UTF-8 (every answer here is JSON: RFC 7159's default, as aiohttp)."""
        for param in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"'):
                return value.strip().strip('"')
        return "utf-8"

    async def read(self) -> bytes:
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        return self._body.decode(encoding or self._encoding(), errors=errors)

    async def json(self, *, encoding: str | None = None, loads: Callable[[str], Any] = json.loads,
                   content_type: str | None = "application/json") -> Any:
        """aiohttp's ``ClientResponse.json``: ``None`` for a blank body; ``content_type=None`` skips the media type
        check (the SDK's calls); ValueError for a body that is not JSON."""
        if content_type:
            media = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if content_type not in media:
                raise aiohttp.ContentTypeError(None, (), status=self.status, headers=self.headers,
                                               message=f"Attempt to decode JSON with unexpected mimetype: {media}")
        stripped = self._body.strip()
        if not stripped:
            return None
        return loads(stripped.decode(encoding or self._encoding()))

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def __aenter__(self) -> "_Answered":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Call:
    """``session.get(...)`` of a registered origin: awaitable, and an async context manager, as aiohttp's is."""

    __slots__ = ("_coro", "_answer")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._answer: _Answered | None = None

    def __await__(self) -> Any:
        return self._coro.__await__()

    async def __aenter__(self) -> _Answered:
        self._answer = await self._coro
        return self._answer

    async def __aexit__(self, *exc: object) -> None:
        return None


class InProcessSession:
    """The Durable SDK's shared session (module docstring): calls to a :func:`register`-ed origin answered in
    memory without aiohttp's client machinery, every other call through ``inner`` (an ``aiohttp.ClientSession``
    with :class:`InProcessConnector`). Create it on the event loop that will use it."""

    def __init__(self, inner: aiohttp.ClientSession, *, total: float = SESSION_TOTAL_SECONDS,
                 limit: int = SESSION_LIMIT) -> None:
        self._inner = inner
        self._total = total
        self._slots = asyncio.Semaphore(limit)
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self._inner.closed

    @property
    def connector(self) -> Any:
        return self._inner.connector

    async def close(self) -> None:
        self._closed = True
        await self._inner.close()

    def get(self, url: Any, **kwargs: Any) -> Any:
        return self._request("GET", url, kwargs)

    def post(self, url: Any, **kwargs: Any) -> Any:
        return self._request("POST", url, kwargs)

    def delete(self, url: Any, **kwargs: Any) -> Any:
        return self._request("DELETE", url, kwargs)

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        return self._request(method.upper(), url, kwargs)

    def _request(self, method: str, url: Any, kwargs: dict[str, Any]) -> Any:
        answers, target = None, None
        if not self.closed and set(kwargs) <= {"headers", "json"}:
            try:
                target = URL(url)  # what aiohttp builds (ClientSession._build_url): the same normalised path
            except (TypeError, ValueError):
                target = None
            if target is not None and target.scheme == "http" and target.raw_host:
                answers = endpoint(target.raw_host, target.port)
        if answers is None or target is None:
            return getattr(self._inner, method.lower())(url, **kwargs) if method in ("GET", "POST", "DELETE") \
                else self._inner.request(method, url, **kwargs)
        return _Call(self._answer(answers, method, target, kwargs.get("headers"), kwargs.get("json")))

    async def _answer(self, answers: "tuple[Answer, Answer | None]", method: str, url: URL, headers: Any,
                      payload: Any) -> _Answered:
        head: CIMultiDict[str] = CIMultiDict(_DEFAULT_HEADERS)  # the headers aiohttp adds, then the caller's
        head["Host"] = url.host_port_subcomponent or ""  # as aiohttp: no port when it is the default one
        for key, value in (headers or {}).items():
            head[key] = value
        body = b""
        if payload is not None:  # aiohttp's JsonPayload: json.dumps, UTF-8, application/json, a Content-Length
            body = json.dumps(payload).encode("utf-8")
            head["Content-Type"] = "application/json"
        if body or method not in ("GET", "HEAD", "OPTIONS", "TRACE"):  # aiohttp: Content-Length 0 on an empty POST
            head["Content-Length"] = str(len(body))
        path = url.raw_path_qs  # the request target aiohttp writes (ClientRequest.send), no fragment
        if len(body) > MAX_REQUEST:
            return _Answered(method, url, 413, {}, b"")
        answer, answer_now = answers
        async with self._slots:
            now = None
            if answer_now is not None:
                try:
                    now = answer_now(method, path, head, body)
                except Exception:  # noqa: BLE001 - answered on the executor instead, which reports it
                    now = None
            if now is None:
                loop = asyncio.get_running_loop()
                try:
                    now = await asyncio.wait_for(loop.run_in_executor(None, answer, method, path, head, body),
                                                 self._total)
                except asyncio.TimeoutError:
                    raise
                except Exception:  # noqa: BLE001 - as the transport: a 500 with an empty body
                    now = (500, {}, b"")
        code, out_headers, data = now
        return _Answered(method, url, code, out_headers, data)


async def ensure_session() -> None:
    """On the worker loop: make the Durable SDK's shared client session an :class:`InProcessSession` (its inner
    aiohttp session with :class:`InProcessConnector`).

    Same timeout and limits as the SDK's ``http_utils._get_session`` (4 min total, 10 s connect, 30
    connections). A session the SDK made itself (its own TCPConnector, before this ran) is
    closed here before it is replaced.
    """
    http_utils = sdk_http.module()  # the SDK's own module, never the stand-in (sdk_http.py)
    current = getattr(http_utils, "_client_session", None)
    if current is not None and not current.closed and isinstance(current, InProcessSession):
        return
    if current is not None and not current.closed:
        await current.close()
    http_utils._client_session = InProcessSession(aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=SESSION_TOTAL_SECONDS, sock_connect=10, sock_read=None),
        connector=InProcessConnector(limit=SESSION_LIMIT, limit_per_host=SESSION_LIMIT, enable_cleanup_closed=True)))

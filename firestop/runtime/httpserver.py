"""The HTTP server mechanics ``firestop serve`` stands on: bounded, timed, answering 4xx to abuse.

:class:`BoundedHTTPServer` replaces ``ThreadingHTTPServer`` (a thread per
connection, listen backlog 5) with:

* **a bounded worker pool** — ``Limits.workers`` threads handle connections;
  up to ``Limits.queued`` more accepted connections wait for a worker; beyond
  that the server stops accepting, so further connections wait in the kernel's
  listen queue (never an unbounded number of threads);
* **a listen backlog** of ``Limits.backlog`` (1,024; Linux caps it at
  ``net.core.somaxconn``, 4,096 by default since kernel 5.4), so a burst of
  1,000 connections is queued, not reset (``socketserver``'s default is 5);
* **read deadlines** — the request line and headers must arrive within
  ``Limits.header_timeout`` seconds of the connection being picked up (the
  next request on a kept-alive connection within ``Limits.idle_timeout``):
  a reaper thread shuts the socket down when the deadline passes, however
  slowly the bytes drip in. The body must arrive within
  ``Limits.body_timeout`` (answer **408**); a ``Content-Length`` over
  ``Limits.max_body_bytes`` is refused before reading (**413**), chunked
  bodies get **411** (send ``Content-Length``);
* **TCP_NODELAY** on every accepted socket, and each response written in one
  ``send`` (status line, headers and body together): ``BaseHTTPRequestHandler``
  writes headers and body separately, and with Nagle's algorithm the body of a
  kept-alive connection then waits for the client's delayed ACK (~40 ms on Linux);
* **a decision before the body** — ``make_handler(..., precheck=)`` calls
  ``precheck(method, raw path, headers, peer)`` once the headers are in and
  *before* the body is read: a response it returns is sent at once and the
  connection closed, so a caller without a key (or on an unknown route)
  cannot hold a worker for ``body_timeout`` by announcing a body it never sends;
* **a cap per peer** — at most ``Limits.per_peer`` (16, half the default
  workers) connections from one remote address are open at a time; one more is
  answered **503** with ``Retry-After: 1`` by the accepting thread (no worker)
  and closed, so one peer cannot hold every worker. A connection counts until
  the worker has closed it, so a client that opens its next connection the
  moment an answer arrives may briefly count one more than it holds (hence a
  cap well above an ordinary client's parallelism). Behind a proxy every
  client shares the proxy's address: raise the cap there with
  ``FIRESTOP_SERVE_PER_PEER`` (an integer >= 1; read when ``Limits`` is built;
  ``bench/intake.py storm``, 50 senders on one loopback address, sets it). Every loopback address is one peer
  (:func:`peer_key`: 127.0.0.2, 127.0.0.3 … and ``::1`` are the same machine, so a local client cannot spread its
  connections over 127.0.0.0/8 to pass the cap), an IPv4-mapped IPv6 address is its IPv4 address, and every IPv6
  address of one /64 is one peer;
* **one log line per request** — a ``request`` line (method, path without the query string, status, ms, the
  caller the function's trust gate believed) once the answer is written, for every answer including the 4xx of
  this layer and ``precheck`` (:mod:`firestop.telemetry.requests`; 499 when the client left before its body);
* **JSON errors** — every error the protocol layer raises (400 bad request
  line, 408, 411, 413, 414 URI too long, 431 headers too large, 405 an unknown
  method) is ``{"error", "reason", "status"}`` JSON, never an HTML page and never
  a 5xx for something the client sent (an unknown method is a 405, not 501).

:func:`make_handler` wraps an ``answer(method, path, headers, body) ->
(status, headers, body)`` callable into a handler class using all of the above.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
import os
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Iterator

from firestop.telemetry.requests import RequestNote, close_note, open_note

from .wakeup import Wakeup

log = logging.getLogger("firestop.serve")

__all__ = ["BoundedHTTPServer", "Limits", "error_body", "make_handler"]


PER_PEER_ENV = "FIRESTOP_SERVE_PER_PEER"


#: The key :func:`peer_key` gives every loopback address (what ``per_peer`` counts and the 503 names).
LOOPBACK_PEER = "loopback"


def peer_key(address: Any) -> str:
    """The peer a connection from ``address`` (the socket's remote host: ``"203.0.113.7"``, ``"::1"`` …) counts
    against: :data:`LOOPBACK_PEER` for any loopback address (127.0.0.0/8 — RFC 1122 §3.2.1.3: every address of
    that block is this host — and ``::1``, also IPv4-mapped), an IPv4-mapped IPv6 address's IPv4 address, an IPv6
    address's /64 (``"2001:db8::/64"``: one host or LAN holds a whole /64 — RFC 4291 §2.5.1's 64-bit interface
    identifiers, SLAAC and privacy addresses, RFC 8981 — so counting each address let one client open unlimited
    connections), else the address as given (text)."""
    import ipaddress

    text = str(address)
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback:
        return LOOPBACK_PEER
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _per_peer_default() -> int:
    """``FIRESTOP_SERVE_PER_PEER`` when set, else 16. Raises ValueError naming the variable for a value that
    is not an integer >= 1."""
    raw = os.environ.get(PER_PEER_ENV, "").strip()
    if not raw:
        return 16
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{PER_PEER_ENV}={raw[:20]!r} is not a number of connections >= 1; set it to e.g. 64, or unset it (16)")
    return value


@dataclass(frozen=True)
class Limits:
    """Bounds of one server. Seconds for timeouts; bytes for sizes."""

    workers: int = 32
    queued: int = 512
    backlog: int = 1024
    header_timeout: float = 5.0
    idle_timeout: float = 5.0
    body_timeout: float = 10.0
    max_body_bytes: int = 4 * 1024 * 1024
    per_peer: int = field(default_factory=_per_peer_default)

    def __post_init__(self) -> None:
        for name in ("workers", "backlog", "max_body_bytes", "per_peer"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.queued < 0:
            raise ValueError("queued must be >= 0")
        for name in ("header_timeout", "idle_timeout", "body_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 seconds")


def error_body(status: int, reason: str, fix: str | None = None) -> bytes:
    """The JSON error body: ``{"error": <status phrase>, "reason", "fix"?, "status"}``."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    body: dict[str, Any] = {"error": phrase, "reason": reason, "status": status}
    if fix:
        body["fix"] = fix
    return json.dumps(body).encode()


class _Reaper:
    """Shuts down sockets whose read deadline passed (one thread for all connections)."""

    def __init__(self, tick: float = 0.1) -> None:
        self._deadlines: dict[socket.socket, float] = {}
        self._closing: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tick = tick
        self._thread = threading.Thread(target=self._run, name="firestop-http-reaper", daemon=True)
        self._thread.start()

    def watch(self, conn: socket.socket, seconds: float) -> None:
        with self._lock:
            self._deadlines[conn] = time.monotonic() + seconds

    def forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._deadlines.pop(conn, None)

    def close_later(self, conn: socket.socket, seconds: float) -> None:
        """Close ``conn`` (already answered) after ``seconds``, so the answer is read before a reset can discard it."""
        with self._lock:
            self._closing[conn] = time.monotonic() + seconds

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            now = time.monotonic()
            with self._lock:
                expired = [c for c, due in self._deadlines.items() if due <= now]
                for conn in expired:
                    del self._deadlines[conn]
                done = [c for c, due in self._closing.items() if due <= now]
                for conn in done:
                    del self._closing[conn]
            for conn in expired:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            for conn in done:
                conn.close()


class BoundedHTTPServer(HTTPServer):
    """``HTTPServer`` with a bounded worker pool, a large backlog, TCP_NODELAY and read deadlines (module docstring)."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.request_queue_size = self.limits.backlog  # read by server_activate() (listen)
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="firestop-http")
        self._slots = threading.BoundedSemaphore(self.limits.workers + self.limits.queued)
        self._count_lock = threading.Lock()
        self.waiting = 0  # accepted connections no worker has picked up yet
        self.active = 0  # connections a worker is handling
        self.per_peer: dict[str, int] = {}  # remote address -> connections accepted and not yet closed
        self.refused = 0  # connections answered 503 for being over Limits.per_peer
        self._answering = 0  # answers being written and logged (see answering())
        self._answered = threading.Condition(self._count_lock)
        self.reaper = _Reaper()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._wakeup = Wakeup()  # shutdown() rings it: the loop's select returns at once, not after poll_interval
        try:
            super().__init__(address, handler)
        except BaseException:
            self._wakeup.close()
            raise

    # accept ------------------------------------------------------------------
    def serve_forever(self, poll_interval: float = 0.1) -> None:
        """Accept while a slot (worker or queue place) is free; otherwise leave connections in the
        kernel's listen queue. Returns after :meth:`shutdown`."""
        import selectors

        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                selector.register(self._wakeup.reader, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    if not self._slots.acquire(timeout=poll_interval):
                        continue
                    ready = selector.select(poll_interval)
                    if not any(key.fileobj is self.socket for key, _ in ready):  # timed out, or shutdown() rang
                        self._slots.release()
                        if ready:
                            self._wakeup.drain()  # (a ring whose stop was already taken must not keep select awake)
                        continue
                    try:
                        conn, client = self.socket.accept()
                    except OSError:
                        self._slots.release()
                        continue
                    self._dispatch(conn, client)
        finally:
            self._stopping.clear()
            self._wakeup.drain()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait for it to return (connections being handled go on): at once when the
        loop waits in ``select`` (:mod:`firestop.runtime.wakeup`), within ``poll_interval`` when every slot is taken."""
        self._stopping.set()
        self._wakeup.ring()
        self._stopped.wait()

    def _dispatch(self, conn: socket.socket, client: Any) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        peer = peer_key(client[0] if isinstance(client, tuple) and client else client)
        with self._count_lock:
            over = self.per_peer.get(peer, 0) >= self.limits.per_peer
            if over:
                self.refused += 1
            else:
                self.per_peer[peer] = self.per_peer.get(peer, 0) + 1
                self.waiting += 1
        if over:
            self._slots.release()
            self._refuse(conn, peer)
            return
        try:
            self._pool.submit(self._work, conn, client)
        except RuntimeError:  # the pool is shut down
            with self._count_lock:
                self.waiting -= 1
                self._left(peer)
            self._slots.release()
            self.shutdown_request(conn)

    def _left(self, peer: str) -> None:
        """One connection of ``peer`` ended (hold ``_count_lock``)."""
        left = self.per_peer.get(peer, 1) - 1
        if left > 0:
            self.per_peer[peer] = left
        else:
            self.per_peer.pop(peer, None)

    def _refuse(self, conn: socket.socket, peer: str) -> None:
        """503 to a connection over the per-peer cap, written without blocking the accepting thread (it fits in
        the socket's send buffer); closed a moment later by the reaper (:meth:`_Reaper.close_later`)."""
        body = error_body(503, f"more than {self.limits.per_peer} connections at once from {peer}",
                          "wait for your other requests to finish, then retry")
        head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Retry-After: 1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        log.info("refused a connection from %r: over %d at once", peer, self.limits.per_peer)
        try:
            conn.setblocking(False)
            conn.send(head + body)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            conn.close()
            return
        self.reaper.close_later(conn, 1.0)

    def _work(self, conn: socket.socket, client: Any) -> None:
        with self._count_lock:
            self.waiting -= 1
            self.active += 1
        try:
            self.finish_request(conn, client)
        except Exception:  # noqa: BLE001 - a broken connection ends that connection only
            log.debug("connection from %r failed", client, exc_info=True)
        finally:
            self.reaper.forget(conn)
            self.shutdown_request(conn)
            with self._count_lock:
                self.active -= 1
                self._left(peer_key(client[0] if isinstance(client, tuple) and client else client))
            self._slots.release()

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count an answer from its first byte written until its ``request`` line is logged, so that
        :meth:`server_close` can wait for it: a client that has read its answer then stops the server finds the line."""
        with self._count_lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._answering -= 1
                if not self._answering:
                    self._answered.notify_all()

    def server_close(self, grace: float = 2.0) -> None:
        """Close the listening socket, wait up to ``grace`` seconds for answers being written to be logged (never
        for idle keep-alive connections or requests still being handled), then drop the queued connections."""
        super().server_close()
        self._wakeup.close()
        with self._count_lock:
            self._answered.wait_for(lambda: not self._answering, timeout=grace)
        self.reaper.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)


Answer = tuple[int, dict[str, str], bytes]


def make_handler(answer: Callable[[str, str, Any, bytes, str | None], Answer],
                 *, precheck: Callable[[str, str, Any, str | None], Answer | None] | None = None,
                 server_version: str = "Firestop-serve",
                 hop_by_hop: frozenset[str] = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"}),
                 ) -> type[BaseHTTPRequestHandler]:
    """A handler class calling ``answer(method, raw path, headers, body, peer address)`` for every request whose
    headers and body were read within the server's :class:`Limits` (module docstring). ``precheck(method, raw path,
    headers, peer address)``, when given, runs before the body is read: a ``(status, headers, body)`` it returns is
    the answer (the body is never read; the connection is closed), None lets the request go on."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server: BoundedHTTPServer

        def setup(self) -> None:
            self.timeout = self.server.limits.header_timeout  # per-recv backstop; the reaper bounds the total
            super().setup()
            self._first = True
            self._note = None

        def handle_one_request(self) -> None:
            limits = self.server.limits
            self.server.reaper.watch(self.connection, limits.header_timeout if self._first else limits.idle_timeout)
            self._first = False
            try:
                super().handle_one_request()
            finally:
                self.server.reaper.forget(self.connection)

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # any method token reaches answer(): unknown ones get 404/405 there, not 501
                return self._serve
            raise AttributeError(name)

        # -- reading --------------------------------------------------------
        def _serve(self) -> None:
            self.server.reaper.forget(self.connection)  # headers are in; the body has its own deadline
            self._note = noted = open_note(self.command, self.path)  # the request line: logged by _write (firestop.telemetry)
            try:
                self._serve_noted()
            finally:
                close_note(noted[1])
                if self._note is not None:  # no answer was written: the client went away before sending the body
                    self._log_request(499)

        def _serve_noted(self) -> None:
            limits = self.server.limits
            if precheck is not None:
                try:
                    early = precheck(self.command, self.path, self.headers, self.client_address[0])
                except Exception:  # noqa: BLE001 - precheck owns its errors; this is the last resort
                    log.exception("precheck of %r %r failed", self.command, self.path)
                    early = (500, {}, b"")
                if early is not None:
                    self.close_connection = True  # the body (if any) is never read
                    self._write(*early)
                    self._drain_sent()
                    return
            if self.headers.get("Transfer-Encoding"):
                self._error(411, "chunked or other transfer-encoded bodies are not read", "send the body with a Content-Length header")
                return
            raw_length = self.headers.get_all("Content-Length") or []
            try:
                lengths = {int(v.strip()) for v in raw_length}
            except ValueError:
                lengths = {-1}
            if len(lengths) > 1 or any(n < 0 for n in lengths) or any(not v.strip().isdigit() for v in raw_length):
                self._error(400, "Content-Length is not one non-negative integer", "send one Content-Length: <bytes>")
                return
            length = lengths.pop() if lengths else 0
            if length > limits.max_body_bytes:
                self._error(413, f"a {length:,}-byte body is over the {limits.max_body_bytes:,}-byte limit", "send a smaller body")
                return
            body = self._read_body(length, limits.body_timeout)
            if body is None:
                return
            try:
                status, headers, payload = answer(self.command, self.path, self.headers, body, self.client_address[0])
            except Exception:  # noqa: BLE001 - answer() owns its errors; this is the last resort
                log.exception("request %r %r failed", self.command, self.path)
                status, headers, payload = 500, {}, b""
            if self.server.waiting:
                self.close_connection = True  # others wait for a worker: do not keep this one idle
            self._write(status, headers, payload)

        def _read_body(self, length: int, timeout: float) -> bytes | None:
            deadline = time.monotonic() + timeout
            chunks, remaining = [], length
            try:
                while remaining:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError
                    self.connection.settimeout(left)
                    chunk = self.rfile.read1(min(remaining, 65536))
                    if not chunk:  # the client closed before sending it all
                        self.close_connection = True
                        return None
                    chunks.append(chunk)
                    remaining -= len(chunk)
            except (TimeoutError, socket.timeout):
                self._error(408, f"the body did not arrive within {timeout:g} s ({length - remaining:,} of "
                            f"{length:,} bytes)", "send the whole body promptly, with a correct Content-Length")
                return None
            finally:
                try:
                    self.connection.settimeout(self.server.limits.header_timeout)
                except OSError:
                    pass
            return b"".join(chunks)

        def _drain_sent(self) -> None:
            """Read, without waiting, what the client already sent of a body that will not be used: closing a socket
            with unread data resets it, and a reset can discard the answer before the client reads it."""
            try:
                self.connection.setblocking(False)
                for _ in range(16):
                    if not self.rfile.read1(65536):
                        break
            except (BlockingIOError, OSError, ValueError):
                pass

        # -- writing --------------------------------------------------------
        def _write(self, status: int, headers: dict[str, str], body: bytes) -> None:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = ""
            lines = [f"{self.protocol_version} {status} {phrase}", f"Server: {self.version_string()}",
                     f"Date: {self.date_time_string()}"]
            lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in hop_by_hop]
            lines.append(f"Content-Length: {len(body)}")
            if self.close_connection:
                lines.append("Connection: close")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
            with self.server.answering():
                try:
                    self.wfile.write(head + (b"" if self.command == "HEAD" else body))  # one send: see the module docstring
                    self.wfile.flush()
                finally:
                    self._log_request(status)

        def _log_request(self, status: int) -> None:
            """The one ``request`` line of this request (:mod:`firestop.telemetry.requests`): the note _serve opened,
            or, for an error answered before (a bad request line, 431 …), a note made now."""
            noted = getattr(self, "_note", None)
            self._note = None
            if noted:
                note = noted[0]
            else:  # an error before the request line was parsed: what the client sent stands in for the path
                words = str(getattr(self, "requestline", "") or "").split(" ")
                path = str(getattr(self, "path", "") or "") or (words[1] if len(words) > 1 else words[0])
                note = RequestNote(str(getattr(self, "command", "") or ""), path)
            note.finish(status)

        def _error(self, status: int, reason: str, fix: str | None = None) -> None:
            self.close_connection = True
            self._write(status, {"Content-Type": "application/json; charset=utf-8"}, error_body(status, reason, fix))

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """Protocol-level errors (bad request line, 414, 431 …) as JSON, connection closed."""
            if not hasattr(self, "command") or self.command is None:
                self.command = "GET"
            if not hasattr(self, "request_version"):
                self.request_version = "HTTP/1.1"
            if code == 501:  # BaseHTTPRequestHandler's "unsupported method"
                code = 405
            self._error(code, message or HTTPStatus(code).phrase)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %r", self.address_string(), format % args)  # %r: the request line is the client's text

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            return  # _write logs the structured request line instead

    Handler.server_version = server_version
    return Handler

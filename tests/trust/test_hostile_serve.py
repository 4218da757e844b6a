"""``firestop serve`` under abuse (issue 11, item 10), on real HTTP against the real function app:
dot segments, deep JSON, oversized and slow bodies, slow headers, a connection burst, a route fuzz."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time

import pytest

from firestop.settings import REPO_ROOT

KEY = "bench-abuse-key-0123456789"  # the key bench/abuse.py's requests carry


def _bench():
    spec = importlib.util.spec_from_file_location("bench_abuse", REPO_ROOT / "bench" / "abuse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def serve(firestop_home, request):
    """``firestop serve``'s server on loopback with small limits; ``@pytest.mark.per_peer(N)`` sets its per-peer cap."""
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime.httpserver import Limits
    from firestop.runtime.serve import FunctionsServer

    env = sandbox_environment()
    marker = request.node.get_closest_marker("per_peer")
    header = request.node.get_closest_marker("header_timeout")
    limits = Limits(workers=4, queued=64, backlog=1024, header_timeout=header.args[0] if header else 0.5, idle_timeout=0.5,
                    body_timeout=0.5, max_body_bytes=1 << 20, **({"per_peer": marker.args[0]} if marker else {}))
    server = FunctionsServer(function_app(), env.host, function_key=KEY, port=0, realtime_factor=0, limits=limits).start()
    try:
        yield server
    finally:
        server.stop()
        env.close()


def raw(server, request: bytes, timeout: float = 30.0) -> tuple[int | None, dict]:
    port = server._httpd.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return None, {}
    return int(head.split(b" ")[1]), (json.loads(body) if body.startswith(b"{") else {})


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-functions-key: {KEY}\r\n{extra}Connection: close\r\n\r\n".encode()


@pytest.mark.parametrize("path", ["/api/incidents/.", "/api/incidents/%2e", "/api/incidents/%2E%2e", "/api/incidents/a%2fb",
                                  "/api/incidents/x%00", "/runtime/webhooks/durabletask/instances/.", "/admin/functions/%2e%2e"])
def test_dot_segments_and_encoded_separators_are_a_400_with_a_json_reason(serve, path):
    status, body = raw(serve, get(path))
    assert status == 400 and body["error"] == "path" and body["reason"]


@pytest.mark.parametrize("target", ["http://[/api/alerts", "http://[::1/api/incidents", "https://[x]:1/api/alerts"])
def test_an_absolute_form_target_with_a_broken_ipv6_host_is_a_400_not_a_500(serve, target):
    """Red team 2: urlsplit raised ValueError in the precheck, answered 500 with a traceback, without a key."""
    status, body = raw(serve, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status == 400 and body["error"] == "path"


def test_an_unusable_incident_id_is_a_400_from_the_api(serve):
    from firestop.functions.principal import encode_principal

    status, body = raw(serve, get("/api/incidents/a%3Fb", f"X-MS-CLIENT-PRINCIPAL: {encode_principal('oid-alice')}\r\n"))
    assert status == 400 and body["error"] == "incident_id"


def test_deep_json_and_huge_bodies_are_4xx(serve):
    from firestop.functions.principal import encode_principal

    deep = b"[" * 100_000 + b"]" * 100_000
    head = (f"POST /api/runbooks/network.lock HTTP/1.1\r\nHost: x\r\nx-functions-key: {KEY}\r\nContent-Type: application/json\r\n"
            f"X-MS-CLIENT-PRINCIPAL: {encode_principal('oid-alice')}\r\nContent-Length: {len(deep)}\r\nConnection: close\r\n\r\n")
    status, body = raw(serve, head.encode() + deep)
    assert status == 400 and "nested" in body["reason"]
    alerts = f"POST /api/alerts HTTP/1.1\r\nHost: x\r\nx-functions-key: {KEY}\r\nContent-Length: {len(deep)}\r\nConnection: close\r\n\r\n"
    assert raw(serve, alerts.encode() + deep)[0] == 400
    status, body = raw(serve, f"POST /api/alerts HTTP/1.1\r\nHost: x\r\nx-functions-key: {KEY}\r\nContent-Length: {1 << 40}\r\n\r\n".encode())
    assert status == 413 and body["status"] == 413
    assert raw(serve, f"POST /api/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: {1 << 40}\r\n\r\n".encode())[0] == 401  # no key: 401 first
    chunked = b"POST /api/alerts HTTP/1.1\r\nHost: x\r\nx-functions-key: " + KEY.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert raw(serve, chunked)[0] == 411
    assert raw(serve, b"FOO /api/alerts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 404  # not a 501


def test_slow_bodies_time_out_and_threads_stay_bounded(serve):
    before = threading.active_count()
    port = serve._httpd.server_address[1]
    socks = []
    for _ in range(40):  # ten times the worker pool, 2.5 times the per-peer cap (16)
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(f"POST /api/alerts HTTP/1.1\r\nHost: x\r\nx-functions-key: {KEY}\r\nContent-Length: 100\r\n\r\n0123456789".encode())
        socks.append(s)
    peak = threading.active_count()
    answers = []
    for s in socks:
        data = s.recv(4096)
        answers.append(int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None)
        s.close()
    assert peak - before <= 4 + 1  # the workers (started lazily) — never a thread per connection
    assert answers[:16] == [408] * 16  # the per-peer cap's worth time out ...
    assert answers[16:] == [503] * 24  # ... the rest are refused at once, by the accepting thread


def test_headers_dripping_in_are_cut_at_the_header_deadline(serve):
    port = serve._httpd.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        started = time.monotonic()
        s.sendall(b"GET /api/incidents HTTP/1.1\r\n")
        closed = False
        for _ in range(200):  # one byte every 50 ms: each recv would wait less than the per-read timeout
            try:
                s.sendall(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.05)
        assert closed or s.recv(1) == b""
        assert time.monotonic() - started < 5


# The header deadline runs from the moment a worker picks a connection up. The burst's client writes its 300
# requests from 64 threads; on a loaded 2-core machine one of them could start writing more than the fixture's
# 0.5 s after its connection was picked up, and the reaper then rightly closes it unanswered (CI saw 299 of 300).
# What is judged here is the backlog and the 503s of the per-peer cap, not the deadline (its own test below).
@pytest.mark.header_timeout(30.0)
def test_a_burst_of_connections_gets_no_reset(serve):
    result = _bench().run_burst(serve._httpd.server_address[1], 300)
    assert result == {"connections": 300, "answered": 300, "reset_or_refused": 0}


# A connection counts against the per-peer cap until its worker closes it; on a loaded machine answered-but-not-
# yet-closed ones pile up behind the fuzz's 8 clients. The cap has its own tests (test_attack_serve_slow.py):
# here each request's own answer is judged.
@pytest.mark.per_peer(64)
def test_route_fuzz_is_answered_2xx_or_4xx_only(serve):
    bench = _bench()
    assert bench.KEY == KEY
    result = bench.run_fuzz(serve._httpd.server_address[1], 1000, 8, seed=5, timeout=30)
    assert result["5xx"] == 0 and result["no_answer"] == 0, result["examples"]
    assert set(result["by_class"]) <= {"2xx", "4xx"} and result["by_class"].get("2xx")

"""Slow-body exhaustion of ``firestop serve`` (red-team finding): connections that announce a body and never send
it must not keep an ordinary request waiting — keyless ones are answered before the body is read, and one peer
holds at most ``Limits.per_peer`` connections. Real sockets against the real function app; the bound asserted
(3 s) is well under the 10 s body timeout the attack would otherwise cost."""

from __future__ import annotations

import socket
import time

import pytest

KEY = "slow-body-key-0123456789abc"
SLOW = "POST /api/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"


@pytest.fixture
def serve_with(firestop_home):
    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime.httpserver import Limits
    from firestop.runtime.serve import FunctionsServer

    started = []

    def start(**limits):
        env = sandbox_environment()
        server = FunctionsServer(function_app(), env.host, function_key=KEY, port=0, realtime_factor=0,
                                 limits=Limits(body_timeout=10.0, **limits)).start()
        started.append((server, env))
        return server

    yield start
    for server, env in started:
        server.stop()
        env.close()


def status_of(conn: socket.socket) -> int | None:
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None


def timed_get(port: int, source: str = "127.0.0.1") -> tuple[int | None, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as conn:
        conn.sendall(f"GET /api/alerts/dlv-00000000000000000000000000000000/status HTTP/1.1\r\nHost: 127.0.0.1\r\nx-functions-key: {KEY}\r\n"
                     "Connection: close\r\n\r\n".encode())
        return status_of(conn), time.monotonic() - started


def open_slow(port: int, count: int, key: str | None) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(SLOW.format(key=f"x-functions-key: {key}\r\n" if key else "").encode())
        socks.append(s)
    return socks


def test_keyless_slow_bodies_are_answered_401_without_reading_the_body(serve_with):
    server = serve_with(workers=4, per_peer=100)  # the cap out of the way: the precheck alone must hold
    port = server._httpd.server_address[1]
    socks = open_slow(port, 40, key=None)
    try:
        status, took = timed_get(port)
        assert status == 403 and took < 3.0, took  # the status route answered (no token), not stuck
        started = time.monotonic()
        assert [status_of(s) for s in socks] == [401] * 40
        assert time.monotonic() - started < 3.0
        # unknown routes and methods a route does not take are answered before the body too
        for line in ("POST /api/nothing-here", "PUT /api/alerts", "POST /admin/functions/tabletop_timer"):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(f"{line} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-functions-key: {KEY}\r\nContent-Length: 1000\r\n\r\n".encode())
                started = time.monotonic()
                assert status_of(s) in (401, 404) and time.monotonic() - started < 3.0, line
    finally:
        for s in socks:
            s.close()


def test_one_peer_holds_at_most_per_peer_connections(serve_with):
    server = serve_with(workers=16, per_peer=8)
    port = server._httpd.server_address[1]
    socks = open_slow(port, 40, key=KEY)  # a key-holding peer: past the precheck, into the body wait
    try:
        started = time.monotonic()
        refused = []
        for s in socks[8:]:
            s.settimeout(3.0)
            head = s.recv(4096)
            refused.append(head)
        assert time.monotonic() - started < 3.0
        assert all(h.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in h for h in refused), refused[:1]
        assert server._httpd.per_peer.get("loopback") == 8 and server._httpd.refused >= 32
        # 127.0.0.2, 127.0.0.3 …: the same machine, the same peer — spreading over 127.0.0.0/8 does not pass the cap
        for source in ("127.0.0.2", "127.0.0.3", "127.1.2.3"):
            with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as other:
                other.settimeout(3.0)
                assert other.recv(4096).startswith(b"HTTP/1.1 503 "), source
        assert server._httpd.per_peer.get("loopback") == 8 and set(server._httpd.per_peer) == {"loopback"}
    finally:
        for s in socks:
            s.close()


def test_every_loopback_address_is_one_peer_and_other_addresses_their_own():
    from firestop.runtime.httpserver import LOOPBACK_PEER, peer_key

    assert {peer_key(a) for a in ("127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.9")} == {LOOPBACK_PEER}
    assert peer_key("203.0.113.7") == "203.0.113.7" != peer_key("203.0.113.8")
    assert peer_key("::ffff:203.0.113.7") == "203.0.113.7"  # the same IPv4 client over a dual-stack socket
    # leftovers10: an IPv6 peer counts as its /64 (one host's or LAN's: its addresses are free to pick), not per address
    assert peer_key("2001:db8::1") == peer_key("2001:db8::ffff:1:2:3") == "2001:db8::/64" != peer_key("2001:db8:0:1::1")
    assert peer_key("fe80::1%eth0") == "fe80::/64" and peer_key("not an address") == "not an address"


def test_per_peer_cap_from_the_environment(monkeypatch):
    """Behind a proxy (or a storm bench on loopback) every client shares one address: the cap is raised with
    FIRESTOP_SERVE_PER_PEER; anything but an integer >= 1 is refused naming the variable."""
    from firestop.runtime.httpserver import PER_PEER_ENV, Limits

    monkeypatch.delenv(PER_PEER_ENV, raising=False)
    assert Limits().per_peer == 16
    monkeypatch.setenv(PER_PEER_ENV, "64")
    assert Limits().per_peer == 64 and Limits(per_peer=3).per_peer == 3
    for bad in ("0", "-2", "many", "1e9"):
        monkeypatch.setenv(PER_PEER_ENV, bad)
        with pytest.raises(ValueError, match=PER_PEER_ENV):
            Limits()

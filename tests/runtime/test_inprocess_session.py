"""InProcessSession: the SDK's calls to a ManagementServer of this process answered without aiohttp's client
machinery — the same request reaches the same answer functions as through aiohttp's in-memory connection, and it
refuses what that path refuses (firestop.runtime.inprocess)."""

from __future__ import annotations

import asyncio
import json
import threading

import aiohttp
import pytest

from firestop.runtime import LocalDurableHost, ManagementServer, inprocess
from tests.runtime.test_runtime_management import app


def _both(coro_of):
    """Run ``coro_of(session)`` with the aiohttp session (InProcessConnector) and with an InProcessSession around
    another one; ``(aiohttp's result, the session's)``."""

    async def run():
        async with aiohttp.ClientSession(connector=inprocess.InProcessConnector()) as plain:
            long_way = await coro_of(plain)
        session = inprocess.InProcessSession(aiohttp.ClientSession(connector=inprocess.InProcessConnector()))
        try:
            short_cut = await coro_of(session)
        finally:
            await session.close()
        assert session.closed
        return long_way, short_cut

    return asyncio.run(run())


@pytest.fixture
def served(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    server = ManagementServer(host, path_secret="rpc-secret").start()
    server._httpd.shutdown()  # the socket stops answering: what follows can only be served in memory
    yield host, server
    server.stop()
    host.close()


def test_the_same_request_reaches_the_answer_function(monkeypatch):
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def answer(method, path, headers, body):
        seen.append((method, path, {k.lower(): v for k, v in headers.items()}, body))
        return 202, {"Location": "http://x/y", "x-ms-continuation-token": "t1"}, b'{"ok": "\\u00e9"}'

    inprocess.register("127.0.0.9", 4567, answer)
    try:
        async def calls(session):
            out = []
            for method, url, kwargs in [
                ("get", "http://127.0.0.9:4567/rpc/instances/a b/../c%2Fd?showInput=False#frag", {}),
                ("post", "http://127.0.0.9:4567/rpc/entities/incident_alerts/inc-1?op=add",
                 {"json": json.dumps({"count": 1, "alerts": ["é"]})}),
                ("post", "http://127.0.0.9:4567/rpc/instances/i/raiseEvent/e", {"json": {"x": [1, 2]},
                                                                                "headers": {"traceparent": "00-a"}}),
                ("delete", "http://127.0.0.9:4567/rpc/instances/i", {}),
                ("get", "http://127.0.0.9:4567/rpc/instances/@incident_alerts@a b", {}),
            ]:
                async with getattr(session, method)(url, **kwargs) as response:
                    out.append((response.status, await response.json(content_type=None),
                                response.headers.get("X-MS-Continuation-Token"), response.headers["Location"]))
            return out

        long_way, short_cut = _both(calls)
    finally:
        inprocess.unregister("127.0.0.9", 4567)
    assert long_way == short_cut == [(202, {"ok": "é"}, "t1", "http://x/y")] * 5
    half = len(seen) // 2
    for aio, ours in zip(seen[:half], seen[half:]):
        assert ours == aio  # method, target (normalised as aiohttp does), headers, body bytes
    assert seen[0][1] == "/rpc/instances/c%2Fd?showInput=False"  # the dot segment resolved, the fragment dropped
    assert seen[4][1] == "/rpc/instances/@incident_alerts@a%20b"


def test_answers_and_refusals_match_the_aiohttp_path(served):
    host, server = served
    iid = host.start_new("approval", "inst-1", {"account": "a"})

    async def calls(session):
        out = []
        for method, url, kwargs in [
            ("get", f"{server.base_url}/durabletask/instances/{iid}", {}),  # no path secret: 404
            ("get", f"{server.rpc_url}/durabletask/instances/{iid}?showInput=false", {}),
            ("get", f"{server.rpc_url}/durabletask/instances/nobody", {}),
            ("get", f"{server.rpc_url}/durabletask/instances/", {}),
            ("post", f"{server.rpc_url}/durabletask/orchestrators/approval/inst-1", {"json": '{"account": "b"}'}),  # open: 409
            ("post", f"{server.rpc_url}/durabletask/orchestrators/nosuch", {"json": "{}"}),
            ("post", f"{server.rpc_url}/durabletask/instances/nobody/raiseEvent/Approval", {"json": {"ok": 1}}),
            ("get", f"{server.rpc_url}/durabletask/entities/incident_alerts/none", {}),
        ]:
            async with getattr(session, method)(url, **kwargs) as response:
                body = await response.json(content_type=None)
                out.append((response.status, body, response.headers.get("Location")))
        return out

    long_way, short_cut = _both(calls)
    assert long_way == short_cut
    assert [s for s, _, _ in short_cut] == [404, 202, 404, 200, 409, 400, 404, 404]


def test_a_write_through_the_session_is_the_hosts(served):
    host, server = served

    async def start(session):
        async with session.post(f"{server.rpc_url}/durabletask/orchestrators/approval", json='{"account": "w"}') as r:
            return r.status, (await r.json(content_type=None))["id"]

    (code_a, first), (code_b, second) = _both(start)
    assert code_a == code_b == 202 and first != second
    assert host.get_status(second).input == {"account": "w"} == host.get_status(first).input


def test_an_unregistered_origin_is_never_answered_for(served):
    host, server = served
    url = f"{server.rpc_url}/durabletask/instances/nobody"
    server.stop()  # unregistered, and nothing listens on the port

    async def call(session):
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(url):
                pass
        return True

    assert _both(call) == (True, True)


def test_a_read_waits_on_the_executor_never_on_the_loop(served):
    host, server = served
    iid = host.start_new("approval", None, {"account": "c"})
    held, release = threading.Event(), threading.Event()

    def hold():
        with host.store_lock:
            held.set()
            release.wait()

    async def run():
        session = inprocess.InProcessSession(aiohttp.ClientSession(connector=inprocess.InProcessConnector()))
        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        try:
            read = asyncio.ensure_future(session.get(f"{server.rpc_url}/durabletask/instances/{iid}"))
            for _ in range(5):
                await asyncio.sleep(0)  # the loop runs on: the read is on an executor thread, behind the lock
            assert not read.done()
            release.set()
            response = await read
            return response.status, (await response.json(content_type=None))["runtimeStatus"]
        finally:
            release.set()
            holder.join()
            await session.close()

    assert asyncio.run(run()) == (202, "Pending")


def test_a_failing_answer_is_a_500_with_an_empty_body_and_a_hung_one_times_out():
    gate = threading.Event()

    def broken(method, path, headers, body):
        raise RuntimeError("boom")

    def hung(method, path, headers, body):
        gate.wait()
        return 200, {}, b"{}"

    inprocess.register("127.0.0.9", 4568, broken)
    inprocess.register("127.0.0.9", 4569, hung)

    async def run():
        session = inprocess.InProcessSession(aiohttp.ClientSession(), total=0.05)
        try:
            async with session.get("http://127.0.0.9:4568/x") as response:
                failed = response.status, await response.json(content_type=None), await response.read()
            with pytest.raises(asyncio.TimeoutError):
                await session.get("http://127.0.0.9:4569/x")
            with pytest.raises(aiohttp.ContentTypeError):  # the media type check when asked, as aiohttp's
                inprocess.register("127.0.0.9", 4568, lambda *a: (200, {"Content-Type": "text/plain"}, b"1"))
                async with session.get("http://127.0.0.9:4568/x") as response:
                    await response.json()
            return failed
        finally:
            gate.set()
            await session.close()

    try:
        assert asyncio.run(run()) == (500, None, b"")
    finally:
        inprocess.unregister("127.0.0.9", 4568)
        inprocess.unregister("127.0.0.9", 4569)


def test_ensure_session_installs_it_once(db_path, clock):
    from firestop.runtime import sdk_http

    async def run():
        await inprocess.ensure_session()
        first = sdk_http.module()._client_session
        await inprocess.ensure_session()
        same = sdk_http.module()._client_session is first
        await first.close()
        await inprocess.ensure_session()  # closed (the SDK closes it after a connection error): a new one
        renewed = sdk_http.module()._client_session
        kind = isinstance(renewed, inprocess.InProcessSession) and renewed is not first and not renewed.closed
        await renewed.close()
        return isinstance(first, inprocess.InProcessSession), same, kind

    assert asyncio.run(run()) == (True, True, True)

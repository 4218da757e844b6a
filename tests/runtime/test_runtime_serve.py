"""``FunctionsServer`` in process: routes, keys, durable links, the background driver, timer triggers, time."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import azure.durable_functions as df
import azure.functions as func
import pytest

from firestop.runtime import LocalDurableHost
from firestop.runtime.serve import FunctionsServer, Pacer, compile_route, function_key, read_route_prefix, system_key

KEY = "test-key_123"
SYSTEM_KEY = "test-system-key_456"
T0 = datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
TICKS: list = []
DONE = threading.Event()


class ManualClock:
    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


@app.route(route="echo/{id:int}/{rest?}", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def echo(req: func.HttpRequest) -> func.HttpResponse:
    body = {"method": req.method, "route": dict(req.route_params), "params": dict(req.params),
            "header": req.headers.get("x-probe"), "body": req.get_body().decode(), "url": req.url}
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json",
                             headers={"X-Echo": "yes"})


@app.route(route="files/{*path}", methods=["GET"])
def files(req: func.HttpRequest) -> str:
    return "path=" + req.route_params.get("path", "")


@app.route(route="Files/readme", methods=["GET"])
def readme(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("the literal route wins")


@app.route(route="boom", methods=["GET"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("broken function")


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], None, req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
@app.durable_client_input(client_name="client")
async def every_five_minutes(timer: func.TimerRequest, client) -> None:
    TICKS.append((timer.past_due, dict(timer.schedule_status)))
    await client.start_new("remember", None, len(TICKS))


@app.orchestration_trigger(context_name="context")
def double(context: df.DurableOrchestrationContext):
    value = yield context.call_activity("twice", context.get_input())
    return value


@app.orchestration_trigger(context_name="context")
def nap(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=10))
    return context.current_utc_datetime.isoformat()


@app.orchestration_trigger(context_name="context")
def remember(context: df.DurableOrchestrationContext):
    return context.get_input()


@app.activity_trigger(input_name="value")
def twice(value: int) -> int:
    DONE.set()
    return 2 * value


@pytest.fixture(autouse=True)
def reset():
    TICKS.clear()
    DONE.clear()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_server(db_path, clock):
    made = []

    def make(**options):
        host = LocalDurableHost(app, db_path, clock=options.pop("clock", clock))
        server = FunctionsServer(app, host, function_key=KEY, system_key=SYSTEM_KEY, port=0, **{"realtime_factor": 0, **options})
        made.append((server, host))
        return server

    yield make
    for server, host in made:
        server.stop()
        host.close()


def call(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for_status(url: str, wanted: str) -> dict:
    """Poll a statusQueryGetUri (the HTTP async pattern) until ``wanted``; fails after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        code, _, body = call(url)
        payload = json.loads(body)
        if payload["runtimeStatus"] == wanted:
            return payload
        assert time.monotonic() < deadline, f"still {payload['runtimeStatus']} ({code})"
        time.sleep(0.02)


# -- routes and keys ------------------------------------------------------------
def test_routes_methods_params_and_responses(make_server):
    server = make_server().start()
    code, headers, body = call(f"{server.base_url}/api/echo/42/more?x=1&x=2&y=",
                               method="POST", body=b"hello", headers={"x-probe": "p"})
    assert (code, headers["X-Echo"], headers["Content-Type"]) == (200, "yes", "application/json; charset=utf-8")
    seen = json.loads(body)
    assert seen["method"] == "POST" and seen["route"] == {"id": "42", "rest": "more"}
    assert seen["params"] == {"x": "2", "y": ""} and seen["header"] == "p" and seen["body"] == "hello"
    assert seen["url"].startswith(server.base_url + "/api/echo/42/more?")
    assert json.loads(call(f"{server.base_url}/api/ECHO/7")[2])["route"] == {"id": "7"}  # optional, case-insensitive
    assert call(f"{server.base_url}/api/echo/seven")[0] == 404  # {id:int}
    assert call(f"{server.base_url}/api/echo/7", method="DELETE")[0] == 404  # method not declared
    assert call(f"{server.base_url}/api/nothing")[0] == 404
    assert call(f"{server.base_url}/echo/7")[0] == 404  # outside the route prefix


def test_function_level_needs_the_key_in_header_or_code(make_server):
    server = make_server().start()
    url = f"{server.base_url}/api/files/a/b%20c.txt"
    code, _, body = call(url)
    assert (code, body) == (401, b"")
    assert call(url, headers={"x-functions-key": "wrong"})[0] == 401
    assert call(url + "?code=wrong")[0] == 401
    code, headers, body = call(url, headers={"x-functions-key": KEY})
    assert (code, body, headers["Content-Type"]) == (200, b"path=a/b c.txt", "text/plain; charset=utf-8")
    assert call(url + f"?code={KEY}")[2] == b"path=a/b c.txt"
    assert call(f"{server.base_url}/api/files/readme?code={KEY}")[2] == b"the literal route wins"


def test_an_exception_in_a_function_is_a_500(make_server, capsys):
    server = make_server().start()
    code, _, body = call(f"{server.base_url}/api/boom?code={KEY}")
    assert (code, body) == (500, b"")
    assert "broken function" in capsys.readouterr().err


def test_route_templates():
    route = compile_route("f", "a/{x:guid}/b/{n:int?}", None, "anonymous")
    guid = "6f1c2c1e-0b7a-4d8e-9b38-0cbd0b8f9a11"
    assert route.match(f"a/{guid}/b") == {"x": guid}
    assert route.match(f"a/{guid}/b/3") == {"x": guid, "n": "3"}
    assert route.match("a/not-a-guid/b") is None
    with pytest.raises(ValueError, match="catch-all"):
        compile_route("f", "{*all}/x", None, "anonymous")
    with pytest.raises(ValueError, match="optional"):
        compile_route("f", "{a?}/x", None, "anonymous")


def test_function_key_from_environment_file_or_generated(tmp_path):
    assert function_key(tmp_path, {"FIRESTOP_FUNCTION_KEY": "k1"}) == ("k1", "environment")
    key, origin = function_key(tmp_path, {})
    assert origin.startswith("generated") and len(key) >= 32
    path = tmp_path / "function-key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert function_key(tmp_path, {}) == (key, f"stored in {path}")  # generated once
    with pytest.raises(ValueError, match="whitespace"):
        function_key(tmp_path, {"FIRESTOP_FUNCTION_KEY": "a b"})


def test_system_key_is_its_own_secret(tmp_path):
    assert system_key(tmp_path, {"FIRESTOP_SYSTEM_KEY": "s1"}) == ("s1", "environment")
    key, origin = system_key(tmp_path, {})
    path = tmp_path / "system-key"
    assert origin == f"generated, stored in {path}" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert key != function_key(tmp_path, {})[0]
    with pytest.raises(ValueError, match="differ"):
        FunctionsServer(app, None, function_key="same", system_key="same")


def test_route_prefix_from_host_json(tmp_path):
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": ""}}}))
    assert read_route_prefix(tmp_path / "host.json") == ""
    assert read_route_prefix(tmp_path / "missing.json") == "api"


# -- durable links and the background driver ------------------------------------
def test_status_links_carry_the_key_and_the_driver_completes_the_orchestration(make_server):
    server = make_server().start()
    called = server.base_url.replace("127.0.0.1", "localhost")  # links use the origin the client called
    code, headers, body = call(f"{server.base_url}/api/start/double", method="POST", body=b"21",
                               headers={"x-functions-key": KEY, "Content-Type": "application/json",
                                        "Host": called.split("//")[1]})
    assert code == 202
    links = json.loads(body)
    assert headers["Location"] == links["statusQueryGetUri"]
    assert links["statusQueryGetUri"].startswith(f"{called}/runtime/webhooks/durabletask/instances/")
    links = {k: v.replace(called, server.base_url) for k, v in links.items()}
    assert f"code={SYSTEM_KEY}" in links["statusQueryGetUri"] and KEY not in body.decode()  # as Azure: the system key
    assert DONE.wait(30)  # the driver thread ran the activity: nobody called run_until_idle
    assert wait_for_status(links["statusQueryGetUri"], "Completed")["output"] == 42

    bare = links["statusQueryGetUri"].replace(f"&code={SYSTEM_KEY}", "")
    assert call(bare)[0] == 401
    assert call(bare, headers={"x-functions-key": KEY})[0] == 401  # the function key never opens them
    assert call(bare + f"&code={KEY}")[0] == 401
    assert call(bare, headers={"x-functions-key": SYSTEM_KEY})[0] == 200
    rpc = links["statusQueryGetUri"].replace("/runtime/webhooks/durabletask", "/durabletask")
    assert call(rpc)[0] == 404  # the RPC endpoint is not on the public port
    terminate = links["terminatePostUri"].replace("{text}", "late")
    assert call(terminate, method="POST", body=b"")[0] == 410  # already finished
    assert call(links["purgeHistoryDeleteUri"], method="DELETE")[0] == 200


def test_durable_timers_advance_at_once_with_advance_timers(make_server, clock):
    server = make_server(advance_timers=True)
    server.host.start_new("nap", "n1")
    server.driver.step()
    status = server.host.get_status("n1")
    assert status.runtime_status == "Completed"
    assert status.output == (T0 + timedelta(minutes=10)).isoformat()


def test_durable_timers_wait_for_time_when_it_does_not_flow(make_server, clock):
    server = make_server()  # factor 0, no advance: only simulated work moves the clock
    server.host.start_new("nap", "n1")
    assert server.driver.step() == server.driver.poll_interval  # never due by itself
    assert server.host.get_status("n1").runtime_status == "Running"
    clock.advance(600)  # e.g. sandbox latencies moved the shared clock
    server.driver.step()
    assert server.host.get_status("n1").runtime_status == "Completed"


def test_a_due_timer_another_process_holds_is_left_to_it_without_spinning(make_server, clock, db_path):
    from firestop.runtime.store import Store

    server = make_server(realtime_factor=1.0)
    server.host.start_new("nap", "n1")
    server.driver.step()
    other = Store(db_path)
    assert other.try_lease("n1", "another-machine|1|p|h", now=time.time(), expires_at=time.time() + 3600,
                           is_dead=lambda owner: False)
    clock.advance(601)  # its timer is due, but the instance is leased elsewhere
    assert server.driver.step() == server.driver.poll_interval  # not 0: no busy loop
    assert server.host.get_status("n1").runtime_status == "Running"
    other.release_leases("another-machine|1|p|h")
    server.driver.step()
    assert server.host.get_status("n1").runtime_status == "Completed"
    other.close()


# -- time -----------------------------------------------------------------------
class Wall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_pacer_lets_virtual_time_flow_with_wall_time():
    clock, wall = ManualClock(), Wall()
    pacer = Pacer(clock, 0.5, wall=wall)  # 0.5 wall s per simulated s: twice as fast
    wall.t += 10
    assert pacer.projected_now() == T0 + timedelta(seconds=20) and clock.now() == T0  # projection moves nothing
    pacer.sync()
    assert clock.now() == T0 + timedelta(seconds=20)
    assert pacer.wall_seconds_until(T0 + timedelta(seconds=30)) == 5.0
    assert pacer.wall_seconds_until(T0) == 0.0


def test_pacer_does_not_count_simulated_work_twice():
    clock, wall = ManualClock(), Wall()
    pacer = Pacer(clock, 1.0, wall=wall)
    clock.advance(10)  # a sandbox request: +10 simulated s at once, then it really sleeps 10 s
    wall.t += 4
    pacer.sync()  # e.g. a status poll during the sleep
    assert clock.now() == T0 + timedelta(seconds=10)
    wall.t += 6  # the sleep ends
    pacer.sync()
    assert clock.now() == T0 + timedelta(seconds=10)  # not 16
    wall.t += 2
    pacer.sync()
    assert clock.now() == T0 + timedelta(seconds=12)
    clock.advance(100)  # a timer jump: the wall catches up before time flows again
    assert pacer.wall_seconds_until(T0 + timedelta(seconds=112)) == 0.0
    assert pacer.wall_seconds_until(T0 + timedelta(seconds=113)) == 101.0


def test_pacer_at_factor_zero_and_with_a_real_clock():
    clock, wall = ManualClock(), Wall()
    still = Pacer(clock, 0, wall=wall)
    wall.t += 100
    still.sync()
    assert clock.now() == T0 and still.wall_seconds_until(T0 + timedelta(seconds=1)) is None and not still.flows

    class Real:
        def now(self):
            return T0

    real = Pacer(Real(), 1.0, wall=wall)
    assert real.flows and real.wall_seconds_until(T0 + timedelta(seconds=3)) == 3.0
    with pytest.raises(ValueError):
        Pacer(clock, -1)


# -- timer triggers ---------------------------------------------------------------
def test_timer_trigger_fires_on_schedule_once_per_occurrence(make_server, clock):
    server = make_server()
    server.driver.step()
    assert TICKS == []  # first occurrence is 03:15:00
    assert server.driver.step() == server.driver.poll_interval  # factor 0: not due by wall time
    clock.set(datetime(2026, 11, 29, 3, 15, 0, tzinfo=timezone.utc))
    server.driver.step()
    server.drain_timers(30)
    server.driver.step()
    server.drain_timers(30)
    assert len(TICKS) == 1
    past_due, status = TICKS[0]
    assert not past_due
    assert status["Last"].startswith("2026-11-29T03:15:00") and status["Next"].startswith("2026-11-29T03:20:00")
    server.host.run_until_idle()
    assert [s.output for s in server.host.list_instances(name="remember")] == [1]  # durable client works


def test_a_missed_occurrence_fires_once_past_due_at_start_and_servers_share_it(make_server, clock, db_path):
    first = make_server()
    first.driver.step()  # records next = 03:15:00
    first.stop()
    clock.set(datetime(2026, 11, 29, 9, 0, 0, tzinfo=timezone.utc))  # hours pass with no server
    second = make_server()
    third = make_server()  # another server on the same database
    second.driver.step()
    third.driver.step()
    second.drain_timers(30)
    third.drain_timers(30)
    assert [past_due for past_due, _ in TICKS] == [True]
    clock.set(datetime(2026, 11, 29, 9, 5, 0, tzinfo=timezone.utc))
    third.driver.step()
    second.driver.step()
    second.drain_timers(30)
    third.drain_timers(30)
    assert [past_due for past_due, _ in TICKS] == [True, False]


def test_admin_endpoint_runs_a_timer_function_now(make_server):
    server = make_server().start()
    url = f"{server.base_url}/admin/functions/every_five_minutes"
    assert call(url, method="POST", body=b"{}")[0] == 401
    # the function key is what alert senders hold: it must not run timer functions (the admin API takes the
    # master key on Azure); red-team finding, /admin/functions answered 202 to the function key from the network
    assert call(url, method="POST", body=b"{}", headers={"x-functions-key": KEY})[0] == 401
    assert call(f"{url}?code={KEY}", method="POST", body=b"{}")[0] == 401
    assert TICKS == []
    assert call(url, method="POST", body=b"{}", headers={"x-functions-key": SYSTEM_KEY})[0] == 202
    server.drain_timers(30)
    assert len(TICKS) == 1
    assert call(f"{server.base_url}/admin/functions/nope", method="POST", body=b"{}",
                headers={"x-functions-key": SYSTEM_KEY})[0] == 404


slow_app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
SLOW_RUNS: list = []
STARTED = threading.Semaphore(0)
GATE = threading.Event()


@slow_app.timer_trigger(schedule="0 * * * * *", arg_name="timer")
def slow(timer: func.TimerRequest) -> None:
    SLOW_RUNS.append(timer.schedule_status.get("Last"))
    STARTED.release()
    GATE.wait(30)


@slow_app.orchestration_trigger(context_name="context")
def quick(context: df.DurableOrchestrationContext):
    return "done"
    yield  # noqa: unreachable - makes this a generator, as orchestrators are


def test_a_timer_function_runs_one_at_a_time_and_never_blocks_orchestrations(db_path, clock):
    SLOW_RUNS.clear()
    GATE.clear()
    host = LocalDurableHost(slow_app, db_path, clock=clock)
    server = FunctionsServer(slow_app, host, function_key=KEY, port=0, realtime_factor=0)
    try:
        server.driver.step()  # next occurrence: 03:15:00
        clock.set(datetime(2026, 11, 29, 3, 15, 0, tzinfo=timezone.utc))
        server.driver.step()
        assert STARTED.acquire(timeout=30)  # run 1 is going, blocked on the gate
        host.start_new("quick", "q1")
        clock.set(datetime(2026, 11, 29, 3, 16, 0, tzinfo=timezone.utc))
        server.driver.step()  # the 03:16 occurrence waits for run 1; orchestrations do not
        assert host.get_status("q1").runtime_status == "Completed"
        assert SLOW_RUNS == ["2026-11-29T03:15:00.000000+00:00"]
        GATE.set()
        server.drain_timers(30)
        server.driver.step()
        assert STARTED.acquire(timeout=30)
        server.drain_timers(30)
        assert SLOW_RUNS == ["2026-11-29T03:15:00.000000+00:00", "2026-11-29T03:16:00.000000+00:00"]
    finally:
        GATE.set()
        server.stop()
        host.close()


@app.entity_trigger(context_name="context", entity_name="Tally")
def tally(context: df.DurableEntityContext):
    context.set_state(context.get_state(lambda: 0) + context.get_input())


def test_entity_webhooks_need_the_system_key_and_the_driver_runs_the_signal(make_server):
    server = make_server().start()
    base = f"{server.base_url}/runtime/webhooks/durabletask/entities/tally/t1"
    for query in ("", f"&code={KEY}"):  # no key, or the function key: refused
        code, _, _ = call(f"{base}?op=add{query}", method="POST", body=b"5",
                          headers={"content-type": "application/json"})
        assert code == 401
    code, _, _ = call(f"{base}?op=add&code={SYSTEM_KEY}", method="POST", body=b"5",
                      headers={"content-type": "application/json"})
    assert code == 202
    deadline = time.monotonic() + 30
    while True:  # the server's driver runs the batch in the background (woken by the signal)
        code, _, body = call(f"{base}?code={SYSTEM_KEY}")
        if code == 200:
            break
        assert code == 404 and time.monotonic() < deadline
        time.sleep(0.02)
    assert json.loads(body) == 5


def test_the_loopback_rpc_listener_answers_only_under_its_secret_path(make_server):
    """Red team: the SDK client's loopback RPC port took start/raise/terminate/purge with no key, so any local process
    (``ss -ltn`` shows the port) could terminate and purge an incident. Now only ``/<secret>/durabletask/…`` answers."""
    server = make_server().start()
    status, _, raw = call(f"{server.base_url}/api/start/remember", method="POST", body=b"1", headers={"x-functions-key": KEY})
    assert status == 202, raw
    instance = json.loads(raw)["id"]
    bare = server.rpc.base_url
    for method, path in [("GET", "/durabletask/instances"), ("POST", f"/durabletask/instances/{instance}/terminate"),
                         ("DELETE", f"/durabletask/instances/{instance}"), ("GET", "/runtime/webhooks/durabletask/instances")]:
        assert call(f"{bare}{path}", method=method, body=b"" if method != "GET" else None)[0] == 404, path
    assert server.rpc.path_secret and server.rpc.rpc_url.startswith(bare + "/")
    code, _, raw = call(f"{server.rpc.rpc_url}/durabletask/instances/{instance}")
    assert code in (200, 202) and json.loads(raw)["instanceId"] == instance  # not terminated, not purged

"""Durable entities on the local host: the SDK's entity API end to end.

Function-based entities (``@app.entity_trigger``), ``call_entity`` /
``signal_entity`` from orchestrations, the SDK client's ``signal_entity`` /
``read_entity_state`` over the management API, batches, FIFO order,
determinism checks of entity calls, crash safety of a batch, and a lease
(critical section) held through an entity across two hosts on one file.
"""

from __future__ import annotations

import json
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func
import pytest

from firestop.runtime import LocalDurableHost, ManagementServer, invoke_http_function
from firestop.runtime import host as host_module
from firestop.runtime.functions import FunctionNotFound

app = df.DFApp()
BATCHES: list[int] = []  # operations per Journal function call (one call per batch)
FLAGS = {"rename_op": False, "interrupt_on": None}


@app.entity_trigger(context_name="context", entity_name="Counter")
def counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    op = context.operation_name
    if FLAGS["interrupt_on"] == op:
        raise KeyboardInterrupt  # a crash in the middle of a batch (BaseException: not an operation error)
    if op == "add":
        value += context.get_input()
    elif op == "fail":
        raise ValueError("counter cannot fail politely")
    elif op == "delete":
        context.destruct_on_exit()
        return
    context.set_state(value)
    context.set_result(value)


@app.entity_trigger(context_name="context", entity_name="Journal")
def journal(context: df.DurableEntityContext):
    entries = context.get_state(list)
    entries.append(f"{context.operation_name}:{context.get_input()}")
    context.set_state(entries)
    context.set_result(len(entries))


@app.entity_trigger(context_name="context", entity_name="Lease")
def lease(context: df.DurableEntityContext):
    """A critical section as the Python SDK allows it (it has no ``context.lock``):
    ``acquire`` grants the lease to an owner if it is free, already theirs or
    expired; ``release`` frees it only for its holder. Operations on one entity
    run one at a time, so two acquirers can never both win."""
    state = context.get_state(lambda: {"holder": None, "until": None})
    request = context.get_input() or {}
    op = context.operation_name
    if op == "acquire":
        free = state["holder"] in (None, request["owner"]) or (state["until"] or "") < request["now"]
        if free:
            state = {"holder": request["owner"], "until": request["until"]}
        context.set_result({"granted": free, "holder": state["holder"]})
    elif op == "release":
        if state["holder"] == request["owner"]:
            state = {"holder": None, "until": None}
        context.set_result(state["holder"])
    context.set_state(state)


@app.orchestration_trigger(context_name="context")
def count_up(context: df.DurableOrchestrationContext):
    entity = df.EntityId("Counter", context.get_input())
    context.signal_entity(entity, "add", 5)
    after_add = yield context.call_entity(entity, "add", 3)
    try:
        yield context.call_entity(entity, "fail")
        error = None
    except Exception as exc:  # the entity's exception surfaces in the orchestrator
        error = str(exc)
    final = yield context.call_entity(entity, "add", 1)
    return {"after_add": after_add, "error": error, "final": final}


@app.orchestration_trigger(context_name="context")
def pausing(context: df.DurableOrchestrationContext):
    op = "add" if not FLAGS["rename_op"] else "increment"
    value = yield context.call_entity(df.EntityId("Counter", "nd"), op, 1)
    yield context.wait_for_external_event("go")
    return value


@app.orchestration_trigger(context_name="context")
def critical(context: df.DurableOrchestrationContext):
    """Acquire the lease (polling with a durable timer while another holds it), work, release."""
    me = context.instance_id
    entity = df.EntityId("Lease", context.get_input())
    while True:
        now = context.current_utc_datetime
        answer = yield context.call_entity(entity, "acquire", {
            "owner": me, "now": now.isoformat(), "until": (now + timedelta(minutes=10)).isoformat()})
        if answer["granted"]:
            break
        context.set_custom_status({"waiting_for": answer["holder"]})
        yield context.create_timer(now + timedelta(seconds=5))
    context.set_custom_status({"holding": True})
    yield context.wait_for_external_event("done")
    yield context.call_entity(entity, "release", {"owner": me})
    return "released"


@pytest.fixture(autouse=True)
def _reset():
    BATCHES.clear()
    FLAGS.update(rename_op=False, interrupt_on=None)
    yield


@pytest.fixture
def host(db_path, clock):
    h = LocalDurableHost(app, db_path, clock=clock)
    yield h
    h.close()


def test_call_and_signal_from_an_orchestration(host):
    iid = host.start_new("count_up", input="c1")
    host.run_until_idle(iid)
    status = host.get_status(iid)
    assert status.runtime_status == "Completed"
    # the signal (add 5) was sent before the call (add 3): FIFO per entity
    assert status.output == {"after_add": 8, "error": "counter cannot fail politely", "final": 9}
    assert host.read_entity_state(df.EntityId("Counter", "c1")) == (True, 9)
    assert host.read_entity_state(("counter", "other")) == (False, None)


def test_client_signals_run_as_one_batch_in_order(host, monkeypatch):
    original = host_module.call_entity

    def counting(entry, context_json):
        BATCHES.append(len(json.loads(context_json)["batch"]))
        return original(entry, context_json)

    monkeypatch.setattr(host_module, "call_entity", counting)
    for k in range(5):
        host.signal_entity(("Journal", "j"), "put", k)
    host.run_until_idle()
    assert host.read_entity_state(("journal", "j")) == (True, [f"put:{k}" for k in range(5)])
    assert BATCHES == [5]


def test_destruct_on_exit_deletes_the_state(host):
    host.signal_entity(("Counter", "gone"), "add", 2)
    host.run_until_idle()
    assert host.read_entity_state(("Counter", "gone")) == (True, 2)
    host.signal_entity(("Counter", "gone"), "delete")
    host.run_until_idle()
    assert host.read_entity_state(("Counter", "gone")) == (False, None)


def test_unknown_entity_and_reserved_ids_are_refused(host):
    with pytest.raises(FunctionNotFound):
        host.signal_entity(("NoSuchEntity", "k"), "add", 1)
    with pytest.raises(ValueError, match="key"):
        host.signal_entity(("Counter", ""), "add", 1)
    with pytest.raises(ValueError, match="reserved for entities"):
        host.start_new("count_up", "@counter@c1", "c1")


def test_a_changed_entity_call_is_reported_as_nondeterminism(db_path, clock):
    first = LocalDurableHost(app, db_path, clock=clock)
    try:
        iid = first.start_new("pausing")
        first.run_until_idle(iid)
        assert first.get_status(iid).runtime_status == "Running"  # waits for "go" after its call
    finally:
        first.close()  # a deploy restarts the worker (and drops its SDK sessions, sessions.py)
    FLAGS["rename_op"] = True  # the code changed under a running instance
    host = LocalDurableHost(app, db_path, clock=clock)
    try:
        host.raise_event(iid, "go")
        host.run_until_idle(iid)
        status = host.get_status(iid)
    finally:
        host.close()
    assert status.runtime_status == "Failed"
    assert "call_entity('@counter@nd', 'add')" in status.output
    assert "call_entity('@counter@nd', 'increment')" in status.output


def test_a_crash_inside_a_batch_commits_nothing_and_the_batch_runs_again(db_path, clock):
    first = LocalDurableHost(app, db_path, clock=clock)
    for op in ("add", "add", "boom", "add"):
        first.signal_entity(("Counter", "crash"), op, 1)
    FLAGS["interrupt_on"] = "boom"
    with pytest.raises(KeyboardInterrupt):
        first.run_until_idle()
    assert first.read_entity_state(("Counter", "crash")) == (False, None)  # nothing of the batch committed
    first.close()
    FLAGS["interrupt_on"] = None
    second = LocalDurableHost(app, db_path, clock=clock)
    try:
        second.run_until_idle()
        # every operation applied exactly once to the committed state ("boom" is an unknown op: a no-op)
        assert second.read_entity_state(("Counter", "crash")) == (True, 3)
    finally:
        second.close()


def test_an_entity_lease_serialises_two_orchestrations_on_two_hosts(db_path, clock):
    one = LocalDurableHost(app, db_path, clock=clock)
    two = LocalDurableHost(app, db_path, clock=clock)
    try:
        a = one.start_new("critical", "a", "account-1")
        one.run_until_idle(a)
        assert one.get_status(a).custom_status == {"holding": True}
        b = two.start_new("critical", "b", "account-1")
        for _ in range(3):  # b polls: denied each time while a holds the lease
            two.run_until_idle(b)
            assert two.get_status(b).custom_status == {"waiting_for": "a"}
            clock.advance(5)
        one.raise_event(a, "done")
        one.run_until_idle(a)
        assert one.get_status(a).runtime_status == "Completed"
        clock.advance(5)
        two.run_until_idle(b)
        assert two.get_status(b).custom_status == {"holding": True}
        two.raise_event(b, "done")
        two.run_until_idle(b)
        assert two.get_status(b).runtime_status == "Completed"
        assert two.read_entity_state(("Lease", "account-1")) == (True, {"holder": None, "until": None})
    finally:
        one.close()
        two.close()


@app.route(route="counters/{key}/{op}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_signal(req: func.HttpRequest, client) -> func.HttpResponse:
    entity = df.EntityId("Counter", req.route_params["key"])
    await client.signal_entity(entity, req.route_params["op"], req.get_json())
    return func.HttpResponse(status_code=202)


@app.route(route="counters/{key}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_read(req: func.HttpRequest, client) -> func.HttpResponse:
    state = await client.read_entity_state(df.EntityId("Counter", req.route_params["key"]))
    return func.HttpResponse(json.dumps({"exists": state.entity_exists, "state": state.entity_state}))


def _call(server, name, method, url, route_params, body=b""):
    request = func.HttpRequest(method, url, body=body, route_params=route_params,
                               headers={"content-type": "application/json"})
    return invoke_http_function(app, name, request, server=server)


def test_the_sdk_client_signals_and_reads_entities_over_http(host):
    with ManagementServer(host) as server:
        answer = _call(server, "http_read", "GET", "http://localhost/api/counters/web", {"key": "web"})
        assert json.loads(answer.get_body()) == {"exists": False, "state": None}  # 404 from the API
        for amount in (4, 6):
            answer = _call(server, "http_signal", "POST", "http://localhost/api/counters/web/add",
                           {"key": "web", "op": "add"}, json.dumps(amount).encode())
            assert answer.status_code == 202
        host.run_until_idle()
        answer = _call(server, "http_read", "GET", "http://localhost/api/counters/web", {"key": "web"})
        assert json.loads(answer.get_body()) == {"exists": True, "state": 10}

        code, _, payload = server.handle("POST", "/durabletask/entities/nosuch/k?op=add", {}, b"1")
        assert code == 400 and "nosuch" in payload["Message"]
        code, _, payload = server.handle("POST", "/durabletask/entities/counter/k", {}, b"1")
        assert code == 400 and "op" in payload["Message"]
        code, _, _ = server.handle("POST", "/durabletask/entities/counter/k?op=add", {}, b"{not json")
        assert code == 400
        code, _, _ = server.handle("POST", "/durabletask/entities/counter/k?op=add", {}, b"1" * ((1 << 20) + 1))
        assert code == 413
        code, _, body = server.handle("GET", "/durabletask/entities/counter/web", {}, b"")
        assert (code, body) == (200, 10)
        code, _, _ = server.handle("GET", "/durabletask/entities/counter/never", {}, b"")
        assert code == 404


def test_the_management_api_refuses_an_instance_id_reserved_for_entities(host):
    with ManagementServer(host) as server:
        code, _, payload = server.handle("POST", "/durabletask/orchestrators/count_up/@counter@c1", {}, b'"c1"')
    assert code == 400 and "reserved for entities" in payload["Message"]
    assert host.list_instances() == []

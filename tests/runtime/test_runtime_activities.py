"""Activities, fan-out/fan-in, custom status and status queries."""

from __future__ import annotations

import azure.durable_functions as df
import pytest

from firestop.clock import SystemClock
from firestop.runtime import FunctionNotFound, InstanceNotFound, LocalDurableHost

app = df.DFApp()
CALLS: list[tuple[str, object]] = []


@app.orchestration_trigger(context_name="context")
def sequence(context: df.DurableOrchestrationContext):
    alert = context.get_input()
    context.set_custom_status({"stage": "lookup"})
    account = yield context.call_activity("get_account", alert)
    context.set_custom_status({"stage": "contain", "account": account["name"]})
    result = yield context.call_activity("disable_public_access", account)
    return [account, result]


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    codes = context.get_input()
    tasks = [context.call_activity("query_logs", code) for code in codes]
    counts = yield context.task_all(tasks)
    total = yield context.call_activity("add", counts)
    return {"counts": counts, "total": total}


@app.orchestration_trigger(context_name="context")
def catches(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("regenerate_key", "Key1")
    except Exception as exc:  # the SDK raises Exception("<Reason> \n <Details>")
        return {"caught": str(exc)}
    return {"caught": None}


@app.orchestration_trigger(context_name="context")
def fan_out_fails(context: df.DurableOrchestrationContext):
    try:
        yield context.task_all([context.call_activity("query_logs", c) for c in ["401", "boom", "429"]])
    except Exception as exc:
        compensation = yield context.call_activity("add", [1, 2])
        return {"error": str(exc), "compensation": compensation}


@app.orchestration_trigger(context_name="context")
def unhandled(context: df.DurableOrchestrationContext):
    yield context.call_activity("regenerate_key", "Key2")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def first_wins(context: df.DurableOrchestrationContext):
    winner = yield context.task_any([context.call_activity("slow", 5), context.call_activity("slow", 1)])
    return winner.result


@app.orchestration_trigger(context_name="context")
def no_yield(context: df.DurableOrchestrationContext):
    return {"echo": context.get_input()}


@app.orchestration_trigger(context_name="context")
def missing_activity(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("nope", 1)
    except Exception as exc:
        return str(exc)


@app.activity_trigger(input_name="payload")
def get_account(payload: dict) -> dict:
    CALLS.append(("get_account", payload))
    return {"name": "aoai-prod", "alert": payload["alertId"]}


@app.activity_trigger(input_name="payload")
async def disable_public_access(payload: dict) -> str:
    CALLS.append(("disable_public_access", payload))
    return "Disabled"


@app.activity_trigger(input_name="code")
def query_logs(code: str) -> int:
    if code == "boom":
        raise RuntimeError("Log Analytics throttled")
    return {"401": 3, "429": 12}[code]


@app.activity_trigger(input_name="numbers")
def add(numbers: list) -> int:
    return sum(numbers)


@app.activity_trigger(input_name="payload")
def regenerate_key(payload: str) -> str:
    raise PermissionError(f"AuthorizationFailed for {payload}")


CLOCK: list = []


@app.activity_trigger(input_name="seconds", activity="slow")
def slow_activity(seconds: int) -> int:
    CLOCK[0].advance(seconds)  # simulated duration on the virtual clock
    return seconds


@pytest.fixture
def host(db_path, clock):
    CALLS.clear()
    CLOCK[:] = [clock]
    return LocalDurableHost(app, db_path, clock=clock)


def test_sequence_runs_activities_in_order_and_completes(host, clock):
    alert = {"alertId": "/subscriptions/sub/alerts/a1", "monitorCondition": "Fired"}
    iid = host.start_new("sequence", "inc-1", alert)
    assert iid == "inc-1"
    assert host.get_status(iid).runtime_status == "Pending"

    host.run_until_idle()

    status = host.get_status(iid)
    assert status.runtime_status == "Completed"
    assert status.output == [{"name": "aoai-prod", "alert": alert["alertId"]}, "Disabled"]
    assert status.input == alert
    assert status.custom_status == {"stage": "contain", "account": "aoai-prod"}
    assert status.name == "sequence"
    assert status.created_time.tzinfo is not None and status.last_updated_time >= status.created_time
    # activities got their input JSON-decoded under their binding parameter
    assert CALLS == [("get_account", alert), ("disable_public_access", {"name": "aoai-prod", "alert": alert["alertId"]})]


def test_history_has_the_extension_event_shapes(host):
    iid = host.start_new("sequence", input={"alertId": "a"})
    host.run_until_idle()
    history = host.get_status(iid, show_history=True).history
    types = [e["EventType"] for e in history]
    # episode 1: OrchestratorStarted, ExecutionStarted, TaskScheduled, OrchestratorCompleted ...
    assert types == [12, 0, 4, 13, 12, 5, 4, 13, 12, 5, 1, 13]
    started = history[1]
    assert started["Name"] == "sequence" and started["Version"] == "" and started["Input"] == '{"alertId": "a"}'
    assert history[2] == {**history[2], "Name": "get_account", "EventId": 0, "Input": None}
    assert history[5]["TaskScheduledId"] == 0 and isinstance(history[5]["Result"], str)
    assert history[10]["OrchestrationStatus"] == "Completed"
    assert all(e["Timestamp"].endswith("Z") and len(e["Timestamp"]) == 28 for e in history)
    assert host.get_status(iid).history is None


def test_fan_out_fan_in(host):
    iid = host.start_new("fan_out", input=["401", "429"])
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Completed"
    assert status.output == {"counts": [3, 12], "total": 15}
    scheduled = [e["EventId"] for e in status.history if e["EventType"] == 4]
    assert scheduled == [0, 1, 2]


def test_activity_failure_is_catchable_task_failed(host):
    iid = host.start_new("catches")
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Completed"
    assert status.output == {"caught": "AuthorizationFailed for Key1 \n PermissionError"}
    failed = [e for e in status.history if e["EventType"] == 6]
    assert failed == [{**failed[0], "TaskScheduledId": 0, "Reason": "AuthorizationFailed for Key1",
                       "Details": "PermissionError"}]


def test_task_all_fails_fast_and_the_orchestrator_can_compensate(host):
    iid = host.start_new("fan_out_fails")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Completed"
    assert status.output == {"error": "Log Analytics throttled \n RuntimeError", "compensation": 3}


def test_unhandled_activity_failure_fails_the_instance(host):
    iid = host.start_new("unhandled")
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Failed"
    assert status.output.startswith("Orchestrator function 'unhandled' failed: AuthorizationFailed for Key2")
    assert status.history[-2]["EventType"] == 1 and status.history[-2]["OrchestrationStatus"] == "Failed"


def test_task_any_returns_the_first_completed_task(host, clock):
    start = clock.now()
    iid = host.start_new("first_wins")
    host.run_until_idle()
    # both run from the same virtual start; the 1 s one completes first
    status = host.get_status(iid, show_history=True)
    assert status.output == 1
    completed = [e for e in status.history if e["EventType"] == 5]
    assert [e["TaskScheduledId"] for e in completed] == [1, 0]
    assert (clock.now() - start).total_seconds() == 5


def test_orchestrator_without_yield(host):
    iid = host.start_new("no_yield", input="hello")
    host.run_until_idle()
    status = host.get_status(iid)
    assert (status.runtime_status, status.output) == ("Completed", {"echo": "hello"})


def test_unknown_activity_is_a_task_failure(host):
    iid = host.start_new("missing_activity")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Completed"
    assert "'nope' doesn't exist" in status.output


def test_real_clock_runs_activities_in_a_thread_pool(db_path):
    host = LocalDurableHost(app, db_path, clock=SystemClock(), max_concurrent_activities=2)
    iid = host.start_new("fan_out", input=["401", "429", "401"])
    host.run_until_idle()
    assert host.get_status(iid).output == {"counts": [3, 12, 3], "total": 18}


def test_unknown_names(host):
    with pytest.raises(FunctionNotFound):
        host.start_new("no_such_orchestrator")
    with pytest.raises(InstanceNotFound):
        host.get_status("nope")
    with pytest.raises(InstanceNotFound):
        host.run_until_idle("nope")

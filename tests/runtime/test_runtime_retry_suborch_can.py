"""Retries (timer backoff), sub-orchestrations, continue_as_new, long timers."""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df
import pytest

from firestop.runtime import LocalDurableHost

app = df.DFApp()
ATTEMPTS: dict[str, int] = {}
CLOCK: list = []


def _retry(n: int) -> df.RetryOptions:
    return df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=n)


@app.orchestration_trigger(context_name="context")
def patch_with_retry(context: df.DurableOrchestrationContext):
    settings = context.get_input()
    try:
        result = yield context.call_activity_with_retry("flaky", _retry(settings["max"]), settings)
    except Exception as exc:
        return {"error": str(exc)}
    return {"result": result}


@app.orchestration_trigger(context_name="context")
def retry_unhandled(context: df.DurableOrchestrationContext):
    result = yield context.call_activity_with_retry("flaky", _retry(2), {"fail": 99, "key": "u"})
    return result


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    alert = context.get_input()
    contained = yield context.call_sub_orchestrator("contain_account", alert, f"{context.instance_id}-child")
    return {"contained": contained, "parent": context.instance_id}


@app.orchestration_trigger(context_name="context")
def contain_account(context: df.DurableOrchestrationContext):
    alert = context.get_input()
    if alert.get("explode"):
        raise ValueError("boom")
    result = yield context.call_activity("work", alert["seconds"])
    return {"account": alert["account"], "result": result, "parent": context.parent_instance_id}


@app.orchestration_trigger(context_name="context")
def parent_catches(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("contain_account", {"explode": True})
    except Exception as exc:
        return {"caught": str(exc)}


@app.orchestration_trigger(context_name="context")
def parent_fan_out(context: df.DurableOrchestrationContext):
    children = [
        context.call_sub_orchestrator("contain_account", {"account": f"a{i}", "seconds": s})
        for i, s in enumerate((20, 40, 30))
    ]
    results = yield context.task_all(children)
    return {"accounts": [r["account"] for r in results], "at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def parent_retry_child(context: df.DurableOrchestrationContext):
    result = yield context.call_sub_orchestrator_with_retry("fragile_child", _retry(3), "x", "fragile-1")
    return result


@app.orchestration_trigger(context_name="context")
def fragile_child(context: df.DurableOrchestrationContext):
    attempt = yield context.call_activity("count", "fragile")
    if attempt < 2:
        raise RuntimeError(f"attempt {attempt} failed")
    return f"ok after {attempt}"


@app.orchestration_trigger(context_name="context")
def waits_forever_child(context: df.DurableOrchestrationContext):
    yield context.wait_for_external_event("Never")


@app.orchestration_trigger(context_name="context")
def parent_of_waiter(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("waits_forever_child", None, "waiter-child")
    except Exception as exc:
        return {"child_failed": str(exc)}


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    n = context.get_input()
    context.set_custom_status({"generation": n})
    if n < 3:
        yield context.call_activity("count", "gen")
        context.continue_as_new(n + 1)
        return None
    return {"final": n}


@app.orchestration_trigger(context_name="context")
def monitor(context: df.DurableOrchestrationContext):
    state = context.get_input() or {"polls": 0}
    timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    stop = context.wait_for_external_event("Stop")
    winner = yield context.task_any([timer, stop])
    if winner == stop:
        timer.cancel()
        return {"polls": state["polls"], "stopped": stop.result}
    context.continue_as_new({"polls": state["polls"] + 1})


@app.orchestration_trigger(context_name="context")
def long_wait(context: df.DurableOrchestrationContext):
    start = context.current_utc_datetime
    yield context.create_timer(start + timedelta(days=2))
    return (context.current_utc_datetime - start).total_seconds()


@app.activity_trigger(input_name="settings")
def flaky(settings: dict) -> str:
    key = settings.get("key", "flaky")
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= settings["fail"]:
        raise ConnectionError(f"Conflict on attempt {ATTEMPTS[key]}")
    return f"patched on attempt {ATTEMPTS[key]}"


@app.activity_trigger(input_name="seconds")
def work(seconds: int) -> str:
    CLOCK[0].advance(seconds)
    return f"worked {seconds}s"


@app.activity_trigger(input_name="key")
def count(key: str) -> int:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    return ATTEMPTS[key]


@pytest.fixture(autouse=True, params=[True, False], ids=["sessions", "full-replay"])
def sessions(request, monkeypatch):
    """Every case with the host's SDK sessions (sessions.py) and with a full SDK replay per episode."""
    monkeypatch.setattr(LocalDurableHost, "sessions", request.param)
    return request.param


@pytest.fixture
def host(db_path, clock):
    ATTEMPTS.clear()
    CLOCK[:] = [clock]
    return LocalDurableHost(app, db_path, clock=clock)


def _events(host, iid):
    return host.get_status(iid, show_history=True).history


def test_retry_backs_off_with_timers_then_succeeds(host, clock):
    iid = host.start_new("patch_with_retry", input={"max": 3, "fail": 2})
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Running"  # waiting on the 5 s backoff timer
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid, show_history=True)
    assert status.output == {"result": "patched on attempt 3"}
    sched = [(e["EventType"], e["EventId"]) for e in status.history if e["EventType"] in (4, 10)]
    assert sched == [(4, 0), (10, 1), (4, 2), (10, 3), (4, 4)]
    timers = [e for e in status.history if e["EventType"] == 10]
    # fireAt = the episode time that saw the failure + firstRetryInterval
    assert [t["FireAt"] for t in timers] == ["2024-05-24T12:00:05.0000000Z", "2024-05-24T12:00:10.0000000Z"]
    assert [e["TimerId"] for e in status.history if e["EventType"] == 11] == [1, 3]


def test_retry_exhausted_raises_the_last_failure(host):
    iid = host.start_new("patch_with_retry", input={"max": 2, "fail": 5})
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid, show_history=True)
    assert status.output == {"error": "Conflict on attempt 2 \n ConnectionError"}
    assert ATTEMPTS["flaky"] == 2
    # as DurableTask.Core does: one more timer after the last failed attempt
    kinds = [e["EventType"] for e in status.history if e["EventType"] in (4, 5, 6, 10, 11)]
    assert kinds == [4, 6, 10, 11, 4, 6, 10, 11]


def test_retry_exhausted_unhandled_fails_instance(host):
    iid = host.start_new("retry_unhandled")
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid)
    assert status.runtime_status == "Failed"
    assert "Conflict on attempt 2" in status.output


def test_sub_orchestration_runs_and_returns(host):
    iid = host.start_new("parent", "inc-7", {"account": "aoai-prod", "seconds": 3})
    host.run_until_idle(iid)
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Completed"
    assert status.output == {"contained": {"account": "aoai-prod", "result": "worked 3s", "parent": "inc-7"},
                             "parent": "inc-7"}
    created = [e for e in status.history if e["EventType"] == 7]
    assert created == [{**created[0], "Name": "contain_account", "InstanceId": "inc-7-child", "EventId": 0}]
    assert [e["EventType"] for e in status.history].count(8) == 1
    child = host.get_status("inc-7-child", show_history=True)
    assert (child.runtime_status, child.parent_instance_id, child.input) == (
        "Completed", "inc-7", {"account": "aoai-prod", "seconds": 3})
    assert child.history[1]["ParentInstance"]["OrchestrationInstance"]["InstanceId"] == "inc-7"


def test_sub_orchestration_failure_reaches_the_parent(host):
    iid = host.start_new("parent_catches")
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert status.output["caught"].startswith("Orchestrator function 'contain_account' failed: boom")
    failed = [e for e in status.history if e["EventType"] == 9]
    assert failed[0]["Reason"].startswith("Orchestrator function 'contain_account' failed: boom")
    children = [s for s in host.list_instances(name="contain_account")]
    assert len(children) == 1 and children[0].runtime_status == "Failed"
    assert children[0].instance_id.endswith(":0")  # "<executionId>:<sequence>" when no id is given


def test_parallel_sub_orchestrations_overlap_on_the_virtual_clock(host, clock):
    iid = host.start_new("parent_fan_out")
    host.run_until_idle()
    assert host.get_status(iid).output == {"accounts": ["a0", "a1", "a2"], "at": "2024-05-24T12:00:40+00:00"}


def test_sub_orchestration_with_retry(host):
    iid = host.start_new("parent_retry_child")
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid, show_history=True)
    assert status.output == "ok after 2"
    assert [e["InstanceId"] for e in status.history if e["EventType"] == 7] == ["fragile-1", "fragile-1"]
    assert [e["EventType"] for e in status.history].count(9) == 1


def test_terminating_a_child_fails_the_parents_task(host):
    iid = host.start_new("parent_of_waiter")
    host.run_until_idle()
    assert host.get_status("waiter-child").runtime_status == "Running"
    host.terminate("waiter-child", "analyst stop")
    host.run_until_idle()
    assert "terminated: analyst stop" in host.get_status(iid).output["child_failed"]


def test_continue_as_new_restarts_with_new_input_and_fresh_history(host):
    iid = host.start_new("counter", "loop", 0)
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert (status.runtime_status, status.output, status.input) == ("Completed", {"final": 3}, 3)
    assert status.custom_status == {"generation": 3}
    assert ATTEMPTS["gen"] == 3
    assert [e["EventType"] for e in status.history] == [12, 0, 1, 13]
    assert status.history[1]["Input"] == "3"


def test_eternal_monitor_with_timer_and_stop_event(host, clock):
    iid = host.start_new("monitor", "mon")
    host.run_until_idle()
    for _ in range(3):
        clock.advance(5 * 60)
        host.run_until_idle()
    assert host.get_status(iid).input == {"polls": 3}
    host.raise_event(iid, "Stop", "analyst")
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid)
    assert status.output == {"polls": 3, "stopped": "analyst"}
    assert clock.now().isoformat() == "2024-05-24T12:15:00+00:00"


def test_long_timer_is_split_and_fires_at_its_time(host, clock):
    iid = host.start_new("long_wait")
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid, show_history=True)
    assert status.output == 2 * 24 * 3600
    assert len([e for e in status.history if e["EventType"] == 10]) > 1  # SDK chunks of 8 h
    assert clock.now().isoformat() == "2024-05-26T12:00:00+00:00"

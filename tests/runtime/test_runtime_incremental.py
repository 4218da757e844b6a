"""Incremental replay: the host's per-episode work equals a replay from scratch.

``LocalDurableHost.incremental`` keeps each instance's replay state between
episodes; ``False`` replays the whole history against the whole action list
every episode (the old path). Both must write the same histories and
outcomes; buffered events nobody waits for must not call the orchestrator.
"""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df
import pytest

from firestop.runtime import LocalDurableHost
from firestop.runtime import host as host_module

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def mixed(context: df.DurableOrchestrationContext):
    a = yield context.call_activity("double", 1)
    parts = yield context.task_all([context.call_activity("double", k) for k in range(3)])
    context.signal_entity(df.EntityId("Tally", "t"), "add", a)
    count = yield context.call_entity(df.EntityId("Tally", "t"), "add", 10)
    approval = context.wait_for_external_event("approve")
    timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    winner = yield context.task_any([approval, timer])
    if winner is approval:
        timer.cancel()
    context.set_custom_status({"approved": winner is approval})
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=30))
    b = yield context.call_activity("double", a + sum(parts))
    return {"b": b, "count": count, "approved": winner is approval}


@app.orchestration_trigger(context_name="context")
def incident_like(context: df.DurableOrchestrationContext):
    yield context.call_activity("double", 1)
    done = yield context.wait_for_external_event("done")
    return done


@app.orchestration_trigger(context_name="context")
def two_steps(context: df.DurableOrchestrationContext):
    a = yield context.call_activity("double", 2)
    return (yield context.call_activity("double", a))


@app.activity_trigger(input_name="value")
def double(value: int) -> int:
    return 2 * value


@app.entity_trigger(context_name="context", entity_name="Tally")
def tally(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0) + context.get_input()
    context.set_state(value)
    context.set_result(value)


def _shape(events):
    """History without ids/timestamps that differ between runs."""
    out = []
    for e in events:
        item = {"EventType": e["EventType"], "EventId": e["EventId"]}
        for key in ("Name", "Result", "TaskScheduledId", "TimerId", "OrchestrationStatus"):
            if key in e and not (key == "Name" and e["EventType"] == 15 and "-" in str(e.get("Name"))):
                item[key] = e[key]
        out.append(item)
    return out


@pytest.mark.parametrize("approve", [True, False])
def test_incremental_and_from_scratch_write_the_same_history(tmp_path, clock, monkeypatch, approve):
    results = {}
    for incremental, sessions in ((False, False), (True, False), (True, True)):
        monkeypatch.setattr(LocalDurableHost, "incremental", incremental)
        monkeypatch.setattr(LocalDurableHost, "sessions", sessions)
        host = LocalDurableHost(app, tmp_path / f"{incremental}{sessions}.sqlite", clock=type(clock)(clock.now()))
        try:
            iid = host.start_new("mixed", "m")
            host.run_until_idle(iid)
            if approve:
                host.raise_event(iid, "approve", True)
            host.raise_event(iid, "unrelated", 1)  # buffered: nobody waits for it
            host.run_until_idle(iid, advance_timers=True)
            status = host.get_status(iid, show_history=True)
            results[incremental, sessions] = (status.runtime_status, status.output, status.custom_status,
                                    _shape(status.history))
        finally:
            host.close()
    assert results[True, True] == results[True, False] == results[False, False]
    assert results[True, True][0] == "Completed"
    assert results[True, True][1] == {"b": 16, "count": 12, "approved": approve}


def test_events_nobody_waits_for_do_not_call_the_orchestrator(db_path, clock, monkeypatch):
    calls = []
    original = host_module.call_orchestrator

    def counting(entry, context_json):
        calls.append(1)
        return original(entry, context_json)

    def counting_start(handle, context_json):
        calls.append(1)
        return original_start(handle, context_json)

    def counting_resume(session, committed, new):
        calls.append(1)
        return original_resume(session, committed, new)

    original_start, original_resume = host_module.start_session, host_module.resume_session
    monkeypatch.setattr(host_module, "call_orchestrator", counting)
    monkeypatch.setattr(host_module, "start_session", counting_start)
    monkeypatch.setattr(host_module, "resume_session", counting_resume)
    host = LocalDurableHost(app, db_path, clock=clock)
    try:
        iid = host.start_new("incident_like")
        host.run_until_idle(iid)
        before = len(calls)
        for k in range(20):
            host.raise_event(iid, "alert", k)
            host.run_until_idle(iid)
        assert len(calls) == before  # 20 episodes, none needed the orchestrator
        host.raise_event(iid, "done", "closed")
        host.run_until_idle(iid)
        status = host.get_status(iid, show_history=True)
        assert (status.runtime_status, status.output) == ("Completed", "closed")
        assert len(calls) == before + 1
        assert sum(1 for e in status.history if e.get("Name") == "alert") == 20  # every event kept in history
    finally:
        host.close()


def test_a_crash_while_committing_an_episode_drops_the_cached_replay_state(db_path, clock, monkeypatch):
    host = LocalDurableHost(app, db_path, clock=clock)
    try:
        iid = host.start_new("two_steps")
        original = LocalDurableHost._commit_episode
        commits = []

        def crash_on_second(self, *args, **kwargs):
            commits.append(1)
            if len(commits) == 2:  # the episode after the first result: replayed, then lost mid-commit
                raise KeyboardInterrupt
            return original(self, *args, **kwargs)

        monkeypatch.setattr(LocalDurableHost, "_commit_episode", crash_on_second)
        with pytest.raises(KeyboardInterrupt):
            host.run_until_idle(iid)
        host.run_until_idle(iid)
        status = host.get_status(iid, show_history=True)
        assert (status.runtime_status, status.output) == ("Completed", 8)
        assert [e["Name"] for e in status.history if e["EventType"] == 4] == ["double", "double"]
    finally:
        host.close()

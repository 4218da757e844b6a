"""SDK sessions (``firestop/runtime/sessions.py``): same outcome as a full SDK replay, linear cost.

A session keeps the SDK's context, executor and suspended generator between
episodes and feeds them only what is new. These tests hold it to the full
replay's results (histories, outputs, custom status, failures) and show the
cost is linear: the SDK processes each history event about once over an
instance's life, not once per episode.
"""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df
import pytest
from azure.durable_functions.models.TaskOrchestrationExecutor import TaskOrchestrationExecutor

from firestop.runtime import LocalDurableHost
from firestop.runtime import host as host_module

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext):
    total = 0
    for i in range(context.get_input()):
        total += yield context.call_activity("echo", i)
        context.set_custom_status({"done": i + 1})
    return total


@app.orchestration_trigger(context_name="context")
def breaks_late(context: df.DurableOrchestrationContext):
    yield context.call_activity("echo", 1)
    data = yield context.wait_for_external_event("go")
    if data == "boom":
        raise ValueError("the orchestrator gave up")
    return data


@app.orchestration_trigger(context_name="context")
def reminders(context: df.DurableOrchestrationContext):
    """Human interaction with reminders: timers answered, then cancelled in a later episode."""
    sent = 0
    expires = context.current_utc_datetime + timedelta(hours=1)
    while True:
        deadline = context.create_timer(expires)
        reminder = context.create_timer(context.current_utc_datetime + timedelta(minutes=25))
        approval = context.wait_for_external_event("approval")
        winner = yield context.task_any([approval, reminder, deadline])
        if winner is approval:
            deadline.cancel()
            reminder.cancel()
            return {"approved": approval.result, "reminders": sent}
        if winner is deadline:
            reminder.cancel()
            return {"approved": None, "reminders": sent}
        deadline.cancel()
        sent += 1
        yield context.call_activity("echo", sent)


@app.activity_trigger(input_name="value")
def echo(value):
    return value


def _shape(events):
    keep = ("EventType", "EventId", "Name", "Result", "TaskScheduledId", "TimerId", "OrchestrationStatus")
    return [{k: e[k] for k in keep if k in e} for e in events]


def _run_both(tmp_path, clock, monkeypatch, script):
    results = {}
    for sessions in (True, False):
        monkeypatch.setattr(LocalDurableHost, "sessions", sessions)
        host = LocalDurableHost(app, tmp_path / f"{sessions}.sqlite", clock=type(clock)(clock.now()))
        try:
            iid = script(host)
            status = host.get_status(iid, show_history=True)
            results[sessions] = (status.runtime_status, status.output, status.custom_status, _shape(status.history))
        finally:
            host.close()
    assert results[True] == results[False]
    return results[True]


def test_a_chain_with_custom_status_matches_a_full_replay(tmp_path, clock, monkeypatch):
    def script(host):
        iid = host.start_new("chain", input=12)
        host.run_until_idle(iid)
        return iid

    status, output, custom, _ = _run_both(tmp_path, clock, monkeypatch, script)
    assert (status, output, custom) == ("Completed", sum(range(12)), {"done": 12})


@pytest.mark.parametrize("data", ["fine", "boom"])
def test_an_orchestrator_error_in_a_continued_session_fails_it_as_a_full_replay_does(tmp_path, clock, monkeypatch,
                                                                                     data):
    def script(host):
        iid = host.start_new("breaks_late")
        host.run_until_idle(iid)
        host.raise_event(iid, "go", data)
        host.run_until_idle(iid)
        return iid

    status, output, _, _ = _run_both(tmp_path, clock, monkeypatch, script)
    if data == "boom":
        assert status == "Failed" and "the orchestrator gave up" in output
    else:
        assert (status, output) == ("Completed", "fine")


@pytest.mark.parametrize("approve_after", [0, 2, None])
def test_timers_cancelled_after_they_were_answered_match_a_full_replay(tmp_path, clock, monkeypatch, approve_after):
    def script(host):
        iid = host.start_new("reminders")
        host.run_until_idle(iid)
        for _ in range(approve_after if approve_after is not None else 0):
            host.clock.advance(25 * 60)
            host.run_until_idle(iid)
        if approve_after is not None:
            host.raise_event(iid, "approval", "yes")
        host.run_until_idle(iid, advance_timers=approve_after is None)
        return iid

    status, output, _, history = _run_both(tmp_path, clock, monkeypatch, script)
    assert status == "Completed"
    if approve_after is None:
        assert output == {"approved": None, "reminders": 2}
    else:
        assert output == {"approved": "yes", "reminders": approve_after}


def test_the_sdk_processes_each_history_event_about_once(db_path, clock, monkeypatch):
    """Linear replay: over a 60-step chain the SDK's ``process_event`` runs about once per history
    event with sessions (a full replay per episode: about n²/2 times)."""
    processed = {True: 0, False: 0}
    original = TaskOrchestrationExecutor.process_event
    mode = [True]

    def counting(self, event):
        processed[mode[0]] += 1
        return original(self, event)

    monkeypatch.setattr(TaskOrchestrationExecutor, "process_event", counting)
    lengths = {}
    for sessions in (True, False):
        mode[0] = sessions
        monkeypatch.setattr(LocalDurableHost, "sessions", sessions)
        host = LocalDurableHost(app, db_path.with_name(f"{sessions}.sqlite"), clock=type(clock)(clock.now()))
        try:
            iid = host.start_new("chain", input=60)
            host.run_until_idle(iid)
            status = host.get_status(iid, show_history=True)
            assert (status.runtime_status, status.output) == ("Completed", sum(range(60)))
            lengths[sessions] = len(status.history)
        finally:
            host.close()
    assert processed[True] <= lengths[True]
    assert processed[False] > 20 * lengths[False]


def test_an_episode_lost_mid_commit_drops_the_session_and_the_next_one_replays_in_full(db_path, clock, monkeypatch):
    host = LocalDurableHost(app, db_path, clock=clock)
    starts, commits = [], []
    original_start, original_commit = host_module.start_session, LocalDurableHost._commit_episode

    def counting(handle, context_json):
        starts.append(1)
        return original_start(handle, context_json)

    def crash_once(self, *args, **kwargs):
        commits.append(1)
        if len(commits) == 3:  # the episode of "go": the session already fed it, the commit is lost
            raise KeyboardInterrupt
        return original_commit(self, *args, **kwargs)

    monkeypatch.setattr(host_module, "start_session", counting)
    monkeypatch.setattr(LocalDurableHost, "_commit_episode", crash_once)
    try:
        iid = host.start_new("breaks_late")
        host.run_until_idle(iid)
        assert len(starts) == 1  # one session, continued for the activity's result
        host.raise_event(iid, "go", "fine")
        with pytest.raises(KeyboardInterrupt):
            host.run_until_idle(iid)
        assert host.get_status(iid).runtime_status == "Running"
        host.run_until_idle(iid)
        status = host.get_status(iid, show_history=True)
        assert (status.runtime_status, status.output) == ("Completed", "fine")
        assert len(starts) == 2  # the session went with the lost episode: a full replay from the history
        assert sum(1 for e in status.history if e.get("Name") == "go") == 1
    finally:
        host.close()

"""Durable timers, external events (human approval) and the virtual-clock rules."""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df
import pytest

from firestop.runtime import InstanceNotFound, LocalDurableHost

app = df.DFApp()
CLOCK: list = []
SEEN: list = []
REPLAYING: list = []


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    deadline = context.current_utc_datetime + timedelta(minutes=30)
    timer = context.create_timer(deadline)
    event = context.wait_for_external_event("Approval")
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        return {"approved": event.result, "at": context.current_utc_datetime.isoformat()}
    return {"approved": None, "timedOut": True, "at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def approve_then_act(context: df.DurableOrchestrationContext):
    account = yield context.call_activity("lookup", "a1")
    decision = yield context.wait_for_external_event("Approval")
    return {"account": account, "decision": decision}


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    before = context.current_utc_datetime
    yield context.create_timer(before + timedelta(seconds=90))
    return [before.isoformat(), context.current_utc_datetime.isoformat()]


@app.orchestration_trigger(context_name="context")
def parallel_durations(context: df.DurableOrchestrationContext):
    start = context.current_utc_datetime
    ends = yield context.task_all([context.call_activity("work", s) for s in (10, 30, 20)])
    return {"start": start.isoformat(), "ends": ends, "after": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def replay_probe(context: df.DurableOrchestrationContext):
    REPLAYING.append(("start", context.is_replaying))
    yield context.call_activity("lookup", "x")
    REPLAYING.append(("after-1", context.is_replaying))
    yield context.call_activity("lookup", "y")
    REPLAYING.append(("after-2", context.is_replaying))
    return "ok"


@app.orchestration_trigger(context_name="context")
def times(context: df.DurableOrchestrationContext):
    SEEN.append(context.current_utc_datetime)
    yield context.call_activity("rewind", None)
    SEEN.append(context.current_utc_datetime)
    return "ok"


@app.activity_trigger(input_name="name")
def lookup(name: str) -> dict:
    return {"name": name}


@app.activity_trigger(input_name="seconds")
def work(seconds: int) -> dict:
    clock = CLOCK[0]
    started = clock.now().isoformat()
    clock.advance(seconds)
    return {"started": started, "ended": clock.now().isoformat()}


@app.activity_trigger(input_name="payload")
def rewind(payload) -> None:
    CLOCK[0].advance(-3600)  # somebody moves the clock backwards


@pytest.fixture
def host(db_path, clock):
    CLOCK[:] = [clock]
    SEEN.clear()
    REPLAYING.clear()
    return LocalDurableHost(app, db_path, clock=clock)


def _pending_timers(host, iid):
    return [e for e in host.get_status(iid, show_history=True).history if e["EventType"] == 10]


def test_approval_event_wins_and_timer_is_cancelled(host, clock):
    iid = host.start_new("approval", "appr-1")
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Running"
    created = [e for e in status.history if e["EventType"] == 10]
    assert created == [{**created[0], "EventId": 0, "FireAt": "2024-05-24T12:30:00.0000000Z"}]

    clock.advance(60)
    host.raise_event(iid, "Approval", {"approver": "soc@contoso.com"})
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Completed"
    assert status.output == {"approved": {"approver": "soc@contoso.com"}, "at": "2024-05-24T12:01:00+00:00"}
    # the cancelled timer never fires and the clock was not advanced to it
    assert not [e for e in status.history if e["EventType"] == 11]
    assert clock.now().isoformat() == "2024-05-24T12:01:00+00:00"
    raised = [e for e in status.history if e["EventType"] == 15]
    assert raised[0]["Name"] == "Approval" and raised[0]["Input"] == '{"approver": "soc@contoso.com"}'


def test_approval_times_out_when_timers_advance(host, clock):
    iid = host.start_new("approval")
    host.run_until_idle(advance_timers=True)
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Completed"
    assert status.output == {"approved": None, "timedOut": True, "at": "2024-05-24T12:30:00+00:00"}
    fired = [e for e in status.history if e["EventType"] == 11]
    assert fired == [{**fired[0], "TimerId": 0, "FireAt": "2024-05-24T12:30:00.0000000Z",
                      "Timestamp": "2024-05-24T12:30:00.0000000Z"}]


def test_timer_not_due_waits_until_the_clock_reaches_it(host, clock):
    iid = host.start_new("approval")
    host.run_until_idle()
    host.run_until_idle()  # nothing due: still waiting, clock untouched
    assert host.get_status(iid).runtime_status == "Running"
    assert clock.now().isoformat() == "2024-05-24T12:00:00+00:00"
    clock.advance(29 * 60)
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Running"
    clock.advance(60)
    host.run_until_idle()
    assert host.get_status(iid).output["timedOut"] is True


def test_event_raised_before_the_orchestrator_waits_is_buffered(host):
    iid = host.start_new("approve_then_act")
    host.raise_event(iid, "Approval", "yes")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Completed"
    assert status.output == {"account": {"name": "a1"}, "decision": "yes"}


def test_event_for_unknown_or_finished_instance(host):
    with pytest.raises(InstanceNotFound):
        host.raise_event("ghost", "Approval", 1)
    iid = host.start_new("approve_then_act")
    host.raise_event(iid, "Approval", "yes")
    host.run_until_idle()
    host.raise_event(iid, "Approval", "again")  # dropped, like Azure
    host.run_until_idle()
    assert host.get_status(iid).output["decision"] == "yes"


def test_durable_timer_sets_current_utc_datetime(host, clock):
    iid = host.start_new("sleeper")
    host.run_until_idle(advance_timers=True)
    assert host.get_status(iid).output == ["2024-05-24T12:00:00+00:00", "2024-05-24T12:01:30+00:00"]


def test_virtual_clock_parallel_activities_overlap(host, clock):
    iid = host.start_new("parallel_durations")
    host.run_until_idle()
    out = host.get_status(iid).output
    start = "2024-05-24T12:00:00+00:00"
    assert out["start"] == start
    assert [e["started"] for e in out["ends"]] == [start, start, start]
    assert [e["ended"] for e in out["ends"]] == [
        "2024-05-24T12:00:10+00:00", "2024-05-24T12:00:30+00:00", "2024-05-24T12:00:20+00:00"]
    # the batch took as long as its longest member, not the sum
    assert out["after"] == "2024-05-24T12:00:30+00:00"
    assert clock.now().isoformat() == "2024-05-24T12:00:30+00:00"


def test_completions_enter_history_in_simulated_completion_order(host):
    iid = host.start_new("parallel_durations")
    host.run_until_idle()
    history = host.get_status(iid, show_history=True).history
    assert [e["TaskScheduledId"] for e in history if e["EventType"] == 5] == [0, 2, 1]


def test_current_utc_datetime_never_goes_backwards(host, clock):
    iid = host.start_new("times")
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Completed"
    assert SEEN[0] == SEEN[-1]  # the clock went back an hour; orchestration time did not
    starts = [e["Timestamp"] for e in host.get_status(iid, show_history=True).history if e["EventType"] == 12]
    assert starts == sorted(starts)


def test_is_replaying_without_sessions(host, monkeypatch):
    monkeypatch.setattr(LocalDurableHost, "sessions", False)
    iid = host.start_new("replay_probe")
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Completed"
    # episode 1: live start; episode 2: start replayed, after-1 live; episode 3: ... after-2 live
    assert REPLAYING == [
        ("start", False),
        ("start", True), ("after-1", False),
        ("start", True), ("after-1", True), ("after-2", False),
    ]


def test_is_replaying_with_a_session_and_after_a_restart(host, db_path, clock):
    iid = host.start_new("replay_probe")
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Completed"
    # one session (sessions.py): each line runs once, live, as on its first execution
    assert REPLAYING == [("start", False), ("after-1", False), ("after-2", False)]
    REPLAYING.clear()
    paused = host.start_new("paused_probe")
    host.run_until_idle()  # start and after-1 live; waits for "go"
    host.close()
    other = LocalDurableHost(app, db_path, clock=clock)  # a restart: no session, so a full replay first
    try:
        other.raise_event(paused, "go")
        other.run_until_idle()
        assert other.get_status(paused).runtime_status == "Completed"
    finally:
        other.close()
    assert REPLAYING == [("start", False), ("after-1", False),
                         ("start", True), ("after-1", True), ("after-2", False)]


@app.orchestration_trigger(context_name="context")
def paused_probe(context: df.DurableOrchestrationContext):
    REPLAYING.append(("start", context.is_replaying))
    yield context.call_activity("lookup", "x")
    REPLAYING.append(("after-1", context.is_replaying))
    yield context.wait_for_external_event("go")
    REPLAYING.append(("after-2", context.is_replaying))
    return "ok"


@app.orchestration_trigger(context_name="context")
def approval_with_reminders(context: df.DurableOrchestrationContext):
    reminders = 0
    while reminders < 3:
        timer = context.create_timer(context.current_utc_datetime + timedelta(minutes=10))
        event = context.wait_for_external_event("Approval")
        winner = yield context.task_any([event, timer])
        if winner == event:  # (timer deliberately not cancelled: a common omission)
            return {"approved": event.result, "reminders": reminders}
        reminders += 1
        yield context.call_activity("lookup", f"reminder-{reminders}")
    return {"approved": None, "reminders": reminders}


def test_event_goes_to_the_current_wait_not_one_abandoned_by_a_lost_race(host, clock):
    iid = host.start_new("approval_with_reminders")
    host.run_until_idle()
    for _ in range(2):
        clock.advance(10 * 60)
        host.run_until_idle()
    host.raise_event(iid, "Approval", "go")
    host.run_until_idle()
    status = host.get_status(iid)
    assert (status.runtime_status, status.output) == ("Completed", {"approved": "go", "reminders": 2})


def test_reminder_loop_gives_up_when_timers_advance(host, clock):
    iid = host.start_new("approval_with_reminders")
    host.run_until_idle(advance_timers=True)
    assert host.get_status(iid).output == {"approved": None, "reminders": 3}
    assert clock.now().isoformat() == "2024-05-24T12:30:00+00:00"

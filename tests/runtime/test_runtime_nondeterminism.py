"""An orchestrator that changes between episodes must fail loudly, never mis-route results."""

from __future__ import annotations

import azure.durable_functions as df
import pytest

from firestop.runtime import LocalDurableHost

app = df.DFApp()
FLAGS = {"first": "get_account", "timer_first": False}


@app.orchestration_trigger(context_name="context")
def drifting(context: df.DurableOrchestrationContext):
    account = yield context.call_activity(FLAGS["first"], "a1")
    result = yield context.call_activity("disable_public_access", account)
    return result


@app.orchestration_trigger(context_name="context")
def drifting_kind(context: df.DurableOrchestrationContext):
    yield context.call_activity("disable_public_access", "x")
    if FLAGS["timer_first"]:
        yield context.wait_for_external_event("Never")
    else:
        yield context.call_activity("flip_kind", None)
    return "done"


@app.activity_trigger(input_name="payload")
def get_account(payload):
    FLAGS["first"] = "delete_account"  # a deploy happened while the activity ran
    return {"name": "aoai-prod"}


@app.activity_trigger(input_name="payload")
def delete_account(payload):
    return "deleted"


@app.activity_trigger(input_name="payload")
def disable_public_access(payload):
    return "Disabled"


@app.activity_trigger(input_name="payload")
def flip_kind(payload):
    FLAGS["timer_first"] = True
    return None


@pytest.fixture(autouse=True)
def reset_flags(monkeypatch):
    FLAGS.update(first="get_account", timer_first=False)
    # These orchestrators change *inside* one process (a flag flipped by an activity stands for a
    # deploy). A real deploy restarts the worker, which drops the host's SDK sessions (sessions.py);
    # in-process, only a replay without sessions sees the change. The same check after a restart with
    # sessions on: test_a_deploy_between_two_hosts_is_reported_with_sessions_on.
    monkeypatch.setattr(LocalDurableHost, "sessions", False)


def test_renamed_activity_fails_the_instance_with_position_expected_and_actual(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    iid = host.start_new("drifting")
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert status.runtime_status == "Failed"
    message = status.output
    assert "Non-deterministic orchestrator" in message
    assert "history position 2" in message and "sequence number 0" in message
    assert "call_activity('get_account')" in message  # expected (from history)
    assert "call_activity('delete_account')" in message  # actual (now)
    # no wrong result: the activity the history never scheduled was not run
    assert not any(e.get("Name") == "delete_account" for e in status.history)
    assert not any(e.get("Name") == "disable_public_access" for e in status.history)


def test_changed_kind_of_call_fails_the_instance(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    iid = host.start_new("drifting_kind")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Failed"
    assert "sequence number 1" in status.output
    assert "call_activity('flip_kind')" in status.output
    assert "it is waiting on wait_for_external_event('Never')" in status.output
    assert status.output.startswith("Non-deterministic orchestrator detected: at history position")


@app.orchestration_trigger(context_name="context")
def paused_drift(context: df.DurableOrchestrationContext):
    yield context.call_activity(FLAGS["first"], "a1")
    yield context.wait_for_external_event("go")
    return (yield context.call_activity("disable_public_access", "a1"))


@app.activity_trigger(input_name="payload")
def get_name(payload):
    return "aoai-prod"


def test_a_deploy_between_two_hosts_is_reported_with_sessions_on(db_path, clock, monkeypatch):
    monkeypatch.setattr(LocalDurableHost, "sessions", True)
    FLAGS["first"] = "get_name"
    first = LocalDurableHost(app, db_path, clock=clock)
    try:
        iid = first.start_new("paused_drift")
        first.run_until_idle()
        assert first.get_status(iid).runtime_status == "Running"  # waits for "go", its session kept in memory
    finally:
        first.close()  # the worker stops for the deploy
    FLAGS["first"] = "get_account"  # the new code calls another activity first
    second = LocalDurableHost(app, db_path, clock=clock)
    try:
        second.raise_event(iid, "go")
        second.run_until_idle()
        status = second.get_status(iid)
        assert status.runtime_status == "Failed"
        assert "call_activity('get_name')" in status.output and "call_activity('get_account')" in status.output
    finally:
        second.close()

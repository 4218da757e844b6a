"""The host's quiet mark: once a look finds the queues empty, nothing is queried again until the store changes
(by this host, another host on the file, or a client) or the earliest timer falls due — and then it runs."""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df
import pytest

from firestop.runtime import LocalDurableHost
from firestop.runtime.store import Store

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def napping(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=30))
    return "woke"


@app.orchestration_trigger(context_name="context")
def waiting(context: df.DurableOrchestrationContext):
    value = yield context.wait_for_external_event("go")
    return value


@pytest.fixture
def queries(monkeypatch):
    """How often the host read its queue tables."""
    seen = {"n": 0}
    original = Store.ready_instances

    def counted(self, now_text):
        seen["n"] += 1
        return original(self, now_text)

    monkeypatch.setattr(Store, "ready_instances", counted)
    return seen


@pytest.fixture
def host(db_path, clock):
    """A local durable host on this test's store and virtual clock, closed after the test."""
    host = LocalDurableHost(app, db_path, clock=clock)
    yield host
    host.close()


def test_quiet_until_the_timer_falls_due(queries, host, clock):
    iid = host.start_new("napping")
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Running"
    assert not host.has_runnable_work()
    before = queries["n"]
    for _ in range(5):
        assert not host.has_runnable_work()
        host.run_until_idle()
    assert queries["n"] == before  # answered from the mark
    assert host.next_timer_due() == clock.now() + timedelta(minutes=30)
    clock.advance(30 * 60)
    assert host.has_runnable_work()
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Completed"
    assert host.get_status(iid).output == "woke"


def test_an_event_raised_on_this_host_ends_the_quiet(host):
    iid = host.start_new("waiting")
    host.run_until_idle()
    assert not host.has_runnable_work()
    host.raise_event(iid, "go", "now")
    assert host.has_runnable_work()
    host.run_until_idle()
    assert host.get_status(iid).output == "now"


def test_work_queued_by_another_host_on_the_file_ends_the_quiet(db_path, clock):
    first = LocalDurableHost(app, db_path, clock=clock)
    second = LocalDurableHost(app, db_path, clock=clock)
    try:
        first.run_until_idle()
        assert not first.has_runnable_work()
        iid = second.start_new("waiting")  # another connection: PRAGMA data_version moves
        second.raise_event(iid, "go", 7)
        assert first.has_runnable_work()
        first.run_until_idle()
        assert first.get_status(iid).output == 7
    finally:
        first.close()
        second.close()


def test_advance_timers_still_jumps_to_the_next_timer(host):
    iid = host.start_new("napping")
    host.run_until_idle()
    assert not host.has_runnable_work()  # quiet, with the timer as its due
    host.run_until_idle(advance_timers=True)
    assert host.get_status(iid).runtime_status == "Completed"
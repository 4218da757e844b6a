"""SQLite persistence, instance lifecycle and queries."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import azure.durable_functions as df
import pytest

from firestop.runtime import InstanceAlreadyExists, InstanceNotFound, LocalDurableHost

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def gated(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    who = yield context.wait_for_external_event("Go")
    context.set_custom_status("going")
    done = yield context.call_activity("echo", who)
    return done


@app.orchestration_trigger(context_name="context")
def quick(context: df.DurableOrchestrationContext):
    value = yield context.call_activity("echo", context.get_input())
    return value


@app.activity_trigger(input_name="payload")
def echo(payload):
    return payload


def test_second_host_on_the_same_file_sees_and_continues_instances(db_path, clock):
    first = LocalDurableHost(app, db_path, clock=clock)
    iid = first.start_new("gated", "inc-42", {"alert": 1})
    first.run_until_idle()
    assert first.get_status(iid).runtime_status == "Running"

    second = LocalDurableHost(app, db_path, clock=clock)
    status = second.get_status(iid)
    assert (status.runtime_status, status.custom_status, status.input) == ("Running", "waiting", {"alert": 1})

    second.raise_event(iid, "Go", "analyst")
    second.run_until_idle()
    assert second.get_status(iid).output == "analyst"
    again = first.get_status(iid)
    assert (again.runtime_status, again.custom_status, again.output) == ("Completed", "going", "analyst")


def test_database_is_wal_and_created_if_missing(tmp_path, clock):
    path = tmp_path / "nested" / "dir" / "host.db"
    LocalDurableHost(app, path, clock=clock)
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_instance_id_reuse_rules(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    host.start_new("gated", "dup")
    with pytest.raises(InstanceAlreadyExists):
        host.start_new("quick", "dup")  # Pending
    host.run_until_idle()
    with pytest.raises(InstanceAlreadyExists):
        host.start_new("quick", "dup")  # Running
    # a second host process refuses too (atomic check in the database)
    with pytest.raises(InstanceAlreadyExists):
        LocalDurableHost(app, db_path, clock=clock).start_new("quick", "dup")

    host.terminate("dup", "analyst closed the incident")
    status = host.get_status("dup", show_history=True)
    assert (status.runtime_status, status.output) == ("Terminated", "analyst closed the incident")
    assert [e["EventType"] for e in status.history][-4:] == [12, 3, 1, 13]

    host.start_new("quick", "dup", "again")  # allowed after Terminated; overwrites
    host.run_until_idle()
    status = host.get_status("dup", show_history=True)
    assert (status.name, status.runtime_status, status.output) == ("quick", "Completed", "again")
    assert status.history[1]["Name"] == "quick"


def test_terminate_drops_pending_work_and_is_a_noop_when_finished(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    iid = host.start_new("gated")
    host.run_until_idle()
    host.raise_event(iid, "Go", "x")
    host.terminate(iid, "stop")
    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Terminated"
    host.terminate(iid, "again")
    assert host.get_status(iid).output == "stop"
    with pytest.raises(InstanceNotFound):
        host.terminate("ghost", "x")


def test_purge(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    iid = host.start_new("quick", input=1)
    host.run_until_idle()
    host.purge(iid)
    with pytest.raises(InstanceNotFound):
        host.get_status(iid)
    with pytest.raises(InstanceNotFound):
        host.purge(iid)


def test_list_instances_filters(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    a = host.start_new("quick", "a", 1)
    clock.advance(60)
    b = host.start_new("gated", "b")
    clock.advance(60)
    c = host.start_new("quick", "c", 3)
    host.run_until_idle()

    ids = lambda statuses: [s.instance_id for s in statuses]  # noqa: E731
    assert ids(host.list_instances()) == [a, b, c]
    assert ids(host.list_instances(runtime_status="Completed")) == [a, c]
    assert ids(host.list_instances(runtime_status=["Running", "Pending"])) == [b]
    assert ids(host.list_instances(name="gated")) == [b]
    t0 = host.get_status(a).created_time
    assert ids(host.list_instances(created_from=t0 + timedelta(seconds=30))) == [b, c]
    assert ids(host.list_instances(created_to=t0 + timedelta(seconds=60))) == [a, b]


def test_run_until_idle_for_one_instance_leaves_others(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    a = host.start_new("quick", "a", 1)
    b = host.start_new("quick", "b", 2)
    host.run_until_idle(a)
    assert host.get_status(a).runtime_status == "Completed"
    assert host.get_status(b).runtime_status == "Pending"
    host.run_until_idle()
    assert host.get_status(b).output == 2

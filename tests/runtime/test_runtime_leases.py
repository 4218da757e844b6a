"""Instance leases: who may run an instance, takeover, and fenced commits."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import azure.durable_functions as df
import pytest

from firestop.clock import SystemClock
from firestop.runtime import LocalDurableHost
from firestop.runtime.host import owner_is_dead
from firestop.runtime.store import Store

app = df.DFApp()
RUNS: Counter = Counter()
HOOKS: dict = {}
FOREIGN = "another-machine|4242|process|host"
GUARD_S = 60.0  # a wait longer than this is a hang: fail instead of waiting forever


@app.orchestration_trigger(context_name="context")
def one(context: df.DurableOrchestrationContext):
    hook = HOOKS.get("episode")
    if hook is not None and not context.is_replaying:
        hook(context.instance_id)
    result = yield context.call_activity("count", "x")
    return result


@app.activity_trigger(input_name="label")
def count(label: str) -> str:
    RUNS[label] += 1
    hook = HOOKS.get("activity")
    if hook is not None:
        hook()
    return label.upper()


@pytest.fixture(autouse=True)
def reset():
    RUNS.clear()
    HOOKS.clear()
    yield
    HOOKS.clear()


def test_try_lease_rules(db_path):
    store = Store(db_path)
    dead_owners: set[str] = set()
    is_dead = dead_owners.__contains__
    assert store.try_lease("i", "a", now=100.0, expires_at=130.0, is_dead=is_dead)
    assert not store.try_lease("i", "b", now=120.0, expires_at=150.0, is_dead=is_dead)  # held, live
    assert store.try_lease("i", "a", now=120.0, expires_at=150.0, is_dead=is_dead)  # renewal by the holder
    assert not store.try_lease("i", "b", now=150.0, expires_at=180.0, is_dead=is_dead)  # expires_at is inclusive
    assert store.try_lease("i", "b", now=150.5, expires_at=180.0, is_dead=is_dead)  # expired: taken over
    assert store.lease_owner("i") == "b"
    dead_owners.add("b")
    assert store.try_lease("i", "c", now=151.0, expires_at=181.0, is_dead=is_dead)  # holder's process is gone
    assert store.renew_leases("c", 500.0) == 1
    assert not store.try_lease("i", "d", now=400.0, expires_at=430.0, is_dead=is_dead)
    store.release_leases("c")
    assert store.lease_owner("i") is None
    store.close()


def test_owner_liveness():
    from firestop.runtime import host as host_module

    me = host_module._new_owner()
    hostname, pid, token, _ = me.split("|")
    assert not owner_is_dead(me)
    assert not owner_is_dead(f"{hostname}|{pid}|{token}|another-host-object")  # same process: alive
    assert owner_is_dead(f"{hostname}|{pid}|earlier-process|x")  # an earlier process that had our pid
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert owner_is_dead(f"{hostname}|{gone.stdout.strip()}|t|x")  # exited and reaped
    assert not owner_is_dead(FOREIGN)  # other machines: only expiry
    assert not owner_is_dead("garbage")


def test_a_lease_held_elsewhere_keeps_the_instance_untouched_until_released(db_path):
    host = LocalDurableHost(app, db_path, clock=SystemClock())
    iid = host.start_new("one")
    other = Store(db_path)
    assert other.try_lease(iid, FOREIGN, now=time.time(), expires_at=time.time() + 3600, is_dead=lambda o: False)

    host.run_until_idle()
    assert host.get_status(iid).runtime_status == "Pending"
    assert RUNS["x"] == 0

    other.release_leases(FOREIGN)  # e.g. the other host finished its drive, or its lease expired
    host.run_until_idle()
    assert (host.get_status(iid).runtime_status, RUNS["x"]) == ("Completed", 1)
    other.close()
    host.close()


def test_an_activity_result_is_dropped_if_the_lease_was_lost_meanwhile(db_path):
    host = LocalDurableHost(app, db_path, clock=SystemClock())
    iid = host.start_new("one")
    other = Store(db_path)
    far = time.time() + 3600

    def steal() -> None:  # another host takes the instance over while the activity runs
        HOOKS.pop("activity")
        assert other.try_lease(iid, FOREIGN, now=far, expires_at=far + 60, is_dead=lambda o: False)

    HOOKS["activity"] = steal
    host.run_until_idle()
    assert RUNS["x"] == 1
    assert host.get_status(iid).runtime_status == "Running"  # the result was not recorded

    other.release_leases(FOREIGN)
    host.run_until_idle()  # the activity runs again (at-least-once), its result is recorded once
    status = host.get_status(iid, show_history=True)
    assert (status.runtime_status, status.output, RUNS["x"]) == ("Completed", "X", 2)
    assert [e["EventType"] for e in status.history].count(5) == 1  # one TaskCompleted
    other.close()
    host.close()


def test_an_episode_is_discarded_if_the_instance_was_terminated_while_it_ran(db_path):
    host = LocalDurableHost(app, db_path, clock=SystemClock())
    elsewhere = LocalDurableHost(app, db_path, clock=SystemClock())
    iid = host.start_new("one")

    def terminate(instance_id: str) -> None:
        HOOKS.pop("episode")
        elsewhere.terminate(instance_id, "responder stopped it")

    HOOKS["episode"] = terminate
    host.run_until_idle()
    status = host.get_status(iid, show_history=True)
    assert (status.runtime_status, status.output) == ("Terminated", "responder stopped it")
    assert RUNS["x"] == 0  # the discarded episode scheduled nothing
    assert 4 not in [e["EventType"] for e in status.history]  # no TaskScheduled
    host.close()
    elsewhere.close()


def test_leases_are_released_when_a_drive_ends_even_by_an_exception(db_path):
    host = LocalDurableHost(app, db_path, clock=SystemClock())
    iid = host.start_new("one")

    def crash() -> None:
        raise KeyboardInterrupt

    HOOKS["activity"] = crash
    with pytest.raises(KeyboardInterrupt):
        host.run_until_idle()
    store = Store(db_path)
    assert store.lease_owner(iid) is None
    store.close()
    HOOKS.clear()
    other = LocalDurableHost(app, db_path, clock=SystemClock())  # no wait for an expiry
    other.run_until_idle()
    assert other.get_status(iid).runtime_status == "Completed"
    other.close()
    host.close()


def _expiry(db_path, instance_id: str) -> float:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT expires_at FROM leases WHERE instance_id = ?", (instance_id,)).fetchone()[0]


def test_the_heartbeat_renews_a_lease_while_an_activity_runs(db_path):
    host = LocalDurableHost(app, db_path, clock=SystemClock(), lease_seconds=0.3)
    iid = host.start_new("one")
    other = Store(db_path)
    seen: dict = {}

    def during() -> None:
        HOOKS.pop("activity")
        first = _expiry(db_path, iid)
        deadline = time.monotonic() + 30
        while _expiry(db_path, iid) <= first:  # wait for the heartbeat's renewal to show in the database
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.01)
        seen["taken"] = other.try_lease(iid, FOREIGN, now=first + 0.01, expires_at=first + 60,
                                        is_dead=lambda o: False)

    HOOKS["activity"] = during
    host.run_until_idle()
    assert seen == {"taken": False}  # past the first expiry, but renewed: still ours
    assert (host.get_status(iid).runtime_status, RUNS["x"]) == ("Completed", 1)
    other.close()
    host.close()


def test_an_activity_another_host_ran_after_this_host_read_the_queue_is_not_run_again(db_path):
    """Two live hosts: B reads the activity queue while A holds the instance's lease; A then runs the activity,
    commits it, ends the orchestration and releases the lease (its drive is over); B, resuming with its stale
    read, takes the now free lease. It must not run that activity again (the two-process test's
    ``{'f06/last start': 2}``). The interleaving is driven by events around each host's queue read."""
    import threading

    a = LocalDurableHost(app, db_path, clock=SystemClock())
    b = LocalDurableHost(app, db_path, clock=SystemClock())
    iid = a.start_new("one")
    a_read, b_read = threading.Event(), threading.Event()

    def pause_after_first_read(host: LocalDurableHost, on_read) -> None:
        real = host._store.work

        def work():
            rows = real()
            if rows and host._store.work is work:
                host._store.work = real  # once
                on_read()
            return rows

        host._store.work = work

    def a_waits_for_b() -> None:  # A has run the episode that scheduled the activity and holds the lease
        a_read.set()
        assert b_read.wait(GUARD_S), "B never read the queue"

    failures: list[BaseException] = []

    def drive_a() -> None:
        try:
            a.run_until_idle()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    def b_waits_for_a() -> None:  # B's read holds the activity A is about to run
        b_read.set()
        thread.join(GUARD_S)
        assert not thread.is_alive(), "A's drive never ended"

    pause_after_first_read(a, a_waits_for_b)
    pause_after_first_read(b, b_waits_for_a)
    thread = threading.Thread(target=drive_a)
    thread.start()
    assert a_read.wait(GUARD_S), "A never scheduled the activity"
    b.run_until_idle()
    thread.join(GUARD_S)
    assert failures == []
    assert b_read.is_set()  # the interleaving happened
    assert (a.get_status(iid).runtime_status, a.get_status(iid).output) == ("Completed", "X")
    assert RUNS["x"] == 1
    a.close()
    b.close()


def test_a_fenced_commit_still_releases_its_lease_in_the_database(db_path):
    """A's episode is rejected at commit (B terminated the instance while it ran); the fence drops the lease from
    A's in-memory list, which was then empty, so A's drive skipped ``release_leases`` and the row stayed in the
    database until it expired (``lease_seconds``, 30 s by default) — B, which restarts the instance under the same
    id at once, could not take it and left it Pending. No sleeps: the interleaving is the episode hook."""
    a = LocalDurableHost(app, db_path, clock=SystemClock(), lease_seconds=3600.0)  # an expiry can never help here
    b = LocalDurableHost(app, db_path, clock=SystemClock(), lease_seconds=3600.0)
    iid = a.start_new("one", instance_id="fenced-1")

    def terminate(instance_id: str) -> None:
        HOOKS.pop("episode")
        b.terminate(instance_id, "responder stopped it")

    HOOKS["episode"] = terminate
    a.run_until_idle()
    assert a.get_status(iid).runtime_status == "Terminated"
    store = Store(db_path)
    assert store.lease_owner(iid) is None  # A's drive is over: it holds nothing
    store.close()

    b.start_new("one", instance_id=iid)  # Azure's default: a terminated id may be started again
    b.run_until_idle()
    assert (b.get_status(iid).runtime_status, b.get_status(iid).output, RUNS["x"]) == ("Completed", "X", 1)
    a.close()
    b.close()

"""Real host processes on one database: kill -9 and restart, and two hosts at once.

The child (``durable_child.py``) prints where it is and blocks on stdin at the
requested point; the test reads those lines through a pipe, so every step is
synchronised on what the child says, never on elapsed time (the timeouts
below only turn a hang into a failure). Side effects are counted from the
lines the activities append to a log file.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and select on pipes")

CHILD = Path(__file__).with_name("durable_child.py")
T0 = datetime(2026, 11, 29, 3, 0, 0, tzinfo=timezone.utc)
GUARD_S = 60.0  # a step that takes longer than this is a hang: fail instead of waiting forever


class Child:
    """One host process; ``expect`` reads its stdout lines."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.tmp = tmp
        self.stderr_path = tmp / f"child-{time.monotonic_ns()}.err"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(CHILD), "--db", str(tmp / "durable.sqlite"), "--log", str(tmp / "effects.log"),
                 "--clock", str(tmp / "clock.txt"), *args],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, bufsize=0,
            )
        self._buffer = b""

    def _stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-3000:]

    def expect(self, prefix: str) -> str:
        """The next stdout line starting with ``prefix`` (earlier lines are skipped)."""
        deadline = time.monotonic() + GUARD_S
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                text = line.decode()
                if text.startswith(prefix):
                    return text
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
            if not ready:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"child never said {prefix!r}; stderr:\n{self._stderr()}")
            chunk = os.read(fd, 65536)
            if not chunk:
                code = self.proc.wait()
                raise AssertionError(f"child exited with {code} before saying {prefix!r}; stderr:\n{self._stderr()}")
            self._buffer += chunk

    def release(self) -> None:
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=GUARD_S) == -signal.SIGKILL

    def finish(self) -> dict:
        done = self.expect("done ")
        assert self.proc.wait(timeout=GUARD_S) == 0, self._stderr()
        return json.loads(done[len("done "):])


def effects(tmp: Path) -> Counter:
    path = tmp / "effects.log"
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    (tmp_path / "clock.txt").write_text(T0.isoformat())
    return tmp_path


def test_kill_9_between_and_inside_activities_and_a_timer_due_while_down(tmp):
    # 1. killed between two activities: "first" has completed, "second" is not scheduled yet
    run = Child(tmp, "--start", "pipeline:p1:null", "--block-between")
    run.expect("between")
    run.kill9()
    assert effects(tmp) == Counter({"first start": 1, "first end": 1})

    # 2. restarted: "first" is not run again; killed inside "second"
    run = Child(tmp, "--block-activity", "second")
    run.expect("inside second")
    run.kill9()
    assert effects(tmp) == Counter({"first start": 1, "first end": 1, "second start": 1})

    # 3. restarted: the interrupted "second" runs again; the orchestration then waits on a 60 s timer
    run = Child(tmp, "--block-idle")
    due = datetime.fromisoformat(run.expect("idle ").split(" ", 1)[1])
    assert due == T0 + timedelta(seconds=60)
    run.kill9()
    assert effects(tmp) == Counter({"first start": 1, "first end": 1, "second start": 2, "second end": 1})

    # 4. time passes while no host runs; on restart the due timer fires and the orchestration ends
    (tmp / "clock.txt").write_text((due + timedelta(seconds=1)).isoformat())
    statuses = Child(tmp).finish()
    assert statuses == {"p1": ["Completed", ["FIRST", "SECOND", "THIRD"]]}
    assert effects(tmp) == Counter({"first start": 1, "first end": 1, "second start": 2, "second end": 1,
                                    "third start": 1, "third end": 1})


def test_a_timer_not_yet_due_does_not_fire_on_restart(tmp):
    run = Child(tmp, "--start", "pipeline:p1:null", "--block-idle")
    run.expect("idle ")
    run.kill9()
    (tmp / "clock.txt").write_text((T0 + timedelta(seconds=59)).isoformat())
    assert Child(tmp).finish()["p1"][0] == "Running"
    assert effects(tmp)["third start"] == 0


def test_a_second_process_does_not_run_an_instance_the_first_is_running(tmp):
    first = Child(tmp, "--start", "pipeline:p1:null", "--block-activity", "first")
    first.expect("inside first")

    # the second host sees the instance, but its lease is held by a live process: it runs nothing
    second = Child(tmp).finish()
    assert second["p1"][0] == "Running"
    assert effects(tmp) == Counter({"first start": 1})

    first.release()
    assert first.finish()["p1"][0] == "Running"  # waiting on its 60 s timer now
    assert effects(tmp) == Counter({"first start": 1, "first end": 1, "second start": 1, "second end": 1})


def test_two_processes_driving_one_database_run_every_activity_once(tmp):
    n_instances, fan_out = 24, 4
    starts = [f"--start=fan:f{i:02d}:{json.dumps({'n': fan_out})}" for i in range(n_instances)]
    a = Child(tmp, *starts, "--wait-go", "--until-done")
    a.expect("ready")  # instances exist before the second process starts
    b = Child(tmp, "--wait-go", "--until-done")
    b.expect("ready")
    a.release()
    b.release()
    results = [a.finish(), b.finish()]

    for statuses in results:
        assert len(statuses) == n_instances
        assert all(status == "Completed" for status, _ in statuses.values())
    counts = effects(tmp)
    labels = [f"f{i:02d}/{k}" for i in range(n_instances) for k in [*range(fan_out), "last"]]
    assert counts == Counter({f"{label} {edge}": 1 for label in labels for edge in ("start", "end")})


def test_kill_9_inside_an_entity_batch_then_a_second_process_applies_each_operation_once(tmp):
    signals = [arg for op in ("a", "b", "c") for arg in ("--signal", f"tally:k:{op}:null")]
    run = Child(tmp, *signals, "--block-entity", "b")
    run.expect("inside-entity b")
    # a second process cannot take the entity while the first is alive and holds its lease
    assert Child(tmp).finish() == {}
    assert effects(tmp) == Counter({"k/a run": 1, "k/b run": 1})
    run.kill9()
    assert Child(tmp).finish() == {}
    # the interrupted batch ran again from the last committed state: a and b twice, each applied once
    assert effects(tmp) == Counter({"k/a run": 2, "k/b run": 2, "k/c run": 1})
    from firestop.runtime.store import Store

    store = Store(tmp / "durable.sqlite")
    try:
        assert store.get_entity("@tally@k") == (True, json.dumps(["a", "b", "c"]))
        assert store.entity_op_count() == 0
    finally:
        store.close()

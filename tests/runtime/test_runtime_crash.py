"""Crash safety: finished activities are never re-run, interrupted ones are."""

from __future__ import annotations

from collections import Counter

import azure.durable_functions as df
import pytest

from firestop.clock import SystemClock
from firestop.runtime import LocalDurableHost

app = df.DFApp()
RUNS: Counter = Counter()
ARMED = {"crash": True}


class SimulatedCrash(BaseException):
    """Stands for the process dying while an activity runs."""


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    results = yield context.task_all([context.call_activity("step", n) for n in ("a", "crash", "b")])
    return results


@app.activity_trigger(input_name="name")
def step(name: str) -> str:
    RUNS[name] += 1
    if name == "crash" and ARMED["crash"]:
        ARMED["crash"] = False
        raise SimulatedCrash()
    return name.upper()


@pytest.fixture(autouse=True)
def reset():
    RUNS.clear()
    ARMED["crash"] = True


@pytest.mark.parametrize("real_clock", [False, True], ids=["virtual-clock", "thread-pool"])
def test_restart_after_crash_reruns_only_the_interrupted_activity(db_path, clock, real_clock):
    use_clock = SystemClock() if real_clock else clock
    first = LocalDurableHost(app, db_path, clock=use_clock)
    iid = first.start_new("fan")
    with pytest.raises(SimulatedCrash):
        first.run_until_idle()
    first.close()

    second = LocalDurableHost(app, db_path, clock=use_clock)
    assert second.get_status(iid).runtime_status == "Running"
    second.run_until_idle()
    status = second.get_status(iid)
    assert (status.runtime_status, status.output) == ("Completed", ["A", "CRASH", "B"])
    assert RUNS["a"] == 1 and RUNS["crash"] == 2
    # sequential virtual batch stops at the crash, so "b" first runs after the restart
    assert RUNS["b"] == 1

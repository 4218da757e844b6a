"""Property checks of the virtual-clock batch rule and fan-out/fan-in ordering."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import azure.durable_functions as df
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.runtime import LocalDurableHost

T0 = datetime(2024, 5, 24, 12, 0, 0, tzinfo=timezone.utc)


class ManualClock:
    """A virtual clock (set/advance)."""

    def __init__(self) -> None:
        self._now = T0

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

app = df.DFApp()
CLOCK: list = []


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext):
    durations = context.get_input()
    first = yield context.task_all([context.call_activity("sleep", d) for d in durations])
    second = yield context.task_all([context.call_activity("sleep", d) for d in reversed(durations)])
    return {"first": first, "second": second, "now": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def uses_http(context: df.DurableOrchestrationContext):
    yield context.call_http("GET", "https://example.invalid/")


@app.activity_trigger(input_name="seconds")
def sleep(seconds: float) -> dict:
    start = CLOCK[0].now()
    CLOCK[0].advance(seconds)
    return {"seconds": seconds, "start": start.isoformat()}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3600), min_size=1, max_size=8))
def test_parallel_batches_take_the_longest_member(durations):
    clock = ManualClock()
    CLOCK[:] = [clock]
    with tempfile.TemporaryDirectory() as tmp:
        host = LocalDurableHost(app, Path(tmp) / "db.sqlite", clock=clock)
        iid = host.start_new("fan", input=durations)
        host.run_until_idle()
        status = host.get_status(iid)
        host.close()
    assert status.runtime_status == "Completed"
    out = status.output
    # results come back in call order, whatever the completion order
    assert [r["seconds"] for r in out["first"]] == durations
    assert [r["seconds"] for r in out["second"]] == list(reversed(durations))
    # every member of a batch starts at the batch start; a batch lasts as long as its longest member
    longest = max(durations)
    assert {r["start"] for r in out["first"]} == {T0.isoformat()}
    assert {r["start"] for r in out["second"]} == {(T0 + timedelta(seconds=longest)).isoformat()}
    assert clock.now() == T0 + timedelta(seconds=2 * longest)
    assert out["now"] == clock.now().isoformat()


def test_unsupported_durable_api_fails_with_a_clear_message(db_path, clock):
    host = LocalDurableHost(app, db_path, clock=clock)
    iid = host.start_new("uses_http")
    host.run_until_idle()
    status = host.get_status(iid)
    assert status.runtime_status == "Failed"
    assert "does not implement CallHttp" in status.output

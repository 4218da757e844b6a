"""Benchmark of the local durable host: per-activity overhead and the SDK's share.

Run: ``python bench/runtime.py [--repeat 3] [--real-clock] [--profile CASE] [--cases a,b]``
(``taskset -c 0 python bench/runtime.py`` pins it to one core on Linux).

Every case runs twice in one invocation, side by side: **before** (the host
as it was: each episode replays the whole history against the whole parsed
action list — ``LocalDurableHost.incremental = False`` — and each activity
result is its own commit — ``batch_commits = False``) and **after** (replay
state kept per instance, only new actions parsed and new events fed, buffered
events answered without calling the SDK, results committed in batches).

Cases (each a fresh SQLite file in a temporary directory, one process):

* ``seq-N`` — an orchestrator that calls a no-op activity N times in a row
  (N = 1, 10, 100, 300, 1000): N + 1 episodes, each replaying the whole history so
  far through the SDK;
* ``fan-N`` — one ``task_all`` over N no-op activities (N = 100, 1000, 5000): two
  episodes, the second replaying N completions;
* ``events-N`` — an incident-like orchestration (one activity, then waits for
  ``done``) receives N ``alert`` events nobody waits for, raised one at a time,
  each followed by ``run_until_idle`` (N episodes), then ``done``;
* ``eventsb-N`` — the same N events raised as a storm (all before the next
  ``run_until_idle``): one episode, as the Durable backends batch all queued
  messages of an instance into one work item;
* ``waits-N`` — an orchestration that waits for ``alert`` N times in a loop;
  the N events are raised while it runs its first activity and arrive in one
  episode (what the Durable backends do: all messages for an instance that
  are queued form one work item);
* ``waits1-N`` — the same with one event per ``run_until_idle`` (N episodes,
  each resuming the orchestrator: the SDK's full replay every time).

For each case it prints the best-of-``repeat`` wall time (seconds) of
``start_new`` + ``run_until_idle``, the overhead per activity (ms), the share
of that time spent inside the orchestrator call (the SDK's
``Orchestrator.handle``: decoding the context, replaying the history, building
the action list — everything the host cannot make faster) and the number of
episodes. Targets (issue 3): ``seq-100`` under 0.3 s, ``fan-1000`` under 0.5 s,
on one core.

By default the host gets a virtual clock (activities run one after another in
the driver thread: one core, no thread pool); ``--real-clock`` uses the
system clock and the activity thread pool. ``--profile CASE`` runs one case
under cProfile and prints the top functions by cumulative time.

This is a benchmark, not a test: nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import azure.durable_functions as df

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firestop.clock import SystemClock  # noqa: E402
from firestop.runtime import LocalDurableHost  # noqa: E402
from firestop.runtime import host as host_module  # noqa: E402

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def sequential(context: df.DurableOrchestrationContext):
    total = 0
    for i in range(context.get_input()):
        total += yield context.call_activity("noop", i)
    return total


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    results = yield context.task_all([context.call_activity("noop", i) for i in range(context.get_input())])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def incident_like(context: df.DurableOrchestrationContext):
    first = yield context.call_activity("noop", 1)
    yield context.wait_for_external_event("done")
    return first


@app.orchestration_trigger(context_name="context")
def waiting(context: df.DurableOrchestrationContext):
    yield context.call_activity("noop", 0)
    total = 0
    for _ in range(context.get_input()):
        total += (yield context.wait_for_external_event("alert"))
    return total


@app.activity_trigger(input_name="value")
def noop(value: int) -> int:
    return value


class BenchClock:
    """A minimal virtual clock (``now``/``set``/``advance``)."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class SdkTimer:
    """Wraps ``host.call_orchestrator`` to time the SDK's part of each episode."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._original = host_module.call_orchestrator

    def __enter__(self) -> "SdkTimer":
        original = self._original

        def timed(entry, context_json):
            started = time.perf_counter()
            try:
                return original(entry, context_json)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        host_module.call_orchestrator = timed
        return self

    def __exit__(self, *exc: object) -> None:
        host_module.call_orchestrator = self._original


CASES = [("sequential", 1), ("sequential", 10), ("sequential", 100), ("sequential", 300),
         ("sequential", 1000), ("fan_out", 100), ("fan_out", 1000), ("fan_out", 5000),
         ("events", 100), ("events", 1000), ("eventsb", 1000), ("waits", 1000), ("waits1", 100), ("waits1", 300)]
PREFIX = {"sequential": "seq", "fan_out": "fan", "events": "events", "eventsb": "eventsb", "waits": "waits",
          "waits1": "waits1"}


def case_name(orchestrator: str, n: int) -> str:
    return f"{PREFIX[orchestrator]}-{n}"


def set_mode(after: bool) -> None:
    LocalDurableHost.incremental = after
    LocalDurableHost.batch_commits = after


def run_once(orchestrator: str, n: int, real_clock: bool) -> tuple[float, float, int]:
    """(total seconds, seconds inside the SDK, orchestrator calls) for one fresh run."""
    with tempfile.TemporaryDirectory() as tmp:
        host = LocalDurableHost(app, Path(tmp) / "bench.sqlite",
                                clock=SystemClock() if real_clock else BenchClock())
        try:
            with SdkTimer() as sdk:
                started = time.perf_counter()
                if orchestrator in ("events", "eventsb"):
                    iid = host.start_new("incident_like", input=None)
                    host.run_until_idle()
                    for k in range(n):
                        host.raise_event(iid, "alert", {"k": k})
                        if orchestrator == "events":
                            host.run_until_idle()
                    host.raise_event(iid, "done", None)
                    host.run_until_idle()
                    expected = 1
                elif orchestrator in ("waits", "waits1"):
                    iid = host.start_new("waiting", input=n)
                    host.run_until_idle()  # runs up to its first activity's result... and beyond
                    for k in range(n):
                        host.raise_event(iid, "alert", 1)
                        if orchestrator == "waits1":
                            host.run_until_idle()
                    host.run_until_idle()
                    expected = n
                else:
                    iid = host.start_new(orchestrator, input=n)
                    host.run_until_idle()
                    expected = n * (n - 1) // 2
                total = time.perf_counter() - started
            status = host.get_status(iid)
            if (status.runtime_status, status.output) != ("Completed", expected):
                raise SystemExit(f"{orchestrator}({n}) ended {status.runtime_status}: {status.output!r}")
            return total, sdk.seconds, sdk.calls
        finally:
            host.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is reported")
    parser.add_argument("--real-clock", action="store_true", help="system clock + activity thread pool")
    parser.add_argument("--profile", metavar="CASE", help="profile one case (e.g. seq-100) with cProfile")
    parser.add_argument("--before", action="store_true", help="with --profile: profile the old code path")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--max-repeat-n", type=int, default=300, help="cases with a larger N run once")
    args = parser.parse_args(argv)

    selected = [c for c in CASES if not args.cases or case_name(*c) in args.cases.split(",")]
    if args.profile:
        set_mode(not args.before)
        orchestrator, n = next((o, k) for o, k in CASES if case_name(o, k) == args.profile)
        run_once(orchestrator, n, args.real_clock)  # warm up imports
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(orchestrator, n, args.real_clock)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return 0

    run_once("sequential", 3, args.real_clock)  # warm up imports and the function index
    print(f"clock: {'system (thread pool)' if args.real_clock else 'virtual (one thread)'}; "
          f"best of {args.repeat} (1 for cases over {args.max_repeat_n}); python {sys.version.split()[0]}")
    print(f"{'case':<12}{'before s':>10}{'after s':>10}{'speed-up':>10}{'after SDK s':>13}"
          f"{'SDK share':>11}{'host s':>9}{'SDK calls b/a':>16}")
    for orchestrator, n in selected:
        rows = []
        for after in (False, True):
            set_mode(after)
            repeat = args.repeat if n <= args.max_repeat_n else 1
            rows.append(min((run_once(orchestrator, n, args.real_clock) for _ in range(repeat)),
                            key=lambda r: r[0]))
        (before, _, calls_before), (total, sdk, calls) = rows
        print(f"{case_name(orchestrator, n):<12}{before:>10.3f}{total:>10.3f}{before / total:>9.1f}x"
              f"{sdk:>13.3f}{100 * sdk / total:>10.0f}%{total - sdk:>9.3f}{calls_before:>8}/{calls:<7}")
    set_mode(True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of the local durable host: per-activity overhead and the SDK's share.

Run: ``python bench/runtime.py [--repeat 3] [--real-clock] [--profile CASE] [--cases a,b]``
(``taskset -c 0 python bench/runtime.py`` pins it to one core on Linux).

Every case runs in three modes in one invocation, side by side:

* **scratch** — the host of issue 3: each episode replays the whole history
  against the whole parsed action list (``LocalDurableHost.incremental =
  False``) and each activity result is its own commit (``batch_commits =
  False``); the SDK replays the whole history every episode;
* **incr** — issue 18's first step: the host's replay state kept per instance,
  only new actions parsed and new events fed, buffered events answered
  without calling the SDK, results committed in batches; the SDK still
  replays the whole history every episode it is called for (``sessions = False``);
* **sessions** — now: as ``incr``, and the SDK's orchestration objects are kept
  between episodes and continued with the new events only
  (``firestop/runtime/sessions.py``): per-episode work no longer grows with
  the history.

``--modes`` picks some (e.g. ``--modes incr,sessions`` skips the slow one).

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
``start_new`` + ``run_until_idle`` per mode, the speed-up of ``sessions`` over
the others, the seconds spent inside the SDK (``Orchestrator.handle``, or a
session's start/resume) in ``sessions`` mode and the SDK calls per mode; then
growth ratios (seq-1000 / seq-100 etc.: linear is 10x). Targets (issues 3 and
18): ``seq-100`` under 0.3 s, ``fan-1000`` under 0.5 s, seq-100 → seq-1000 at
most 12x, on one core.

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
    """Wraps the host's SDK entry points (``call_orchestrator``, ``start_session``,
    ``resume_session``) to time the SDK's part of each episode."""

    NAMES = ("call_orchestrator", "start_session", "resume_session")

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._originals = {name: getattr(host_module, name) for name in self.NAMES}

    def __enter__(self) -> "SdkTimer":
        for name, original in self._originals.items():
            setattr(host_module, name, self._timed(original))
        return self

    def _timed(self, original):
        def timed(*args):
            started = TIMER[0]()
            try:
                return original(*args)
            finally:
                self.seconds += TIMER[0]() - started
                self.calls += 1
        return timed

    def __exit__(self, *exc: object) -> None:
        for name, original in self._originals.items():
            setattr(host_module, name, original)


CASES = [("sequential", 1), ("sequential", 10), ("sequential", 100), ("sequential", 300),
         ("sequential", 1000), ("fan_out", 100), ("fan_out", 1000), ("fan_out", 5000),
         ("events", 100), ("events", 1000), ("eventsb", 1000), ("waits", 1000), ("waits1", 100), ("waits1", 300)]
PREFIX = {"sequential": "seq", "fan_out": "fan", "events": "events", "eventsb": "eventsb", "waits": "waits",
          "waits1": "waits1"}


def case_name(orchestrator: str, n: int) -> str:
    return f"{PREFIX[orchestrator]}-{n}"


MODES = ("scratch", "incr", "sessions")


def set_mode(mode: str) -> None:
    LocalDurableHost.incremental = mode != "scratch"
    LocalDurableHost.batch_commits = mode != "scratch"
    LocalDurableHost.sessions = mode == "sessions"


#: What a case's seconds are: CPU time of this process (``time.process_time``: a busy shared
#: machine does not count; the host does no blocking I/O worth counting: SQLite WAL, synchronous
#: NORMAL) or wall time (``--wall``).
TIMER = [time.process_time]


def run_once(orchestrator: str, n: int, real_clock: bool) -> tuple[float, float, int]:
    """(total seconds, seconds inside the SDK, orchestrator calls) for one fresh run."""
    with tempfile.TemporaryDirectory() as tmp:
        host = LocalDurableHost(app, Path(tmp) / "bench.sqlite",
                                clock=SystemClock() if real_clock else BenchClock())
        try:
            with SdkTimer() as sdk:
                started = TIMER[0]()
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
                total = TIMER[0]() - started
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
    parser.add_argument("--wall", action="store_true", help="report wall time instead of CPU time")
    parser.add_argument("--profile", metavar="CASE", help="profile one case (e.g. seq-100) with cProfile")
    parser.add_argument("--mode", choices=MODES, default="sessions", help="with --profile: the mode profiled")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes to compare")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--max-repeat-n", type=int, default=300, help="cases with a larger N run once")
    args = parser.parse_args(argv)

    if args.wall:
        TIMER[0] = time.perf_counter
    selected = [c for c in CASES if not args.cases or case_name(*c) in args.cases.split(",")]
    modes = [m for m in MODES if m in args.modes.split(",")]
    if args.profile:
        set_mode(args.mode)
        orchestrator, n = next((o, k) for o, k in CASES if case_name(o, k) == args.profile)
        run_once(orchestrator, n, args.real_clock)  # warm up imports
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(orchestrator, n, args.real_clock)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return 0

    run_once("sequential", 3, args.real_clock)  # warm up imports and the function index
    print(f"seconds: {'wall' if args.wall else 'CPU (process_time)'}; "
          f"clock: {'system (thread pool)' if args.real_clock else 'virtual (one thread)'}; "
          f"best of {args.repeat} (1 for cases over {args.max_repeat_n}); python {sys.version.split()[0]}")
    last = modes[-1]
    print(f"{'case':<13}" + "".join(f"{m + ' s':>12}" for m in modes)
          + "".join(f"{last + '/' + m:>18}" for m in modes[:-1])
          + f"{'SDK s (' + last + ')':>20}  SDK calls " + "/".join(modes))
    totals: dict[tuple[str, str], float] = {}
    for orchestrator, n in selected:
        rows = {}
        for mode in modes:
            set_mode(mode)
            repeat = args.repeat if n <= args.max_repeat_n else 1
            rows[mode] = min((run_once(orchestrator, n, args.real_clock) for _ in range(repeat)),
                             key=lambda r: r[0])
        name = case_name(orchestrator, n)
        for mode in modes:
            totals[name, mode] = rows[mode][0]
        print(f"{name:<13}" + "".join(f"{rows[m][0]:>12.3f}" for m in modes)
              + "".join(f"{rows[m][0] / rows[last][0]:>17.1f}x" for m in modes[:-1])
              + f"{rows[last][1]:>20.3f}  " + "/".join(str(rows[m][2]) for m in modes))
    growth = [("seq-100", "seq-1000"), ("fan-1000", "fan-5000"), ("events-100", "events-1000"),
              ("waits1-100", "waits1-300")]
    lines = []
    for small, large in growth:
        if all((c, m) in totals for c in (small, large) for m in modes):
            lines.append(f"{large + ' / ' + small:<26}" + "".join(
                f"{totals[large, m] / totals[small, m]:>11.1f}x" for m in modes))
    if lines:
        print(f"growth (linear: the ratio of the Ns)" + " " * 0)
        print(f"{'':<26}" + "".join(f"{m:>12}" for m in modes))
        print("\n".join(lines))
    set_mode("sessions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

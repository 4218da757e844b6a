"""Where the CPU of a hot incident goes: ``bench/intake.py hot`` run with timers on its synchronous parts.

Run: ``python bench/hot_breakdown.py [--hot 1000] [--concurrency 50]``.

It runs :func:`bench.intake.hot_once` twice in one process (no alert, then ``--hot`` correlated alerts into the
incident waiting for approval, ``--concurrency`` webhooks at a time, a driver thread running the orchestrations as
``serve`` does) and prints, for the loaded run:

* the measured window's user and system CPU (``os.times``; the bench's ``hot_cpu_s`` is their sum) and the
  control run's, so the added CPU per alert, and how much of it the worker event loop thread spent (every async
  function invocation runs there; the rest is the callers' threads and the driver);
* for each timed part, the loaded run less the control run: calls, total CPU (``time.thread_time`` of the thread that ran it) and microseconds per
  alert. The parts are synchronous functions of Firestop the webhook or the host calls: the webhook's parse
  (``parse_intake_alert``), the 202 body (``http_alerts._taken``), the seal key load, the request note
  (telemetry ``_start`` + ``RequestNote.finish``), the summary of a joined alert (``alert_summary``), the local
  Functions host's per-invocation work (``management._rebase``, ``ManagementServer.client_binding_json``), the
  local Durable host's entity batches (``_run_entity_batch``: the tally entity's operations, state load and
  save, one SQLite commit a batch) and the tally entity's own ``operate``. No SDK method is wrapped.

What is not in a timed part (the rest of the added CPU) is the asynchronous path of a delivery on the worker
event loop (``accept_alert``: locks, caches, the joiner; the SDK client each invocation builds from its binding
JSON; the status read and the entity signal of each batch through the SDK's aiohttp session), the event loop and
thread hand-offs, and the driver's polls. Timers add a few microseconds per call; figures are CPU, name the load
(``uptime``) next to them.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import intake  # noqa: E402  (bench/intake.py: puts the measured tree on sys.path)

_STATS: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])


def _timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper adding the thread CPU of each call to ``_STATS[label]``."""
    inner: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            entry = _STATS[label]
            entry[0] += 1
            entry[1] += time.thread_time() - started

    setattr(owner, name, timed)


def _instrument() -> None:
    import firestop.alerts.parse as parse
    import firestop.functions.http_alerts  # noqa: F401  (the package attribute is the blueprint: take the module)
    import firestop.intake.accept as accept
    import firestop.lifecycle.tally as tally
    import firestop.runtime.host as host
    import firestop.runtime.management as management
    import firestop.telemetry.requests as requests
    import firestop.trust.seal as seal

    http_alerts = sys.modules["firestop.functions.http_alerts"]
    _timed(parse, "parse_intake_alert", "webhook parse (parse_intake_alert)")
    _timed(http_alerts, "_taken", "202 body (http_alerts._taken)")
    _timed(seal, "load_seal_key", "seal key (load_seal_key)")
    _timed(requests, "_start", "request note (telemetry _start)")
    _timed(requests.RequestNote, "finish", "request note (RequestNote.finish)")
    _timed(accept, "alert_summary", "joined alert's summary (alert_summary)")
    _timed(management, "_rebase", "Functions host: _rebase")
    _timed(management.ManagementServer, "client_binding_json", "Functions host: client_binding_json")
    _timed(host.LocalDurableHost, "_run_entity_batch", "Durable host: entity batch (all of it)")
    _timed(tally, "operate", "  of which the tally's operate")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hot", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args(argv)
    _instrument()
    marks: list[os.times_result] = []
    loop_marks: list[float] = []

    def loop_cpu() -> float:
        """CPU time so far of the worker event loop thread (every async function invocation runs there)."""
        import asyncio

        from firestop.runtime.management import _WorkerLoop

        async def now() -> float:
            return time.thread_time()

        loop = _WorkerLoop._loop
        return asyncio.run_coroutine_threadsafe(now(), loop).result() if loop is not None else 0.0

    class _Clock:  # the bench's window is between its first and last process_time(): note os.times() there
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def process_time() -> float:
            loop_marks.append(loop_cpu())
            marks.append(os.times())
            return time.process_time()

    intake.time = _Clock()  # type: ignore[assignment]
    windows, stats = {}, {}
    for n in (0, args.hot):
        marks.clear()
        loop_marks.clear()
        _STATS.clear()
        intake.hot_once(argparse.Namespace(concurrency=args.concurrency, hot=args.hot), n)
        first, last = marks[0], marks[-1]
        windows[n] = (last.user - first.user, last.system - first.system, loop_marks[-1] - loop_marks[0])
        stats[n] = {label: tuple(entry) for label, entry in _STATS.items()}
    (u0, s0, l0), (u1, s1, l1) = windows[0], windows[args.hot]
    added = (u1 + s1) - (u0 + s0)
    n = max(args.hot, 1)
    print(f"== breakdown: {args.hot} correlated alerts, {args.concurrency} at a time "
          f"(load {os.getloadavg()[0]:.1f}, 1-minute average)")
    print(f"  window CPU: control user {u0:.2f} s + sys {s0:.2f} s; loaded user {u1:.2f} s + sys {s1:.2f} s; "
          f"added {added:.2f} s = {added / n * 1e6:.0f} us per alert")
    print(f"  of which on the worker event loop thread (the webhooks' async path): {l1 - l0:.2f} s = "
          f"{(l1 - l0) / n * 1e6:.0f} us per alert; other threads (the callers' hand-offs, the driver): "
          f"{added - (l1 - l0):.2f} s")
    print(f"  {'part':<44} {'calls':>7} {'CPU s':>7} {'us/alert':>9}")
    timed = 0.0
    base = stats[0]
    extra = {label: (calls - base.get(label, (0, 0.0))[0], cpu - base.get(label, (0, 0.0))[1])
             for label, (calls, cpu) in stats[args.hot].items()}  # the loaded run less the control's
    for label, (calls, cpu) in sorted(extra.items(), key=lambda item: -item[1][1]):
        if not label.startswith("  "):
            timed += cpu
        print(f"  {label:<44} {int(calls):>7} {cpu:>7.3f} {cpu / n * 1e6:>9.0f}")
    print(f"  {'rest (async path, loop, hand-offs, polls)':<44} {'':>7} {added - timed:>7.3f} "
          f"{(added - timed) / n * 1e6:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

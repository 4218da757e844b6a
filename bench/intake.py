"""Benchmark of alert intake: parse + normalise + correlate throughput, and a webhook storm.

Run: ``python bench/intake.py [throughput|storm|all] [options]`` (default ``all``).

**throughput** (one process pinned to one core): alert bodies built from the
corpus samples (``tests/alerts/data/common-schema``, ``test-actions``, and
``examples/alerts``), each with its own ``alertId`` and one of ``--resources``
target resources, go through what ``POST /api/alerts`` does per alert besides
talking to the Durable store (``firestop/functions/http_alerts.py``,
``firestop/intake/accept.py``):

1. ``parse_intake_alert(bytes)`` (the webhook's parse) — decode, check essentials, normalise (targets,
   resource type, window, indicators, custom properties);
2. correlate — the routed correlation keys (``alert_keys``) and their slot ids
   (``slot_id``), the ids intake reads and starts (one point read each,
   whatever the number of open incidents: see **open**);
3. build what would be sent — for every ``--join``-th alert (default every
   other one) the joined alert's ``alert_summary`` in an ``alert_correlated``
   batch, for the others the new incident's input (``incident_input``) sealed
   with HMAC-SHA256 (``firestop.trust.seal``), as the webhook starts it.

It prints alerts/s of CPU time (``time.thread_time``: a busy shared machine does
not count) for the whole pipeline and each stage's share, for the corpus mix
(target, issue 18: >= 10,000 alerts/s) and for a worst case (a log alert V1
padded with search results to just under the 256 KB payload limit; target
>= 1,000/s). The typed ``alertContext`` (``Alert.typed_context``, what playbooks
and tests read; the webhook never builds it) is timed apart and not counted.
``--profile`` prints the top functions (cProfile, by own time).

**instructions**: instructions per alert of the **throughput** stages over ``--n`` corpus-mix bodies, counted by
valgrind's callgrind (``--tool=callgrind``): a child process runs the stages once over the bodies (warm-up: imports,
caches) and then ``--rounds`` more times; run twice, with 0 and with 1 measured round, the difference divided by the
bodies is one alert's instructions — a figure a busy machine does not move (``--n`` 500 keeps each run near a minute;
every run with PYTHONHASHSEED=0: with random seeds one tree's count varies by ~2%). Under valgrind OpenSSL finds
no SHA extensions (valgrind's CPU hides SHA-NI) and hashes in plain instructions: SHA-256's block function was 8.5 %
of the count (mix25: ~19,500 per alert, the sealed input's digest and its MAC, ~21 blocks per sealed alert), where a
CPU with SHA-NI (this machine's) spends a small fraction of that: weigh the seal's share with ``throughput`` too.

**large**: the worst case's intake stages (as **throughput**) with the large-body path
(``firestop.alerts.large``: the search-result rows decoded only as far as the indicator scan
reads them) on and off (``firestop.alerts.parse.decode_lean`` answering None: every body decoded
whole, as before it), ``--rounds`` (10) rounds of each interleaved in this one process (pinned to
one core), so a busy machine slows both alike: median alerts/s of CPU time and their ratio; for two bodies,
one whose indicator scan stops early (distinct caller addresses) and one whose scan reads every row (7
addresses over and over). A tree without the path measures the whole decode of each.

**storm**: ``--requests`` (10,000) webhooks, ``--concurrency`` (50) at a time,
spread over ``--resources`` (5) resources, ``--duplicates`` (0.3) of them
repeats of an earlier delivery, all Fired. Against ``firestop serve`` when it
is available (``--target serve``: the server in a child process on loopback,
requests with the function key; the default when ``firestop.runtime.serve``
exists), else in-process (``--target inprocess``: ``invoke_http_function`` on
50 threads with the SDK's Durable client against the local management API).
Every loop is bounded; nothing is retried. Reports: answers by status (the 202
says nothing of intake's outcome since intake16: one delivery id per alert), incidents started (expected: one per resource), lost alerts (unique
alerts with no 2xx answer, or not recorded on an incident: neither its start
nor an ``alert_correlated`` event in the store), 5xx count, p50/p99/max
latency, and server CPU per webhook (user+system of the ``serve`` processes from
``/proc/<pid>/stat``, or of this process in-process — the figure to trust on a
loaded machine, with the 1-minute load average beside it). After the storm the incidents are driven to the end and their
histories read.

"Exactly one incident per resource" needs the first incidents to still be
open when the last alerts arrive: an alert for a resource whose incident has
closed rightly opens a new one. ``serve`` runs orchestrations while the storm
goes on, on the sandbox's virtual clock paced at ``--realtime-factor`` wall
seconds per simulated second; at 1 the leaked-key containment finishes in about
30 s of wall time, at 10 in about 300 s — shorter than a 10,000-alert storm on a
busy 2-core machine — so the default is 100. In-process, nothing drives the
orchestrations during the storm. ``--processes`` (3) servers share one
FIRESTOP_HOME: only the shared Durable store can keep one incident per resource.

**storm-instructions**: instructions per webhook of one ``firestop serve`` (valgrind's callgrind, instrumentation
switched on with ``callgrind_control`` once the server listens and is quiet) handling ``--instr-requests`` (40)
webhooks of the storm's plan one after another (5 incident starts among them), realtime factor 0, poll interval
60 s (the driver wakes on each request), PYTHONHASHSEED=0,
counted until its driver has run what they started: the requests and the driver's episodes, entity batches and idle
polls. 4-8 minutes per tree on a loaded machine; ``--before REV`` puts two trees side by side. Repeatability
(storm9, load 15-30, two or four runs at once): one tree moved 0.4 % between two batches (788e159 24.87M / 24.96M,
e0bc95b 23.81M / 23.74M) and 9 % between two others (e0bc95b 23.74M, then 21.69M; 79e0b48 2 %: 27.39M, then 26.80M);
e0bc95b's code in a run alone with 0.5 s idle polls counted 30.3M (cause not isolated: likely the driver's batching,
which follows the process's speed). Compare trees measured in one batch, not across batches or sessions.
**hot-instructions**: callgrind's instruction count per correlated alert of **hot** (``--hot`` alerts, 400 is
enough): this script run under valgrind (``--instr-atstart=no``, PYTHONHASHSEED=0), instrumentation switched on
(``callgrind_control``) only inside each run's measured window (the same window as ``hot_cpu_s``: every thread —
the webhooks, the worker loop, the driver), the control run's window subtracted. 3-6 minutes per tree on a loaded
machine; under valgrind the threads run one at a time, so the joiner's batches differ from a native run's:
compare trees measured the same way (``--before REV``).

``--keep DIR``
keeps the dump for ``callgrind_annotate`` (C-level: the interpreter's functions, not Python's).

**open**: ms per webhook (in-process) for an alert on a resource with no incident
while 0 / 500 / 900 incidents are open (target: at most 1.5x from none to 900).

**startup**: wall and CPU time (the child's user + system) of ``python -m firestop alert handle
examples/alerts/leaked-key.json`` on a fresh FIRESTOP_HOME against ``python -m firestop --help``,
``--runs`` (5) of each interleaved, medians and the median per-pair ratio (target, issue 18: wall
within 2x).

**hot**: ``--hot`` (1,000) correlated alerts into one incident that waits for an
approval while a driver thread runs it (as ``serve`` does), against the same
incident with none: history events, history length, what the record counts,
wall and CPU time added.

``--before REV`` does the same on a temporary detached worktree of git ``REV`` (e.g. ``main``),
bytecode compiled in both trees first. ``--baseline DIR`` runs the chosen parts on another checkout (e.g. ``git worktree
add --detach ../base main``) and on this tree, each in a child process, and prints
the figures side by side.

This is a benchmark, not a test: it reports, and exits 1 only when the storm's
invariants (exact incident count, 0 lost, 0 5xx) do not hold.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# FIRESTOP_BENCH_TREE: measure another checkout (e.g. a worktree of main) with this same script.
ROOT = Path(os.environ.get("FIRESTOP_BENCH_TREE") or Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(ROOT))

from firestop.alerts import MAX_PAYLOAD_BYTES, parse_alert  # noqa: E402
from firestop.intake import CorrelationSettings  # noqa: E402
from firestop.intake.correlation import alert_keys, slot_id  # noqa: E402
from firestop.intake.events import alert_summary, correlated_batch  # noqa: E402
from firestop.lifecycle.start import incident_input  # noqa: E402
from firestop.trust.seal import Purpose, SealKey, seal  # noqa: E402

#: How the webhook parses in the measured tree: parse_intake_alert (the IntakeAlert, no pydantic model), else
#: parse_alert without the raw context, else (older trees have no keep_context and keep it) parse_alert.
try:
    from firestop.alerts.parse import parse_intake_alert as webhook_parse  # noqa: E402
except ImportError:
    _KEEP = "keep_context" in __import__("inspect").signature(parse_alert).parameters

    def webhook_parse(body: bytes) -> Any:
        return parse_alert(body, keep_context=False) if _KEEP else parse_alert(body)

#: As the webhook seals the incident input (firestop/functions/intake_call.py): with ``leaves_plain`` where the
#: measured tree's seal takes it (mix25), else as older trees seal it.
_PLAIN = {"leaves_plain": True} if "leaves_plain" in __import__("inspect").signature(seal).parameters else {}

DATA = ROOT / "tests" / "alerts" / "data"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)


def resource(i: int) -> str:
    return f"{SUB}/resourcegroups/rg-ai-prod/providers/microsoft.cognitiveservices/accounts/contoso-openai-{i:02d}"


def alert_id(tag: str) -> str:
    return f"{SUB}/providers/Microsoft.AlertsManagement/alerts/{tag}"


def corpus_bases() -> list[dict[str, Any]]:
    paths = sorted((DATA / "common-schema").glob("*.json")) + sorted((DATA / "test-actions").glob("*.json"))
    paths.append(ROOT / "examples" / "alerts" / "leaked-key.json")
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def large_base(callers: int | None = None) -> dict[str, Any]:
    """A log alert V1 whose SearchResults fill the payload to just under 256 KB: one caller address per row,
    each distinct (the indicator scan stops at the 100th: 102 of 2,530 rows), or ``callers`` addresses over and
    over (the scan never reaches the cap and reads every row)."""
    body = json.loads((DATA / "test-actions" / "log-alert-v1-number-of-results.json").read_text(encoding="utf-8"))
    table = body["data"]["alertContext"]["SearchResults"]["tables"][0]
    table["columns"].append({"name": "CallerIPAddress", "type": "string"})
    row = ["dddd3333-ee44-5555-66ff-777777aaaaaa", "test-computer", "2025-04-15T18:04:40.852Z"]
    # The size is kept up to date row by row (each appended row adds its own JSON, plus ", " after the first),
    # not measured again per row: re-encoding the whole body each time made this 3.5 s of CPU (2,530 rows),
    # paid at the collection of tests/intake/test_intake_fast_path.py by every pytest worker.
    size = len(json.dumps(body).encode())
    while size < MAX_PAYLOAD_BYTES - 2_000:
        n = len(table["rows"])
        address = f"203.0.{n // 250 % 250}.{n % 250}" if callers is None else f"198.51.100.{n % callers}"
        table["rows"].append(row + [address])
        size += len(json.dumps(table["rows"][-1]).encode()) + (2 if n else 0)
    assert size == len(json.dumps(body).encode()), "large_base: the running size drifted from the body's"
    return body


def bodies_from(bases: list[dict[str, Any]], n: int, resources: int, prefix: str) -> list[bytes]:
    out = []
    for i in range(n):
        body = copy.deepcopy(bases[i % len(bases)])
        essentials = body["data"]["essentials"]
        essentials["alertId"] = alert_id(f"{prefix}-{i}")
        essentials["alertTargetIDs"] = [resource(i % resources)]
        out.append(json.dumps(body).encode())
    return out


# -- throughput -------------------------------------------------------------------------
def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    return "not pinned (no sched_setaffinity)"


def run_stages(bodies: list[bytes], settings: CorrelationSettings, key: Any, join_every: int,
               min_seconds: float, typed_context: bool = True) -> tuple[int, list[float]]:
    """Run every body through the intake path until ``min_seconds`` passed.

    Returns (alerts done, seconds per stage): parse+normalise, correlate, event/input+seal, and the typed
    context (not part of intake; timed apart, unless ``typed_context`` is False: then 0).
    """
    # CPU time of this thread: "alerts/s per core" must not count the time the (shared) core ran others
    clock = time.thread_time
    spent = [0.0, 0.0, 0.0, 0.0]
    done = 0
    began = clock()
    while True:
        for i, body in enumerate(bodies):
            t0 = clock()
            alert = webhook_parse(body)  # as the webhook parses it (http_alerts.py)
            t1 = clock()
            slots = [slot_id(k) for k in alert_keys(alert, settings.key)]
            t2 = clock()
            if join_every and i % join_every == 0:
                correlated_batch([alert_summary(alert, received_at=NOW)])
            else:
                incident = slots[0] if slots else alert.incident_key
                seal(Purpose.INCIDENT, incident_input(alert, received_at=NOW, sandbox=False, incident_id=incident),
                     binding=incident, key=key, **_PLAIN)
            t3 = clock()
            spent[0] += t1 - t0
            spent[1] += t2 - t1
            spent[2] += t3 - t2
        done += len(bodies)
        if clock() - began >= min_seconds and not typed_context:
            return done, spent
        if clock() - began >= min_seconds:
            # the typed context (not intake) apart, on a full parse: computed in the loop, its garbage
            # would be collected on the intake stages' time
            for body in bodies[:200]:
                alert = parse_alert(body)
                t3 = clock()
                alert.typed_context  # noqa: B018 — computed and cached on first access
                spent[3] += (clock() - t3) * done / min(len(bodies), 200)
            return done, spent


def throughput(args: argparse.Namespace) -> None:
    print(f"== throughput ({ROOT}): what POST /api/alerts does per alert besides the store "
          f"({pin_one_core()}; python {sys.version.split()[0]})")
    settings = CorrelationSettings()
    key = SealKey("bench-" + "k" * 40, "bench")
    cases = [("corpus mix", bodies_from(corpus_bases(), args.n, args.resources * 2, "bench"), 10_000),
             ("worst case: 256 KB log alert V1", bodies_from([large_base()], 50, args.resources, "large"), 1_000)]
    names = ["parse+normalise", "correlate", "event/input+seal"]
    for label, bodies, target in cases:
        sizes = [len(b) for b in bodies]
        run_stages(bodies[:20], settings, key, args.join, 0.0)  # warm up
        done, spent = run_stages(bodies, settings, key, args.join, args.seconds)
        total = sum(spent[:3])
        per_second = done / total
        print(f"{label}: {len(bodies)} bodies, mean {statistics.mean(sizes) / 1024:.1f} KB")
        print(f"  {per_second:,.0f} alerts/s on one core ({1e6 * total / done:.0f} µs/alert)  "
              f"target {target:,}/s {'met' if per_second >= target else 'MISSED'}")
        for name, seconds in zip(names, spent):
            print(f"    {name:<18} {1e6 * seconds / done:9.1f} µs  {100 * seconds / total:5.1f}%")
        print(f"    (typed context, not intake: {1e6 * spent[3] / done:.1f} µs)")
        prefix = "throughput_mix" if target == 10_000 else "throughput_256kb"
        report(**{f"{prefix}_per_s": per_second, f"{prefix}_typed_context_us": 1e6 * spent[3] / done})
    if args.profile:
        bodies = cases[0][1]
        profiler = cProfile.Profile()
        profiler.enable()
        run_stages(bodies, settings, key, args.join, 0.0)
        profiler.disable()
        print(f"-- profile of the intake path over {len(bodies)} corpus-mix bodies (top by own time)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def instructions(args: argparse.Namespace) -> None:
    """**instructions** (see the module docstring): callgrind's instruction count per alert of the intake stages."""
    import subprocess

    counts = []
    for rounds in (0, 1):
        with tempfile.TemporaryDirectory(prefix="firestop-callgrind-") as out:
            # one hash seed for every run: string hashes decide dict and set layouts, so counts differ by ~2%
            # between runs of one tree with random seeds
            env = dict(os.environ, FIRESTOP_CALLGRIND_ROUNDS=str(rounds), PYTHONHASHSEED="0")
            proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out",
                                   sys.executable, str(Path(__file__).resolve()), "instructions", "--n", str(args.n),
                                   "--join", str(args.join), "--resources", str(args.resources)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if found is None:
            raise SystemExit(f"callgrind printed no count:\n{proc.stderr[-2000:]}")
        counts.append(int(found.group(1)))
    per_alert = (counts[1] - counts[0]) / args.n
    print(f"== instructions ({ROOT}): {args.n} corpus-mix bodies, callgrind")
    print(f"  {per_alert:,.0f} instructions per alert (runs of {counts[0]:,} and {counts[1]:,})")
    report(instructions_per_alert=per_alert)


def instructions_child(args: argparse.Namespace, rounds: int) -> None:
    """The process :func:`instructions` counts: the stages over the bodies once, then ``rounds`` times more."""
    settings = CorrelationSettings()
    key = SealKey("bench-" + "k" * 40, "bench")
    bodies = bodies_from(corpus_bases(), args.n, args.resources * 2, "bench")
    run_stages(bodies, settings, key, args.join, 0.0, typed_context=False)
    for _ in range(rounds):
        run_stages(bodies, settings, key, args.join, 0.0, typed_context=False)


#: **large**'s bodies: (report prefix, label, ``large_base`` callers). The full scan's case is the estimate the
#: session-6 note left unmeasured: there the path pays its msgspec pass and reads (decodes) every row anyway.
LARGE_CASES = [("large", "distinct callers: the scan stops at row 102 of 2,530", None),
               ("large_fullscan", "7 callers: the scan reads every row", 7)]


def large_ab(args: argparse.Namespace) -> None:
    """**large**: the 256 KB alert's stages with the large-body path on and off, interleaved, for each of
    :data:`LARGE_CASES` (see the module docstring). A tree without the path (before big19) measures the whole
    decode only. ``<prefix>_webhook_per_s`` is what the webhook does in the measured tree (the path where it
    exists, else the whole decode): the figure to read side by side with ``--before``."""
    import firestop.alerts.parse as parse_module

    print(f"== large ({ROOT}): the 256 KB alert with the large-body path on and off, {args.rounds} rounds each, "
          f"interleaved ({pin_one_core()}; python {sys.version.split()[0]}; load {os.getloadavg()[0]:.1f})")
    path = getattr(parse_module, "decode_lean", None)
    if path is None:
        print("  this tree has no large-body path (firestop.alerts.large): the whole decode only")
    settings = CorrelationSettings()
    key = SealKey("bench-" + "k" * 40, "bench")
    for prefix, label, callers in LARGE_CASES:
        bodies = bodies_from([large_base(callers)], 50, args.resources, "large")
        modes = [("whole", lambda payload: None)] if path is None else [("large", path), ("whole", lambda payload: None)]
        rates: dict[str, list[float]] = {name: [] for name, _ in modes}
        run_stages(bodies, settings, key, args.join, 0.0)  # warm up
        try:
            for _ in range(args.rounds):
                for name, decode in modes:
                    if path is not None:
                        parse_module.decode_lean = decode
                    done, spent = run_stages(bodies, settings, key, args.join, args.seconds / 4)
                    rates[name].append(done / sum(spent[:3]))
        finally:
            if path is not None:
                parse_module.decode_lean = path
        whole = statistics.median(rates["whole"])
        if path is None:
            print(f"  {label}: whole body {whole:,.0f} alerts/s on one core (median)")
            report(**{f"{prefix}_whole_per_s": whole, f"{prefix}_webhook_per_s": whole})
            continue
        lean = statistics.median(rates["large"])
        print(f"  {label}: whole body {whole:,.0f} alerts/s on one core, large-body path {lean:,.0f} alerts/s: "
              f"{lean / whole:.2f}x (medians; load {os.getloadavg()[0]:.1f})")
        report(**{f"{prefix}_whole_per_s": whole, f"{prefix}_path_per_s": lean, f"{prefix}_ratio": lean / whole,
                  f"{prefix}_webhook_per_s": lean})


# -- storm ------------------------------------------------------------------------------
def storm_plan(requests: int, resources: int, duplicates: float, seed: int) -> list[bytes]:
    """``requests`` bodies: unique Fired alerts over ``resources`` resources plus repeats."""
    rng = random.Random(seed)
    repeats = int(round(requests * duplicates))
    unique = bodies_from([json.loads((ROOT / "examples" / "alerts" / "leaked-key.json").read_text())],
                         requests - repeats, resources, f"storm-{seed}")
    when = [rng.random() for _ in unique]
    timed = [(when[i], i) for i in range(len(unique))]
    for _ in range(repeats):  # a repeat arrives after its original
        original = rng.randrange(len(unique))
        timed.append((rng.uniform(when[original], 1.0), original))
    timed.sort()
    plan = [unique[i] for _, i in timed]
    return plan


class Result:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.by_status: dict[int, int] = {}
        self.by_outcome: dict[str, int] = {}
        self.answers: dict[str, set[str]] = {}  # alertId -> delivery ids answered (the 202 names no incident, intake16)
        self.errors: list[str] = []

    def add(self, alert: str, status: int, outcome: str, incident: str | None, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + 1
            if 200 <= status < 300 and incident:
                self.answers.setdefault(alert, set()).add(incident)


def _alert_of(body: bytes) -> str:
    return json.loads(body)["data"]["essentials"]["alertId"]


#: The outcome column: since intake16 the 202 does not say what intake did (it is on the request's log line); the
#: incidents started are counted from the durable store below.
_NOT_ANSWERED = "not in the answer"


def storm_inprocess(plan: list[bytes], concurrency: int, env: Any) -> Result:
    import azure.functions as func

    from firestop.cli.wiring import function_app
    from firestop.runtime import ManagementServer, invoke_http_function

    result = Result()
    app = function_app()
    with ManagementServer(env.host) as server:
        def deliver(body: bytes) -> None:
            request = func.HttpRequest(method="POST", url="http://127.0.0.1:7071/api/alerts",
                                       headers={"content-type": "application/json"}, body=body)
            started = time.perf_counter()
            try:
                response = invoke_http_function(app, "post_alert", request, server=server)
            except Exception as exc:  # noqa: BLE001 — counted as lost
                with result.lock:
                    result.errors.append(f"{type(exc).__name__}: {exc}")
                return
            seconds = time.perf_counter() - started
            answer = json.loads(response.get_body())
            result.add(_alert_of(body), response.status_code, _NOT_ANSWERED, answer.get("deliveryId"), seconds)

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(deliver, plan))
    return result


def start_serve(home: str, key: str, realtime_factor: float, deadline_s: float = 60.0) -> tuple[Any, str]:
    """``python -m firestop serve --port 0`` on loopback in a child process; (process, base URL)."""
    import subprocess

    # 50 senders share one loopback address here, where Azure Monitor's come from many: raise serve's
    # per-peer connection cap (16 by default, firestop/runtime/httpserver.py) above the storm's concurrency
    env = dict(os.environ, FIRESTOP_HOME=home, FIRESTOP_FUNCTION_KEY=key, PYTHONUNBUFFERED="1",
               FIRESTOP_SERVE_PER_PEER="256")
    proc = subprocess.Popen(
        [sys.executable, "-m", "firestop", "serve", "--host", "127.0.0.1", "--port", "0",
         "--realtime-factor", str(realtime_factor)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:  # ends when the process closes stdout
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            if line.startswith("Listening on ") and not found:
                found.append(line.split()[2])

    threading.Thread(target=read, daemon=True).start()
    give_up = time.monotonic() + deadline_s
    while not found:
        if proc.poll() is not None or time.monotonic() > give_up:
            proc.kill()
            raise SystemExit("firestop serve did not start:\n" + "\n".join(lines[-20:]))
        time.sleep(0.05)
    return proc, found[0]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc/<pid>/stat`` fields 14 and 15; Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def storm_serve(plan: list[bytes], concurrency: int, bases: list[str], key: str) -> Result:
    import http.client
    from urllib.parse import urlsplit

    import queue

    result = Result()
    # One keep-alive connection per concurrent sender, opened one after another before the storm
    # (as a sender's connection pool would be): a burst of 50 simultaneous connects would overflow
    # the server's listen backlog and measure the TCP SYN retry (1 s), not the webhook.
    # Connections are spread over the servers round-robin, so the webhooks are too.
    pool: "queue.Queue[http.client.HTTPConnection]" = queue.Queue()
    for i in range(concurrency):
        where = urlsplit(bases[i % len(bases)])
        conn = http.client.HTTPConnection(where.hostname, where.port, timeout=120)
        conn.connect()
        pool.put(conn)

    def deliver(body: bytes) -> None:
        conn = pool.get()
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/alerts", body=body,
                         headers={"Content-Type": "application/json", "x-functions-key": key})
            response = conn.getresponse()
            data = response.read()
        except Exception as exc:  # noqa: BLE001 — counted as lost; nothing is retried
            conn.close()
            pool.put(http.client.HTTPConnection(conn.host, conn.port, timeout=120))
            with result.lock:
                result.errors.append(f"{type(exc).__name__}: {exc}")
            return
        pool.put(conn)
        seconds = time.perf_counter() - started
        answer = json.loads(data) if data else {}
        result.add(_alert_of(body), response.status, _NOT_ANSWERED, answer.get("deliveryId"), seconds)

    with ThreadPoolExecutor(max_workers=concurrency) as senders:
        list(senders.map(deliver, plan))
    while not pool.empty():
        pool.get().close()
    return result


def _event_alert_ids(data: Any) -> list[str]:
    """Alert ids an ``alert_correlated`` event names: one alert (before batching) or a batch."""
    while isinstance(data, str):
        data = json.loads(data)
    if isinstance(data.get("alert"), dict):
        return [data["alert"]["alert_id"]]
    if isinstance(data.get("alert_ids"), list):
        return list(data["alert_ids"])
    return [a["alert_id"] for a in data.get("alerts") or []]


def _digest(alert_id: str) -> str:
    import hashlib

    return hashlib.sha256(alert_id.encode("utf-8")).hexdigest()[:16]  # firestop.intake.events.alert_digest


def recorded_alerts(host: Any, incident_ids: list[str]) -> tuple[dict[str, set[str]], dict[str, int], dict[str, int]]:
    """incident id -> digests (sha256[:16]) of the alerts recorded on it: the starting alert, every alert of an
    alert_correlated event in its history, and every alert its tally entity (``@incident_alerts@<id>``, when the
    tree has one) counted; incident id -> alert_correlated events in its history; incident id -> history length."""
    from firestop.runtime.history import EventType

    out: dict[str, set[str]] = {}
    events: dict[str, int] = {}
    lengths: dict[str, int] = {}
    for iid in incident_ids:
        status = host.get_status(iid, show_history=True)
        seen = {_digest((status.input or {}).get("alert", {}).get("alert_id") or "")}
        events[iid] = 0
        lengths[iid] = len(status.history or [])
        for event in status.history or []:
            if event.get("EventType") in (EventType.EventRaised, "EventRaised") and event.get("Name") == "alert_correlated":
                seen.update(_digest(a) for a in _event_alert_ids(event.get("Input")))
                events[iid] += 1
        try:
            exists, state = host.read_entity_state(("incident_alerts", iid))
        except Exception:  # noqa: BLE001 — a tree without the tally entity
            exists, state = False, None
        if exists and isinstance(state, dict):
            seen.update(state.get("ids") or [])  # the tally's state before hot20: a list of digests
            digests = state.get("digests")  # since: one string of 16-character digests (lifecycle.tally.tracked)
            if isinstance(digests, str):
                seen.update(digests[i:i + 16] for i in range(0, len(digests), 16))
        out[iid] = seen
    return out, events, lengths


def containments(ledger_dir: Path) -> dict[str, set[str]]:
    """target resource (lower-case) -> incidents whose ledger has a containment runbook ``apply`` on it
    (every apply of a mutating runbook is ledgered, applied or refused: ``runbooks/dispatch.py``)."""
    out: dict[str, set[str]] = {}
    for path in sorted(Path(ledger_dir).glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            if entry.get("kind") == "action" and entry.get("action") == "apply" and entry.get("target") \
                    and entry.get("runbook") != "records.file":
                out.setdefault(entry["target"].lower(), set()).add(path.stem)
    return out


def storm(args: argparse.Namespace) -> int:
    import secrets
    import signal

    from firestop.cli.wiring import sandbox_environment
    from firestop.settings import Settings

    plan = storm_plan(args.requests, args.resources, args.duplicates, args.seed)
    unique = {_alert_of(b) for b in plan}
    where = (f"{args.processes} 'firestop serve' processes on one FIRESTOP_HOME (child processes, loopback, function key; "
             "webhooks spread over them round-robin)" if args.target == "serve"
             else "the function in-process (invoke_http_function + local management API)")
    print(f"== storm ({ROOT}): {len(plan):,} webhooks ({len(unique):,} unique Fired alerts, {len(plan) - len(unique):,} "
          f"repeats), {args.concurrency} concurrent, {args.resources} resources, against {where}")
    with tempfile.TemporaryDirectory() as home:
        os.environ["FIRESTOP_HOME"] = home
        if args.target == "serve":
            key = secrets.token_urlsafe(24)
            servers = [start_serve(home, key, args.realtime_factor) for _ in range(args.processes)]
            try:
                cpu_before = sum(process_cpu_seconds(proc.pid) for proc, _ in servers)
                started = time.perf_counter()
                result = storm_serve(plan, args.concurrency, [base for _, base in servers], key)
                wall = time.perf_counter() - started
                cpu = sum(process_cpu_seconds(proc.pid) for proc, _ in servers) - cpu_before
            finally:
                for proc, _ in servers:
                    proc.send_signal(signal.SIGTERM)
                for proc, _ in servers:
                    try:
                        proc.wait(timeout=60)
                    except Exception:  # noqa: BLE001
                        proc.kill()
                        proc.wait()
            env = sandbox_environment(Settings.from_env(home=Path(home)))
        else:
            env = sandbox_environment(Settings.from_env(home=Path(home)))
            cpu_before = time.process_time()
            started = time.perf_counter()
            result = storm_inprocess(plan, args.concurrency, env)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_before  # senders included: they run in this process
        try:
            during = {s.instance_id: s.runtime_status for s in env.host.list_instances(name="incident_orchestrator")}
            drive_started = time.perf_counter()
            env.host.run_until_idle(advance_timers=True)
            drive = time.perf_counter() - drive_started
            incidents = [s.instance_id for s in env.host.list_instances(name="incident_orchestrator")]
            recorded, events, lengths = recorded_alerts(env.host, incidents)
            contained = containments(env.settings.ledger_dir)
            finals = sorted({s.runtime_status for s in env.host.list_instances(name="incident_orchestrator")})
        finally:
            env.close()
    everything_recorded = set().union(*recorded.values()) if recorded else set()
    unanswered = unique - set(result.answers)
    unrecorded = {a for a in unique if _digest(a) not in everything_recorded}
    split = {a: ids for a, ids in result.answers.items() if len(ids) > 1}
    fivexx = sum(n for s, n in result.by_status.items() if s >= 500)
    lat = sorted(result.latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else lat * 99
    twice = {t: ids for t, ids in contained.items() if len(ids) > 1}
    print(f"  wall {wall:.1f} s -> {len(plan) / wall:,.0f} webhooks/s; answers by status {dict(sorted(result.by_status.items()))}; "
          f"by outcome {dict(sorted(result.by_outcome.items()))}; transport errors {len(result.errors)}"
          + (f" (first: {result.errors[0]})" if result.errors else ""))
    print(f"  server CPU {cpu:.1f} s -> {1000 * cpu / len(plan):.2f} ms per webhook "
          f"({'user+system of the serve processes, /proc/<pid>/stat' if args.target == 'serve' else 'this process'}); "
          f"load average {os.getloadavg()[0]:.1f} (1 min) at the end")
    print(f"  latency p50 {1000 * q[49]:.1f} ms, p95 {1000 * q[94]:.1f} ms, p99 {1000 * q[98]:.1f} ms, "
          f"max {1000 * lat[-1]:.1f} ms")
    print(f"  incidents {len(incidents)} (expected {args.resources}; status when the storm ended: "
          f"{sorted(during.values())}); lost {len(unanswered | unrecorded)} (no 2xx answer {len(unanswered)}, "
          f"not in any incident's history {len(unrecorded)}); alerts answered with two delivery ids {len(split)}; 5xx {fivexx}")
    print(f"  containment: resources with containment steps applied by more than one incident {len(twice)} "
          f"(incidents per resource {sorted(len(v) for v in contained.values())})")
    print(f"  afterwards: drove the incidents to the end in {drive:.1f} s -> {finals}; alerts recorded on each incident "
          f"{sorted(len(v) for v in recorded.values())}; alert_correlated events per incident {sorted(events.values())}; "
          f"history length per incident {sorted(lengths.values())}")
    ok = (len(incidents) == args.resources and not unanswered and not unrecorded and not fivexx
          and not result.errors and not split and not twice)
    print(f"  invariants (exactly {args.resources} incidents, one containment per resource, 0 lost, 0 5xx) "
          f"{'hold' if ok else 'DO NOT HOLD'}")
    report(storm_incidents=len(incidents), storm_lost=len(unanswered | unrecorded), storm_5xx=fivexx,
           storm_double_containment=len(twice), storm_events_max=max(events.values(), default=0),
           storm_history_max=max(lengths.values(), default=0), storm_p50_ms=1000 * q[49], storm_p95_ms=1000 * q[94],
           storm_p99_ms=1000 * q[98], storm_per_s=len(plan) / wall, storm_cpu_ms_per_webhook=1000 * cpu / len(plan),
           storm_load_1min=os.getloadavg()[0])
    return 0 if ok else 1


# -- storm instructions ---------------------------------------------------------------
def storm_instructions(args: argparse.Namespace) -> None:
    """**storm-instructions** (see the module docstring): callgrind's instruction count per webhook of one
    ``firestop serve`` process (started under valgrind with instrumentation off, switched on with
    ``callgrind_control`` once it listens and has gone quiet) handling ``--instr-requests`` (40) webhooks of the storm's plan one
    after another, until its driver thread has run what they started (:func:`_settle`), then dumped."""
    import http.client
    import secrets
    import signal
    import subprocess
    from urllib.parse import urlsplit

    plan = storm_plan(args.instr_requests, args.resources, args.duplicates, args.seed)
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="firestop-storm-callgrind-") as home:
        out = Path(home) / "callgrind.out"
        # one hash seed (dict/set layouts move counts by ~2 % between runs otherwise); factor 0: the sandbox clock
        # moves only through simulated work, so no wall-time-paced timer fires while valgrind slows the process
        env = dict(os.environ, FIRESTOP_HOME=home, FIRESTOP_FUNCTION_KEY=key, PYTHONUNBUFFERED="1",
                   PYTHONHASHSEED="0", FIRESTOP_SERVE_PER_PEER="256")
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, "-m", "firestop", "serve", "--host", "127.0.0.1", "--port", "0",
             "--realtime-factor", "0", "--poll-interval", "60"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines: list[str] = []
        found: list[str] = []

        def read() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip()
                lines.append(line)
                if line.startswith("Listening on ") and not found:
                    found.append(line.split()[2])

        threading.Thread(target=read, daemon=True).start()
        give_up = time.monotonic() + 600
        while not found:
            if proc.poll() is not None or time.monotonic() > give_up:
                proc.kill()
                raise SystemExit("firestop serve (callgrind) did not start:\n" + "\n".join(lines[-20:]))
            time.sleep(0.2)
        try:
            _settle(proc.pid)
            subprocess.run(["callgrind_control", "--instr=on", str(proc.pid)], check=True,
                           stdout=subprocess.DEVNULL)
            where = urlsplit(found[0])
            conn = http.client.HTTPConnection(where.hostname, where.port, timeout=600)
            statuses: dict[int, int] = {}
            started = time.perf_counter()
            for body in plan:
                conn.request("POST", "/api/alerts", body=body,
                             headers={"Content-Type": "application/json", "x-functions-key": key})
                response = conn.getresponse()
                response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            conn.close()
            wall = time.perf_counter() - started
            _settle(proc.pid)
            subprocess.run(["callgrind_control", "--dump=storm", str(proc.pid)], check=True,
                           stdout=subprocess.DEVNULL)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        total = 0
        for dump in sorted(Path(home).glob("callgrind.out.*")):  # callgrind.out.1: the dump asked for (callgrind.out:
            counted = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.M)  # at exit)
            total = int(counted.group(1)) if counted else total
            if args.keep:
                import shutil
                shutil.copy(dump, Path(args.keep) / dump.name)
        if not total:
            raise SystemExit("no callgrind dump with the storm's count")
    per = total / len(plan)
    print(f"== storm-instructions ({ROOT}): {len(plan)} webhooks one after another into one 'firestop serve' "
          f"(callgrind, PYTHONHASHSEED=0, realtime factor 0, poll interval 60 s), answers {dict(sorted(statuses.items()))}, "
          f"{wall:.0f} s under valgrind")
    print(f"  {per:,.0f} instructions per webhook (total {total:,}: the requests and the driver's runs they cause, "
          f"its idle polls while they ran included)")
    report(storm_instructions_per_webhook=per)


def _settle(pid: int) -> None:
    """Until process ``pid`` has used under 25 % of a core for 3 s (a serve's driver thread has run what the webhooks
    started; only its idle polls remain, slow under valgrind): a benchmark's wait, bounded at 5 minutes."""
    last, still, give_up = process_cpu_seconds(pid), 0, time.monotonic() + 300
    while still < 6 and time.monotonic() < give_up:
        time.sleep(0.5)
        now = process_cpu_seconds(pid)
        still = still + 1 if now - last < 0.125 else 0
        last = now


# -- intake cost with many open incidents -------------------------------------------------
def open_incidents(args: argparse.Namespace) -> None:
    """ms per webhook (alert for a resource with no incident: the start path) with 0 / 500 / 900 open."""
    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.lifecycle.start import incident_input
    from firestop.runtime import ManagementServer, invoke_http_function
    from firestop.settings import Settings

    base = json.loads((ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
    print(f"== open incidents ({ROOT}): ms per webhook for an alert on a resource without an incident, in-process")
    results = {}
    for count in args.open_counts:
        with tempfile.TemporaryDirectory() as home:
            os.environ["FIRESTOP_HOME"] = home
            env = sandbox_environment(Settings.from_env(home=Path(home)))
            try:
                app = function_app()
                now = env.tenant.clock.now()
                for i in range(count):  # open incidents, as intake would have started them (not run)
                    body = copy.deepcopy(base)
                    body["data"]["essentials"]["alertId"] = alert_id(f"open-{i}")
                    body["data"]["essentials"]["alertTargetIDs"] = [resource(1000 + i)]
                    alert = parse_alert(json.dumps(body).encode())
                    env.host.start_new("incident_orchestrator", f"inc-open-{i:05d}",
                                       incident_input(alert, received_at=now, sandbox=True))
                bodies = bodies_from([base], args.open_requests + 3, 2000 + count, f"new-{count}")
                bodies = [b.replace(b"contoso-openai-", f"new-{count}-".encode()) for b in bodies]
                with ManagementServer(env.host) as server:
                    def post(body: bytes) -> Any:
                        request = func.HttpRequest(method="POST", url="http://127.0.0.1:7071/api/alerts",
                                                   headers={"content-type": "application/json"}, body=body)
                        return invoke_http_function(app, "post_alert", request, server=server)

                    for body in bodies[:3]:  # warm up
                        post(body)
                    times = []
                    for body in bodies[3:]:
                        t0 = time.perf_counter()
                        response = post(body)
                        times.append(time.perf_counter() - t0)
                        assert response.status_code == 202, response.get_body()
            finally:
                env.close()
        results[count] = 1000 * statistics.median(times)
        print(f"  {count:>4} open: {results[count]:7.1f} ms per webhook (median of {len(times)})")
    first, last = args.open_counts[0], args.open_counts[-1]
    ratio = results[last] / results[first]
    print(f"  {last} open / {first} open: {ratio:.2f}x (target <= 1.5x)")
    report(**{f"open_{c}_ms": v for c, v in results.items()}, open_ratio=ratio)


# -- a hot incident: many correlated alerts into one --------------------------------------
def hot(args: argparse.Namespace) -> None:
    """:func:`hot_once` with no alert (the incident's own run) and with ``--hot`` alerts; the difference is
    what the alerts cost: accepting them plus the extra work of the incident."""
    control = hot_once(args, 0)
    loaded = hot_once(args, args.hot)
    added = loaded["hot_accept_s"] + loaded["hot_drive_s"] - control["hot_drive_s"]
    added_cpu = loaded["hot_cpu_s"] - control["hot_cpu_s"]
    print(f"  {args.hot} correlated alerts added {added:.2f} s of wall time ({added_cpu:.2f} s of CPU, webhooks "
          f"included) to an incident that runs {control['hot_drive_s']:.2f} s alone (target <= 1 s)")
    report(**loaded, hot_added_s=added, hot_added_cpu_s=added_cpu)


def hot_once(args: argparse.Namespace, n: int) -> dict[str, float]:
    """``--hot`` correlated alerts into one open incident (``--concurrency`` at a time, in-process) while a
    driver thread runs the orchestrations (as ``serve`` does), then the incident driven to its end.

    The incident is a public-network-exposure alert on the production account: its playbook waits for a
    responder's approval (a durable timer of 30 simulated minutes), so it stays open while the alerts arrive.
    """
    import threading as _threading

    import azure.functions as func

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from firestop.settings import Settings

    base = json.loads((ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    prod = f"{SUB}/resourcegroups/rg-ai-prod/providers/microsoft.cognitiveservices/accounts/contoso-openai-prod"
    bodies = [b.replace(resource(0).encode(), prod.encode()) for b in bodies_from([base], n + 1, 1, f"hot{n}")]
    with tempfile.TemporaryDirectory() as home:
        os.environ["FIRESTOP_HOME"] = home
        env = sandbox_environment(Settings.from_env(home=Path(home)))
        stop = _threading.Event()

        def drive() -> None:
            while not stop.is_set():
                env.host.run_until_idle()
                stop.wait(0.002)

        try:
            app = function_app()
            with ManagementServer(env.host) as server:
                def post(body: bytes) -> Any:
                    request = func.HttpRequest(method="POST", url="http://127.0.0.1:7071/api/alerts",
                                               headers={"content-type": "application/json"}, body=body)
                    return invoke_http_function(app, "post_alert", request, server=server)

                post(bodies[0])
                [first] = [i.instance_id for i in env.host.list_instances(name="incident_orchestrator")]
                for _ in range(2000):  # until it waits for the approval (bounded)
                    env.host.run_until_idle()
                    custom = env.host.get_status(first).custom_status or {}
                    if isinstance(custom, dict) and custom.get("pending_approval"):
                        break
                driver = _threading.Thread(target=drive, daemon=True)
                driver.start()
                _callgrind_window(True)  # (hot-instructions only)
                c0 = time.process_time()  # CPU of every thread of this process (server, worker loop, driver)
                t0 = time.perf_counter()
                with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                    answers = list(pool.map(post, bodies[1:]))
                accepted = time.perf_counter() - t0
                t1 = time.perf_counter()
                stop.set()
                driver.join()
                env.host.run_until_idle(advance_timers=True)
                driven = time.perf_counter() - t1
                cpu = time.process_time() - c0
                _callgrind_window(False, f"hot{n}")
            status = env.host.get_status(first, show_history=True)
            events = sum(1 for e in status.history or [] if e.get("Name") == "alert_correlated")
            joined = sum(1 for r in answers if r.status_code == 202)  # answered alike since intake16; the tally counts joins
            output = status.output or {}
            count = output.get("correlated_count", len(output.get("correlated_alerts") or []))
        finally:
            stop.set()
            env.close()
    print(f"== hot incident ({ROOT}): {n} correlated alerts into one incident waiting for approval, "
          f"{args.concurrency} at a time, orchestrations driven meanwhile")
    print(f"  accepted in {accepted:.2f} s ({joined} joined), then driven to its end in {driven:.2f} s "
          f"-> total {accepted + driven:.2f} s; {status.runtime_status}; alert_correlated events in its history "
          f"{events}; history length {len(status.history or [])}; the record counts {count} joined; "
          f"CPU {cpu:.2f} s")
    return dict(hot_accept_s=accepted, hot_drive_s=driven, hot_events=events, hot_history=len(status.history or []),
                hot_joined=joined, hot_recorded=count, hot_cpu_s=cpu)


def _callgrind_window(start: bool, label: str = "") -> None:
    """Under ``hot-instructions`` (FIRESTOP_HOT_CALLGRIND set, this process runs under callgrind): zero the counts
    and switch instrumentation on (``start``), or dump them as ``label`` and switch it off. Otherwise nothing."""
    if not os.environ.get("FIRESTOP_HOT_CALLGRIND"):
        return
    import subprocess

    commands = [["--zero"], ["--instr=on"]] if start else [[f"--dump={label}"], ["--instr=off"]]
    for command in commands:
        subprocess.run(["callgrind_control", *command, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


def hot_instructions(args: argparse.Namespace) -> None:
    """**hot-instructions** (module docstring): instructions per correlated alert of :func:`hot` under callgrind."""
    import subprocess

    with tempfile.TemporaryDirectory(prefix="firestop-hot-callgrind-") as out:
        env = dict(os.environ, FIRESTOP_HOT_CALLGRIND="1", PYTHONHASHSEED="0", FIRESTOP_BENCH_TREE=str(ROOT),
                   PYTHONPATH=str(ROOT))
        started = time.perf_counter()
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                               f"--callgrind-out-file={Path(out) / 'callgrind.out'}", sys.executable,
                               str(Path(__file__).resolve()), "hot", "--hot", str(args.hot),
                               "--concurrency", str(args.concurrency)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall = time.perf_counter() - started
        counts: dict[str, int] = {}
        for dump in Path(out).glob("callgrind.out.*"):
            text = dump.read_text(errors="replace")
            label = re.search(r"^desc: Trigger: Client Request: (\S+)|^desc: Trigger: dump (\S+)", text, re.M)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if label and total:
                counts[label.group(1) or label.group(2)] = int(total.group(1))
            if args.keep:
                import shutil
                shutil.copy(dump, Path(args.keep) / dump.name)
    control, loaded = counts.get("hot0"), counts.get(f"hot{args.hot}")
    if proc.returncode != 0 or control is None or loaded is None:
        raise SystemExit(f"hot under callgrind failed (exit {proc.returncode}, dumps {sorted(counts)}):\n"
                         + proc.stdout[-3000:])
    per = (loaded - control) / max(args.hot, 1)
    print(f"== hot-instructions ({ROOT}): {args.hot} correlated alerts, {args.concurrency} at a time, under callgrind "
          f"({wall:.0f} s); load {os.getloadavg()[0]:.1f}")
    print(f"  window: control {control:,} instructions, loaded {loaded:,} -> {per:,.0f} per correlated alert")
    report(hot_instructions_per_alert=per)


# -- start-up: `alert handle` against `--help` ----------------------------------------------
def _timed_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child) of ``cmd`` run to its end in ``ROOT``."""
    import subprocess

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 3):  # alert handle: 0 contained, 3 needs a responder
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def startup(args: argparse.Namespace) -> None:
    """Wall and CPU time of ``python -m firestop alert handle examples/alerts/leaked-key.json`` on a fresh
    FIRESTOP_HOME against ``python -m firestop --help``, ``--runs`` of each, interleaved (help, handle, help,
    …) so a change of the machine's load hits both alike; medians and the median of the per-pair ratios.
    Bytecode is compiled first (``--before`` does it; a user's second run reads .pyc files), and
    PYTHONDONTWRITEBYTECODE is dropped for the children."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "FIRESTOP_BENCH_TREE")}
    env["PYTHONPATH"] = str(ROOT)
    help_cmd = [sys.executable, "-m", "firestop", "--help"]
    handle_cmd = [sys.executable, "-m", "firestop", "alert", "handle", "examples/alerts/leaked-key.json"]
    print(f"== startup ({ROOT}): `alert handle` (fresh FIRESTOP_HOME) against `--help`, {args.runs} runs each, "
          f"interleaved; load {os.getloadavg()[0]:.1f}")
    helps: list[tuple[float, float]] = []
    handles: list[tuple[float, float]] = []
    _timed_child(help_cmd, env)  # warm the page cache
    for _ in range(args.runs):
        helps.append(_timed_child(help_cmd, env))
        with tempfile.TemporaryDirectory() as home:
            handles.append(_timed_child(handle_cmd, dict(env, FIRESTOP_HOME=home)))
    med = statistics.median
    wall_ratio = med(h[0] / p[0] for h, p in zip(handles, helps))
    cpu_ratio = med(h[1] / p[1] for h, p in zip(handles, helps))
    print(f"  --help        wall {med(h[0] for h in helps):.2f} s  CPU {med(h[1] for h in helps):.2f} s")
    print(f"  alert handle  wall {med(h[0] for h in handles):.2f} s  CPU {med(h[1] for h in handles):.2f} s")
    print(f"  ratio (median of pairs): wall {wall_ratio:.2f}x  CPU {cpu_ratio:.2f}x  (target: wall <= 2x)")
    report(startup_help_wall_s=med(h[0] for h in helps), startup_help_cpu_s=med(h[1] for h in helps),
           startup_handle_wall_s=med(h[0] for h in handles), startup_handle_cpu_s=med(h[1] for h in handles),
           startup_wall_ratio=wall_ratio, startup_cpu_ratio=cpu_ratio)


_RESULTS: dict[str, float] = {}


def report(**values: float) -> None:
    """Keep figures for the side-by-side table (printed as one ``RESULT`` line at the end)."""
    _RESULTS.update(values)


def compare(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the chosen parts for ``--baseline`` (another checkout) and for this tree, each in a child
    process, and print the figures side by side."""
    import subprocess

    rows: dict[str, dict[str, float]] = {}
    code = 0
    forwarded = [a for i, a in enumerate(argv) if a != "--baseline" and (i == 0 or argv[i - 1] != "--baseline")]
    for label, tree in (("before", Path(args.baseline).resolve()), ("after", Path(__file__).resolve().parents[1])):
        env = dict(os.environ, FIRESTOP_BENCH_TREE=str(tree), PYTHONPATH=str(tree))
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *forwarded], cwd=tree, env=env,
                              stdout=subprocess.PIPE, text=True)
        print(f"######## {label}: {tree}")
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                rows[label] = json.loads(line[len("RESULT "):])
            else:
                print(line)
        code = code or (proc.returncode if label == "after" else 0)
    names = sorted(set(rows.get("before", {})) | set(rows.get("after", {})))
    print("######## side by side")
    print(f"  {'figure':<28} {'before':>12} {'after':>12}")
    for name in names:
        b, a = rows.get("before", {}).get(name), rows.get("after", {}).get(name)
        fmt = lambda v: "—" if v is None else (f"{v:,.2f}" if isinstance(v, float) else f"{v:,}")  # noqa: E731
        print(f"  {name:<28} {fmt(b):>12} {fmt(a):>12}")
    return code


def compare_with_rev(args: argparse.Namespace, argv: list[str]) -> int:
    """``--before REV``: :func:`compare` against a temporary detached worktree of ``REV`` (bytecode compiled
    first in both trees, so neither side pays for compiling), removed afterwards."""
    import subprocess

    here = Path(__file__).resolve().parents[1]
    forwarded = [a for i, a in enumerate(argv) if a != "--before" and (i == 0 or argv[i - 1] != "--before")]
    with tempfile.TemporaryDirectory(prefix="firestop-before-") as parent:
        tree = Path(parent) / "tree"
        subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", "-q", str(tree), args.before], check=True)
        try:
            modules = here / "node_modules"
            if modules.exists():  # Azurite, for parts that need it
                (tree / "node_modules").symlink_to(modules.resolve())
            for root in (tree, here):
                subprocess.run([sys.executable, "-m", "compileall", "-q", "firestop", "runbooks", "function_app.py"],
                               cwd=root, stdout=subprocess.DEVNULL, check=False)
            args.baseline = str(tree)
            return compare(args, forwarded + ["--baseline", str(tree)])
        finally:
            subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(tree)], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="?", choices=["throughput", "instructions", "large", "storm", "storm-instructions", "open", "hot", "hot-instructions", "startup",
                                 "all"], default="all")
    parser.add_argument("--n", type=int, default=2000, help="throughput: distinct bodies in the corpus mix")
    parser.add_argument("--join", type=int, default=2,
                        help="throughput: every N-th alert joins an open incident, the others start one (0: none join)")
    parser.add_argument("--seconds", type=float, default=2.0, help="throughput: minimum seconds per measurement")
    parser.add_argument("--profile", action="store_true", help="throughput: cProfile the full pipeline")
    parser.add_argument("--rounds", type=int, default=10, help="large: interleaved rounds of each")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--resources", type=int, default=5)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--instr-requests", type=int, default=40,
                        help="storm-instructions: webhooks of the storm's plan sent one after another")
    parser.add_argument("--keep", metavar="DIR", help="storm-instructions: copy the callgrind dumps into DIR "
                                                       "(for callgrind_annotate)")
    parser.add_argument("--target", choices=["serve", "inprocess"], default="serve",
                        help="storm against 'firestop serve' (child process) or the function in-process")
    parser.add_argument("--processes", type=int, default=3, help="storm: 'firestop serve' processes on one FIRESTOP_HOME")
    parser.add_argument("--open-counts", type=lambda t: [int(x) for x in t.split(",")], default=[0, 500, 900],
                        help="open: open incidents to measure with, comma-separated")
    parser.add_argument("--open-requests", type=int, default=15, help="open: webhooks timed per count")
    parser.add_argument("--hot", type=int, default=1000, help="hot: correlated alerts into one incident")
    parser.add_argument("--runs", type=int, default=5, help="startup: runs of each command (medians are shown)")
    parser.add_argument("--baseline", help="a checkout of the code before (e.g. a worktree of main): run the same "
                                           "parts on it and on this tree, each in a child process, side by side")
    parser.add_argument("--before", metavar="REV", help="like --baseline, on a temporary detached git worktree of "
                                                         "REV (e.g. main), removed afterwards")
    parser.add_argument("--realtime-factor", type=float, default=100.0,
                        help="storm/serve: wall seconds per simulated second of the sandbox clock (default 100: "
                             "the incidents' containment outlasts the storm, so they stay open)")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if os.environ.get("FIRESTOP_CALLGRIND_ROUNDS"):  # the child instructions() counts
        instructions_child(args, int(os.environ["FIRESTOP_CALLGRIND_ROUNDS"]))
        return 0
    if args.before:
        return compare_with_rev(args, argv)
    if args.baseline:
        return compare(args, argv)
    code = 0
    if args.what in ("storm", "all"):
        code = storm(args)  # first: pinning the process to one core is for the throughput part
    if args.what in ("open", "all"):
        open_incidents(args)
    if args.what in ("hot", "all"):
        hot(args)
    if args.what in ("startup", "all"):
        startup(args)
    if args.what in ("throughput", "all"):
        throughput(args)
    if args.what == "instructions":  # (not in "all": minutes of callgrind)
        instructions(args)
    if args.what == "storm-instructions":  # (not in "all": minutes of callgrind)
        storm_instructions(args)
    if args.what == "hot-instructions":  # (not in "all": minutes of callgrind)
        hot_instructions(args)
    if args.what in ("large", "all"):
        large_ab(args)
    print("RESULT " + json.dumps(_RESULTS))
    return code


if __name__ == "__main__":
    raise SystemExit(main())

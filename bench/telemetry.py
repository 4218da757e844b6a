"""What the request line costs on the alert intake path, side by side with what that path cost before.

Run: ``python bench/telemetry.py [--seconds 2]``.

Per ``POST /api/alerts`` on ``firestop serve``, Firestop now does (``firestop.telemetry.requests``): open a
request note in a context variable, add to it (the route, ``function-key``, the intake outcome, the incident and
alert ids), and write **one** structured line. Before, the same path made two ``log.info`` calls that
``serve`` never printed (no handler configured: each cost an ``isEnabledFor``). Measured in one process,
interleaved round by round, CPU time of this thread (``time.thread_time``: a busy shared machine does not
count), in µs per request:

* ``before`` — the two disabled ``log.info`` calls of the old path;
* ``after, no handler`` — the note bookkeeping and the line with INFO disabled (the CLI; a host not logging INFO);
* ``after, text`` / ``after, json`` — the same with ``serve``'s handler writing the line (to a discarding stream);
* ``one plain log line`` — a ``log.info("alert %r …")`` through a handler with a standard formatter: what "one
  log call" costs by itself, the budget the brief allows on this path;

and, for scale, ``parse_alert`` of the example leaked-key payload (the first step of every intake) — the
reference the ratios are taken against. This is a benchmark, not a test: it prints and exits 0.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("FIRESTOP_BENCH_TREE") or Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(ROOT))

from firestop.alerts import parse_alert  # noqa: E402
from firestop.telemetry.logs import StructuredFormatter  # noqa: E402
from firestop.telemetry.requests import close_note, note, open_note  # noqa: E402

PAYLOAD = (ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes()
ALERT_ID = "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/7f3c1e52"


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def _before(old_serve: logging.Logger, old_intake: logging.Logger) -> None:
    old_intake.info("alert %r (%s): %s %s", ALERT_ID, "Fired", "started", "inc-74a06eda51c1e528")
    old_serve.info("%s %r", "127.0.0.1", '"POST /api/alerts HTTP/1.1" 202 -')


def _after() -> None:
    mine, token = open_note("POST", "/api/alerts?code=abc")
    note(route="post_alert")
    note(caller="function-key")
    note(outcome="started")
    note(incident_id="inc-74a06eda51c1e528", alert_id=ALERT_ID)
    close_note(token)
    mine.finish(202)


def _time(fn, rounds: int) -> float:
    clock = time.thread_time
    t0 = clock()
    for _ in range(rounds):
        fn()
    return clock() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum CPU seconds per case")
    args = parser.parse_args(argv)

    old_serve, old_intake = logging.getLogger("bench.old.serve"), logging.getLogger("bench.old.intake")
    http = logging.getLogger("firestop.http")
    handler = logging.StreamHandler(_Discard())

    plain = logging.getLogger("bench.plain")
    plain.addHandler(logging.StreamHandler(_Discard()))
    plain.handlers[0].setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    plain.setLevel(logging.INFO)
    plain.propagate = False

    def lines(fmt: str | None) -> None:
        http.handlers.clear()
        if fmt is None or fmt == "plain":
            http.setLevel(logging.WARNING)
        else:
            handler.setFormatter(StructuredFormatter(fmt))
            http.addHandler(handler)
            http.setLevel(logging.INFO)
        http.propagate = False

    cases = {
        "before (2 disabled log.info)": (None, lambda: _before(old_serve, old_intake)),
        "after, no handler": (None, _after),
        "after, text line": ("text", _after),
        "after, json line": ("json", _after),
        "one plain log line (budget)": ("plain", lambda: plain.info("alert %r (%s): %s %s", ALERT_ID, "Fired", "started", "inc-1")),
        "parse_alert (reference)": (None, lambda: parse_alert(PAYLOAD)),
    }
    spent = {name: 0.0 for name in cases}
    done = {name: 0 for name in cases}
    rounds = 2000
    began = time.thread_time()
    while time.thread_time() - began < args.seconds * len(cases):
        for name, (fmt, fn) in cases.items():  # interleaved: load changes hit every case alike
            lines(fmt)
            spent[name] += _time(fn, rounds)
            done[name] += rounds
    reference = spent["parse_alert (reference)"] / done["parse_alert (reference)"]
    print(f"== request line on the intake path ({ROOT}; python {sys.version.split()[0]}; "
          f"load {os.getloadavg()[0]:.1f}; CPU time of this thread)")
    print(f"  {'case':<30} {'µs/request':>11} {'vs parse_alert':>15}")
    for name in cases:
        per = spent[name] / done[name]
        print(f"  {name:<30} {per * 1e6:>11.2f} {per / reference:>14.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of the tally entity on the local Durable host: CPU per ``add`` batch as the tally fills.

Run: ``python bench/tally_host.py [--alerts 10000] [--per 4]``.

Each batch is what intake's joiner sends (``correlated_batch`` of ``--per`` joined alerts, one ``signal_entity``)
run by ``LocalDurableHost.run_entity_operations`` on a fresh SQLite store with the app's real entity function
(``firestop.functions.entities.incident_alerts``): the entity's stored state read, the batch context built
(``firestop.runtime.entities.batch_context``), the SDK's entity dispatch (context and state decoded, the tally's
``operate``, state and result encoded), the result parsed and the new state, the removal of the operation and
any answers committed in one transaction. ``bench/tally.py`` measures the entity function's JSON alone.

Prints the CPU (``time.thread_time``) per batch for each tenth of the run and the state's size there: the whole
state goes through about six JSON passes a batch (two by the host — with orjson since hot25 — four by the SDK's
entity protocol) and one SQLite write, so a batch costs in proportion to the remembered digests (16 characters per
alert, up to ``tally.MAX_TRACKED``); the tally's own dedupe no longer does (a set kept beside the string, hot25).
hot25, ``--alerts 5000 --per 20`` side by side with 04bd7c9 (load ~7): 207 -> 161 µs an alert at 5,000 remembered;
``--alerts 2000`` (load ~8): 105 -> 84 at 1,000, 115 -> 92 at 2,000. Name the load (``uptime``) next to any figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import azure.durable_functions as df  # noqa: E402

from firestop.intake.events import TALLY_ADD, TALLY_ENTITY, correlated_batch  # noqa: E402

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"


def summary(i: int) -> dict[str, object]:
    """An ``alert_summary`` shape for joined alert ``i`` (distinct alert ids)."""
    return {"alert_id": f"{SUB}/providers/Microsoft.AlertsManagement/alerts/{i:08d}", "rule_name": "bench",
            "severity": 1, "target_ids": [f"{SUB}/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/a"],
            "fired_at": "2026-11-29T03:20:00Z", "received_at": "2026-11-29T03:20:01Z"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--per", type=int, default=4, help="alerts per add batch (the joiner's group commit)")
    args = parser.parse_args(argv)

    from firestop.cli.wiring import function_app
    from firestop.runtime import LocalDurableHost

    batches = max(args.alerts // args.per, 1)
    tenth = max(batches // 10, 1)
    entity = df.EntityId(TALLY_ENTITY, "inc-bench")
    with tempfile.TemporaryDirectory() as home:
        host = LocalDurableHost(function_app(), os.path.join(home, "durable.db"))
        try:
            print(f"== tally on the local host: {batches} batches of {args.per} alerts "
                  f"(load {os.getloadavg()[0]:.1f}, 1-minute average)")
            print(f"  {'alerts tallied':>16} {'us per batch':>13} {'us per alert':>13} {'state bytes':>12}")
            spent, done = 0.0, 0
            for b in range(batches):
                host.signal_entity(entity, TALLY_ADD, correlated_batch([summary(done + j) for j in range(args.per)]))
                done += args.per
                started = time.thread_time()
                host.run_entity_operations()
                spent += time.thread_time() - started
                if (b + 1) % tenth == 0 or b + 1 == batches:
                    count = (b % tenth) + 1
                    found = host._store.get_entity(f"@{TALLY_ENTITY}@inc-bench")
                    size = len(found[1] or "") if found is not None else 0
                    print(f"  {done:>16,} {spent / count * 1e6:>13.0f} {spent / count / args.per * 1e6:>13.0f} "
                          f"{size:>12,}")
                    spent = 0.0
        finally:
            host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

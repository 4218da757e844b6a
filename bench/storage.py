"""Benchmark of the incident stores (firestop/storage): records and ledger writes, local folders vs Blob Storage.

Run: ``python bench/storage.py [--azurite URL] [--records N] [--ledger N] [--writers W]``

Side by side on the same machine, same run:

- **records** — ``N`` (default 100) record filings as ``records.file`` makes them: a JSON document
  (~6 KB, the demo incident's size) and its Markdown, each ``create``d once (write-once: a hard link
  locally; ``If-None-Match: *`` Put Blob on Blob Storage);
- **ledger** — ``N`` (default 200) :meth:`runbooks.ledger.Ledger.append` calls to one incident's
  ledger (read, verify the chain, append at the length read), from one writer and from ``W``
  (default 2) writer processes at once on the same ledger (appends that lost the race are retried,
  their count is reported).

Backends: a temporary folder (``LocalStore``: ``fsync`` per object, ``flock`` per append) and Azure
Blob Storage on Azurite (``--azurite``: an endpoint ``http://127.0.0.1:<port>/devstoreaccount1``,
e.g. the one ``./scripts/test`` exports as ``FIRESTOP_TEST_AZURITE_BLOB``; without it one is started
from ``node_modules`` on a free loopback port and stopped afterwards). Azurite runs in Node on this
machine: figures are per *emulator* round trip on loopback, not Azure's (a real account adds network
latency per request, ~5-20 ms in-region) — read them as a ratio and as a count of requests per write
(records: 2 Put Blob; ledger append: Get Blob + Append Block, + Put Blob for the first).

Prints writes/s and ms per write for each backend, and the ratio local/Azurite. Every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WRITER = ROOT / "tests" / "runbooks" / "ledger_writer.py"


def start_azurite() -> tuple[subprocess.Popen, str]:
    binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        sys.exit("Azurite is not installed: run npm ci at the repository root, or pass --azurite URL")
    proc = subprocess.Popen([str(binary), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--blobHost", "127.0.0.1",
                             "--blobPort", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line or "")
        if found:
            return proc, f"http://127.0.0.1:{found.group(1)}/devstoreaccount1"
        if not line and proc.poll() is not None:
            break
    proc.kill()
    sys.exit("Azurite did not start within 60 s")


def record_documents() -> tuple[bytes, bytes]:
    from firestop.records import render_markdown
    from firestop.records.store import record_json

    record = {"incident_id": "inc-bench", "status": "contained", "reason": "3 containment step(s) applied and verified",
              "alert": {"rule_name": "aoai-leaked-key-usage", "target_ids": ["/subscriptions/x/resourceGroups/r/providers/p/t/n"]},
              "holds": ["rotate-keys (keys.rotate): rotated both keys"] * 3, "does_not_hold": [],
              "metrics": {"mttd_s": 37.8, "mttc_s": 24.2},
              "timeline": [{"at": f"2026-11-29T03:15:{i:02d}+00:00", "phase": "contain", "step": f"s{i}", "outcome": "done",
                            "detail": "x" * 120} for i in range(30)], "actions": []}
    return record_json(record), render_markdown(record).encode("utf-8")


def bench_records(store, n: int) -> float:
    data, markdown = record_documents()
    start = time.perf_counter()
    for i in range(n):
        store.create(f"inc-bench-{i}.md", markdown, "text/markdown; charset=utf-8")
        store.create(f"inc-bench-{i}.json", data, "application/json")
    return time.perf_counter() - start


def bench_ledger(store, n: int) -> float:
    from runbooks.ledger import Ledger

    ledger = Ledger(store)
    start = time.perf_counter()
    for i in range(n):
        ledger.append("inc-bench", kind="action", runbook="bench", action="apply", step_id=f"s{i}", target=None,
                      at="2026-11-29T03:15:00+00:00", data={"i": i, "summary": "set networkAcls → Deny"})
    elapsed = time.perf_counter() - start
    assert ledger.verify("inc-bench").ok
    return elapsed


def bench_writers(where: str, container: str, writers: int, n: int) -> tuple[float, int]:
    """``writers`` processes append ``n`` entries each to one ledger at once: (seconds from the start signal, conflicts)."""
    procs = [subprocess.Popen([sys.executable, str(WRITER), where, container, "inc-race", f"w{k}", str(n)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for k in range(writers)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(proc.stdout.readline()) for proc in procs]
        elapsed = time.perf_counter() - start
        for proc in procs:
            proc.wait(timeout=300)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return elapsed, sum(r["conflicts"] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--azurite", default=os.environ.get("FIRESTOP_TEST_AZURITE_BLOB"))
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--ledger", type=int, default=200)
    parser.add_argument("--writers", type=int, default=2)
    args = parser.parse_args()
    for name in ("records", "ledger", "writers"):
        if not 1 <= getattr(args, name) <= 10_000:
            sys.exit(f"--{name}: give 1..10000")

    from firestop.storage import blob_service
    from firestop.storage.blob import BlobStore
    from firestop.storage.local import LocalStore
    from runbooks.ledger import Ledger

    azurite, url = (None, args.azurite) if args.azurite else start_azurite()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="firestop-bench-") as tmp:
            suffix = uuid.uuid4().hex[:10]
            backends = {
                "local folder": lambda kind: (LocalStore(Path(tmp) / kind), str(Path(tmp) / kind), "-"),
                "Blob (Azurite)": lambda kind: (BlobStore(blob_service(url), f"bench-{kind}-{suffix}"), url, f"bench-{kind}-{suffix}"),
            }
            per_writer = max(1, args.ledger // args.writers)
            for label, make in backends.items():
                store, _, _ = make("records")
                records_s = bench_records(store, args.records)
                store, _, _ = make("ledger")
                ledger_s = bench_ledger(store, args.ledger)
                store, where, container = make("race")
                race_s, conflicts = bench_writers(where, container, args.writers, per_writer)
                check = Ledger(store).verify("inc-race")
                assert check.ok and check.entries == per_writer * args.writers, check.problems
                rows.append((label, args.records / records_s, ledger_s / args.ledger * 1000,
                             per_writer * args.writers / race_s, conflicts))
    finally:
        if azurite is not None:
            azurite.terminate()
            try:
                azurite.wait(timeout=5)
            except subprocess.TimeoutExpired:
                azurite.kill()
    print(f"records: {args.records} filings (JSON {len(record_documents()[0])} B + Markdown); ledger: {args.ledger} appends, "
          f"then {args.writers} processes x {per_writer} appends to one ledger at once")
    print(f"{'backend':<16} {'records filed/s':>16} {'ledger ms/append':>17} {'ledger appends/s':>17} {'concurrent appends/s':>21} {'lost races':>11}")
    for label, rec, ms, race, conflicts in rows:
        print(f"{label:<16} {rec:>16.1f} {ms:>17.2f} {1000 / ms:>17.1f} {race:>21.1f} {conflicts:>11}")
    print(f"local/Azurite: records {rows[0][1] / rows[1][1]:.1f}x, ledger appends {rows[1][2] / rows[0][2]:.1f}x, "
          f"concurrent appends {rows[0][3] / rows[1][3]:.1f}x; every chain verified intact")


if __name__ == "__main__":
    main()

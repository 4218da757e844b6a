"""trust17 item 3. Usage: PYTHONPATH=<tree> python3 bench/planted_reads.py LABEL (run it once per tree, side by side,
e.g. main's worktree then this one). Store reads, time and traced peak of two passes over planted objects:

- drift: ``firestop.audit.store.previous`` with one sealed audit of the scope and 500 junk documents of 1 MiB named
  newer (a records-store writer's plant);
- records.file: the plan of an undo's revision of a filed record with 40 planted ``.revN`` and 40 look-alike keyed
  names of 1 MiB each (``runbooks.records.FileRecord._decide``).
"""
import json
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

from firestop.storage.local import LocalStore

reads = [0]
_real = LocalStore.read


def _counted(self, name, limit=None):
    reads[0] += 1
    return _real(self, name, limit)


def measured(label, run):
    reads[0] = 0
    LocalStore.read = _counted
    tracemalloc.start()
    t = time.perf_counter()
    try:
        out = run()
    finally:
        dt = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        LocalStore.read = _real
    print(f"{sys.argv[1]} {label}: {reads[0]} reads, {dt * 1e3:.0f} ms, peak {peak / 1e6:.1f} MB, {out}")


def drift() -> None:
    from firestop.audit import store
    from firestop.audit.models import Audit
    from firestop.trust.seal import SealKey

    key = SealKey("bench-" + "k" * 40, "bench")
    records = LocalStore(Path(tempfile.mkdtemp()), "records")
    scope = ("/subscriptions/00000000-0000-0000-0000-000000000001",)
    store.save(Audit(audit_id="audit-20261130T050000Z-0001", at=datetime(2026, 11, 30, 5, tzinfo=timezone.utc),
                     scope=scope, sandbox=True, results=()), records, key)
    junk = b"{" + b" " * (1024 * 1024 - 2) + b"}"
    for n in range(500):
        records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", junk, "application/json")

    def run():
        found, unverified = store.previous(records, scope, key)
        return f"previous {found.audit_id if found else None}, unverified {unverified}"
    measured("drift (500 junk audits)", run)


def records_file() -> None:
    import hashlib

    home = Path(tempfile.mkdtemp()) / "home"
    os.environ["FIRESTOP_HOME"] = str(home)
    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.records.store import filed_record, record_json
    from firestop.settings import REPO_ROOT, get_settings
    from runbooks.dispatch import execute

    alert = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
    shown = json.loads(CliRunner().invoke(app, ["alert", "handle", str(alert), "--json"]).stdout)
    incident = shown["incident_id"]
    planted = json.dumps({"incident_id": incident, "status": "x", "pad": " " * (1024 * 1024)}).encode()
    for i in range(40):
        (home / "records" / f"{incident}.rev{2 + i}.json").write_bytes(planted)
        (home / "records" / f"{incident}.r1-{i:016x}.json").write_bytes(planted)
    record = filed_record(get_settings(), incident)
    request = {"runbook": "records.file", "action": "plan", "step_id": "file-record", "incident_id": incident,
               "params": {"record": {**record, "status": "undone"},
                          "revision_of": hashlib.sha256(record_json(record)).hexdigest()}}
    measured("records.file plan (80 planted names)", lambda: "ok" if execute(request).get("ok") else "refused")


drift()
records_file()

"""trust17 item 3: reads bounded by what the app filed, not by what a records-store writer planted.

Attacker C (Storage Blob Data write on the records container, no seal key) plants objects at an incident's
predictable names. ``records.file`` (plan and apply: every incident's filing, and an undo's revision) read every listed
``<incident>.revN.json`` and every look-alike keyed name ``<incident>.r<N>-<16 hex>.json`` (A13-01 made each read
drop its bytes, not fewer reads): N planted objects, N reads of up to 8 MiB each. Now it reads only the two names the
app can file each *sealed* revision under and the plain name of the revision it files (R16-03's rule for the views),
and keeps the newest sealed revision found. Reads counted at the store (``LocalStore.read``); before (main 8830437)
the plan below read 1 + 2 × PLANTS objects.
"""

from __future__ import annotations

import hashlib
import json

from firestop.storage.local import LocalStore
from tests.runbooks.test_planted_names import EXAMPLE, INCIDENT, PLANTED, cli

PLANTS = 40


def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real_read = LocalStore.read

    def counted(self, name, limit=None):
        if name.startswith(INCIDENT):
            reads.append(name)
        return real_read(self, name, limit)

    monkeypatch.setattr(LocalStore, "read", counted)
    return reads


def test_records_file_reads_the_sealed_revisions_names_only(firestop_home, monkeypatch):
    from firestop.records.store import filed_record, record_json
    from firestop.settings import get_settings
    from runbooks.dispatch import execute

    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"
    records = firestop_home / "records"
    for i in range(PLANTS):  # later revisions and look-alike keyed names of revision 1, none sealed
        (records / f"{INCIDENT}.rev{2 + i}.json").write_bytes(PLANTED)
        (records / f"{INCIDENT}.r1-{i:016x}.json").write_bytes(PLANTED)
    record = filed_record(get_settings(), INCIDENT)
    revised = {**record, "status": "undone"}
    request = {"runbook": "records.file", "step_id": "file-record", "incident_id": INCIDENT,
               "params": {"record": revised, "revision_of": hashlib.sha256(record_json(record)).hexdigest()}}

    reads = _count_reads(monkeypatch)
    planned = execute({**request, "action": "plan"})
    assert planned.get("ok"), planned.get("error")
    # revision 1's plain name (sealed bytes) and revision 2's plain name (taken: is it this document?) — the keyed
    # name of revision 1 was never filed, so it is not listed and not read
    assert sorted(reads) == sorted([f"{INCIDENT}.json", f"{INCIDENT}.rev2.json"]), f"{len(reads)} reads: {reads[:6]}"

    reads.clear()
    applied = execute({**request, "action": "apply"})
    assert applied.get("ok"), applied.get("error")
    assert applied["result"]["artifacts"]["revision"] == 2  # filed beside the planted rev2, under its keyed name
    assert len(reads) <= 2, f"{len(reads)} reads: {reads[:6]}"
    assert filed_record(get_settings(), INCIDENT)["status"] == "undone"

    reads.clear()  # the same document again: the newest sealed revision (2, at its keyed name) is found, nothing filed
    again = execute({**request, "action": "apply"})
    assert again.get("ok") and again["result"]["changed"] is False, again
    assert len(reads) <= 4, f"{len(reads)} reads: {reads[:6]}"


# --- the drift check (firestop.audit.store.previous) ------------------------------------------------------------------

def _audit(audit_id: str, scope=("/subscriptions/00000000-0000-0000-0000-000000000001",)):
    from datetime import datetime, timezone

    from firestop.audit.models import Audit

    return Audit(audit_id=audit_id, at=datetime(2026, 12, 1, 5, tzinfo=timezone.utc), scope=scope, sandbox=True, results=())


def test_the_drift_check_reads_the_marked_previous_audit_not_the_junk_named_newer(tmp_path, monkeypatch):
    """trust16's filed-markers (``audits/filed/<id>.<seal>``) name the audits this app filed. The drift check read up to
    500 documents newest first (``MAX_SCANNED``): 500 junk blobs named newer were 500 reads of up to 16 MiB and
    crowded the previous audit out (RT17-03 then failed closed: every finding new, a responder asked). Now it reads
    the marked ones (at most ``MAX_DRIFT_LOADS``), finds the previous audit, and counts the junk unread."""
    from firestop.audit import store
    from firestop.trust.seal import SealKey

    key = SealKey("trust17-drift-" + "k" * 30, "test")
    records = LocalStore(tmp_path / "records", "records")
    scope = ("/subscriptions/00000000-0000-0000-0000-000000000001",)
    store.save(_audit("audit-20261128T050000Z-0001", ("/subscriptions/other",)), records, key)
    store.save(_audit("audit-20261130T050000Z-0001", scope), records, key)
    store.save(_audit("audit-20261201T050000Z-0002", ("/subscriptions/other",)), records, key)
    for n in range(store.MAX_SCANNED):
        assert records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")

    reads: list[str] = []
    real_read = LocalStore.read

    def counted(self, name, limit=None):
        if name.startswith("audits/") and name.endswith(".json"):
            reads.append(name)
        return real_read(self, name, limit)

    monkeypatch.setattr(LocalStore, "read", counted)
    found, unverified = store.previous(records, scope, key)
    assert found is not None and found.audit_id == "audit-20261130T050000Z-0001"  # before: None (crowded out)
    assert unverified == store.MAX_SCANNED  # the junk named newer, counted, not read
    assert reads == ["audits/audit-20261201T050000Z-0002.json", "audits/audit-20261130T050000Z-0001.json"], reads[:5]


def test_a_marked_audit_of_the_scope_beyond_the_first_few_falls_back_to_the_scan(tmp_path):
    """More scopes audited since than MAX_DRIFT_LOADS: the bounded scan of the names finds it, as before trust17."""
    from firestop.audit import store
    from firestop.trust.seal import SealKey

    key = SealKey("trust17-drift-" + "k" * 30, "test")
    records = LocalStore(tmp_path / "records", "records")
    scope = ("/subscriptions/00000000-0000-0000-0000-000000000001",)
    store.save(_audit("audit-20261101T050000Z-0001", scope), records, key)
    for n in range(store.MAX_DRIFT_LOADS + 1):
        store.save(_audit(f"audit-202611{10 + n:02d}T050000Z-{n:04x}", (f"/subscriptions/other-{n}",)), records, key)
    found, unverified = store.previous(records, scope, key)
    assert found is not None and found.audit_id == "audit-20261101T050000Z-0001" and unverified == 0

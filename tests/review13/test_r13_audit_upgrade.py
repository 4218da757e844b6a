"""R13-01 (medium, the upgrade path of RT17-02/03): a store holding more unsealed audits than
``firestop.audit.store.MAX_SCANNED`` reads — every audit filed before seals (weekly for ten years, or a shorter
``FIRESTOP_AUDIT_SCHEDULE``, or many ``audit run``s / scopes) — made the first audit after the upgrade take *every*
failing finding as new drift: a ``public-network-exposure`` incident for every account that was open on purpose, the
opposite of what RT17-03's upgrade note promises ("a baseline, as before — not a flood of incidents").

The store cannot tell legacy audits from planted junk by their content (both are unsealed), but it can tell whether
this app has *ever* sealed an audit: the first sealed save files a sealed marker (``audits/sealed-since.json``).
Nothing there: no sealed audit can have been crowded out, the scan is a baseline. Anything there (the marker, or an
object a writer planted at its name): RT17-03 holds (every finding new).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from firestop.audit import store
from firestop.audit.models import Audit
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey

KEY = SealKey("review13-audit-upgrade-key-0123456789abcdef", "test")
SCOPE = ("00000000-0000-0000-0000-000000000001",)


def _audit(audit_id: str) -> Audit:
    return Audit(audit_id=audit_id, at=datetime(2026, 1, 5, 5, tzinfo=timezone.utc), scope=SCOPE, sandbox=True,
                 results=())


def _legacy(records: LocalStore, n: int) -> None:
    """``n`` audits as main 2fcae0a filed them (no seal), weekly-ish names before the upgrade."""
    for i in range(n):
        audit_id = f"audit-2025{1 + i // 300:02d}{1 + i // 12 % 25:02d}T05{i % 12:02d}00Z-{i:04x}"
        document = _audit(audit_id).model_dump(mode="json")
        assert records.create(f"audits/{audit_id}.json", json.dumps(document).encode(), "application/json")


def test_more_legacy_audits_than_the_scan_reads_make_a_baseline_not_every_finding_new(tmp_path):
    records = LocalStore(tmp_path, "records")
    _legacy(records, store.MAX_SCANNED + 1)
    assert store.previous(records, SCOPE, KEY) == (None, 0)  # rough15: (None, 500): every finding new


def _unmark(records: LocalStore) -> None:
    """trust17: the sealed audits' filed-markers removed — audits sealed before trust16 filed markers (the drift check
    steps over junk to a marked audit unread; the scan below is what remains for an unmarked one)."""
    import shutil

    shutil.rmtree(records.path("audits/filed/x").parent)


def test_junk_newer_than_a_sealed_audit_still_fails_closed(tmp_path):
    """RT17-03 stays closed: once this app sealed an audit, junk crowding it out makes every finding new."""
    records = LocalStore(tmp_path, "records")
    _legacy(records, 3)
    store.save(_audit("audit-20261130T050000Z-0001"), records, KEY)
    _unmark(records)
    for n in range(store.MAX_SCANNED):
        assert records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")
    assert store.previous(records, SCOPE, KEY) == (None, store.MAX_SCANNED)


def test_a_planted_marker_cannot_turn_the_drift_off(tmp_path):
    """A records-store writer who plants an object at the marker's name before Firestop's first sealed audit (on
    Azure's WORM container nobody can remove it again) and then crowds the previous audit out gains nothing: any
    object at the name counts as "sealed before" — the fail-closed side (every finding new, RT17-03)."""
    records = LocalStore(tmp_path, "records")
    assert records.create(store.SEALED_SINCE, json.dumps({"first": "audit-20261130T050000Z-0001"}).encode(),
                          "application/json")
    store.save(_audit("audit-20261130T050000Z-0001"), records, KEY)  # its own marker cannot be filed: junk is there
    _unmark(records)
    for n in range(store.MAX_SCANNED):
        assert records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")
    assert store.previous(records, SCOPE, KEY) == (None, store.MAX_SCANNED)


def test_one_oversized_planted_audit_does_not_stop_every_audit(tmp_path):
    """R13-04 (medium; bounds14 × RT17-02, attacker C): one blob over the store's default read bound (64 MiB) named as
    the newest audit made ``load`` raise :class:`~firestop.storage.TooLarge` (a StoreError) out of ``previous`` — the
    weekly audit failed every week (no drift, no incident: RT17-03's aim, by another road), and ``GET
    /api/audits/latest`` failed. Before bounds14 it was read whole and skipped as not an audit. Now: an audit
    document over :data:`firestop.audit.store.AUDIT_READ_LIMIT` is refused unread and counted as not sealed (also found by attack13, A13-03: its 16 MiB bound kept at the merge)."""
    records = LocalStore(tmp_path, "records")
    store.save(_audit("audit-20261130T050000Z-0001"), records, KEY)
    planted = tmp_path / "audits" / "audit-29991231T235959Z-ffff.json"
    with planted.open("wb") as fh:  # sparse: no disk, no memory
        fh.truncate(64 * 1024 * 1024 + 1)
    found, unverified = store.previous(records, SCOPE, KEY)
    assert found is not None and found.audit_id == "audit-20261130T050000Z-0001" and unverified == 1
    assert store.latest(records, None, KEY).audit_id == "audit-20261130T050000Z-0001"
    assert store.load(records, "audit-29991231T235959Z-ffff", KEY) is None

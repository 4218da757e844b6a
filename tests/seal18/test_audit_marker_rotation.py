"""seal18, item 1: the audits' sealed-since marker across a seal key rotation and a drop.

Before: one marker at the fixed name ``audits/sealed-since.json``, sealed by the key of the store's first audit and
never again (write-once). After ``seal-key rotate`` and ``seal-key retire`` of that key, every audit logged a warning
that it was "not the marker Firestop seals (planted?)" (stderr, for the CLI) and counted it as "sealed before" — the
dropped key's audits, not believed any more, were still taken as crowded out when more than MAX_SCANNED unsealed names
stood in the way: every finding new.

Now each key marks for itself (``audits/sealed-since-<32 hex>.json``, a name only that key makes, filed by its first
audit) and the ring's markers are what count: a marker sealed by a dropped key is not counted (what it vouched for is
not believed either: the drift check's scan is a baseline, as for audits filed before seals), and the ring's first
audit files the current key's marker, from which the check fails closed again. The first test and the drop's
``(None, 0)`` fail before.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from typer.testing import CliRunner

from firestop.audit import store
from firestop.audit.models import Audit
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey, SealKeyRing

SCOPE = ("00000000-0000-0000-0000-000000000001",)
K1 = SealKey("seal18-audit-marker-key-one-0123456789abcdef", "test")
K2 = SealKey("seal18-audit-marker-key-two-0123456789abcdef", "test")


def _cli(*args):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _audit(audit_id: str) -> Audit:
    return Audit(audit_id=audit_id, at=datetime(2026, 12, 5, 5, tzinfo=timezone.utc), scope=SCOPE, sandbox=True,
                 results=())


def _crowd(records: LocalStore) -> None:
    """MAX_SCANNED unsealed documents named newer than every audit, and the filed-markers gone (audits sealed before
    trust16 filed markers): the scan of names is all the drift check has, and it is cut short."""
    import shutil

    shutil.rmtree(records.path("audits/filed/x").parent, ignore_errors=True)
    for n in range(store.MAX_SCANNED):
        records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "firestop.audit.store" and r.levelno >= logging.WARNING]


def test_audits_after_a_rotation_and_a_drop_do_not_warn_of_a_planted_marker(firestop_home, caplog):
    caplog.set_level(logging.INFO, logger="firestop.audit.store")
    assert _cli("audit", "run", "--json").exit_code in (0, 3)
    old = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    assert _cli("audit", "run", "--json").exit_code in (0, 3)
    assert _cli("seal-key", "retire", old, "--as", "oid-admin", "--yes").exit_code == 0
    for _ in range(2):
        ran = _cli("audit", "run", "--json")
        assert ran.exit_code in (0, 3), ran.output
        assert "not the marker" not in ran.output
    assert _warnings(caplog) == []  # before: one "not the marker Firestop seals (planted?)" per audit after the drop
    audits = firestop_home / "records" / "audits"
    markers = sorted(p.name for p in audits.iterdir() if p.name.startswith("sealed-since"))
    assert len(markers) == 3 and "sealed-since.json" in markers, markers  # the fixed one + one per key that sealed
    from firestop.trust.seal import load_seal_key

    assert store.sealed_before(LocalStore(audits.parent), load_seal_key(firestop_home))


def test_a_dropped_keys_marker_is_not_counted_and_the_rings_first_audit_marks_again(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="firestop.audit.store")
    records = LocalStore(tmp_path, "records")
    store.save(_audit("audit-20261205T050000Z-0001"), records, K1)
    rotated = SealKeyRing(K2, (K1,))
    _crowd(records)
    # K1 retired: its audit is believed and may have been crowded out — fail closed (every finding new)
    assert store.previous(records, SCOPE, rotated) == (None, store.MAX_SCANNED)
    dropped = SealKeyRing(K2)
    # K1 dropped: nothing it sealed is believed, so nothing can have been crowded out — a baseline (before: (None, 500)
    # and a warning that the marker was planted)
    assert store.sealed_before(records, dropped) is False
    assert store.previous(records, SCOPE, dropped) == (None, 0)
    assert _warnings(caplog) == []
    store.save(_audit("audit-20261205T060000Z-0001"), records, dropped)  # the ring's first audit: K2's marker first
    _crowd(records)
    assert store.sealed_before(records, dropped) is True
    assert store.previous(records, SCOPE, dropped) == (None, store.MAX_SCANNED)
    assert _warnings(caplog) == []


def test_a_store_marked_before_seal18_keeps_failing_closed_through_a_rotation_and_a_drop(tmp_path, caplog):
    """The upgrade: the only marker is at the fixed name, sealed by K1 (as main sealed it). K1 retired, it is
    believed; K2's first audit marks for K2, so dropping K1 then changes nothing."""
    from firestop.trust.seal import Purpose, seal

    caplog.set_level(logging.INFO, logger="firestop.audit.store")
    records = LocalStore(tmp_path, "records")
    legacy = seal(Purpose.AUDIT, {"first": "audit-20261201T050000Z-0001"}, binding="sealed-since", key=K1)
    assert records.create(store.SEALED_SINCE, json.dumps(legacy).encode(), "application/json")
    rotated = SealKeyRing(K2, (K1,))
    assert store.sealed_before(records, rotated)
    store.save(_audit("audit-20261205T050000Z-0001"), records, rotated)
    assert records.read(store.marker_name(K2)) is not None and records.read(store.marker_name(K1)) is None
    assert store.sealed_before(records, SealKeyRing(K2))
    assert _warnings(caplog) == []


def test_a_planted_object_at_the_fixed_name_still_counts_and_each_keys_marker_is_the_keys_own(tmp_path, caplog):
    """RT17-03/R13-01 hold: an object at the fixed name that is no sealed marker counts (warned once per key's first
    audit, not on every audit); the per-key names come from the key (nobody without it makes one first)."""
    records = LocalStore(tmp_path, "records")
    assert records.create(store.SEALED_SINCE, b'{"first": "audit-20261201T050000Z-0001"}', "application/json")
    assert store.sealed_before(records, K1)
    assert store.marker_name(K1) != store.marker_name(K2)
    assert store.marker_name(SealKeyRing(K2, (K1,))) == store.marker_name(K2)  # a ring: its current key's
    assert store.marker_name(K1).startswith(store.KEY_MARKER_PREFIX) and not store.valid_audit_id(
        store.marker_name(K1)[len(store.PREFIX):-5])
    caplog.clear()
    store.save(_audit("audit-20261205T050000Z-0001"), records, K1)
    store.save(_audit("audit-20261205T060000Z-0001"), records, K1)
    assert len(_warnings(caplog)) == 1, _warnings(caplog)
    assert [a for a in store.stored_ids(records)] == ["audit-20261205T060000Z-0001", "audit-20261205T050000Z-0001"]

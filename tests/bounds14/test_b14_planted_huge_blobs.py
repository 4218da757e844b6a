"""bounds14 item 1: a huge blob planted at a name Firestop reads is refused unread, never read whole.

Attacker: a principal with Storage Blob Data write on the records (or ledger) storage account and no Firestop role.
Names Firestop reads are predictable (a verdict's and a pending join's folder are hashes of the incident id and its
received time, a once-marker's of the alert id, a record's and a ledger's the incident id): a blob of gigabytes there
was downloaded whole by ``read()`` (every reader, then ``json.loads``), exhausting the instance's memory — intake's,
the activity's or the CLI's. Each test plants 24-26 MiB (as a writer would: the file written in place, not through
the store), reads it the way Firestop does under ``tracemalloc``, and expects the refusal and its handling: the same
as an object at that name that cannot be read. Each fails before bounds14 (peak memory = the whole blob).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firestop.records import check_verdicts, pending_joins
from firestop.storage import StoreError
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey
from tests.traced_memory import peak as _peak

INCIDENT, RECEIVED = "aoai-incident-b14", "2026-12-05T02:00:00Z"
KEY = SealKey("bounds14-test-seal-key-0123456789abcdef", "test")
HUGE = 24 * 1024 * 1024
#: What refusing may hold (the planted blob is 24+ MiB): the bound's bytes at most, and the reader's own.
PEAK = 2 * 1024 * 1024


def _plant(root: Path, name: str, size: int = HUGE, head: bytes = b"") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # written in place, as a storage writer's Put Blob with overwrite
        fh.write(head + b"[" * size)


def test_a_huge_verdict_reads_as_not_answered_unread(tmp_path):
    store = LocalStore(tmp_path / "records")
    _plant(store.root, check_verdicts.verdict_name(INCIDENT, RECEIVED))
    answer, peak = _peak(lambda: check_verdicts.read(store, INCIDENT, RECEIVED, KEY))
    assert answer is None and peak < PEAK, (answer, peak)


def test_a_huge_once_marker_is_no_marker_and_the_claim_names_it(tmp_path):
    from firestop.azure.alerts_management import CLAIM_READ_LIMIT, claim, claim_name

    store = LocalStore(tmp_path / "records")
    alert = {"alert_id": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a-b14", "monitor_condition": "Fired"}
    _plant(store.root, claim_name(alert))
    why, peak = _peak(lambda: claim(store, alert, INCIDENT, RECEIVED, key=KEY))  # (key=: sealed since item 2)
    assert peak < PEAK, peak
    assert isinstance(why, str) and claim_name(alert) in why and f"over {CLAIM_READ_LIMIT} bytes" in why, why


def test_a_huge_once_marker_routes_no_resolved_delivery(tmp_path, monkeypatch):
    from firestop.azure.alerts_management import claim_name
    from firestop.functions.intake_call import confirmed_incident_sync
    from firestop.settings import get_settings

    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path))
    monkeypatch.delenv("FIRESTOP_STORAGE_BLOB_URL", raising=False)
    assert get_settings().home == tmp_path
    alert_id = "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/r-b14"
    _plant(tmp_path / "records", claim_name({"alert_id": alert_id, "monitor_condition": "Fired"}),
           head=b'{"incident_id": "')  # a marker's start, then megabytes
    answer, peak = _peak(lambda: confirmed_incident_sync(alert_id))
    assert answer is None and peak < PEAK, (answer, peak)


def test_an_overwritten_pending_join_is_skipped_unread(tmp_path):
    store = LocalStore(tmp_path / "records")
    pending_joins.keep(store, INCIDENT, RECEIVED, "a" * 64, f"{INCIDENT}-vaaaaaaaaaaaaaaaa", {"sealed": "a"}, KEY)
    pending_joins.keep(store, INCIDENT, RECEIVED, "b" * 64, f"{INCIDENT}-vbbbbbbbbbbbbbbbb", {"sealed": "b"}, KEY)
    overwritten = store.names(pending_joins.folder(INCIDENT, RECEIVED))[0]  # the sealed name kept, the content not
    _plant(store.root, overwritten)
    answer, peak = _peak(lambda: pending_joins.pending(store, INCIDENT, RECEIVED, KEY))
    assert peak < PEAK, peak
    kept = answer.kept if hasattr(answer, "kept") else answer[0]  # (a Pending since item 3)
    assert kept == [(f"{INCIDENT}-vbbbbbbbbbbbbbbbb", {"sealed": "b"})], answer


def test_a_huge_record_is_a_record_that_cannot_be_read(tmp_path):
    from firestop.records.store import RECORD_READ_LIMIT, filed_record

    _plant(tmp_path / "records", f"{INCIDENT}.json", size=RECORD_READ_LIMIT + HUGE)
    answer, peak = _peak(lambda: filed_record(tmp_path / "records", INCIDENT))
    assert peak < PEAK, peak
    assert isinstance(answer, StoreError) and f"{INCIDENT}.json is over {RECORD_READ_LIMIT} bytes" in str(answer), answer


def test_a_ledger_grown_past_16_mib_is_appended_to_in_bounded_memory(tmp_path):
    """bounds14 refused the append here (``TooLarge`` past 16 MiB), which stopped a containment (A13-04); since ledger15
    the ledger is streamed: the append chains over the junk line, holding a chunk and a line at most."""
    from runbooks.ledger import LEDGER_CHUNK, LEDGER_READ_LIMIT, MAX_LINE_BYTES, Ledger

    ledger = Ledger(tmp_path / "ledger")
    ledger.append(INCIDENT, kind="action", runbook="x.y", action="apply", step_id="s1", target=None,
                  at="2026-12-05T02:00:00+00:00", data={})
    with open(tmp_path / "ledger" / f"{INCIDENT}.jsonl", "ab") as fh:  # a writer's protected appends of junk
        fh.write(b"x" * (LEDGER_READ_LIMIT + 1024) + b"\n")
    answer, peak = _peak(lambda: ledger.append(INCIDENT, kind="action", runbook="x.y", action="apply", step_id="s2",
                                               target=None, at="2026-12-05T02:01:00+00:00", data={}))
    assert peak < 2 * (MAX_LINE_BYTES + LEDGER_CHUNK), peak
    assert isinstance(answer, dict) and answer["seq"] == 2, answer
    check = ledger.check(INCIDENT)
    assert check.entries == 2 and check.unreadable == [2] and not check.broken, check
    assert "over 4194304 bytes, not read" in check.problems[0], check.problems


@pytest.mark.parametrize("size", [100, 4096])
def test_a_verdict_as_written_is_far_under_its_bound(tmp_path, size):
    """The bound's premise, measured: a kept verdict is ~150 bytes (READ_LIMIT 4,096)."""
    store = LocalStore(tmp_path / "records")
    check_verdicts.keep(store, INCIDENT, RECEIVED, size == 100, KEY)
    raw = store.read(check_verdicts.verdict_name(INCIDENT, RECEIVED))
    assert len(raw) * 10 < check_verdicts.READ_LIMIT and check_verdicts.read(store, INCIDENT, RECEIVED, KEY) is (size == 100)

"""The store contract (firestop/storage) on both backends — a FIRESTOP_HOME folder and Blob Storage on Azurite —
and the ledger appended by two processes at once: written once, appended at a stated offset, never overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from firestop.storage import AlreadyExists, AppendConflict, blob_service
from firestop.storage.blob import BlobStore
from firestop.storage.local import LocalStore

WRITER = Path(__file__).with_name("ledger_writer.py")


@pytest.fixture(params=["local", "azurite"])
def backend(request, tmp_path):
    """(store, where, container) of a fresh store: a folder, or a new container on Azurite."""
    if request.param == "local":
        return LocalStore(tmp_path / "store"), str(tmp_path / "store"), "-"
    endpoint = request.getfixturevalue("azurite_blob_endpoint")
    container = f"store-{uuid.uuid4().hex[:12]}"
    return BlobStore(blob_service(endpoint), container), endpoint, container


def test_create_writes_once_and_never_overwrites(backend):
    store, _, _ = backend
    assert store.read("inc-1/item.jsonl") is None and store.names("inc-1/") == []
    assert store.create("inc-1/item.jsonl", b"first\n", "application/x-ndjson") is True
    assert store.create("inc-1/item.jsonl", b"first\n") is False  # a retry of the same write changes nothing
    with pytest.raises(AlreadyExists, match="never overwritten"):
        store.create("inc-1/item.jsonl", b"forged\n")
    assert store.read("inc-1/item.jsonl") == b"first\n"
    store.create("inc-1/manifest/item.jsonl.json", b"{}")
    store.create("inc-10/item.jsonl", b"x")
    assert store.names("inc-1/") == ["inc-1/item.jsonl", "inc-1/manifest/item.jsonl.json"]


def test_append_lands_only_at_the_offset_it_names(backend):
    store, _, _ = backend
    store.append("inc-1.jsonl", b"one\n", at=0)
    with pytest.raises(AppendConflict):
        store.append("inc-1.jsonl", b"fork\n", at=0)  # a writer that read the empty ledger lost the race
    with pytest.raises(AppendConflict):
        store.append("inc-1.jsonl", b"gap\n", at=99)
    store.append("inc-1.jsonl", b"two\n", at=4)
    assert store.read("inc-1.jsonl") == b"one\ntwo\n"
    with pytest.raises(AppendConflict):
        store.append("inc-2.jsonl", b"x\n", at=3)  # no such object yet
    assert store.read("inc-2.jsonl") is None


@pytest.mark.parametrize("name", ["", "../x", "a//b", ".hidden", "a/.b", "a b", "a\nb"])
def test_names_are_plain(tmp_path, name):
    with pytest.raises(ValueError, match="not a store object name"):
        LocalStore(tmp_path).create(name, b"x")


def test_two_processes_appending_to_one_ledger_keep_one_chain(backend):
    """Two writer processes append to one incident's ledger at once (started together by the parent):
    the chain is intact, every entry of both is on it exactly once, each writer's in its own order."""
    from runbooks.ledger import Ledger

    store, where, container = backend
    count = 15
    procs = [subprocess.Popen([sys.executable, str(WRITER), where, container, "inc-race", name, str(count)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for name in ("a", "b")]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:  # both are waiting: start them together
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(proc.stdout.readline()) for proc in procs]
        assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    ledger = Ledger(store)
    check = ledger.verify("inc-race")
    assert check.ok, check.problems
    entries = ledger.entries("inc-race")
    assert check.entries == len(entries) == 2 * count
    for name in ("a", "b"):
        assert [e["data"]["i"] for e in entries if e["data"]["writer"] == name] == list(range(count))
    assert [e["seq"] for e in entries] == list(range(1, 2 * count + 1))
    print("append conflicts absorbed:", {r["writer"]: r["conflicts"] for r in results})


def test_an_old_ledger_position_cannot_be_written_again(backend):
    """Overwriting a ledger entry is refused: an append at an offset already written is refused whole."""
    from runbooks.ledger import Ledger

    store, _, _ = backend
    ledger = Ledger(store)
    for i in range(3):
        ledger.append("inc-w", kind="action", runbook="t", action="apply", step_id=f"s{i}", target=None, at="t", data={"i": i})
    raw = store.read(ledger.name("inc-w"))
    first_line = raw.split(b"\n")[0] + b"\n"
    forged = json.loads(first_line)
    forged["data"] = {"i": "forged"}
    for at in (0, len(first_line)):
        with pytest.raises(AppendConflict):
            store.append(ledger.name("inc-w"), json.dumps(forged).encode() + b"\n", at=at)
    with pytest.raises(AlreadyExists):
        store.create(ledger.name("inc-w"), b"")  # nor can the ledger be replaced by a new object
    assert store.read(ledger.name("inc-w")) == raw and ledger.verify("inc-w").ok


# firestop doctor's storage checks -----------------------------------------------------------

def test_doctor_storage_on_azurite_reports_what_it_can_check(azurite_blob_endpoint, tmp_path, monkeypatch):
    import socket

    import firestop.storage

    monkeypatch.setitem(firestop.storage.BLOB_CLIENT_OPTIONS, "retry_total", 0)  # the unreachable case: no wall-clock back-off

    from firestop.infra.doctor import check_storage

    suffix = uuid.uuid4().hex[:12]
    env = {"FIRESTOP_STORAGE_BLOB_URL": azurite_blob_endpoint, "FIRESTOP_RECORDS_CONTAINER": f"records-{suffix}",
           "FIRESTOP_EVIDENCE_CONTAINER": f"evidence-{suffix}", "FIRESTOP_LEDGER_CONTAINER": f"ledger-{suffix}"}
    BlobStore(blob_service(azurite_blob_endpoint), f"ledger-{suffix}").append("inc.jsonl", b"x\n", at=0)
    storage, worm = check_storage(env, False, tmp_path)
    assert storage["status"] == "ok" and f"evidence-{suffix}, " in storage["detail"] and "created on first write" in storage["detail"]
    assert f"ledger-{suffix}" not in storage["detail"].split("(")[1]  # it exists
    assert worm["status"] == "skipped" and worm["detail"].startswith("— not checkable: Azurite does not model immutability")
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    storage, worm = check_storage({**env, "FIRESTOP_STORAGE_BLOB_URL": f"http://127.0.0.1:{port}/devstoreaccount1"}, False, tmp_path)
    assert storage["status"] == "problem" and "did not answer" in storage["detail"] and worm["status"] == "skipped"


def test_doctor_storage_on_azure_needs_blob_storage(tmp_path):
    from firestop.infra.doctor import check_storage

    storage, _ = check_storage({}, True, tmp_path)
    assert storage["status"] == "problem" and "FIRESTOP_STORAGE_BLOB_URL is not set" in storage["detail"]
    storage, worm = check_storage({}, False, tmp_path)
    assert storage["status"] == "ok" and worm["status"] == "skipped" and "local folders" in worm["detail"]


def test_audits_are_kept_once_in_the_records_store(backend):
    """The audit timer's audits go to the same records store (Blob Storage on Azure): written once, a second audit
    in the same second filed beside it, the newest of a scope found again."""
    from datetime import datetime, timezone

    from firestop.audit import store as audits
    from firestop.audit.models import Audit

    records, _, _ = backend
    first = Audit(audit_id="audit-20261129T031440Z-ab12", at=datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc),
                  scope=("/subscriptions/s",), results=())
    filed, files = audits.save(first, records)
    assert filed == first and files["json"].endswith("audits/audit-20261129T031440Z-ab12.json")
    assert audits.save(first, records)[0] == first  # a retry files nothing new
    other = first.model_copy(update={"scope": ("/subscriptions/other",)})
    second, _ = audits.save(other, records)
    assert second.audit_id == "audit-20261129T031440Z-ab12-2"  # the id was taken: never replaced
    assert audits.load(records, first.audit_id) == first and audits.latest(records, ("/subscriptions/s",)) == first
    assert set(audits.stored_ids(records)) == {first.audit_id, second.audit_id}
    assert {n.rsplit(".", 1)[1] for n in records.names("audits/") if not n.startswith(audits.FILED_PREFIX)} == {"json", "md", "html"}
    assert audits.filed_ids(records) == [second.audit_id, first.audit_id]  # trust16: each marked once, by name


def _plant(store, where: str, container: str, name: str, data: bytes) -> None:
    """A Storage Blob Data writer's object at ``name`` (not through the store: it never writes what it is handed this
    way — a file written in place, or Put Blob with overwrite)."""
    if container == "-":
        path = Path(where) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    blob = blob_service(where).get_container_client(container)
    try:
        blob.create_container()
    except Exception:  # noqa: BLE001 — it exists
        pass
    blob.get_blob_client(name).upload_blob(data, overwrite=True)


def test_a_read_past_its_bound_is_refused_without_fetching_the_object(backend):
    """bounds14 item 1 (fails before: ``read`` took no bound and returned any object whole — a planted multi-GB blob at
    a name Firestop reads exhausted the instance's memory): ``read(name, limit)`` answers TooLarge, naming the object
    and the bound, having held at most ``limit + 1`` bytes of it (Blob: a ranged Get Blob)."""
    import tracemalloc

    from firestop.storage import StoreError, TooLarge

    store, where, container = backend
    _plant(store, where, container, "planted/huge.json", b"[" * (24 * 1024 * 1024))
    _plant(store, where, container, "planted/empty.json", b"")
    store.create("kept/exact.json", b"x" * 4096)
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge) as refused:
            store.read("planted/huge.json", limit=4096)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(refused.value, StoreError) and refused.value.kind == "failed"
    assert "planted/huge.json is over 4096 bytes" in str(refused.value) and refused.value.limit == 4096
    assert peak < 2 * 1024 * 1024, f"{peak} bytes held to refuse a 24 MiB object"  # not read whole
    assert store.read("kept/exact.json", limit=4096) == b"x" * 4096  # at the bound: read
    with pytest.raises(TooLarge):
        store.read("kept/exact.json", limit=4095)
    assert store.read("planted/empty.json", limit=4096) == b""  # (Blob: a ranged Get of an empty blob is 416)
    assert store.read("planted/none.json", limit=4096) is None
    assert store.read("planted/huge.json") == b"[" * (24 * 1024 * 1024)  # the default bound (64 MiB) reads it


def test_create_compares_an_existing_blob_by_its_bytes_not_its_metadata(azurite_blob_endpoint):
    """bounds14 (fails before: an existing blob was compared by its ``sha256`` metadata): a storage writer's blob at a
    create-if-absent name, carrying the digest of what Firestop will write as metadata, passed for "already holds
    exactly this" (False) — Firestop believed its write was kept."""
    import hashlib

    container = f"store-{uuid.uuid4().hex[:12]}"
    store = BlobStore(blob_service(azurite_blob_endpoint), container)
    mine = b'{"confirmed": false}'
    _plant(store, azurite_blob_endpoint, container, "source-checked/x.json", b'{"confirmed": true}')
    blob = blob_service(azurite_blob_endpoint).get_container_client(container).get_blob_client("source-checked/x.json")
    blob.set_blob_metadata({"sha256": hashlib.sha256(mine).hexdigest()})
    with pytest.raises(AlreadyExists):
        store.create("source-checked/x.json", mine)
    assert store.create("kept/y.json", mine) is True and store.create("kept/y.json", mine) is False  # a retry


def test_read_range_reads_a_window_of_an_object(backend):
    """ledger15 (the ranged read ledgers are streamed with, A13-04): at most ``length`` bytes from ``offset``, fewer at
    the end, ``b""`` at or past it (Blob: the 416 of a range past the end), None for no object."""
    store, where, container = backend
    _plant(store, where, container, "planted/ten.jsonl", b"0123456789")
    _plant(store, where, container, "planted/empty.jsonl", b"")
    assert store.read_range("planted/ten.jsonl", 0, 4) == b"0123"
    assert store.read_range("planted/ten.jsonl", 8, 4) == b"89"
    assert store.read_range("planted/ten.jsonl", 10, 4) == b""
    assert store.read_range("planted/ten.jsonl", 99, 4) == b""
    assert store.read_range("planted/empty.jsonl", 0, 4) == b""
    assert store.read_range("planted/none.jsonl", 0, 4) is None
    with pytest.raises(ValueError):
        store.read_range("planted/ten.jsonl", 0, 0)


def test_a_ledger_planted_past_16_mib_is_appended_to_and_read_in_bounded_memory(backend):
    """A13-04 on both backends (fails before: bounds14 refused a ledger over 16 MiB unread, so every append — the
    containment's before-state marker first — failed): a writer's 24 MiB line at the ledger's name before the incident
    starts, then the incident's appends chain over it; ``entries`` and ``verify`` stream it, holding a chunk and a line."""
    import tracemalloc

    from firestop.storage import ObjectStore  # noqa: F401 (the contract read_range is part of)
    from runbooks.ledger import MAX_LINE_BYTES, Ledger

    store, where, container = backend
    junk = b"x" * (24 * 1024 * 1024) + b"\n" + b"junk\n"
    if container == "-":
        _plant(store, where, container, "inc-planted.jsonl", junk)
    else:  # an append blob, as Firestop's own ledgers are (a block blob at the name: see ledger15's README note)
        blob = blob_service(where).get_container_client(container)
        blob.create_container()
        blob.get_blob_client("inc-planted.jsonl").upload_blob(junk, blob_type="AppendBlob")
    ledger = Ledger(store)
    tracemalloc.start()
    try:
        first = ledger.append("inc-planted", kind="marker", runbook="t", action="apply", step_id="s1", target=None,
                              at="2026-12-05T04:00:00+00:00", data={"before": 1})
        second = ledger.append("inc-planted", kind="action", runbook="t", action="apply", step_id="s1", target=None,
                               at="2026-12-05T04:00:01+00:00", data={"i": 2})
        entries = ledger.entries("inc-planted")
        check = ledger.verify("inc-planted")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a chunk, a line, and the SDK's copies of one ranged response (Azurite: 13.7 MB whatever the size, local 5.2 MB)
    assert peak < 16 * 1024 * 1024, f"{peak} bytes held for a 24 MiB ledger"
    assert (first["seq"], second["seq"], second["prev"]) == (1, 2, first["hash"])
    assert [e["seq"] for e in entries] == [1, 2]
    assert check.entries == 2 and not check.broken and check.unreadable == [1, 2] and check.skipped == 2, check
    assert check.problems[0].startswith(f"line 1: over {MAX_LINE_BYTES} bytes, not read"), check.problems

"""trust16 item 5: the audit views find the latest sealed audit by name, skipping junk unread, and say so.

``GET /api/audits/latest`` (and the console, ``audit show``) scanned up to 500 documents newest first, each read up to
16 MiB: 500 documents a records-store writer planted, named newer, hid the latest audit (404 "no audit has been kept
yet") after up to 8 GiB of reads. Now each audit files a zero-byte marker whose *name* carries its seal
(``audits/filed/<id>.<seal>``): the view lists names, reads only marked documents (at most 4, 64 MiB in all), and says
how many documents named newer it skipped.
"""

from __future__ import annotations

import json

import pytest

from tests.audit.test_audit_http import api, call  # noqa: F401 (fixture)


class Counting:
    """The records store, with every read it serves counted: (name, limit asked, bytes returned)."""

    def __init__(self, inner) -> None:
        self.inner, self.reads = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def read(self, name, limit=None):
        data = None
        try:
            data = self.inner.read(name, limit=limit)
        finally:  # (a TooLarge too: the blob store fetched up to limit + 1 bytes for it)
            self.reads.append((name, limit, len(data or b"")))
        return data


@pytest.fixture
def counted(monkeypatch):
    from firestop.audit import store

    seen: list[Counting] = []
    real = store.records_store

    def wrapped(settings):
        counting = Counting(real(settings))
        seen.append(counting)
        return counting

    monkeypatch.setattr(store, "records_store", wrapped)
    return seen


def _plant(env, n: int, size: int) -> None:
    from firestop.audit.store import records_store

    records = records_store(env.settings)
    for k in range(n):
        assert records.create(f"audits/audit-2999123{k // 100}T2359{k % 100:02d}Z-{k:04x}.json",
                              b"{" + b" " * (size - 2) + b"}", "application/json")


def test_500_planted_documents_do_not_hide_the_latest_audit(api, counted):  # noqa: F811
    env = api[0]
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    assert status == 200
    filed = json.loads(body)["audit_id"]
    _plant(env, 500, 4096)
    counted.clear()
    status, body, headers = call(api, "latest_audit_http", "GET", "audits/latest")
    # before: 404 "no audit has been kept yet" after reading all 500 planted documents
    assert status == 200, body
    shown = json.loads(body)
    assert shown["audit_id"] == filed and shown["skipped_documents"] == 500
    assert headers["X-Firestop-Skipped-Documents"] == "500"
    reads = [r for c in counted for r in c.reads]
    assert [name for name, _, _ in reads] == [f"audits/{filed}.json"], reads  # no planted document read
    status, page, _ = call(api, "console_home", "GET", "console")
    assert status == 200 and filed in page and "500 documents in the records store" in page


def test_without_markers_the_view_reads_within_its_budget(api, counted, monkeypatch):  # noqa: F811
    """Audits filed before markers (none marked): the newest names are read, within VIEW_READ_BUDGET bytes in all."""
    from firestop.audit import store

    monkeypatch.setattr(store, "AUDIT_READ_LIMIT", 10_000)
    monkeypatch.setattr(store, "VIEW_READ_BUDGET", 40_000)
    env = api[0]
    _plant(env, 50, 12_000)  # each over the read limit
    counted.clear()
    status, body, _ = call(api, "latest_audit_http", "GET", "audits/latest")
    assert status == 404 and "50 document(s)" in json.loads(body)["reason"], body
    reads = [r for c in counted for r in c.reads]
    assert 0 < len(reads) <= 4 and sum(limit for _, limit, _ in reads) <= 40_000, reads


def test_a_marker_without_this_apps_seal_is_not_believed(api):  # noqa: F811
    from firestop.audit.store import FILED_PREFIX, filed_ids, records_store

    env = api[0]
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    filed = json.loads(body)["audit_id"]
    records = records_store(env.settings)
    records.create(f"{FILED_PREFIX}audit-29991231T235959Z-abcd.v1.00000000.forged", b"")
    records.create(f"{FILED_PREFIX}{filed}-2.v1.00000000.forged", b"")
    assert filed_ids(records) == [filed]

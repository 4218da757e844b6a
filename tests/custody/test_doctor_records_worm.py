"""Ledger9: ``doctor``'s ``storage WORM`` check asks for the records container's policy too (the template requests it).

A records container without an immutability policy lets a blob writer delete the newest revision (undo then refuses,
tests/custody/test_deleted_records.py, but the record is gone): doctor names it on Azure. The container properties
come from :func:`firestop.infra.doctor._containers` (Get Container Properties); here its answer is given.
"""

from __future__ import annotations

from types import SimpleNamespace

URL = "https://firestopstore.blob.core.windows.net/"


def _check(monkeypatch, tmp_path, protected: set[str]):
    from firestop.infra import doctor

    def containers(url, names, credential):
        return {name: SimpleNamespace(has_immutability_policy=name in protected,
                                      immutable_storage_with_versioning_enabled=False) for name in names.values()}, None

    monkeypatch.setattr(doctor, "_containers", containers)
    return {c["check"]: c for c in doctor.check_storage({"FIRESTOP_STORAGE_BLOB_URL": URL}, True, tmp_path)}["storage WORM"]


def test_a_records_container_without_worm_is_a_problem(monkeypatch, tmp_path):
    from firestop.infra import doctor

    worm = _check(monkeypatch, tmp_path, {"firestop-evidence", "firestop-ledger"})
    assert worm["status"] == doctor.PROBLEM and "firestop-records" in worm["detail"], worm
    worm = _check(monkeypatch, tmp_path, {"firestop-records", "firestop-evidence", "firestop-ledger"})
    assert worm["status"] == doctor.OK and "firestop-records" in worm["detail"], worm

"""bounds7: the local records store fails closed on what it cannot read.

``LocalStore.names`` listed with ``os.walk``'s default (``onerror=None``), which leaves a folder it cannot read out
of the listing without a word, and ``read_filed`` answered None for a record that exists but cannot be read: the
undo's later-incident check (:func:`firestop.lifecycle.undo.later_reliance`) then read "no later incident relies on
it" and let the undo through. Now both raise ``StoreError``; the check refuses (``UndoUnchecked``: 409 relied_on /
exit 3), and views answer an error (503, exit 1 with one line) instead of an older word.

Run as root (chmod 000 does not stop root), an unreadable folder is simulated by ``os.scandir`` raising
``PermissionError`` for it — what the kernel answers a non-root reader — and an unreadable record by
``Path.read_bytes`` raising it; the chmod test runs when not root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from firestop.storage.base import StoreError
from firestop.storage.local import LocalStore
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures

EARLIER = "inc-aaaaaaaaaaaaaaaa"
LATER = "inc-bbbbbbbbbbbbbbbb"
MINE = [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}]
RECEIVED = {"received_at": "2026-11-29T03:00:00Z"}


def _later(folder: Path) -> Path:
    """A later incident's filed record relying on the earlier lock (its lock-network found it in place)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{LATER}.json"
    path.write_text(json.dumps({"incident_id": LATER, "received_at": "2026-11-29T04:00:00Z",
                                "actions": [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT,
                                             "ok": True}]}))
    return path


def _deny_scandir(monkeypatch, denied: Path) -> None:
    real = os.scandir

    def scandir(path="."):
        if Path(os.fsdecode(path)) == denied:
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def _deny_read(monkeypatch, denied: Path) -> None:
    real, real_open = Path.read_bytes, Path.open

    def read_bytes(self):
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    def open_(self, *args, **kwargs):  # LocalStore.read opens the file (bounds14: fstat, then a bounded read)
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "open", open_)


def test_names_raises_on_an_unreadable_folder(tmp_path, monkeypatch):
    store = LocalStore(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    assert store.names() == ["b.json", "sub/a.json"]
    _deny_scandir(monkeypatch, tmp_path / "sub")
    with pytest.raises(StoreError) as caught:
        store.names()
    assert "cannot list sub" in str(caught.value) and "Permission denied" in str(caught.value)


def test_names_of_an_absent_folder_is_empty(tmp_path):
    """Control: nothing filed yet (no folder) lists nothing; only a folder that cannot be read raises."""
    assert LocalStore(tmp_path / "records").names() == []
    assert LocalStore(tmp_path).names("absent/x") == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads a chmod 000 folder")
def test_names_raises_on_a_chmod_000_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / "sub").chmod(0)
    try:
        with pytest.raises(StoreError):
            LocalStore(tmp_path).names()
    finally:
        (tmp_path / "sub").chmod(0o755)


def test_read_filed_raises_on_an_unreadable_or_broken_record(tmp_path, monkeypatch):
    from firestop.records.store import filed_record, read_filed

    path = _later(tmp_path)
    assert read_filed(tmp_path, LATER, path.name)["incident_id"] == LATER
    assert read_filed(tmp_path, LATER, "inc-cccccccccccccccc.json") is None  # none by that name
    assert read_filed(tmp_path, EARLIER, path.name) is None  # another incident's
    with monkeypatch.context() as patched:
        _deny_read(patched, path)
        with pytest.raises(StoreError, match="cannot read"):
            read_filed(tmp_path, LATER, path.name)
        with pytest.raises(StoreError):
            filed_record(tmp_path, LATER)
    path.write_text('{"incident_id": "inc-bbbb')  # cut short
    with pytest.raises(StoreError, match="not JSON"):
        read_filed(tmp_path, LATER, path.name)


def test_undo_refused_when_the_records_folder_cannot_be_listed(tmp_path, monkeypatch):
    from firestop.lifecycle.undo import UndoReliedOn, UndoUnchecked, later_reliance

    _later(tmp_path / "records")
    later_reliance(tmp_path / "other", EARLIER, RECEIVED, MINE)  # control: an empty store lets it through
    _deny_scandir(monkeypatch, tmp_path / "records")
    with pytest.raises(UndoUnchecked) as caught:
        later_reliance(tmp_path / "records", EARLIER, RECEIVED, MINE)
    assert isinstance(caught.value, UndoReliedOn) and "Permission denied" in str(caught.value)


def test_undo_refused_when_a_later_record_cannot_be_read(tmp_path, monkeypatch):
    from firestop.lifecycle.undo import UndoReliedOn, UndoUnchecked, later_reliance

    path = _later(tmp_path)
    with pytest.raises(UndoReliedOn) as relied:  # read: the later incident relies on it
        later_reliance(tmp_path, EARLIER, RECEIVED, MINE)
    assert not isinstance(relied.value, UndoUnchecked) and LATER in str(relied.value)
    with monkeypatch.context() as patched:
        _deny_read(patched, path)
        with pytest.raises(UndoUnchecked) as caught:
            later_reliance(tmp_path, EARLIER, RECEIVED, MINE)
        assert "Permission denied" in str(caught.value) and "nothing was undone" in str(caught.value)
    path.write_text("\xff not json")
    with pytest.raises(UndoUnchecked):
        later_reliance(tmp_path, EARLIER, RECEIVED, MINE, candidates=[LATER])


def test_api_and_console_answer_503_when_the_filed_record_cannot_be_read(api, firestop_home, monkeypatch):
    record = Path(firestop_home) / "records" / f"{INCIDENT}.json"
    assert record.exists()
    status, view = api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert status == 200 and view["incident_id"] == INCIDENT  # control
    before = api.env.tenant.resource(ACCOUNT)
    _deny_read(monkeypatch, record)
    for function, method, url, route, body in (
            ("get_incident_http", "GET", f"incidents/{INCIDENT}", {"incident_id": INCIDENT}, None),
            ("undo_http", "POST", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, {}),
            ("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, None),
            ("console_incident", "GET", f"console/incidents/{INCIDENT}", {"incident_id": INCIDENT}, None)):
        # (the lists for display name it in a row instead: tests/lifecycle/test_list_unreadable.py)
        status, answer = api.call(function, method, url, who="oid-bob" if "undo" in function else "oid-alice",
                                  route=route, body=body)
        assert status == 503 and answer["error"] == "records", (function, status, answer)
        assert "Permission denied" not in json.dumps(answer)  # the store's message is logged, not answered
    assert api.env.tenant.resource(ACCOUNT) == before  # nothing undone


def test_cli_show_exits_1_with_one_line(api, firestop_home, monkeypatch, capsys):
    from firestop.cli.main import main

    record = Path(firestop_home) / "records" / f"{INCIDENT}.json"
    record.write_text("{ broken")
    with pytest.raises(SystemExit) as done:
        main(["incident", "show", INCIDENT])
    out = capsys.readouterr()
    assert done.value.code == 1, out
    assert "not JSON" in out.err + out.out and "Traceback" not in out.err + out.out

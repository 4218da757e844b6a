"""playbook_routes: the webhook's view of the playbook folder stays current without scanning it per alert."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from firestop.functions import intake_call
from firestop.settings import REPO_ROOT

PLAYBOOKS = REPO_ROOT / "playbooks"


def _folder(tmp_path: Path, monkeypatch, *names: str) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for name in names:
        shutil.copy(PLAYBOOKS / name, folder / name)
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))
    return folder


def test_added_file_is_seen_at_the_next_call(tmp_path, monkeypatch):
    folder = _folder(tmp_path, monkeypatch, "leaked-api-key.yaml")
    assert intake_call.playbook_routes(now=100.0) == ("playbook:leaked-api-key",)
    shutil.copy(PLAYBOOKS / "public-network-exposure.yaml", folder / "public-network-exposure.yaml")
    assert "playbook:public-network-exposure" in intake_call.playbook_routes(now=100.1)


def test_in_place_edit_is_seen_within_the_recheck_interval(tmp_path, monkeypatch):
    folder = _folder(tmp_path, monkeypatch, "leaked-api-key.yaml")
    target = folder / "leaked-api-key.yaml"
    assert intake_call.playbook_routes(now=200.0) == ("playbook:leaked-api-key",)
    folder_stat = os.stat(folder)
    text = target.read_text().replace("name: leaked-api-key", "name: renamed-by-edit", 1)
    assert "renamed-by-edit" in text
    target.write_text(text)  # in place: the folder's own mtime does not change
    os.utime(folder, ns=(folder_stat.st_atime_ns, folder_stat.st_mtime_ns))
    os.utime(target, ns=(folder_stat.st_mtime_ns + 10**9, folder_stat.st_mtime_ns + 10**9))
    assert intake_call.playbook_routes(now=200.5) == ("playbook:leaked-api-key",)  # not checked yet: cached
    later = 200.0 + intake_call.ROUTES_RECHECK_SECONDS + 0.01
    assert intake_call.playbook_routes(now=later) == ("playbook:renamed-by-edit",)


def test_missing_folder_has_no_routes(tmp_path, monkeypatch):
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(tmp_path / "absent"))
    assert intake_call.playbook_routes(now=1.0) == ()

"""leftovers10: local state under FIRESTOP_HOME was created 0644 (folders 0755) — records, evidence, ledgers, the
durable history and the sandbox state readable by any local user — while the key files were 0600. Now files 0600 and
folders 0700; a home made before is a ``doctor`` problem naming ``chmod -R go-rwx``."""

from __future__ import annotations

import os
import stat

import pytest

from tests.trust.conftest import EXAMPLE


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the common default, under which files were 0644
    yield
    os.umask(old)


def test_a_handled_incident_leaves_nothing_readable_by_others(firestop_home, umask_022):
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert
    from firestop.cli.wiring import sandbox_environment
    from firestop.settings import Settings, configure_settings

    env = sandbox_environment(Settings.from_env(home=firestop_home))
    try:
        incident, _ = handle_alert(parse_alert(EXAMPLE.read_bytes()), env=env)
    finally:
        env.close()
        configure_settings(None)
    assert incident["status"] == "contained"
    opened = []
    for dirpath, dirnames, filenames in os.walk(firestop_home):
        for name in (*dirnames, *filenames):
            mode = stat.S_IMODE(os.lstat(os.path.join(dirpath, name)).st_mode)
            if mode & 0o077:
                opened.append((os.path.relpath(os.path.join(dirpath, name), firestop_home), oct(mode)))
    assert stat.S_IMODE(firestop_home.stat().st_mode) == 0o700
    assert not opened, opened
    for kind in ("records", "ledger", "evidence"):
        assert any((firestop_home / kind).rglob("*")), kind
    assert (firestop_home / "durable.sqlite").exists()


def test_doctor_names_a_home_made_before_with_the_fix(firestop_home):
    from firestop.infra import doctor

    (firestop_home / "records").mkdir(parents=True)
    os.chmod(firestop_home, 0o700)
    record = firestop_home / "records" / "inc-1.json"
    record.write_text("{}")
    os.chmod(record, 0o644)
    os.chmod(firestop_home / "records", 0o755)
    check = doctor.check_storage_local(firestop_home)
    assert check["status"] == doctor.PROBLEM and "2 file(s) or folder(s)" in check["detail"], check
    assert f"chmod -R go-rwx {firestop_home}" in check["detail"]
    os.system(f"chmod -R go-rwx {firestop_home}")
    assert doctor.check_storage_local(firestop_home)["status"] == doctor.OK


def test_a_tabletop_run_leaves_nothing_readable_by_others(firestop_home, umask_022):
    """newuser12: ``tabletop run`` wrote scorecard.json, scorecard.md and requests.json with ``Path.write_text`` —
    0644 under umask 022 — so ``doctor`` right after the README's tabletop walk-through reported the home as a
    problem (exit 3) naming those three files. Now they are 0600 like every other file of the home."""
    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.infra import doctor

    result = CliRunner().invoke(app, ["tabletop", "run", "leaked-api-key", "--run-id", "private"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    run_dir = firestop_home / "tabletop" / "private"
    for name in ("scorecard.json", "scorecard.md", "requests.json"):
        assert stat.S_IMODE((run_dir / name).stat().st_mode) == 0o600, name
    check = doctor.check_storage_local(firestop_home)
    assert check["status"] == doctor.OK, check


def test_write_private_text_keeps_an_existing_files_mode(tmp_path, umask_022):
    from firestop.private import write_private_text

    fresh = tmp_path / "new.txt"
    write_private_text(fresh, "één")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and fresh.read_text("utf-8") == "één"
    shared = tmp_path / "shared.txt"
    shared.write_text("old, longer text")
    os.chmod(shared, 0o640)
    write_private_text(shared, "new")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640 and shared.read_text("utf-8") == "new"

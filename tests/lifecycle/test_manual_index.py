"""An incident's undo reads only the manual runs on its own targets, through their per-target index (lifecycle8).

Before, an undo read every manual-run ledger (one a UTC day with runs) written since the incident, at most 100 of them,
and refused past that: ~100 days of anyone's ``runbook run`` after an incident, on any resource, refused its undo for
good. Now each successful manual apply is also a line in its target's index (``index/manual-runs/<hash>.jsonl`` in the
ledger store), written before its ledger entry, and an undo reads the index of its targets and the ledgers it names.
The writes go through :func:`runbooks.dispatch._ledger_action`, the one place a run's ledger entry is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.trust.conftest import ACCOUNT

INC = "inc-aaaaaaaaaaaaaaaa"
RECEIVED = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
ACTIONS = [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}]


@pytest.fixture
def settings(tmp_path):
    from firestop.settings import Settings

    return Settings.from_env(home=tmp_path)


def _run(settings, when: datetime, target: str, *, changed: bool = True, step: str | None = None) -> str:
    """A manual ``network.lock`` apply on ``target`` finished at ``when``, written as dispatch writes it."""
    from runbooks.dispatch import RunbookRequest, _ledger_action, manual_ids

    incident, step_id = manual_ids(when, "cli")
    step_id = step or step_id
    req = RunbookRequest(runbook="network.lock", action="apply", target=target, params={"mode": "deny_by_default"},
                         incident_id=incident, step_id=step_id, requested_by="oid-bob")
    answer = {"ok": True, "runbook": "network.lock", "action": "apply", "target": target, "step_id": step_id,
              "result": {"changed": changed, "summary": "locked", "before": {}, "after": {}},
              "error": None, "started_at": when.isoformat(), "finished_at": when.isoformat(), "redacted": False}
    _ledger_action(answer, req, settings)
    return f"{incident}/{step_id}", answer


def _undo(settings):
    from firestop.lifecycle.undo import later_reliance

    later_reliance(settings, INC, {"received_at": RECEIVED.isoformat()}, ACTIONS)


def test_150_days_of_manual_runs_on_other_resources_do_not_refuse_the_undo(settings):
    """Before: UndoUnchecked ("manual runs were recorded on 151 days since, more than the 100 an undo reads")."""
    from firestop.lifecycle.undo import UndoReliedOn

    for day in range(151):
        _run(settings, RECEIVED + timedelta(days=day, hours=1), f"{ACCOUNT}-other-{day % 7}")
    _undo(settings)  # no refusal: none of them is on the incident's target
    run_id, _ = _run(settings, RECEIVED + timedelta(days=151), ACCOUNT.upper(), changed=False)  # IDs: case-insensitive
    with pytest.raises(UndoReliedOn) as refused:
        _undo(settings)
    assert run_id in str(refused.value) and f"runbook undo {run_id}" in refused.value.fix


def test_a_run_on_the_target_before_the_incident_does_not_count(settings):
    _run(settings, RECEIVED - timedelta(hours=2), ACCOUNT, changed=False)
    _undo(settings)


def test_the_index_line_is_written_before_the_ledger_entry(settings, monkeypatch):
    """A crash (here: a failing append) after the index line leaves a line pointing at no entry: skipped. An index
    that cannot be written means no ledger entry either, so no run the ledger holds is ever missing from its index."""
    from runbooks import manual_runs
    from runbooks.ledger import Ledger

    def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(Ledger, "append", crash)
    run_id, answer = _run(settings, RECEIVED + timedelta(days=1), ACCOUNT, changed=False)
    assert "ledger not written" in answer["result"]["artifacts"]["ledger"]["error"]
    assert run_id.encode() in (Ledger.of(settings).store.read(manual_runs.index_name(ACCOUNT)) or b"")
    monkeypatch.undo()
    _undo(settings)  # the line names no entry: nothing relies on it

    monkeypatch.setattr(manual_runs, "index_manual_run", crash)
    run_id, answer = _run(settings, RECEIVED + timedelta(days=2), ACCOUNT, changed=False)
    assert "index of manual runs" in answer["result"]["artifacts"]["ledger"]["error"]
    assert not any(e["step_id"] == run_id.split("/")[1] for e in Ledger.of(settings).entries(run_id.split("/")[0]))


def test_an_unreadable_index_refuses_the_undo(settings, monkeypatch):
    """Fail closed: an index that cannot be read may name the run relying on the state."""
    from firestop.lifecycle.undo import UndoUnchecked
    from firestop.storage import StoreError
    from firestop.storage.local import LocalStore
    from runbooks import manual_runs

    _run(settings, RECEIVED + timedelta(days=1), f"{ACCOUNT}-other")
    real = LocalStore.read_range

    def read_range(self, name, offset, length):  # (indexes are streamed by ranged reads since ledger15)
        if name == manual_runs.index_name(ACCOUNT):
            raise StoreError("forbidden", "no data role")
        return real(self, name, offset, length)

    monkeypatch.setattr(LocalStore, "read_range", read_range)
    with pytest.raises(UndoUnchecked, match="no data role"):
        _undo(settings)


def test_more_runs_on_the_target_than_are_read_refuse_the_undo(settings, monkeypatch):
    from firestop.lifecycle.undo import UndoUnchecked
    from runbooks import manual_runs

    monkeypatch.setattr(manual_runs, "MAX_TARGET_RUNS", 2)
    for n in range(3):
        _run(settings, RECEIVED + timedelta(days=n + 1), ACCOUNT, changed=True)
    with pytest.raises(UndoUnchecked, match="3 manual runs"):
        _undo(settings)


def test_ledgers_written_before_the_index_are_still_read(settings):
    """Migration: a ledger written before the index existed (no line) up to the epoch's day is read whole."""
    from firestop.lifecycle.undo import UndoReliedOn
    from runbooks.ledger import Ledger

    legacy_day = RECEIVED + timedelta(days=3)
    Ledger.of(settings).append(f"manual-{legacy_day.date()}", kind="action", runbook="network.lock", action="apply",
                               step_id="cli-run-040000-abcd", target=ACCOUNT, at=legacy_day.isoformat(),
                               data={"ok": True, "changed": False})
    _run(settings, RECEIVED + timedelta(days=40), f"{ACCOUNT}-other")  # the first line: the epoch is that day
    with pytest.raises(UndoReliedOn, match="cli-run-040000-abcd"):
        _undo(settings)


def test_an_index_and_a_manual_ledger_planted_past_16_mib_neither_stop_a_run_nor_hide_it(settings):
    """ledger15 (A13-04's ``manual-<day>`` and index sibling; fails before: bounds14 refused both unread past 16 MiB, so
    the run's index line and ledger entry were not written — ``{"error"}`` — and every manual run on that target or
    that day failed to record): a blob writer's 17 MiB line at the target's index name (predictable from the target)
    and at the day's ledger name; the run is recorded and the undo still finds it relying on the state."""
    from firestop.lifecycle.undo import UndoReliedOn
    from firestop.storage import stores_for
    from runbooks import manual_runs
    from runbooks.dispatch import manual_ids

    when = RECEIVED + timedelta(days=2)
    root = stores_for(settings).ledger.root
    for name in (manual_runs.index_name(ACCOUNT), f"{manual_ids(when, 'cli')[0]}.jsonl"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * (17 * 1024 * 1024) + b"\n")
    _run(settings, RECEIVED + timedelta(days=1), f"{ACCOUNT}-other")  # (the epoch, sealed, before the plant's day)
    run_id, answer = _run(settings, when, ACCOUNT)
    assert "error" not in answer or answer["error"] is None, answer
    with pytest.raises(UndoReliedOn) as refused:
        _undo(settings)
    assert run_id in str(refused.value), refused.value

"""Ledger9: the manual-run index lines carry the app's seal; after seals began, a planted line is not followed.

The per-target index (``index/manual-runs/<hash>.jsonl`` in the ledger store, lifecycle8) tells an undo which
manual-run ledgers to read, at most :data:`runbooks.manual_runs.MAX_TARGET_RUNS` runs. A blob writer could append
lines naming made-up runs: past the bound, every undo on that target was refused. Lines written before seals (no
seal) are still followed — they only say where to look — and the ledger stays the truth.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from runbooks.ledger import canonical
from tests.lifecycle.test_manual_index import RECEIVED, _run, _undo, settings  # noqa: F401 — the fixture
from tests.trust.conftest import ACCOUNT


def _plant_line(settings, run_id: str, at: str, **extra) -> None:  # noqa: F811
    from runbooks.ledger import Ledger
    from runbooks.manual_runs import index_name

    store = Ledger.of(settings).store
    name = index_name(ACCOUNT)
    raw = store.read(name) or b""
    store.append(name, canonical({"run_id": run_id, "runbook": "network.lock", "target": ACCOUNT, "at": at, **extra}) + b"\n",
                 at=len(raw))


def test_planted_index_lines_do_not_fill_the_bound(settings, monkeypatch):  # noqa: F811
    from runbooks import manual_runs

    monkeypatch.setattr(manual_runs, "MAX_TARGET_RUNS", 2)
    _run(settings, RECEIVED + timedelta(days=1), f"{ACCOUNT}-other")  # seals begin: the marker's time
    for n in range(5):
        at = (RECEIVED + timedelta(days=2, minutes=n)).isoformat()
        _plant_line(settings, f"manual-2026-01-03/cli-run-0{n}0000-beef", at, seal="v1.deadbeef.forged")
    _undo(settings)  # before: UndoUnchecked "5 manual runs were recorded on its targets since"


def test_a_sealed_run_still_relies_and_lines_from_before_seals_are_followed(settings):  # noqa: F811
    from firestop.lifecycle.undo import UndoReliedOn
    from firestop.trust.seal import load_seal_key
    from runbooks.ledger import Ledger
    from runbooks.manual_runs import EPOCH_NAME, EPOCH_SEAL_PURPOSE

    ledger = Ledger.of(settings)
    first = (RECEIVED - timedelta(days=1)).date().isoformat()  # the index began before the incident (sealed epoch)
    ledger.store.create(EPOCH_NAME, canonical({"day": first, "seal": load_seal_key(settings.home).sign(
        EPOCH_SEAL_PURPOSE, EPOCH_NAME, first)}), "application/json")
    legacy = RECEIVED + timedelta(days=1)  # a line and an entry written by the version before line seals
    ledger.append(f"manual-{legacy.date()}", kind="action", runbook="network.lock", action="apply",
                  step_id="cli-run-040000-abcd", target=ACCOUNT, at=legacy.isoformat(), data={"ok": True, "changed": False})
    _plant_line(settings, f"manual-{legacy.date()}/cli-run-040000-abcd", legacy.isoformat())
    _run(settings, RECEIVED + timedelta(days=2), f"{ACCOUNT}-other")  # line seals begin (the marker's time)
    with pytest.raises(UndoReliedOn, match="cli-run-040000-abcd"):  # its unsealed line predates the marker
        _undo(settings)
    Ledger.of(settings).append(f"manual-{legacy.date()}", kind="action", runbook="network.lock", action="undo",
                               step_id="cli-run-040000-abcd", target=ACCOUNT, at=legacy.isoformat(),
                               data={"ok": True, "changed": False, "released": True})  # released, as Firestop does
    _undo(settings)
    run_id, _ = _run(settings, RECEIVED + timedelta(days=3), ACCOUNT, changed=False)  # a sealed line and entry
    with pytest.raises(UndoReliedOn, match=run_id):
        _undo(settings)

"""RT11-05 (medium): a planted epoch marker hid every manual run written before the index from an undo.

The manual-run index (lifecycle8) reads ledgers of days up to ``index/manual-runs/epoch.json``'s day whole and later
days only through index lines. The epoch is created once, by the first index line, in the ledger store — where a
blob writer with no Firestop role (RT10-03's attacker) may create it first: ``{"day": "2000-01-01"}``. Every manual
run written before the index (no line) is then skipped, and an earlier incident's undo reopens what such a run
(``runbook run network.lock`` that found the lock in place) still relies on. The ledger store's immutability
policy keeps the planted epoch for good.

Fixed: the epoch carries the app's seal over its day; one without a valid seal is not believed (every ledger since
is read whole, as before the index: bounded, fail closed past the bound).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.lifecycle.test_manual_index import RECEIVED, _run, _undo, settings  # noqa: F401 — the fixture
from tests.trust.conftest import ACCOUNT


def test_a_planted_epoch_does_not_hide_runs_written_before_the_index(settings):  # noqa: F811
    from firestop.lifecycle.undo import UndoReliedOn
    from runbooks.ledger import Ledger
    from runbooks.manual_runs import EPOCH_NAME

    legacy_day = RECEIVED + timedelta(days=3)  # a run written before the index existed: no line
    ledger = Ledger.of(settings)
    ledger.append(f"manual-{legacy_day.date()}", kind="action", runbook="network.lock", action="apply",
                  step_id="cli-run-040000-abcd", target=ACCOUNT, at=legacy_day.isoformat(), data={"ok": True, "changed": False})
    ledger.store.create(EPOCH_NAME, b'{"day":"2000-01-01"}', "application/json")  # the attacker's, first
    _run(settings, RECEIVED + timedelta(days=40), f"{ACCOUNT}-other")  # the first line Firestop writes
    with pytest.raises(UndoReliedOn, match="cli-run-040000-abcd"):
        _undo(settings)

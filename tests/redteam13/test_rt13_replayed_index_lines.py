"""RT13-05 (low): copies of one sealed index line filled the bound, and every undo on the target was refused.

Ledger9 seals the manual-run index lines so that "a blob writer's planted lines neither fill
:data:`runbooks.manual_runs.MAX_TARGET_RUNS` nor name ledgers to read". A line's seal binds it to its index object
and its content, not to its place: a principal with Storage Blob Data write appends (protected appends are allowed
under WORM) copies of a line Firestop sealed on that very index — every copy checks out, each counted as one more
run, and past the bound the undo of every incident on that target is refused ("N manual runs were recorded on its
targets since"), for as long as the index blob is kept.

Fixed: a run is counted once however many lines name it (the index says where to look; the ledger is the truth).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.lifecycle.test_manual_index import RECEIVED, _run, _undo, settings  # noqa: F401 — the fixture
from tests.trust.conftest import ACCOUNT


def test_copies_of_a_sealed_line_count_as_one_run(settings, monkeypatch):  # noqa: F811
    from firestop.lifecycle.undo import UndoReliedOn
    from runbooks import manual_runs
    from runbooks.ledger import Ledger

    monkeypatch.setattr(manual_runs, "MAX_TARGET_RUNS", 2)
    run_id, _ = _run(settings, RECEIVED + timedelta(days=1), ACCOUNT, changed=False)  # a sealed line and entry
    store = Ledger.of(settings).store
    name = manual_runs.index_name(ACCOUNT)
    line = next(t for t in store.read(name).decode().splitlines() if run_id in t)
    for _ in range(5):
        raw = store.read(name)
        store.append(name, line.encode() + b"\n", at=len(raw))
    with pytest.raises(UndoReliedOn, match=run_id):  # before: UndoUnchecked "6 manual runs … more than the 2"
        _undo(settings)

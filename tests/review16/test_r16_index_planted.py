"""R16-07: records16 moved a ledger blocked by a planted block blob (note13: Append Block answers
``InvalidBlobType``; WORM keeps the blob) to a key-derived name — the incident's and the ``manual-<day>`` ledgers —
but not the per-target manual-run index (``index/manual-runs/<sha256 of the target>.jsonl``, predictable from the
account's ARM id), whose line goes *before* the ledger entry (runbooks.dispatch: no entry without its index line).
A Storage Blob Data writer's block blob there made every manual run on that account applied and **not ledgered**
("Ledger: ledger not written", exit 0): ``runbook undo`` could not find the run, and an earlier incident's undo did
not see that the run relies on the state it restores (``later_reliance``). Now the index moves like a ledger:
``<index>.m-<16 hex>.jsonl`` (from the seal key), read after the plain object."""

from __future__ import annotations

import json

import pytest

from tests.runbooks.test_planted_names import ACCOUNT, cli, store  # noqa: F401 (fixture: a folder, Azurite's blobs)


def test_a_block_blob_at_a_targets_index_name_neither_unledgers_a_manual_run_nor_hides_it(store):  # noqa: F811
    from firestop.lifecycle.undo import UndoReliedOn, later_reliance
    from firestop.settings import get_settings
    from runbooks.manual_runs import index_name

    store.plant_unappendable("ledger", index_name(ACCOUNT))
    ran = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes", "--json")
    body = json.loads(ran.stdout)
    assert ran.exit_code == 0 and body["apply"]["ok"], ran.output
    ledgered = body["apply"]["result"]["artifacts"]["ledger"]
    assert "error" not in ledgered, ledgered  # before: "ledger not written: the index … could not be written"
    from runbooks.ledger import Ledger

    moved = Ledger.of(get_settings()).store.names(index_name(ACCOUNT)[: -len(".jsonl")] + ".m-")
    assert len(moved) == 1 and moved[0].endswith(".jsonl"), moved

    with pytest.raises(UndoReliedOn, match=body["step_id"]):  # an earlier incident's undo sees the run
        later_reliance(get_settings(), "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-01-01T03:00:00+00:00"},
                       [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}])
    undone = cli("runbook", "undo", body["run_id"], "--yes", "--json")
    assert undone.exit_code == 0, undone.output  # before: the run was unknown to its undo

"""RT7-02: an undo's later-incident reliance check passed when the records store could not be listed.

Attack/failure: :func:`firestop.lifecycle.undo.later_reliance` (RT4-06) lists the filed records to find a later
incident relying on the state an undo restores; a listing error (``StoreError``: a Blob Storage 503 or throttling,
a 403 after a role change) made it ``return`` — the same answer as "no later incident relies on it" — and the undo
went ahead, reopening what a later incident still reports as contained. Whoever can make the records container
answer slowly or not at all (throttling it with reads, a storage outage) turns the check off.

Fix: a listing error refuses the undo (:class:`~firestop.lifecycle.undo.UndoUnchecked`, an ``UndoReliedOn``: the
API's 409 ``code: relied_on``, the CLI's exit 3), naming the store's error (no secret: ``StoreError`` messages name
the container and the error code) and the fix; nothing is undone.
"""

from __future__ import annotations

import pytest

from firestop.storage.base import StoreError

TARGET = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"


class _Unlistable:
    """A records store (firestop.storage.base.ObjectStore) whose listing fails as the Blob store's does on a 503."""

    where = "blob container firestop-records"

    def names(self, prefix=""):
        raise StoreError("transient", "blob container firestop-records: listing / failed (ServerBusy); the storage "
                                      "account did not answer, try again")

    def read(self, name):  # pragma: no cover - never reached: the listing fails first
        raise AssertionError("read without a listing")


def test_rt7_02_an_unlisted_records_store_refuses_the_undo():
    from firestop.lifecycle.undo import UndoReliedOn, UndoUnchecked, later_reliance

    record = {"received_at": "2026-12-01T10:00:00+00:00"}
    actions = [{"step_id": "lock-network", "runbook": "network.lock", "target": TARGET}]
    with pytest.raises(UndoUnchecked) as caught:
        later_reliance(_Unlistable(), "inc-a", record, actions)
    assert isinstance(caught.value, UndoReliedOn)  # every entry point answers it as relied on (409 / exit 3)
    assert "lock-network" in str(caught.value) and "ServerBusy" in str(caught.value) and "nothing was undone" in str(caught.value)
    assert "retry" in caught.value.fix


def test_rt7_02_a_manual_run_undo_is_refused_too():
    from types import SimpleNamespace

    from firestop.lifecycle.undo import UndoUnchecked, manual_reliance

    run = SimpleNamespace(incident_id="manual-20261201", step_id="s1", runbook="network.lock", target=TARGET,
                          applied_at="2026-12-01T10:00:00+00:00")
    with pytest.raises(UndoUnchecked):
        manual_reliance(_Unlistable(), run)


def test_rt7_02_a_listed_empty_store_still_lets_the_undo_through(tmp_path):
    """Control: no filed record is no reliance (the check refuses only what it could not read)."""
    from firestop.lifecycle.undo import later_reliance

    later_reliance(tmp_path, "inc-a", {"received_at": "2026-12-01T10:00:00+00:00"},
                   [{"step_id": "lock-network", "runbook": "network.lock", "target": TARGET}])

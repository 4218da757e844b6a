"""What holds after an undo (firestop.lifecycle.view): one function that every surface reads."""

from __future__ import annotations

import pytest

from firestop.lifecycle.view import PARTLY_UNDONE, UNDONE, containment_state, status_label, with_containment


def _action(step, *, changed=True, undone=False, ok=True):
    return {"step_id": step, "ok": ok, "changed": changed, "undone": undone}


@pytest.mark.parametrize("actions, state", [
    ([], None),
    ([_action("snapshot-logs", changed=False)], None),
    ([_action("lock-network"), _action("rotate-keys")], None),
    ([_action("lock-network", undone=True), _action("rotate-keys")], PARTLY_UNDONE),
    # an evidence snapshot changed nothing: it never keeps an undo "partly" done
    ([_action("lock-network", undone=True), _action("snapshot-logs", changed=False)], UNDONE),
    # a failed action made no change to undo
    ([_action("lock-network", undone=True), _action("disable-local-auth", ok=False)], UNDONE),
    ([_action("lock-network", undone=True), _action("disable-local-auth", undone=True)], UNDONE),
])
def test_containment_state_counts_the_changes_undone(actions, state):
    record = {"status": "contained", "actions": actions}
    assert containment_state(record) == state
    assert with_containment(record)["containment"] == state


def test_status_label_says_what_holds_now_and_what_it_ended_as():
    partly = {"status": "contained", "actions": [_action("a", undone=True), _action("b")]}
    assert status_label(partly) == "partly undone (was contained)"
    assert status_label({"status": "needs_responder", "actions": [_action("a", undone=True)]}) == "undone (was needs_responder)"
    assert status_label({"status": "contained", "actions": [_action("a")]}) == "contained"
    # a summary row (incident list) or a remote view carries only the field; an unknown word there is not shown
    assert status_label({"status": "contained", "containment": "undone"}) == "undone (was contained)"
    assert status_label({"status": "contained", "containment": "<b>gone</b>"}) == "contained"
    assert containment_state({"status": "contained", "actions": "not a list"}) is None

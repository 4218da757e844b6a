"""RT11-02 (medium): a manual run on the incident's target, written in another form of its resource ID, was hidden
from the undo's reliance check.

The runbooks parse a target by its non-empty ``/`` parts, trimmed (:func:`runbooks.targets.account_ref`): ``…/accounts/
x/`` (a trailing slash, as a copied portal URL path has), `` …/accounts/x`` or ``/subscriptions//…`` act on the same
account. But the manual-run index (:func:`runbooks.manual_runs.index_name`) hashed ``target.lower()`` and the reliance
check compared ``target.lower()``: a responder's ``runbook run network.lock`` with such a target that found the lock in
place (changed nothing) was never seen by an earlier incident's undo, which reopened the account under it.

Fixed: both key a target by :func:`firestop.resource_id.resource_id_key` (trimmed, one leading slash, no trailing one,
lower-case), the comparison ARM makes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.lifecycle.test_manual_index import RECEIVED, _run, _undo, settings  # noqa: F401 — the fixture
from tests.trust.conftest import ACCOUNT


@pytest.mark.parametrize("form", [ACCOUNT + "/", " " + ACCOUNT + " ", ACCOUNT.replace("/resourceGroups/", "//resourceGroups/")])
def test_a_manual_run_on_another_form_of_the_target_still_refuses_the_undo(settings, form):  # noqa: F811
    from firestop.lifecycle.undo import UndoReliedOn
    from runbooks.targets import account_ref

    assert account_ref(form) == account_ref(ACCOUNT)  # the runbook acts on the incident's account
    run_id, _ = _run(settings, RECEIVED + timedelta(days=1), form, changed=False)
    with pytest.raises(UndoReliedOn) as refused:
        _undo(settings)
    assert run_id in str(refused.value)

"""RT11-04 (medium): the undo's seal check and the record it restores from were two different reads.

:func:`firestop.lifecycle.undo.still_newest` read the newest revision (a listing and a read), listed the revisions
again, and checked the seal of the bytes it read a third time, by the name of that second listing — while the undo
restores from the record it was given. A blob writer who planted ``rev2`` (RT10-03) and deletes it (or puts the
genuine bytes back) between those reads — the undo waits for a lease and the responder's confirmation first, and
then polls nothing: the window is a few store round trips — has the check pass on the sealed ``rev1`` while the undo
writes the planted ``before``. Here the delete lands at the second listing, deterministically.

Fixed: one listing, and the seal is checked over the SHA-256 of the record the undo restores from
(:func:`firestop.records.store.record_json`, the bytes ``records.file`` wrote) under that listing's newest revision.
Since records16 (A13-07) the planted ``rev2`` is no revision at all (no seal on the ledger): the undo starts from the
sealed ``rev1`` and restores its genuine ``before``, however the store changes meanwhile.
"""

from __future__ import annotations

import json

from tests.redteam10.test_rt10_forged_record import genuine_before
from tests.redteam11.test_rt11_laundered_revision import ATTACKER_IP, _plant
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures


def test_the_seal_check_is_over_the_record_the_undo_restores(api, firestop_home, monkeypatch):  # noqa: F811
    import firestop.records.store as store

    step = _plant(firestop_home)
    records = firestop_home / "records"
    listed = store.filed_revisions
    lists = []

    def attacker_deletes_rev2_meanwhile(where, incident_id):
        lists.append(incident_id)
        if len(lists) == 3:  # the undo's choice (1), the lease's check reads it (2), then lists again (3)
            for name in (f"{INCIDENT}.rev2.json", f"{INCIDENT}.rev2.md"):
                (records / name).unlink()
        return listed(where, incident_id)

    monkeypatch.setattr(store, "filed_revisions", attacker_deletes_rev2_meanwhile)
    status, body = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT},
                            body={"step": step})
    acls = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert ATTACKER_IP not in json.dumps(acls), (status, body, acls, lists)
    assert status == 200 and acls == genuine_before(firestop_home, step)["networkAcls"], (status, body, acls)

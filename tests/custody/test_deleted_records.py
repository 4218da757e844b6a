"""Ledger9 hole 2: deleting record blobs rolled undo's view back.

Attacker: RT10/RT11's — Storage Blob Data write (and delete) on the records container, no Firestop role. Every record
revision is sealed on the incident's ledger (RT10-03), and undo believes only a sealed newest revision; but a *deleted*
revision leaves an older sealed one newest, and deleted blobs are simply not listed:

* deleting ``<id>.rev2.json`` (the revision an undo filed) made rev1 — sealed, with the step not undone — the
  incident's word again: the step was offered and undone a second time, and the undo's record was filed as a new rev2
  over the history;
* deleting a later incident's record blobs removed it from the reliance check: the earlier incident's Undo reopened
  the account the later incident still counts as locked (200, defaultAction Allow).

Fixed: the ledger (append-only, WORM on Azure) knows which revisions were sealed
(:func:`runbooks.records.sealed_filings`); undo and the reliance check refuse (409) when a sealed revision is missing
from the records store, naming it; ``records.file`` never files a sealed revision number again.
"""

from __future__ import annotations

import json

from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home, later_exposure_incident  # noqa: F401 — fixtures


def _undo(api, incident: str = INCIDENT, step: str = "lock-network"):
    return api.call("undo_http", "POST", f"incidents/{incident}/undo", route={"incident_id": incident}, body={"step": step})


def test_deleting_the_newest_revision_does_not_undo_a_step_again(api, firestop_home):  # noqa: F811
    status, body = _undo(api)
    assert status == 200 and body["undone"][0]["ok"], body
    records = firestop_home / "records"
    rev2 = (records / f"{INCIDENT}.rev2.json").read_bytes()
    for ext in ("json", "md"):
        (records / f"{INCIDENT}.rev2.{ext}").unlink()  # the blob writer's delete
    ledger = (firestop_home / "ledger" / f"{INCIDENT}.jsonl").read_bytes()
    status, body = _undo(api)
    assert status == 409 and "missing revision 2" in body["reason"], (status, body)
    assert not (records / f"{INCIDENT}.rev2.json").exists()  # nothing filed over the history
    assert (firestop_home / "ledger" / f"{INCIDENT}.jsonl").read_bytes() == ledger  # nothing undone or appended
    assert json.loads(rev2)["actions"]  # what was deleted was the undo's own filing


def test_deleting_a_later_incidents_record_does_not_hide_it_from_the_reliance_check(api, firestop_home):  # noqa: F811
    other = later_exposure_incident(api, "ledger9-later-exposure")
    status, body = _undo(api)
    assert status == 409 and other in body["reason"], body  # the later incident relies on the lock
    deleted = list((firestop_home / "records").glob(f"{other}.*"))
    assert deleted
    for path in deleted:
        path.unlink()  # the blob writer's delete
    status, body = _undo(api)
    acls = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny", (status, body, acls)
    assert status == 409 and other in body["reason"] and "missing revision 1" in body["reason"], body

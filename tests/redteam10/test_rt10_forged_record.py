"""RT10-03 (high): a record revision planted in the records store chose what an undo writes to Azure.

Attack: an incident's undo starts from its newest filed record — the highest ``<id>.rev<N>.json`` in the records
store (:func:`firestop.records.store.filed_record`) — and hands each action's ``before`` from it to the runbook's undo
(:func:`firestop.lifecycle.undo.apply_undo`). Nothing checked that this revision is one Firestop filed: the ledger's
``record`` entries (revision, SHA-256) are an unkeyed hash chain an appender can extend, and the records container
has no immutability policy (``infra/azuredeploy.json``: WORM on evidence and ledger only). Whoever may create a blob
in the records container — Storage Blob Data Contributor on the account or its resource group, no Firestop role —
files ``inc-….rev2.json`` whose ``lock-network`` action keeps ``after`` (the locked state, so the runbook's own
"changed since the lock?" check passes) and sets ``before`` to public access with their own IP rule. The preview and
the page show the forged record; the next responder's Undo (console, API, CLI) makes Firestop's identity write it.

Fixed: ``records.file`` seals each filing (HMAC under the app's seal key over the incident, revision and the JSON's
SHA-256, kept in the ledger's ``record`` entry); an undo refuses (409, nothing written) when the newest revision's
bytes carry no valid seal there.
"""

from __future__ import annotations

import copy
import json

from tests.trust.conftest import ACCOUNT, INCIDENT, Api, api, handled_home  # noqa: F401 — fixtures

ATTACKER_IP = "198.51.100.66"


def plant_forged_revision(firestop_home) -> str:
    """A storage-level writer files rev2 of INCIDENT's record: lock-network's ``before`` says public access plus
    ATTACKER_IP. Returns that step's id."""
    records = firestop_home / "records"
    record = json.loads((records / f"{INCIDENT}.json").read_text())
    forged = copy.deepcopy(record)
    locks = [a for a in forged["actions"] if a.get("runbook") == "network.lock" and a.get("changed")]
    assert locks, forged["actions"]
    locks[0]["before"] = {**locks[0]["before"], "publicNetworkAccess": "Enabled",
                          "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": ATTACKER_IP}], "virtualNetworkRules": []}}
    (records / f"{INCIDENT}.rev2.md").write_text("# forged\n")
    (records / f"{INCIDENT}.rev2.json").write_text(json.dumps(forged, indent=2, sort_keys=True))
    return locks[0]["step_id"]


def test_a_planted_record_revision_does_not_choose_what_an_undo_restores(api, firestop_home):  # noqa: F811
    step = plant_forged_revision(firestop_home)
    status, body = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT},
                            body={"step": step})
    acls = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert ATTACKER_IP not in json.dumps(acls) and acls["defaultAction"] == "Deny", (status, body, acls)
    assert status == 409 and "seal" in body["reason"], body

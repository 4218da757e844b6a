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
SHA-256, kept in the ledger's ``record`` entry); an undo refused (409, nothing written) when the newest revision's
bytes carried no valid seal there. Since records16 (A13-07) an object Firestop did not seal is no revision at all: the
undo starts from the newest *sealed* revision (the genuine record: the attacker's ``before`` is never written) and
files its own revision beside the planted one (``<id>.r2-<keyed tag>.json``).
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
    assert ATTACKER_IP not in json.dumps(acls), (status, body, acls)
    assert status == 200 and body["undone"][0]["ok"], body
    assert acls == genuine_before(firestop_home, step)["networkAcls"]  # from the sealed record, not the planted one
    keyed = sorted((firestop_home / "records").glob(f"{INCIDENT}.r2-*.json"))
    assert len(keyed) == 1 and (firestop_home / "records" / f"{INCIDENT}.rev2.json").exists()


def genuine_before(firestop_home, step: str) -> dict:
    """The ``before`` of ``step`` in the record Firestop filed (``<id>.json``, sealed)."""
    record = json.loads((firestop_home / "records" / f"{INCIDENT}.json").read_text())
    return next(a["before"] for a in record["actions"] if a.get("step_id") == step and a.get("changed"))

"""A16-06 (attacker C, a Storage Blob Data writer on the records container): one empty blob blocks every undo.

records16 made a planted revision of the *undone* incident's record no revision at all (A13-07: the undo restores the
genuine before-state). The reliance check on *later* incidents still reads each one's newest *listed* revision
(``undo.later_reliance``: ``newest_filed`` of the listing) and, inside the lease, refuses the undo when that revision is
not sealed (RT11-03's fail-closed answer) — for every later incident, whatever its target. So ``{}`` at
``<any later incident>.rev9.json`` (names are listable; a new blob, WORM does not stop it) and the responder's Undo of
the earlier incident is refused, 409, though the later incident acts on another account and relies on nothing.
Fixed as records16 reads the undone incident's own record: a later incident's record is its newest *sealed* filing
(``records.store.believed_filing``); a planted one is no revision, a deleted sealed one still refuses (custody).
"""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures

DEV = ACCOUNT.replace("contoso-openai-prod", "contoso-openai-dev")


def _later_on_dev(api) -> str:  # noqa: F811
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    essentials = payload["data"]["essentials"]
    essentials["alertTargetIDs"] = [DEV]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/a16-06-later-dev"
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    other = later["incident_id"]
    if later["status"] == "awaiting_approval":
        status, decided = api.call("decide_http", "POST", f"incidents/{other}/approvals/disable-local-auth",
                                   who="oid-alice", route={"incident_id": other, "step": "disable-local-auth"},
                                   body={"decision": "approve"})
        assert status == 202, decided
        api.env.host.run_until_idle(other, advance_timers=True)
    return other


def _undo(api):  # noqa: F811
    return api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                    body={"step": "lock-network"})


def test_a16_06_an_empty_planted_revision_of_a_later_incident_does_not_block_the_undo(api, firestop_home):  # noqa: F811
    other = _later_on_dev(api)
    records = firestop_home / "records"
    assert list(records.glob(f"{other}*.json")), "the later incident filed its record"
    (records / f"{other}.rev9.json").write_text("{}")
    status, done = _undo(api)
    assert status == 200, (status, done)
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Allow"


def test_a16_06_a_deleted_sealed_revision_of_a_later_incident_still_refuses(api, firestop_home):  # noqa: F811
    other = _later_on_dev(api)
    records = firestop_home / "records"
    for path in records.glob(f"{other}*"):
        path.unlink()  # (locally; on Azure WORM forbids it) what its ledger sealed is gone: unknown, refused
    (records / f"{other}.rev9.json").write_text("{}")
    status, done = _undo(api)
    assert status == 409 and other in done["reason"], (status, done)
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"

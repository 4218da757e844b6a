"""RT11-03 (high): a planted revision of a *later* incident's record switched off the undo's reliance check.

RT10-03 checks the seal of the undone incident's own newest revision only. The reliance check
(:func:`firestop.lifecycle.undo.later_reliance`, RT4-06) reads each later incident's newest filed revision and believes
its ``actions``: a blob writer on the records container (no Firestop role, RT10-03's attacker) files
``<later>.rev2.json`` marking the later incident's ``lock-network`` ``undone`` (or moving its ``received_at`` before the
first incident, or its target elsewhere), and the next responder's Undo of the earlier incident reopens the account to
the Internet while the later incident's real record still counts the lock as its containment.

Fixed: a later incident's newest revision that relies on nothing is believed only when it carries the app's seal on
that incident's ledger (:func:`runbooks.records.seal_problem`); otherwise the undo is refused (409, nothing written).
"""

from __future__ import annotations

import copy
import json

from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home, later_exposure_incident  # noqa: F401 — fixtures


def test_a_planted_later_revision_does_not_switch_off_the_reliance_check(api, firestop_home):  # noqa: F811
    other = later_exposure_incident(api, "rt11-03-later-exposure")
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"

    records = firestop_home / "records"
    newest = max(records.glob(f"{other}*.json"), key=lambda p: (len(p.name), p.name))
    forged = copy.deepcopy(json.loads(newest.read_text()))
    for action in forged["actions"]:
        if action.get("runbook") == "network.lock":
            action["undone"] = True  # "no longer relies on it"
    revision = 2 if newest.name == f"{other}.json" else int(newest.name.split(".rev")[1].split(".")[0]) + 1
    (records / f"{other}.rev{revision}.md").write_text("# forged\n")
    (records / f"{other}.rev{revision}.json").write_text(json.dumps(forged, indent=2, sort_keys=True))

    status, done = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                            body={"step": "lock-network"})
    acls = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny", (status, done, acls)
    assert status == 409 and other in done["reason"], done

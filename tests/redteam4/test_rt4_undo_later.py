"""RT4-06: undoing an earlier incident's containment silently undoes a later incident's containment of the same resource.

``network.lock``'s undo refuses only when the settings changed *after its own lock*. When a later incident (here
``public-network-exposure`` on the same account) found the account already locked — its lock-network step changed
nothing, so the earlier lock *is* its containment — a responder's ``POST /api/incidents/{first}/undo`` reopens the
account to the Internet while the later incident (open, awaiting its approval) still counts its lock-network and nothing\nre-locks it.
Expected: the undo is refused (409) naming the later incident that relies on the state, or at least that incident
is no longer reported as holding.
"""

from __future__ import annotations

import json

import pytest

from firestop.settings import REPO_ROOT
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures


def test_rt4_06_undo_of_an_earlier_lock_reopens_a_later_incidents_containment(api):
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    essentials = payload["data"]["essentials"]
    essentials["alertTargetIDs"] = [ACCOUNT]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/rt4-06-later-exposure"
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    assert later["incident_id"] != INCIDENT
    if later["status"] == "awaiting_approval":  # disable-local-auth on production: an approver approves, the incident ends
        status, decided = api.call("decide_http", "POST", f"incidents/{later['incident_id']}/approvals/disable-local-auth",
                                   who="oid-alice", route={"incident_id": later["incident_id"], "step": "disable-local-auth"},
                                   body={"decision": "approve"})
        assert status == 202, decided
        api.env.host.run_until_idle(later["incident_id"], advance_timers=True)
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"

    status, done = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                            body={"step": "lock-network"})
    reopened = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Allow"
    status_later, view = api.call("get_incident_http", "GET", f"incidents/{later['incident_id']}",
                                  route={"incident_id": later["incident_id"]})
    relies = [a for a in view.get("actions") or [] if a.get("step_id") == "lock-network" and a.get("outcome") != "failed"]
    assert status == 409 and "relied on by a later incident" in done["reason"] and later["incident_id"] in done["reason"], done
    assert done["code"] == "relied_on"  # remote mode's exit 3, as the local command's (tests/cli/test_remote_exit_codes.py)
    assert not (reopened and relies), (
        f"undo of {INCIDENT} answered {status} and reopened the account; {later['incident_id']} ({view.get('status')}) "
        f"still counts its lock-network ({relies[0].get('summary')})" if relies else "")


def test_a_reliance_refusal_names_the_resource_as_this_incident_recorded_it(tmp_path):
    """ARM IDs compare case-insensitively, but the refusal prints the target as the undone incident recorded it (it
    printed the lower-cased comparison key)."""
    from firestop.lifecycle.undo import UndoReliedOn, later_reliance
    from firestop.settings import Settings

    settings = Settings.from_env(home=tmp_path)
    settings.records_dir.mkdir(parents=True)
    later = {"incident_id": "inc-bbbbbbbbbbbbbbbb", "received_at": "2026-11-29T04:00:00Z",
             "actions": [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT.lower(), "ok": True}]}
    (settings.records_dir / "inc-bbbbbbbbbbbbbbbb.json").write_text(json.dumps(later))
    mine = [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}]
    with pytest.raises(UndoReliedOn) as refused:
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"}, mine)
    assert f"on {ACCOUNT} is relied on" in str(refused.value) and "inc-bbbbbbbbbbbbbbbb" in str(refused.value)


@pytest.mark.parametrize("changed", [True, False])
def test_a_reliance_refusal_never_sends_the_responder_to_an_undo_that_cannot_happen(tmp_path, changed):
    """When the later incident's step found the state in place (changed nothing), it has nothing to undo — incident
    undo refuses it — so "undo <later> first" was a dead end (seen: leaked-api-key's lock-network relied on by
    anomalous-usage's "account already locked; nothing changed"). The refusal then says so and what is left to do."""
    from firestop.lifecycle.undo import UndoReliedOn, later_reliance
    from firestop.settings import Settings

    settings = Settings.from_env(home=tmp_path)
    settings.records_dir.mkdir(parents=True)
    later = {"incident_id": "inc-bbbbbbbbbbbbbbbb", "received_at": "2026-11-29T04:00:00Z",
             "actions": [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT, "ok": True, "changed": changed}]}
    (settings.records_dir / "inc-bbbbbbbbbbbbbbbb.json").write_text(json.dumps(later))
    mine = [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}]
    with pytest.raises(UndoReliedOn) as refused:
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-11-29T03:00:00Z"}, mine)
    text = str(refused.value)
    assert "relied on by a later incident, inc-bbbbbbbbbbbbbbbb" in text
    if changed:
        assert "undo inc-bbbbbbbbbbbbbbbb first" in text and not hasattr(refused.value, "fix")
    else:
        assert "changed nothing" in text and "undo inc-bbbbbbbbbbbbbbbb first" not in text
        # release7: that later step is released (nothing restored), which unblocks this undo — the fix names it
        assert "incident undo inc-bbbbbbbbbbbbbbbb --step lock-network" in refused.value.fix and refused.value.fix in text

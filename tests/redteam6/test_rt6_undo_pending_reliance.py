"""RT6-03: the undo reliance check misses an incident waiting for approval.

Attack: RT4-06's check (:func:`firestop.lifecycle.undo.later_reliance`) reads *filed* records only. A later incident
on the same account that is still open — its ``public-network-exposure`` playbook waiting for an approver before
``disable-local-auth`` on production, with the earlier incident's network lock as the containment it found in place —
has no filed record yet. A responder's ``POST /api/incidents/{earlier}/undo`` of ``lock-network`` was allowed: the
account reopened to the Internet while the approver is about to approve a plan that assumes it closed.

Fix: :func:`firestop.lifecycle.undo.open_reliance`, inside the undo's lease: any incident still open
(Pending/Running ``incident_orchestrator``: awaiting approval or containing) whose alert targets a resource the undo
restores refuses it — 409 ``code: relied_on`` naming that incident and what it waits for; nothing is undone. Once the
later incident has finished, RT4-06's filed-record check takes over.
"""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures


def test_rt6_03_undo_refused_while_a_later_incident_awaits_approval_on_the_resource(api):
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    essentials = payload["data"]["essentials"]
    essentials["alertTargetIDs"] = [ACCOUNT.lower()]  # Azure Monitor sends ids lower-cased
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/rt6-03-later-exposure"
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    assert later["incident_id"] != INCIDENT and later["status"] == "awaiting_approval", later["status"]
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"

    writes = len(api.env.tenant.requests)
    status, done = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                            body={"step": "lock-network"})
    assert status == 409 and done["code"] == "relied_on", done
    assert later["incident_id"] in done["reason"] and "awaiting approval" in done["reason"] and later["incident_id"] in done["fix"]
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert not [r for r in api.env.tenant.requests[writes:] if r.operation == "accounts.update"]

    status, view = api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert status == 200 and not any(a.get("undone") for a in view.get("actions") or [])  # nothing recorded as undone


def test_rt6_03_an_open_incident_on_another_resource_does_not_block_the_undo():
    """Control: the check compares resources (case-insensitively), not "any incident is open"."""
    import asyncio

    from firestop.lifecycle.undo import UndoOpenIncident, open_reliance

    class Port:
        def __init__(self, open_):
            self.open_ = open_

        async def open_instances(self, name, limit):
            assert name == "incident_orchestrator" and limit > 0
            return self.open_

    other = ACCOUNT.replace("contoso-openai-prod", "contoso-openai-dev")
    waiting = {"pending_approval": {"step": "disable-local-auth", "target": other}, "phase": "contain"}
    asyncio.run(open_reliance(Port([("inc-b", {"alert": {"target_ids": [other]}}, waiting)]), "inc-a", [ACCOUNT]))
    asyncio.run(open_reliance(Port([("inc-a", {"alert": {"target_ids": [ACCOUNT]}}, None)]), "inc-a", [ACCOUNT]))  # itself
    try:
        asyncio.run(open_reliance(Port([("inc-b", {"alert": {"target_ids": [ACCOUNT.upper()]}}, {"phase": "contain"})]),
                                  "inc-a", [ACCOUNT]))
    except UndoOpenIncident as exc:
        assert exc.later == "inc-b" and "running" in str(exc)
    else:
        raise AssertionError("an open incident on the same resource did not refuse the undo")

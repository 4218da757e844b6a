"""RT7-01: the open-incident reliance check of an undo reads only the oldest 200 open incidents.

Attack: RT6-03's check (:func:`firestop.lifecycle.undo.open_reliance`) asked the lease port for at most
``MAX_OPEN_INCIDENTS`` (200) open ``incident_orchestrator`` instances, **oldest first**, and let the undo through when
none of those targeted the resource. The incident that relies on the state an undo restores is the *later* one —
the newest. With 200 older incidents open (a storm of alerts awaiting approval; or a malicious alert source that
holds the webhook's function key posting 200 alerts on made-up resources that route to an approval-gated playbook),
the later incident on the account was past the cut: a responder's undo of ``lock-network`` reopened the account to
the Internet while the later incident's approver was about to approve a plan that assumes it closed.

Fix: the check asks for one more than it reads; with more than ``MAX_OPEN_INCIDENTS`` other incidents open it
refuses (409 ``code: relied_on``, nothing undone), since an unread one may rely on the state.
"""

from __future__ import annotations

import json
import sqlite3

from firestop.settings import REPO_ROOT
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures


def _later_exposure(api):
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    essentials = payload["data"]["essentials"]
    essentials["alertTargetIDs"] = [ACCOUNT.lower()]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/rt7-01-later-exposure"
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    assert later["status"] == "awaiting_approval", later["status"]
    return later["incident_id"]


def _older_open_incidents(api, count: int) -> None:
    """``count`` Pending incident instances on other (made-up) resources, created before everything else in the
    store (backdated: what a burst of alerts received earlier leaves open). Nothing drives them."""
    host = api.env.host
    ids = []
    for n in range(count):
        target = ACCOUNT.replace("contoso-openai-prod", f"decoy-{n:03d}")
        ids.append(host.start_new("incident_orchestrator", f"inc-rt7-decoy-{n:03d}", {"alert": {"target_ids": [target]}}))
    with sqlite3.connect(host.db_path) as db:
        db.executemany("UPDATE instances SET created_time = ? WHERE instance_id = ?",
                       [(f"2000-01-01T00:{n // 60:02d}:{n % 60:02d}.000000+00:00", iid) for n, iid in enumerate(ids)])


def test_rt7_01_undo_refused_when_the_relying_incident_is_past_the_open_incident_bound(api):
    from firestop.lifecycle.undo import MAX_OPEN_INCIDENTS

    later = _later_exposure(api)
    _older_open_incidents(api, MAX_OPEN_INCIDENTS)
    open_now = api.env.host.list_instances(runtime_status=("Pending", "Running"), name="incident_orchestrator")
    assert [s.instance_id for s in open_now][-1] == later and len(open_now) == MAX_OPEN_INCIDENTS + 1

    writes = len(api.env.tenant.requests)
    status, done = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                            body={"step": "lock-network"})
    assert status == 409 and done["code"] == "relied_on", done
    assert f"more than {MAX_OPEN_INCIDENTS} incidents are open" in done["reason"], done
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert not [r for r in api.env.tenant.requests[writes:] if r.operation == "accounts.update"]


def test_rt7_01_up_to_the_bound_the_check_still_reads_each_open_incident():
    """Control: with the bound's worth of other open incidents the check reads them all and finds the one on the
    resource (the newest), and passes when none targets it."""
    import asyncio

    from firestop.lifecycle.undo import MAX_OPEN_INCIDENTS, UndoOpenIncident, UndoTooManyOpen, open_reliance

    class Port:  # firestop.lifecycle.locks.LeasePort's contract: oldest first, at most `limit`
        def __init__(self, open_):
            self.open_ = open_

        async def open_instances(self, name, limit):
            return self.open_[:limit]

    other = ACCOUNT.replace("contoso-openai-prod", "elsewhere")
    decoys = [(f"inc-d{n}", {"alert": {"target_ids": [other]}}, None) for n in range(MAX_OPEN_INCIDENTS - 1)]
    relying = ("inc-later", {"alert": {"target_ids": [ACCOUNT]}}, {"phase": "contain"})
    try:
        asyncio.run(open_reliance(Port(decoys + [relying]), "inc-a", [ACCOUNT]))
    except UndoOpenIncident as exc:
        assert exc.later == "inc-later" and not isinstance(exc, UndoTooManyOpen)
    else:
        raise AssertionError("the open incident on the resource was not found")
    asyncio.run(open_reliance(Port(decoys + [("inc-x", {"alert": {"target_ids": [other]}}, None)]), "inc-a", [ACCOUNT]))
    # the undone incident itself listed does not count towards the bound
    asyncio.run(open_reliance(Port([("inc-a", {}, None)] + decoys + [("inc-x", {}, None)]), "inc-a", [ACCOUNT]))

"""RT7-03: the later-incident reliance check of an undo read 2,000 filed records in *name* order.

Attack: :func:`firestop.lifecycle.undo.later_reliance` (RT4-06) read at most ``MAX_RELIANCE_RECORDS`` (2,000) filed
records, the names sorted in reverse. Incident ids are hashes (``inc-`` + 16 hex digits of a slot key, or of an alert
id), so name order is not time order: once the records store holds more than 2,000 incidents, the later incident
relying on the state an undo restores is skipped at random ((N - 2000) / N of the time) — and a malicious alert source
can make it skipped every time: alert ids (its own) whose incident ids sort high are found by a few hashes each, and
2,000 of them filed (incidents on made-up resources that ended) put every other record past the cut. A responder's undo
of the earlier ``lock-network`` then reopened the account although a later incident reports the lock as its
containment.

Fix: inside the undo's lease the check reads the filed records of exactly the incidents created since the undone
one was received (``LeasePort.instances_since``: the Durable backend's creation times, one listing), and refuses the
undo (409 ``code: relied_on``) when there are more of them than it reads.
"""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT
from tests.trust.conftest import ACCOUNT, INCIDENT, api, handled_home  # noqa: F401 — fixtures


def _later_lock(api) -> str:
    """A later incident on the account, ended, whose lock-network found the earlier lock in place (RT4-06's case)."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    essentials = payload["data"]["essentials"]
    essentials["alertTargetIDs"] = [ACCOUNT]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + "/rt7-03-later-exposure"
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    if later["status"] == "awaiting_approval":
        status, decided = api.call("decide_http", "POST", f"incidents/{later['incident_id']}/approvals/disable-local-auth",
                                   who="oid-alice", route={"incident_id": later["incident_id"], "step": "disable-local-auth"},
                                   body={"decision": "approve"})
        assert status == 202, decided
        api.env.host.run_until_idle(later["incident_id"], advance_timers=True)
    return later["incident_id"]


def _decoy_records(api, later: str, count: int) -> None:
    """``count`` filed records of incidents on made-up resources, received after the later one, whose ids sort
    above every other (what a hostile alert source's ground alert ids give)."""
    records = api.env.settings.records_dir
    received = json.loads((records / f"{later}.json").read_text())["received_at"]
    for n in range(count):
        iid = f"inc-ffff{n:012x}"
        (records / f"{iid}.json").write_text(json.dumps({
            "incident_id": iid, "received_at": received, "status": "contained",
            "actions": [{"step_id": "lock-network", "runbook": "network.lock", "ok": True,
                         "target": ACCOUNT.replace("contoso-openai-prod", f"decoy-{n}")}]}))


def _undo(api):
    return api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                    body={"step": "lock-network"})


def test_rt7_03_undo_refused_when_2000_records_sort_before_the_later_incident(api):
    from firestop.lifecycle.undo import MAX_RELIANCE_RECORDS

    later = _later_lock(api)
    _decoy_records(api, later, MAX_RELIANCE_RECORDS)
    others = sorted((p.stem for p in api.env.settings.records_dir.glob("inc-*.json") if "." not in p.stem and p.stem != INCIDENT),
                    reverse=True)
    assert later in others and later not in others[:MAX_RELIANCE_RECORDS]  # past the cut of the name-order read

    writes = len(api.env.tenant.requests)
    status, done = _undo(api)
    assert status == 409 and done["code"] == "relied_on" and later in done["reason"], done
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert not [r for r in api.env.tenant.requests[writes:] if r.operation == "accounts.update"]


def test_rt7_03_more_incidents_since_than_the_check_reads_refuses(api, monkeypatch):
    """With more incidents received since the undone one than the bound, the undo is refused unread (fails closed)."""
    from firestop.lifecycle import undo

    later = _later_lock(api)
    for n in range(3):  # three more incidents created since (their orchestrations exist; nothing drives them)
        iid = api.env.host.start_new("incident_orchestrator", f"inc-rt7-since-{n}", {"alert": {"target_ids": []}})
        (api.env.settings.records_dir / f"{iid}.json").write_text(json.dumps({"incident_id": iid, "actions": []}))
    monkeypatch.setattr(undo, "MAX_RELIANCE_RECORDS", 3)
    status, done = _undo(api)
    assert status == 409 and done["code"] == "relied_on", done
    assert "4 incidents were received after it, more than the 3" in done["reason"] and later not in done["reason"], done
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"


def test_rt7_03_incidents_received_before_are_not_read(api):
    """Control: the undone incident has no later incident on its resource, so the undo goes through — the check
    reads only incidents created since (the undone incident itself and older ones are not candidates)."""
    from firestop.lifecycle.locks import HostLeasePort
    from firestop.lifecycle.undo import later_incidents
    import asyncio

    record = json.loads((api.env.settings.records_dir / f"{INCIDENT}.json").read_text())
    ids = asyncio.run(later_incidents(HostLeasePort(api.env.host), record))
    assert INCIDENT in ids  # created at its own receipt: listed, and left out by the check itself
    status, done = _undo(api)
    assert status == 200 and [u["ok"] for u in done["undone"]] == [True], done

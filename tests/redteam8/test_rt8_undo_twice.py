"""RT8-03: two undos of one incident sent together both run: the second restores the state again from a record read
before the first undo, and its answer says "undone".

Attack (a race, two responders or one double-click): ``POST /api/incidents/{id}/undo`` reads the filed record, then
waits for the resources' containment lease (``undo_under_lease``). Two such requests read the same record (the
step not yet undone); the first takes the lease, restores the network and files revision 2; the second takes the
lease next and — never reading the record again — runs the runbook's undo a second time (a second write to Azure, a
second ledger entry) and answers 200 with the step "undone", though its record revision is refused (it names a record
that is no longer the newest). Anything done to the resource between the two (a responder re-locking it by hand) is
silently reverted by a request that was decided on a stale view.

Fixed: inside the lease the undo reads the newest filed record again and refuses (409 ``nothing_to_undo``) when it is
not the one the request chose from; nothing is written. A manual run's undo (``POST /api/runbook-runs/…/undo``) had
the same race on the run's ledger; it reads the ledger again inside the lease.
"""

from __future__ import annotations

import threading

from tests.trust.conftest import ACCOUNT, INCIDENT, SUB, api, handled_home  # noqa: F401 — fixtures

HOLDER = "inc-0123456789abcdef:group-1"
DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"


def _lease(api, op: str, resource: str = ACCOUNT) -> None:
    from firestop.lifecycle.locks import LOCK_ENTITY, lock_key

    now = api.env.host.clock.now()
    api.env.host.signal_entity((LOCK_ENTITY, lock_key(resource)), op, {"owner": HOLDER, "resource": resource, "now": now.isoformat(),
                                                                        "until": now.replace(year=now.year + 1).isoformat()})
    api.env.host.run_entity_operations()


def _updates(api, since: int) -> int:
    return len([r for r in api.env.tenant.requests[since:] if r.operation == "accounts.update"])


def test_two_concurrent_undos_restore_once(api, monkeypatch):  # noqa: F811
    import firestop.lifecycle.locks as locks

    real_hold = locks.hold_outside
    arrived = threading.Semaphore(0)

    async def hold_outside(*args, **kwargs):  # both requests have chosen what to undo once they ask for the lease
        arrived.release()
        return await real_hold(*args, **kwargs)

    monkeypatch.setattr(locks, "hold_outside", hold_outside)
    _lease(api, "acquire")  # a containment holds the account: both undos wait for it
    writes = len(api.env.tenant.requests)
    answers: list[tuple[int, dict]] = []

    def undo() -> None:
        answers.append(api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob",
                                route={"incident_id": INCIDENT}, body={}))

    threads = [threading.Thread(target=undo) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert arrived.acquire(timeout=60), "an undo never asked for the lease"
    _lease(api, "release")
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409], answers
    assert _updates(api, writes) == 1, "the network was restored twice"
    done = next(body for status, body in answers if status == 200)
    assert [u["step_id"] for u in done["undone"] if u["ok"]] == ["lock-network"], done
    refused = next(body for status, body in answers if status == 409)
    assert refused["code"] == "nothing_to_undo" and "undone" in refused["reason"], refused


def test_a_cli_undo_confirmed_after_another_undo_changes_nothing(api):  # noqa: F811
    """``incident undo`` reads the record, shows it and asks; another responder undoes meanwhile (here through the
    API). The confirmed CLI undo then acts on what it read: it must refuse, not restore the state a second time."""
    import pytest

    from firestop.cli.undo import UndoStale, undo_candidates, undo_locally

    record, actions = undo_candidates(api.env, INCIDENT)  # what the CLI showed before "Undo these?"
    status, body = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-alice",
                            route={"incident_id": INCIDENT}, body={})
    assert status == 200, body
    writes = len(api.env.tenant.requests)
    with pytest.raises(UndoStale) as refused:
        undo_locally(api.env, INCIDENT, record, actions, by="oid-bob")
    assert "revision 2" in str(refused.value)
    assert _updates(api, writes) == 0


def test_two_concurrent_manual_run_undos_restore_once(api, monkeypatch):  # noqa: F811
    """The same race on ``POST /api/runbook-runs/{day}/{step}/undo``: the run's ledger was read before the lease."""
    import firestop.lifecycle.locks as locks

    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": DEV, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["ok"], run
    day, step = run["run_id"].split("/")
    real_hold = locks.hold_outside
    arrived = threading.Semaphore(0)

    async def hold_outside(*args, **kwargs):
        arrived.release()
        return await real_hold(*args, **kwargs)

    monkeypatch.setattr(locks, "hold_outside", hold_outside)
    _lease(api, "acquire", DEV)
    writes = len(api.env.tenant.requests)
    answers: list[tuple[int, dict]] = []

    def undo() -> None:
        answers.append(api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob",
                                route={"day": day, "step": step}, body={}))

    threads = [threading.Thread(target=undo) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert arrived.acquire(timeout=60), "an undo never asked for the lease"
    _lease(api, "release", DEV)
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(status for status, _ in answers) == [200, 409], answers
    assert _updates(api, writes) == 1, "the manual run was undone twice"
    refused = next(body for status, body in answers if status == 409)
    assert refused["code"] == "nothing_to_undo" and "already undone" in refused["reason"], refused

"""RT6-02: a manual runbook undo takes no containment lease.

Attack (a race, not a forgery): ``POST /api/runbook-runs/{day}/{step}/undo`` (the CLI's ``runbook undo RUN_ID``) ran the
runbook's undo straight away, while an incident's step group may hold the ``resource_lock`` lease of the same account
(between its before-state snapshot and its apply, or waiting on a retry timer). The manual undo's write then lands
inside that containment: the group verifies or records a state someone else just changed. ``incident undo`` took the
lease since RT4; the manual-run undo did not.

Fix: :func:`firestop.lifecycle.undo.manual_undo_under_lease` — the same lease containment takes (``hold_outside`` on
the run's target), the reliance checks made inside it, 409 ``code: busy`` when the lease stays held (CLI: exit 3).
The test holds the lease as a step group does (the entity, owner ``<incident>:group-1``), so the interleaving is
deterministic: while held, nothing is written; once released, the undo runs.
"""

from __future__ import annotations

from firestop.lifecycle.locks import LOCK_ENTITY, lock_key
from tests.trust.conftest import SUB, api, handled_home  # noqa: F401 — fixtures

DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
HOLDER = "inc-0123456789abcdef:group-1"


def _acl(api) -> str:
    return api.env.tenant.resource(DEV)["properties"].get("networkAcls", {}).get("defaultAction")


def _lease(api, op: str) -> None:
    now = api.env.host.clock.now()
    api.env.host.signal_entity((LOCK_ENTITY, lock_key(DEV)), op, {"owner": HOLDER, "resource": DEV, "now": now.isoformat(),
                                                                   "until": now.replace(year=now.year + 1).isoformat()})
    api.env.host.run_entity_operations()


def test_rt6_02_manual_undo_waits_for_the_containment_lease(api, monkeypatch):
    import sys

    import firestop.functions.http_responders  # noqa: F401  (the module; the package exports its Blueprint by that name)

    monkeypatch.setattr(sys.modules["firestop.functions.http_responders"], "UNDO_LEASE_POLLS", 2)  # 0.2 s of wall time, not 10 s
    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": DEV, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["ok"] and _acl(api) == "Deny", run
    day, step = run["run_id"].split("/")

    _lease(api, "acquire")  # an incident's step group is containing the account
    assert api.env.host.read_entity_state((LOCK_ENTITY, lock_key(DEV)))[1]["holder"] == HOLDER
    writes = len(api.env.tenant.requests)
    status, busy = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob",
                            route={"day": day, "step": step}, body={})
    assert status == 409 and busy["code"] == "busy" and HOLDER in busy["reason"], busy
    assert _acl(api) == "Deny" and not [r for r in api.env.tenant.requests[writes:] if r.operation == "accounts.update"]

    _lease(api, "release")  # the containment finished
    status, done = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob",
                            route={"day": day, "step": step}, body={})
    assert status == 200 and done["undo"]["ok"], done
    assert _acl(api) != "Deny"
    state = api.env.host.read_entity_state((LOCK_ENTITY, lock_key(DEV)))[1]
    assert state["holder"] is None  # the undo gave its lease back


def test_rt6_02_the_cli_manual_undo_takes_the_lease_too(api):
    """``runbook undo`` locally: the same lease through the local host (exit 3 while a containment holds it)."""
    import asyncio

    from firestop.lifecycle.locks import HostLeasePort
    from firestop.lifecycle.undo import UndoBusy, manual_undo_under_lease
    from runbooks.manual_runs import find_manual_run

    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": DEV, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["ok"], run
    manual = find_manual_run(api.env.settings, run["run_id"])
    _lease(api, "acquire")
    ran = []
    try:
        asyncio.run(manual_undo_under_lease(HostLeasePort(api.env.host), api.env.settings, manual, lambda: ran.append(1) or {},
                                            max_polls=2))
    except UndoBusy as exc:
        assert exc.holder == HOLDER
    else:
        raise AssertionError("the undo ran while a containment held the lease")
    assert ran == []
    _lease(api, "release")
    asyncio.run(manual_undo_under_lease(HostLeasePort(api.env.host), api.env.settings, manual, lambda: ran.append(1) or {}))
    assert ran == [1]

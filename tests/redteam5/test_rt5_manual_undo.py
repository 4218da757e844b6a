"""RT5-02: undoing a *manual* runbook run silently takes away a later incident's containment.

RT4-06 made ``incident undo`` refuse when a later incident relies on the state it would restore away
(:func:`firestop.lifecycle.undo.later_reliance`), inside the resources' containment lease. The manual-run undo
(``POST /api/runbook-runs/{day}/{step}/undo``, the CLI's ``runbook undo RUN_ID``) does neither: a responder locks an
account by hand (``runbook run network.lock``), an incident on that account then finds it locked (its
``lock-network`` changed nothing: that lock *is* its containment) and is filed ``contained``; undoing the manual run
reopens the account to the Internet while the incident still reports its lock as holding.
Expected: the undo refused (409) naming the incident that relies on it, the account left locked."""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT
from tests.trust.conftest import SUB, api, handled_home  # noqa: F401 — fixtures

DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"


def _acl(api) -> str:
    return api.env.tenant.resource(DEV)["properties"].get("networkAcls", {}).get("defaultAction")


def test_rt5_02_manual_undo_refuses_when_a_later_incident_relies_on_the_lock(api):
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert

    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": DEV, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["ok"], run
    assert run["apply"]["result"]["changed"] and _acl(api) == "Deny"

    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "public-network-exposure.json").read_text())
    payload["data"]["essentials"]["alertTargetIDs"] = [DEV]
    later, _ = handle_alert(parse_alert(json.dumps(payload).encode()), env=api.env)
    assert later["status"] in ("contained", "resolved"), later["status"]
    lock = [a for a in later["actions"] if a["step_id"] == "lock-network"]
    assert lock and lock[0]["ok"] and not lock[0]["changed"]  # found the manual lock in place: it is this incident's containment

    day, step = run["run_id"].split("/")
    status, undone = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob",
                              route={"day": day, "step": step}, body={})
    assert status == 409 and later["incident_id"] in undone["reason"], (status, undone, _acl(api))
    assert _acl(api) == "Deny"

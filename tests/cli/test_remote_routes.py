"""The routes behind remote mode, in-process (as firestop serve calls them) on a handled incident: bad input is a 4xx
naming the field, never a 500, and nothing changes; an undo is recorded as the authenticated caller's; an audit
request may narrow the app's scope but never widen it. (Role refusals for every route: tests/trust/test_attack_roles.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trust.conftest import ACCOUNT, INCIDENT, SUB, api, handled_home, snapshot  # noqa: F401 — fixtures

RUN = {"day": "manual-2026-11-29", "step": "api-run-031440-ab12"}


@pytest.mark.parametrize("function, method, url, route, body, params, status, field", [
    ("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, None, {"step": "x" * 201}, 400, "step"),
    ("undo_preview_http", "GET", "incidents/a%2Fb/undo", {"incident_id": "a/b"}, None, None, 400, "incident_id"),
    ("undo_preview_http", "GET", "incidents/inc-0000000000000000/undo", {"incident_id": "inc-0000000000000000"}, None, None, 404, "incident_id"),
    ("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, None, {"step": "rotate-keys"}, 409, "step"),
    ("undo_http", "POST", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, {"step": "lock-network", "by": "oid-admin"}, None, 400, "by"),
    ("undo_http", "POST", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, {"step": ["lock-network"]}, None, 400, "step"),
    ("undo_http", "POST", f"incidents/{INCIDENT}/undo", {"incident_id": INCIDENT}, {"step": "no-such-step"}, None, 409, "step"),
    ("manual_run_http", "GET", "runbook-runs/manual-x/y", {"day": "manual-x", "step": "y"}, None, None, 400, "run_id"),
    # a trailing newline is not a run id (the pattern must match the whole id: RT4's note)
    ("manual_run_http", "GET", "runbook-runs/…%0A", {**RUN, "step": RUN["step"] + "\n"}, None, None, 400, "run_id"),
    ("manual_run_http", "GET", "runbook-runs/…", RUN, None, None, 409, "run_id"),
    ("manual_run_undo_http", "POST", "runbook-runs/…/undo", RUN, {}, None, 409, "run_id"),
    ("ledger_verify_http", "GET", "ledgers/..", {"incident_id": ".."}, None, None, 400, "incident_id"),
    ("ledger_verify_http", "GET", "ledgers/inc-0000000000000000", {"incident_id": "inc-0000000000000000"}, None, None, 404, "incident_id"),
    ("run_audit_http", "POST", "audits", {}, {"resource_groups": "rg-ai-prod"}, None, 400, "resource_groups"),
    ("run_audit_http", "POST", "audits", {}, {"resource_groups": ["rg"] * 51}, None, 400, "resource_groups"),
    ("run_audit_http", "POST", "audits", {}, {"resource_groups": ["../etc"]}, None, 400, "resource_groups"),
    # Azure's rules: 1-90 of letters, digits, _ - . ( ), not ending in a period (so never "." or "..")
    *[("run_audit_http", "POST", "audits", {}, {"resource_groups": [bad]}, None, 400, "resource_groups")
      for bad in ("..", ".", "rg-ai-prod.", "rg-ai-prod\n", "", "r" * 91, "rg ai", "rg/x")],
    ("run_audit_http", "POST", "audits", {}, {"accounts": [SUB + "/resourceGroups/../providers/Microsoft.CognitiveServices/accounts/x1"]},
     None, 400, "accounts"),
    ("run_audit_http", "POST", "audits", {}, {"accounts": [SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/.."]},
     None, 400, "accounts"),
    ("run_audit_http", "POST", "audits", {}, {"accounts": ["/subscriptions/99999999-2222-3333-4444-555555555555/resourceGroups/rg/"
                                                           "providers/Microsoft.CognitiveServices/accounts/elsewhere"]}, None, 400, "accounts"),
    ("run_audit_http", "POST", "audits", {}, {"fix": "yes"}, None, 400, "fix"),
    ("run_audit_http", "POST", "audits", {}, {"subscription": "99999999-2222-3333-4444-555555555555"}, None, 400, "subscription"),
    ("run_runbook_http", "POST", "runbooks/network.lock", {"name": "network.lock"}, {"target": ACCOUNT, "mode": "yolo"}, None, 400, "mode"),
])
def test_bad_input_is_a_4xx_naming_the_field_and_changes_nothing(api, firestop_home, monkeypatch, function, method, url, route,
                                                                 body, params, status, field):
    monkeypatch.setenv("FIRESTOP_AUDIT_SUBSCRIPTION", SUB.rsplit("/", 1)[1])
    before = snapshot(firestop_home, api.env.tenant)
    got, answer = api.call(function, method, url, route=route, body=body, params=params or {})
    assert (got, answer.get("error")) == (status, field), answer
    assert answer.get("reason")
    assert snapshot(firestop_home, api.env.tenant) == before


def test_an_undo_through_the_api_is_the_callers_and_a_second_one_is_refused(api, firestop_home):
    status, preview = api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT},
                               params={"step": "lock-network"})
    assert status == 200 and [a["step_id"] for a in preview["actions"]] == ["lock-network"]
    assert {s["step_id"] for s in preview["stays"]} >= {"rotate-keys"}  # a revoked key stays revoked
    status, done = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT},
                            body={"step": "lock-network"})
    assert status == 200 and [(u["step_id"], u["ok"]) for u in done["undone"]] == [("lock-network", True)], done
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Allow"
    status, view = api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert "lock-network undone by oid-bob" in view["reason"]
    # the record named is the newest revision, the one that says so (it named the first filing)
    assert view["record_files"]["json_path"].endswith(f"{INCIDENT}.rev2.json") and view["record_files"]["revision"] == 2
    assert view["record_files"]["markdown_path"].endswith(f"{INCIDENT}.rev2.md")
    # logical locations (the app never tells its paths, cli17), each naming the file filed under FIRESTOP_HOME
    assert all(view["record_files"][k].startswith("FIRESTOP_HOME/records/") for k in ("json_path", "markdown_path"))
    assert all((firestop_home / view["record_files"][k].removeprefix("FIRESTOP_HOME/")).is_file() for k in ("json_path", "markdown_path"))
    status, again = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT},
                             body={"step": "lock-network"})
    assert status == 409 and "already undone" in again["reason"] and again["code"] == "nothing_to_undo"


def test_an_audit_request_narrows_the_scope_within_the_configured_groups(api, monkeypatch):
    monkeypatch.setenv("FIRESTOP_AUDIT_SUBSCRIPTION", SUB.rsplit("/", 1)[1])
    monkeypatch.setenv("FIRESTOP_AUDIT_RESOURCE_GROUPS", "rg-ai-prod")
    status, answer = api.call("run_audit_http", "POST", "audits", who="oid-bob", body={"resource_groups": ["rg-ai-dev"]})
    assert status == 400 and "outside the app's audit scope" in answer["reason"]
    status, audit = api.call("run_audit_http", "POST", "audits", who="oid-bob", body={"resource_groups": ["rg-ai-prod"], "fix": True})
    assert status == 200 and audit["scope"] == [f"{SUB}/resourceGroups/rg-ai-prod"] and isinstance(audit["fixes"], list)
    accounts = {r["resource"] for r in audit["results"] if "/accounts/" in r["resource"]}
    assert accounts and all("/resourceGroups/rg-ai-prod/" in a for a in accounts), accounts

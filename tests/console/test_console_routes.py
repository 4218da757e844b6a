"""The console's routes in-process (as firestop serve calls them): escaping, CSP, cross-site refusals, undo."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import azure.functions as func
import pytest

from firestop.console import csrf, pages
from firestop.trust import encode_principal, stamp_peer

INCIDENT = "inc-33906e911c7aff74"
ORIGIN = "http://localhost:7071"
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>\u202e&amp;'


def call(api, function, path, *, who="oid-alice", method="GET", form=None, route=None, headers=None, params=None):
    from firestop.runtime import invoke_http_function

    sent = {"X-MS-CLIENT-PRINCIPAL": encode_principal(who), **(headers or {})}
    body = urlencode(form).encode() if form is not None else b""
    if form is not None:
        sent["content-type"] = "application/x-www-form-urlencoded"
    request = func.HttpRequest(method=method, url=f"{ORIGIN}/api/{path}", headers=stamp_peer(sent, "127.0.0.1"), body=body,
                               route_params=route or {}, params=params or {})
    response = invoke_http_function(api.app, function, request, server=api.server)
    return response.status_code, dict(response.headers), (response.get_body() or b"").decode()


def token_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_every_page_carries_a_strict_csp_and_no_script(api):
    for function, path, route in [("console_home", "console", {}), ("console_incident", f"console/incidents/{INCIDENT}", {"incident_id": INCIDENT}),
                                  ("console_tabletop", "console/tabletop", {})]:
        status, headers, page = call(api, function, path, route=route)
        assert status == 200, page
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp and "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-store"
        assert "<script" not in page.lower()


def test_the_hashed_style_is_the_one_on_the_page():
    import base64
    import hashlib

    page = pages.layout("t", "")
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in pages.CONTENT_SECURITY_POLICY


def test_outside_values_are_escaped_everywhere_they_land():
    from firestop.lifecycle.cli_hints import decide_command, undo_command
    from firestop.trust import Principal

    caller = Principal(object_id=HOSTILE, name=HOSTILE, roles=frozenset({"approver"}))
    view = {"incident_id": HOSTILE, "status": HOSTILE, "reason": HOSTILE, "playbook": {"name": HOSTILE},
            "alert": {"rule_name": HOSTILE, "target_ids": [HOSTILE]}, "holds": [HOSTILE], "does_not_hold": [HOSTILE],
            "timeline": [{"phase": HOSTILE, "step": HOSTILE, "target": HOSTILE, "outcome": HOSTILE, "detail": HOSTILE, "offset_s": 1}]}
    approval = {"step": HOSTILE, "runbook": HOSTILE, "target": HOSTILE, "why": HOSTILE, "approvers": [HOSTILE],
                "changes": [{"field": HOSTILE, "before": HOSTILE, "after": HOSTILE}, HOSTILE],
                "blast_radius": {HOSTILE: [HOSTILE], "n": HOSTILE}, "expires_at": HOSTILE}
    card = {"scenario": {"name": HOSTILE, "description": HOSTILE}, "result": HOSTILE, "run_id": HOSTILE,
            "expectations": [{"check": HOSTILE, "evidence": HOSTILE}], "approvals": [{"step": HOSTILE, "answers": [{"by": HOSTILE}]}],
            "pages": [{"kind": HOSTILE, "paged": [HOSTILE], "step": HOSTILE, "channel": HOSTILE}]}
    documents = [
        pages.incident_page(view, caller=caller, approval_html=pages.approval_card(HOSTILE, approval, may_decide=True, why_not="", token=HOSTILE,
                                                                                  cli_hint=decide_command(HOSTILE, HOSTILE)),
                            undo_html=pages.undo_card(HOSTILE, [{"step_id": HOSTILE, "runbook": HOSTILE, "reversible": True}], may_undo=True, token=HOSTILE,
                                                      cli_hint=undo_command(HOSTILE)),
                            flash=HOSTILE),
        pages.incidents_page([view, {**view, "pending_approval": approval}], caller=caller, audit={HOSTILE: HOSTILE}),
        pages.scorecard_page(card, caller=caller), pages.tabletop_page([card], caller=caller),
        pages.message_page(HOSTILE, HOSTILE, fix=HOSTILE, caller=caller),
    ]
    for document in documents:
        assert "<script" not in document and "<img" not in document and "\u202e" not in document
        assert "&lt;script&gt;" in document and "&quot;&gt;" in document
        # every attribute value is quoted and holds no raw quote: nothing breaks out of an attribute
        for value in re.findall(r'="([^"]*)"', document):
            assert "<" not in value and ">" not in value


def test_a_post_from_another_site_or_without_the_token_is_refused_and_nothing_is_undone(api, firestop_home):
    _, _, page = call(api, "console_undo_confirm", f"console/incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT})
    token = token_of(page)
    route = {"incident_id": INCIDENT}
    before = {p.name for p in (firestop_home / "records").iterdir()}
    cases = [
        ({"Origin": "https://evil.example"}, {"csrf": token}, "evil.example"),
        ({"Origin": "null"}, {"csrf": token}, "null"),
        ({}, {"csrf": token}, "neither Origin"),                                # no Origin, no Sec-Fetch-Site
        ({"Sec-Fetch-Site": "cross-site"}, {"csrf": token}, "neither Origin"),
        ({"Origin": api.server.base_url}, {}, "no anti-forgery token"),
        ({"Origin": api.server.base_url}, {"csrf": token[:-2] + "xx"}, "not issued to this caller"),
    ]
    for headers, form, reason in cases:
        status, _, answer = call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", method="POST", form=form, route=route,
                                 headers={**headers, "Accept": "application/json"})
        assert status == 403 and reason in answer, (headers, answer)
    # oid-bob (responder) replaying alice's token
    status, _, answer = call(api, "console_undo", "x", who="oid-bob", method="POST", form={"csrf": token}, route=route,
                             headers={"Origin": api.server.base_url, "Accept": "application/json"})
    assert status == 403 and "not issued to this caller" in answer
    assert {p.name for p in (firestop_home / "records").iterdir()} == before


def test_tokens_expire_and_are_bound_to_the_caller():
    from firestop.trust.seal import SealKey

    key = SealKey("k" * 40, "test")
    now = time.time()
    token = csrf.issue(key, "oid-alice", now=now)
    csrf.check_post({"Origin": ORIGIN}, token, key=key, object_id="oid-alice", origin=ORIGIN, now=now)
    csrf.check_post({"Sec-Fetch-Site": "same-origin"}, token, key=key, object_id="oid-alice", origin=ORIGIN, now=now + 3600)
    with pytest.raises(csrf.CsrfError, match="expired"):
        csrf.check_post({"Origin": ORIGIN}, token, key=key, object_id="oid-alice", origin=ORIGIN, now=now + 3600 * (csrf.TOKEN_HOURS + 1))
    with pytest.raises(csrf.CsrfError, match="not issued"):
        csrf.check_post({"Origin": ORIGIN}, token, key=key, object_id="oid-bob", origin=ORIGIN, now=now)
    with pytest.raises(csrf.CsrfError, match="not issued"):
        csrf.check_post({"Origin": ORIGIN}, token, key=SealKey("m" * 40, "other"), object_id="oid-alice", origin=ORIGIN, now=now)


def test_undo_from_the_console_restores_the_network_and_files_a_revision(api, firestop_home):
    from tests.trust.conftest import ACCOUNT

    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"
    status, _, page = call(api, "console_incident", f"console/incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert status == 200 and "Undo containment" in page and "cannot be undone" in page  # keys.rotate is not reversible
    _, _, reader_page = call(api, "console_incident", "x", who="oid-mallory", route={"incident_id": INCIDENT})
    assert "Undo containment" not in reader_page  # a reader sees the preview, not the button
    assert 'method="get"' in page and 'name="csrf"' not in page  # the button asks first (undo_confirm_page)
    _, _, confirm = call(api, "console_undo_confirm", f"console/incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT})
    token = token_of(confirm)
    status, headers, _ = call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", method="POST", form={"csrf": token, "confirm": "undo"},
                              route={"incident_id": INCIDENT}, headers={"Origin": api.server.base_url})
    assert status == 303 and headers["Location"] == f"/api/console/incidents/{INCIDENT}?done=undo"
    assert api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Allow"
    assert (firestop_home / "records" / f"{INCIDENT}.rev2.json").exists()
    _, _, page = call(api, "console_incident", "x", route={"incident_id": INCIDENT}, params={"done": "undo"})
    assert "undo lock-network" in page and "Undo done" in page and "Undo containment" not in page  # only keys.rotate is left
    # what holds now, in the CLI's words (firestop.lifecycle.view.status_label), on the incident and the front page
    assert '<span class="badge undone">partly undone (was contained)</span>' in page
    _, _, front = call(api, "console_home", "console")
    assert '<span class="badge undone">partly undone (was contained)</span>' in front
    import json

    status, _, answer = call(api, "get_incident_http", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert status == 200 and json.loads(answer)["containment"] == "partly undone" and json.loads(answer)["status"] == "contained"
    _, _, listed = call(api, "list_incidents_http", "incidents")
    assert [v["containment"] for v in json.loads(listed) if v["incident_id"] == INCIDENT] == ["partly undone"]
    status, _, answer = call(api, "console_undo", "x", method="POST", form={"csrf": token, "confirm": "undo"}, route={"incident_id": INCIDENT},
                             headers={"Origin": api.server.base_url, "Accept": "application/json"})
    assert status == 409 and "nothing left" in answer


def test_unknown_incident_and_run_are_404_and_malformed_ids_400(api):
    assert call(api, "console_incident", "x", route={"incident_id": "inc-nope"})[0] == 404
    assert call(api, "console_incident", "x", route={"incident_id": "a" * 300})[0] == 400
    assert call(api, "console_scorecard", "x", route={"run_id": "../../etc"})[0] == 404


def test_the_front_page_shows_the_latest_audit_once_one_ran(api, firestop_home):
    from typer.testing import CliRunner

    from firestop.cli.main import app

    _, _, page = call(api, "console_home", "console")
    assert "No audit yet" in page
    ran = CliRunner().invoke(app, ["audit", "run", "--json"], catch_exceptions=False)
    assert ran.exit_code in (0, 3), ran.output
    import json

    audit = json.loads(ran.stdout)
    status, _, page = call(api, "console_home", "console")
    assert status == 200 and "No audit yet" not in page and audit["audit_id"] in page
    failed = [r for r in audit["results"] if r["status"] == "fail"]
    assert failed and pages.h(failed[0]["title"]) in page


def test_a_step_with_no_named_approvers_may_be_decided_by_any_approver():
    """As the orchestrator's judge() and the CLI say: no approvers named = anyone holding the approver role."""
    from types import SimpleNamespace

    from firestop.functions.http_console import _may_decide

    approver = SimpleNamespace(object_id="oid-alice", roles={"responder", "approver"}, groups=())
    reader = SimpleNamespace(object_id="oid-mallory", roles={"reader"}, groups=())
    assert _may_decide(approver, {"approvers": []}) == (True, "")
    assert _may_decide(reader, {"approvers": []})[0] is False
    named = {"approvers": ["oid-bob"]}
    assert _may_decide(approver, named) == (False, "You hold the approver role but are not among this step's approvers.")
    assert _may_decide(SimpleNamespace(object_id="oid-carol", roles={"approver"}, groups=("oid-bob",)), named)[0]


def test_the_cli_hint_is_the_app_on_azure_and_the_simulation_under_serve(api, monkeypatch):
    """The console's CLI line works where the console runs: under serve the local store's sandbox incident (--as);
    on Azure only the app holds the incident, so --app with the app's public origin (never --as/--azure there)."""
    from firestop.lifecycle.cli_hints import decide_command

    _, _, page = call(api, "console_incident", f"console/incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert f"<code>python -m firestop incident undo {INCIDENT} --as &lt;your object id&gt;</code>" in page
    monkeypatch.setenv("WEBSITE_SITE_NAME", "fs-prod")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("WEBSITE_HOSTNAME", "fs-prod.azurewebsites.net")
    status, _, page = call(api, "console_incident", f"console/incidents/{INCIDENT}", route={"incident_id": INCIDENT},
                           headers={"X-MS-CLIENT-PRINCIPAL": encode_principal("3f2a", app_roles=("Firestop.Responder",))})
    assert status == 200, page
    assert f"<code>python -m firestop incident undo {INCIDENT} --app https://fs-prod.azurewebsites.net</code>" in page
    assert "--as " not in page and "--azure" not in page
    card = pages.approval_card(INCIDENT, {"step": "lock-network"}, may_decide=False, why_not="", token=None,
                               cli_hint=decide_command(INCIDENT, "lock-network", app_origin="https://fs-prod.azurewebsites.net"))
    assert (f"<code>python -m firestop incident approve {INCIDENT} --step lock-network --app https://fs-prod.azurewebsites.net   "
            f"(or: incident reject {INCIDENT} --step lock-network --app https://fs-prod.azurewebsites.net)</code>") in card


def test_the_list_names_the_alert_rule_of_an_incident_still_waiting_for_approval_not_its_phase():
    from firestop.lifecycle.view import incident_view
    from firestop.trust import Principal

    custom = {"phase": "contain", "step": "revoke-principal", "playbook": "suspicious-key-access",
              "rule_name": "aoai-suspicious-key-access", "received_at": "2026-11-29T03:16:50.7+00:00",
              "pending_approval": {"step": "revoke-principal", "runbook": "identity.revoke_role_assignment",
                                   "target": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod",
                                   "expires_at": "2026-11-29T03:47:11.7+00:00"}}
    waiting = incident_view("inc-53aec47d787debbe-2", "Running", custom, None)
    caller = Principal(object_id="oid-alice", roles=frozenset({"reader"}))
    page = pages.incidents_page([waiting, incident_view("inc-2", "Running", {"phase": "analyze"}, None)], caller=caller)
    rows = re.findall(r"<tr><td class=\"id\"><a [^>]*>([^<]+)</a></td>.*?<td class=\"wide\">([^<]*)</td>", page)
    assert rows == [("inc-53aec47d787debbe-2", "aoai-suspicious-key-access"), ("inc-2", "—")], rows


def test_the_list_names_the_account_of_a_waiting_incident_as_of_a_finished_one(api):
    """cli13 item 3 (new user 12): the row of an incident still waiting read ``aoai-suspicious-key-access`` where a
    finished one reads ``aoai-leaked-key-usage on contoso-openai-prod``: which account waits was on its page only.
    Fails before (the rule alone)."""
    from firestop.alerts import parse_alert
    from firestop.cli.incidents import handle_alert
    from firestop.settings import REPO_ROOT

    waiting, _ = handle_alert(parse_alert((REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json").read_bytes()),
                              env=api.env)
    assert waiting["status"] == "awaiting_approval", waiting["status"]
    _, _, page = call(api, "console_home", "console")
    rows = dict(re.findall(r"<tr><td class=\"id\"><a [^>]*>([^<]+)</a></td>.*?<td class=\"wide\">([^<]*)</td>", page))
    assert rows == {waiting["incident_id"]: "aoai-suspicious-key-access on contoso-openai-prod",
                    INCIDENT: "aoai-leaked-key-usage on contoso-openai-prod"}, rows

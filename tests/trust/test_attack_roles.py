"""Attacks on who may do what, replayed in-process against the responders' API (as firestop serve calls it).

Each test is an attack from issue 11 and asserts the defended outcome: refused with the right status and
reason, logged (outside values as repr), and nothing changed — files under FIRESTOP_HOME and tenant state
compared byte for byte.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest

from .conftest import ACCOUNT, INCIDENT, ROUTES, snapshot


# every route checks a role -------------------------------------------------------------------

@pytest.mark.parametrize("function", sorted(ROUTES))
def test_a_caller_without_the_route_role_is_403_and_logged(api, firestop_home, caplog, function):
    role = ROUTES[function][4]
    caplog.set_level(logging.WARNING, logger="firestop.trust")
    before = snapshot(firestop_home, api.env.tenant)
    status, body = api.route(function, who="oid-nobody")  # authenticated, holds no role at all
    assert status == 403 and body["error"] == "role" and f"the {role} role" in body["reason"], body
    assert f"Firestop.{role.capitalize()}" in body["fix"]
    if role != "reader":  # a reader is not enough either
        status, body = api.route(function, who="oid-mallory")
        assert status == 403 and f"the {role} role" in body["reason"] and "holds: reader" in body["reason"]
    refusals = [r.getMessage() for r in caplog.records if r.name == "firestop.trust"]
    assert any("'oid-nobody'" in line and role in line for line in refusals), refusals
    assert snapshot(firestop_home, api.env.tenant) == before


def test_every_http_route_of_the_app_is_in_the_role_table(api):
    """A new responders' route must join ROUTES (and so this suite): only the alert/event intake and status are key-only."""
    from firestop.runtime.functions import HTTP_TRIGGER, index_app

    http = {e.name for e in index_app(api.app).others.values() if e.kind == HTTP_TRIGGER}
    # the alert senders' routes: the function key, no person (Azure Monitor action groups; Event Grid subscriptions)
    key_only = {"post_alert", "alert_status", "post_events"}
    assert http - key_only == set(ROUTES), http


def test_every_anonymous_route_declares_the_role_this_suite_refuses_without(api):
    """The role each route declares where it is defined (@requires, firestop.trust.route_roles) is the one its check
    uses (declared_role) and the one this suite calls it without (403 above): declaration, check and README's route
    table cannot drift. No people's route is public today."""
    from firestop.cli.serve_cmd import route_roles
    from firestop.runtime.serve import http_routes

    anonymous = {r.function for r in http_routes(api.app) if r.auth_level == "anonymous"}
    declared = route_roles(api.app)
    assert {f: declared.get(f, "NOT DECLARED") for f in sorted(anonymous)} == {f: ROUTES[f][4] for f in sorted(anonymous)}
    assert not {f for f in declared if f not in anonymous}  # only people's routes declare a role


@pytest.mark.parametrize("function", sorted(ROUTES))
def test_a_caller_holding_only_the_declared_role_passes_the_gate(api, monkeypatch, function):
    """The route enforces no more than it declares: holding exactly that role, the caller gets past the role check
    (whatever the route answers next — 200, 404 for an unknown run, 409 for nothing to undo, the console's 403 for a
    form without its anti-forgery token — never 401 nor a refusal for the role)."""
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {"oid-just": [ROUTES[function][4]]}}))
    try:
        status, body = api.route(function, who="oid-just")
    except json.JSONDecodeError:  # a console page (HTML): it got past every check
        return
    assert status != 401 and not (status == 403 and isinstance(body, dict) and body.get("error") == "role"), (status, body)


def test_people_routes_are_anonymous_at_the_host_and_only_the_machine_routes_take_the_key(api):
    """On Azure a FUNCTION route needs the function key, which alert senders hold, never a person: every people
    route is ANONYMOUS at the host (App Service authentication in front, the role checked by the route)."""
    from firestop.runtime.serve import http_routes

    levels = {r.function: r.auth_level for r in http_routes(api.app)}
    assert {f: levels[f] for f in ROUTES if levels[f] != "anonymous"} == {}
    assert {f: levels[f] for f in ("post_alert", "alert_status", "post_events")} == dict.fromkeys(("post_alert", "alert_status", "post_events"), "function")


def test_roles_come_from_the_role_table_locally_never_from_the_header(api, monkeypatch):
    status, _ = api.route("list_incidents_http", who="oid-nobody", app_roles=["Firestop.Admin"])
    assert status == 403  # roles claims are believed on Azure only
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {"oid-nobody": ["reader"]}}))
    status, listed = api.route("list_incidents_http", who="oid-nobody")
    assert status == 200 and [i["incident_id"] for i in listed] == [INCIDENT]
    status, _ = api.route("list_incidents_http", who="oid-alice")  # the table replaces the sandbox's demo roles
    assert status == 403
    monkeypatch.setenv("FIRESTOP_ROLES", json.dumps({"principals": {"oid-nobody": ["root"]}}))
    status, body = api.route("list_incidents_http", who="oid-nobody")
    assert status == 403 and body["error"] == "FIRESTOP_ROLES" and "reader, responder, approver, admin" in body["reason"]
    monkeypatch.setenv("FIRESTOP_ROLES", "{not json")
    status, body = api.route("list_incidents_http", who="oid-nobody")
    assert status == 403 and body["error"] == "FIRESTOP_ROLES"


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_a_blank_role_table_setting_is_an_error_never_the_demo_roles(api, monkeypatch, blank):
    """FIRESTOP_ROLES set but blank is a mistake (a template or .env with the value left out): refused naming the
    setting and the fix — the sandbox's demo roles (alice the approver …) never come back through it."""
    from firestop.settings import check_environment

    monkeypatch.setenv("FIRESTOP_ROLES", blank)
    status, body = api.route("list_incidents_http", who="oid-alice")
    assert status == 403 and body["error"] == "FIRESTOP_ROLES" and "blank" in body["reason"] and "{}" in body["reason"]
    assert "FIRESTOP_ROLES" in dict(check_environment({"FIRESTOP_ROLES": blank}, on_azure=False))
    monkeypatch.setenv("FIRESTOP_ROLES", "{}")  # an empty table: nobody holds a role
    assert api.route("list_incidents_http", who="oid-alice")[0] == 403
    assert "FIRESTOP_ROLES" not in dict(check_environment({"FIRESTOP_ROLES": "{}"}, on_azure=False))


def test_roles_file_under_firestop_home(api, firestop_home):
    (firestop_home / "roles.json").write_text(json.dumps({"groups": {"grp-readers": ["reader"]}}))
    assert api.route("list_incidents_http", who="oid-zed", groups=["grp-readers"])[0] == 200
    assert api.route("list_incidents_http", who="oid-alice")[0] == 403


# identity: fail closed ---------------------------------------------------------------------------

def test_the_principal_id_header_fallback_is_gone(api):
    status, body = api.route("list_incidents_http", who=None, headers={"X-MS-CLIENT-PRINCIPAL-ID": "oid-alice",
                                                                       "X-MS-CLIENT-PRINCIPAL-NAME": "alice"})
    assert status == 401 and body["error"] == "X-MS-CLIENT-PRINCIPAL" and "missing" in body["reason"]
    no_oid = base64.b64encode(json.dumps({"claims": [{"typ": "name", "val": "alice"}]}).encode()).decode()
    status, body = api.route("list_incidents_http", raw_principal=no_oid, headers={"X-MS-CLIENT-PRINCIPAL-ID": "oid-alice"})
    assert status == 401 and "object ID claim" in body["reason"]


@pytest.mark.parametrize("peer", ["203.0.113.5", "10.0.0.4", "::ffff:198.51.100.7", None])
def test_a_principal_from_a_peer_that_is_not_loopback_is_401(api, peer):
    status, body = api.route("list_incidents_http", peer=peer)
    assert status == 401 and "loopback only" in body["reason"], body


def test_a_client_cannot_claim_to_be_loopback(api):
    from firestop.trust import PEER_HEADER

    # a forged stamp (no MAC, or a wrong one) sent by a remote client: the server's own stamp replaces it
    for forged in ("127.0.0.1", "127.0.0.1 " + "0" * 64):
        status, _ = api.route("list_incidents_http", peer="203.0.113.5", headers={PEER_HEADER: forged})
        assert status == 401
        status, _ = api.route("list_incidents_http", peer=None, headers={PEER_HEADER: forged})  # not via serve at all
        assert status == 401


@pytest.mark.parametrize("site_var", ["WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID"])
def test_on_azure_without_app_service_authentication_every_call_is_401_naming_the_setting(api, monkeypatch, site_var):
    monkeypatch.setenv(site_var, "fs-prod")
    for function in [f for f in ROUTES if api.has(f)]:
        status, body = api.route(function, app_roles=["Firestop.Admin"])
        assert status == 401 and body["error"] == "WEBSITE_AUTH_ENABLED" and "WEBSITE_AUTH_ENABLED" in body["reason"], body
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "False")
    assert api.route("list_incidents_http", app_roles=["Firestop.Admin"])[0] == 401


def test_on_azure_with_authentication_roles_come_from_entra_app_roles(api, monkeypatch):
    monkeypatch.setenv("WEBSITE_SITE_NAME", "fs-prod")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    # App Service strips client headers, so any peer: the header is the platform's
    status, listed = api.route("list_incidents_http", who="3f2a", app_roles=["Firestop.Reader"], peer="10.0.0.4")
    assert status == 200 and [i["incident_id"] for i in listed] == [INCIDENT]
    status, body = api.route("run_runbook_http", who="3f2a", app_roles=["Firestop.Reader"], peer="10.0.0.4")
    assert status == 403 and "responder" in body["reason"] and "Microsoft Entra ID" in body["fix"]
    status, _ = api.route("list_incidents_http", who="oid-alice", peer="10.0.0.4")  # the sandbox's demo table never applies
    assert status == 403


@pytest.mark.parametrize("value", [
    "A" * (16 * 1024 + 1),                                                      # too large
    base64.b64encode(b"[" * 12000).decode(),                                   # nested beyond the parser's recursion
    base64.b64encode(b'{"claims": ' + b"[" * 8000 + b"]" * 8000 + b"}").decode()[:16000],
    "not base64 !!",
    base64.b64encode(b'{"claims": "x"}').decode(),
    base64.b64encode(json.dumps({"claims": [{"typ": "oid", "val": "oid-evil\nWARNING forged line"}]}).encode()).decode(),
])
def test_hostile_principal_headers_are_400_never_500(api, caplog, value):
    caplog.set_level(logging.DEBUG)
    status, body = api.route("list_incidents_http", raw_principal=value)
    assert status == 400 and body["error"] == "X-MS-CLIENT-PRINCIPAL", body
    assert not any("\nWARNING forged" in r.getMessage() for r in caplog.records)  # no forged log line


# the runbook API writes nothing of an incident -----------------------------------------------------

@pytest.mark.parametrize("name,params", [
    ("records.file", {"record": {"incident_id": INCIDENT, "status": "contained", "reason": "forged"}}),
    ("notify.webhook", {"url": "https://attacker.example/hook", "message": "hi"}),
    ("evidence.snapshot_logs", {}),
    ("evidence.snapshot_config", {}),
])
def test_incident_only_runbooks_are_refused_by_the_api(api, firestop_home, caplog, name, params):
    caplog.set_level(logging.WARNING, logger="firestop.api")
    before = snapshot(firestop_home, api.env.tenant)
    for mode in ("plan", "apply"):
        status, body = api.call("run_runbook_http", "POST", f"runbooks/{name}", route={"name": name},
                                body={"target": ACCOUNT, "params": params, "mode": mode})
        assert status == 403 and body["error"] == "name" and "own orchestration" in body["reason"], body
    assert any(repr(name) in r.getMessage() and "'oid-alice'" in r.getMessage() for r in caplog.records)
    assert snapshot(firestop_home, api.env.tenant) == before


def test_keys_revoke_on_production_needs_the_responder_role(api, firestop_home):
    before = snapshot(firestop_home, api.env.tenant)
    for who in ("oid-nobody", "oid-mallory"):
        status, body = api.call("run_runbook_http", "POST", "runbooks/keys.revoke", who=who, route={"name": "keys.revoke"},
                                body={"target": ACCOUNT, "mode": "apply"})
        assert status == 403 and "responder" in body["reason"]
    assert snapshot(firestop_home, api.env.tenant) == before


def test_a_runbook_call_cannot_name_an_incident(api, firestop_home):
    before = snapshot(firestop_home, api.env.tenant)
    for incident in (INCIDENT, "manual-2026-11-29", "../ledger/" + INCIDENT):
        status, body = api.call("run_runbook_http", "POST", "runbooks/keys.revoke", route={"name": "keys.revoke"},
                                body={"target": ACCOUNT, "mode": "apply", "incident_id": incident})
        assert status == 400 and body["error"] == "incident_id", body
    assert snapshot(firestop_home, api.env.tenant) == before


def test_a_manual_apply_lands_on_its_own_manual_ledger_never_the_incidents(api, firestop_home):
    from runbooks.ledger import Ledger

    ledger = Ledger(firestop_home / "ledger")
    incident_ledger = ledger.path(INCIDENT).read_bytes()
    status, answer = api.call("run_runbook_http", "POST", "runbooks/auth.disable_local_auth",
                              route={"name": "auth.disable_local_auth"}, body={"target": ACCOUNT, "mode": "apply"})
    assert status == 200 and answer["ok"], answer
    manual = answer["incident_id"]
    assert manual.startswith("manual-") and manual != INCIDENT
    assert ledger.path(INCIDENT).read_bytes() == incident_ledger
    (entry,) = ledger.entries(manual)
    assert entry["data"]["requested_by"] == "oid-alice" and entry["runbook"] == "auth.disable_local_auth"
    assert entry["step_id"].startswith("api-run-")


def test_the_dispatcher_refuses_a_persons_run_naming_an_incident(api, firestop_home):
    from runbooks.dispatch import execute

    before = snapshot(firestop_home, api.env.tenant)
    answer = execute({"runbook": "keys.revoke", "action": "apply", "target": ACCOUNT, "incident_id": INCIDENT,
                      "step_id": "x", "requested_by": "oid-alice"})
    assert not answer["ok"] and answer["error"]["kind"] == "invalid" and "acts for no incident" in answer["error"]["message"]
    assert snapshot(firestop_home, api.env.tenant) == before


def test_the_ledger_refuses_appends_into_another_incidents_file(api, firestop_home):
    from runbooks.ledger import Ledger

    ledger = Ledger(firestop_home / "ledger")
    before = ledger.path(INCIDENT).read_bytes()
    for impostor in (INCIDENT.replace("-", "/", 1), INCIDENT + "\n", "." + INCIDENT):
        with pytest.raises(ValueError, match="plain name"):
            ledger.append(impostor, kind="action", runbook="x", action="apply", step_id="s", target=None, at="", data={})
    # a file that is someone else's (e.g. copied or renamed) is never appended to under another name
    (firestop_home / "ledger" / "inc-copy.jsonl").write_bytes(before)
    with pytest.raises(ValueError, match="belongs to incident"):
        ledger.append("inc-copy", kind="action", runbook="x", action="apply", step_id="s", target=None, at="", data={})
    assert ledger.path(INCIDENT).read_bytes() == before


# records: written once, by their incident -------------------------------------------------------------

def test_an_existing_record_is_never_replaced(api, firestop_home):
    from runbooks.dispatch import execute

    records = firestop_home / "records"
    before = {p.name: p.read_bytes() for p in records.iterdir()}
    forged = {**json.loads((records / f"{INCIDENT}.json").read_text()), "status": "contained", "reason": "all fine, nothing happened"}
    for incident_id in (INCIDENT, "manual-2026-11-29", "inc-other"):  # as the incident itself, a manual run, another incident
        answer = execute({"runbook": "records.file", "action": "apply", "params": {"record": forged},
                          "incident_id": incident_id, "step_id": "file-record"})
        assert not answer["ok"] and answer["error"]["kind"] in ("conflict", "invalid"), answer
    assert {p.name: p.read_bytes() for p in records.iterdir()} == before
    status, shown = api.route("get_incident_http")
    assert status == 200 and shown["reason"] != "all fine, nothing happened"
    from runbooks.ledger import Ledger

    assert Ledger(firestop_home / "ledger").verify(INCIDENT).ok


@pytest.mark.parametrize("auth_typ", ["oidc-custom", "github", "", None])
def test_on_azure_a_principal_from_another_identity_provider_is_401(api, monkeypatch, caplog, auth_typ):
    """Another provider enabled in App Service authentication (a custom OpenID Connect one) could assert any oid."""
    from firestop.functions.principal import encode_principal

    monkeypatch.setenv("WEBSITE_SITE_NAME", "fs-prod")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    doc = json.loads(base64.b64decode(encode_principal("3f2a", app_roles=("Firestop.Admin",))))
    assert doc["auth_typ"] == "aad"
    assert api.route("list_incidents_http", raw_principal=base64.b64encode(json.dumps(doc).encode()).decode(),
                     peer="10.0.0.4")[0] == 200  # the same principal from Entra ID is believed
    if auth_typ is None:
        del doc["auth_typ"]
    else:
        doc["auth_typ"] = auth_typ
    caplog.set_level(logging.WARNING, logger="firestop.trust")
    status, body = api.route("list_incidents_http", raw_principal=base64.b64encode(json.dumps(doc).encode()).decode(),
                             peer="10.0.0.4")
    assert status == 401 and body["error"] == "X-MS-CLIENT-PRINCIPAL" and "Microsoft Entra ID" in body["reason"], body


def test_on_azure_with_a_tenant_set_a_caller_of_another_tenant_is_401(api, monkeypatch):
    from firestop.functions.principal import encode_principal

    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    monkeypatch.setenv("WEBSITE_SITE_NAME", "fs-prod")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.setenv("FIRESTOP_TENANT_ID", tenant.upper())

    def call(tid):
        raw = encode_principal("3f2a", app_roles=("Firestop.Reader",), tenant_id=tid)
        return api.route("list_incidents_http", raw_principal=raw, peer="10.0.0.4")

    assert call(tenant)[0] == 200
    for other in ("11111111-2222-3333-4444-555555555555", None):
        status, body = call(other)
        assert status == 401 and "FIRESTOP_TENANT_ID" in body["reason"], body


def test_a_step_group_instance_is_not_an_incident_on_any_incident_route(api):
    """A step group's sub-orchestration has an instance id of its own (``<incident>:group-<n>``): the incident
    routes answer 404 for it, never show it or send it a decision or a stop."""
    group = next(i.instance_id for i in api.env.host.list_instances() if i.instance_id.startswith(f"{INCIDENT}:group-"))
    route = {"incident_id": group}
    assert api.call("get_incident_http", "GET", f"incidents/{group}", route=route)[0] == 404
    assert api.call("stop_http", "POST", f"incidents/{group}/stop", route=route, body={"reason": "x"})[0] == 404
    assert api.call("decide_http", "POST", f"incidents/{group}/approvals/lock-network", route={**route, "step": "lock-network"},
                    body={"decision": "approve"})[0] == 404

"""A13-08 (attacker C — Storage Blob Data write on the records container, no Firestop role; medium): RT17-03's
fail-closed drift turns 500 empty blobs into Firestop locking every account that is open on purpose, every week.

RT17-03: when unsealed documents named as newer audits crowd the previous audit out of the 500-document scan, every
finding is *new*. Each new high finding with a playbook opens an incident (``drift_alerts``; its alert id carries
the audit id, so each weekly audit opens it again), and ``public-network-exposure`` locks the network with no
approval (approval only for ``disable-local-auth`` on production-tagged accounts). The redteam17 upgrade test names
this very outcome as the thing to avoid ("a public-network-exposure incident locking every account that was open on
purpose") — for audits filed before seals; a writer's 500 empty blobs (``store.MAX_SCANNED``) bring it back at will.
Here ``contoso-openai-dev`` is open on purpose (its finding failing in the baseline audit, nobody acted), 500 blobs
``{}`` are filed, and the next audit locks it.

Fixed (ledger15): detection failing closed asks, not acts — the drift alerts of an audit whose previous one could not
be verified carry ``firestop-drift-unverified: N`` (``firestop.audit.drift.drift_alerts``), their incidents' inputs
``drift_unverified`` (``firestop.lifecycle.start.incident_input``), and nothing acts before the one ``alert.genuine``
decision, its reason naming the N documents: junk cannot turn detection off and cannot make Firestop act on findings
that are not known to be new.
"""

from __future__ import annotations

import json

import pytest

from tests.audit.test_audit_http import SUB, api, call  # noqa: F401 (fixture)


def unmark(records) -> None:
    """trust17: the drift check finds the previous audit by its filed-marker (``audits/filed/``, trust16) and steps
    over junk unread, so 500 blobs no longer crowd a marked audit out. The fail-closed path these tests hold to
    remains for an audit filed without one (before trust16, or a crash between its document and its marker): the
    baseline's markers are removed here to stand for that."""
    import shutil

    shutil.rmtree(records.path("audits/filed/x").parent)


def _network(env) -> str:
    cs = env.clients.cognitive_services(SUB)
    return cs.accounts.get("rg-ai-dev", "contoso-openai-dev").properties.network_acls.default_action


def test_a13_08_junk_audits_do_not_make_firestop_lock_an_account_open_on_purpose(api):  # noqa: F811
    from firestop.audit.store import MAX_SCANNED, records_store

    env = api[0]
    cs = env.clients.cognitive_services(SUB)
    cs.accounts.begin_update("rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": "Allow"}}}).result()
    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    baseline = json.loads(body)
    assert status == 200 and baseline["incidents"] == []  # open on purpose: a finding, nobody acts on it
    assert any(r["control"] == "network.public-access" and r["status"] == "fail" and "contoso-openai-dev" in r["resource"]
               for r in baseline["results"])
    records = records_store(env.settings)
    unmark(records)
    for n in range(MAX_SCANNED):
        assert records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")

    status, body, _ = call(api, "run_audit_http", "POST", "audits")
    assert status == 200
    env.host.run_until_idle()
    assert _network(env) == "Allow", json.loads(body)["incidents"]
    opened = {i["resource_name"]: i for i in json.loads(body)["incidents"]}
    assert opened["contoso-openai-dev"]["playbook"] == "public-network-exposure", opened  # detection stays on
    waiting = env.host.get_status(opened["contoso-openai-dev"]["incident_id"])
    pending = waiting.custom_status["pending_approval"]  # it asks, and says why
    assert waiting.runtime_status == "Running" and pending["step"] == "alert.genuine", pending
    assert "the previous audit could not be verified: 500 unreadable documents" in pending["why"], pending["why"]
    assert pending["reason_code"] == "drift_unverified"


def test_a13_08_the_cli_audit_asks_too_and_the_card_says_what_to_check(firestop_home, monkeypatch):
    """The same through ``audit run`` (the local host, ``firestop.cli.audit_cmd``; fails before: the account is
    locked), and the ``alert.genuine`` card's "Check first" names the unverified audit, not "look it up at its source"."""
    from typer.testing import CliRunner

    from firestop.audit.store import MAX_SCANNED, records_store
    from firestop.cli.main import app
    from firestop.cli.wiring import sandbox_environment
    from firestop.lifecycle.cli_hints import GENUINE_STEP, unconfirmed_hint
    from firestop.settings import Settings

    env = sandbox_environment()
    try:
        env.clients.cognitive_services(SUB).accounts.begin_update(
            "rg-ai-dev", "contoso-openai-dev", {"properties": {"networkAcls": {"defaultAction": "Allow"}}}).result()
    finally:
        env.close()
    runner = CliRunner()
    assert json.loads(runner.invoke(app, ["audit", "run", "--json"]).stdout)["incidents"] == []
    records = records_store(Settings.from_env())
    unmark(records)
    for n in range(MAX_SCANNED):
        records.create(f"audits/audit-2999123{n // 100}T2359{n % 100:02d}Z-{n:04x}.json", b"{}", "application/json")
    second = json.loads(runner.invoke(app, ["audit", "run", "--json"]).stdout)
    assert second["drift"]["unverified"] == MAX_SCANNED
    dev = next(i for i in second["incidents"] if i["resource_name"] == "contoso-openai-dev")
    env = sandbox_environment()
    try:
        acls = env.clients.cognitive_services(SUB).accounts.get("rg-ai-dev", "contoso-openai-dev").properties.network_acls
        assert acls.default_action == "Allow", dev
    finally:
        env.close()
    shown = json.loads(runner.invoke(app, ["incident", "show", dev["incident_id"], "--json"]).stdout)
    pending = shown.get("pending_approval") or {}
    assert pending.get("step") == GENUINE_STEP and "500 unreadable documents" in pending.get("why", ""), shown
    hint = unconfirmed_hint(shown)
    assert "previous audit could not be verified" in hint and "on purpose" in hint and "Look it up" not in hint, hint

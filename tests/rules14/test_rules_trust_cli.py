"""``python -m firestop rules trust RULE_ID``: an admin trusts a customer's own rule (RT17-01). Before, its alert
waits for alert.genuine (exit 3, reason code rule_not_trusted); after, a new alert of it is confirmed and contained
(exit 0); a reader may not trust; an edit of the rule's threshold voids the trust."""

from __future__ import annotations

import json
import uuid

import pytest

from typer.testing import CliRunner

from firestop.cli.main import app
from tests.redteam17.test_rt17_foreign_alert_rule import _foreign_rule_alert


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _delivery(home, body: dict, *, fired_now: bool = False) -> str:
    """A new alert of ``body``'s rule; ``fired_now``: it fires at the sandbox's clock now (after the rule's last edit:
    an alert of the edited rule — A13-09 refuses a rule changed after its alert fired)."""
    body = json.loads(json.dumps(body))
    essentials = body["data"]["essentials"]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + f"/{uuid.uuid4()}"
    if fired_now:
        from firestop.cli.wiring import sandbox_environment
        from firestop.sandbox.core.clock import format_utc

        env = sandbox_environment()
        try:
            essentials["firedDateTime"] = format_utc(env.tenant.clock.now())
        finally:
            env.close()
    path = home.parent / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(body))
    return str(path)


def _edit(rule_id: str, **changes) -> None:
    """The rule's author changes it through azure-mgmt-monitor (GET, change, PUT), as in the portal."""
    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    try:
        monitor = env.clients.monitor(rule_id.split("/")[2])
        rule = monitor.scheduled_query_rules.get("rg-ai-dev", rule_id.rsplit("/", 1)[-1])
        for name, value in changes.items():
            target = rule.criteria.all_of[0] if name == "threshold" else rule
            setattr(target, name, value)
        monitor.scheduled_query_rules.create_or_update("rg-ai-dev", rule.name, rule)
    finally:
        env.close()


def test_an_admin_trusts_a_customers_rule_and_an_edit_voids_it(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    body = _foreign_rule_alert(route_property=True)
    rule_id = body["data"]["essentials"]["alertRuleID"]
    first = cli("alert", "handle", _delivery(firestop_home, body), "--json")
    assert first.exit_code == 3, first.output
    incident = json.loads(cli("incident", "list", "--json").stdout)[0]["incident_id"]
    shown = json.loads(cli("incident", "show", incident, "--json").stdout)
    assert shown["pending_approval"]["reason_code"] == "rule_not_trusted"

    _edit(rule_id, evaluation_frequency="PT5M")  # (registered by fire_alert without one: a rule Azure accepts)
    before = cli("rules", "check", rule_id, "--json")
    assert before.exit_code == 3 and json.loads(before.stdout)["trusted"] is False
    assert "is not playbook 'leaked-api-key''s detection" in json.loads(before.stdout)["why"]
    told = cli("rules", "check", rule_id)  # the command to run, as typed: this rule's id, and who (sandbox: --as)
    assert told.exit_code == 3 and f"python -m firestop rules trust {rule_id} --as <admin object id>" in told.stdout
    refused = cli("rules", "trust", rule_id, "--as", "oid-mallory", "--json")
    assert refused.exit_code == 2 and "does not hold the admin role" in json.loads(refused.stdout)["error"]
    trusted = cli("rules", "trust", rule_id, "--as", "oid-admin", "--json")
    assert trusted.exit_code == 0, trusted.output
    entry = json.loads(trusted.stdout)
    assert entry["written"] is True and entry["trusted_by"] == "oid-admin" and entry["playbooks"] == ["leaked-api-key"]
    assert "seal" not in entry
    assert json.loads(cli("rules", "trust", rule_id, "--as", "oid-admin", "--json").stdout)["written"] is False

    after = json.loads(cli("rules", "check", rule_id, "--json").stdout)
    assert after["trusted"] is True and after["detection"] is False
    second = cli("alert", "handle", _delivery(firestop_home, body, fired_now=True), "--json")
    assert second.exit_code == 0, second.output

    _edit(rule_id, threshold=-1)  # the rule's author edits the threshold after the trust
    third = cli("alert", "handle", _delivery(firestop_home, body, fired_now=True), "--json")
    assert third.exit_code == 3, third.output
    voided = json.loads(cli("incident", "show", json.loads(third.stdout)["incident_id"], "--json").stdout)
    assert voided["pending_approval"]["reason_code"] == "rule_not_trusted"
    # (fired after the edit: refused because no admin trusted this version, not because it changed after it fired)
    assert "no admin has trusted it" in voided["pending_approval"]["why"], voided["pending_approval"]["why"]
    assert "changed after it fired" not in voided["pending_approval"]["why"]


def test_check_says_a_shipped_detection_acts_on_its_own(firestop_home):
    from firestop.cli.wiring import sandbox_environment
    from firestop.tabletop.detection import deploy_detection

    env = sandbox_environment()
    try:
        ids = deploy_detection(env.tenant, env.settings.playbooks_dir)
    finally:
        env.close()
    [rule_id] = [i for i in ids if i.lower().endswith("/scheduledqueryrules/aoai-leaked-key-usage-contoso-openai-prod")]
    checked = cli("rules", "check", rule_id, "--json")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout) == {"rule_id": rule_id, "playbook": "leaked-api-key", "detection": True,
                                          "trusted": True, "why": None}


@pytest.mark.parametrize("target", ["notanid", "", "/subscriptions/1/resourceGroups/rg",
                                    "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n"])
def test_check_names_a_target_that_is_not_an_account(firestop_home, target):
    """A fresh reader: ``--target notanid`` (or empty) answered for a trusted rule "trusted by an admin", exit 0."""
    bad = cli("rules", "check", "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-dev/providers/"
              "microsoft.insights/scheduledqueryrules/r", "--target", target, "--json")
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"].startswith("--target: "), bad.output


def test_a_bad_rule_id_names_the_form(firestop_home):
    bad = cli("rules", "trust", "/subscriptions/x/../rules", "--as", "oid-admin", "--json")
    assert bad.exit_code == 2 and "RULE_ID: not a metric, scheduled query or activity log alert rule id" in bad.stdout


def test_a_simulated_admin_never_writes_trust_into_a_blob_records_store(firestop_home, monkeypatch):
    """``--as`` is a flag's identity (sandbox only): with FIRESTOP_STORAGE_BLOB_URL naming a Blob records store — the
    app's, on an operator's machine holding its settings — the simulation would have sealed a trust entry there in an
    admin's name nobody signed in as. Refused (exit 2, naming both and the fix), nothing written or read."""
    monkeypatch.setenv("FIRESTOP_STORAGE_BLOB_URL", "https://stfirestopprod.blob.core.windows.net")
    result = cli("rules", "trust", "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-dev/"
                  "providers/microsoft.insights/scheduledqueryrules/r", "--as", "oid-admin", "--json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert "--as" in error and "FIRESTOP_STORAGE_BLOB_URL" in error and "--azure" in error

"""A responder's manual runbook run: ``runbook run NAME --target ID [--param k=v] [--yes] [--json]``
(plan shown, confirmation, apply, verify, ledger ``manual-<date>``), and ``--azure`` / ``--tenant`` on
``runbook plan`` and ``runbook run``. No test builds an Azure environment: ``azure_environment`` is
replaced by one that fails (and counts its calls)."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
NSG = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps"
INCIDENT = "manual-2026-11-29"  # the sandbox clock's date
WRITES = ("PUT", "PATCH", "DELETE")


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture(autouse=True)
def azure_calls(monkeypatch):
    """Every test here: building an Azure environment fails; the list counts the attempts."""
    from firestop.cli import wiring

    calls: list[dict] = []

    def no_azure(*args, **kwargs):
        calls.append(kwargs)
        raise RuntimeError("no Azure in tests")

    monkeypatch.setattr(wiring, "azure_environment", no_azure)
    return calls


def tenant(home):
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox")


def ledger(home) -> list[dict]:
    from runbooks.ledger import Ledger

    return Ledger(home / "ledger").entries(INCIDENT)


def test_run_shows_the_plan_asks_and_applies_then_verifies_and_records_on_the_ledger(firestop_home):
    result = cli("runbook", "run", "network.lock", "--target", ACCOUNT, input="y\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("Would change:") < out.index("on the sandbox tenant? [y/N]") < out.index("Applied: set networkAcls → Deny")
    assert "properties.networkAcls" in out and "✔ networkAcls.defaultAction is Deny" in out and "Verified." in out
    assert f"Ledger: {INCIDENT} entry 2" in out  # entry 1: the before-state marker (runbooks.markers)
    assert tenant(firestop_home).resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"
    marker, entry = ledger(firestop_home)
    assert (marker["kind"], marker["runbook"], marker["target"]) == ("marker", "network.lock", ACCOUNT)
    assert (entry["kind"], entry["runbook"], entry["action"], entry["target"]) == ("action", "network.lock", "apply", ACCOUNT)
    assert entry["step_id"].startswith("cli-run-") and entry["data"]["ok"] and entry["data"]["changed"]
    assert cli("ledger", "verify", INCIDENT).exit_code == 0


def test_run_not_confirmed_changes_nothing(firestop_home):
    before = tenant(firestop_home).resource(ACCOUNT)
    for answer in ("n\n", ""):  # "no", and no answer at all (end of input)
        result = cli("runbook", "run", "auth.disable_local_auth", "--target", ACCOUNT, input=answer)
        assert result.exit_code == 2 and "not confirmed; nothing was changed (use --yes in scripts)" in result.output
        assert "properties.disableLocalAuth: false → true" in result.output  # the exact change was shown
    assert tenant(firestop_home).resource(ACCOUNT) == before
    assert not [r for r in tenant(firestop_home).requests if r.method in WRITES]
    assert ledger(firestop_home) == []


def test_run_json_without_yes_is_refused_before_anything(firestop_home):
    result = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2 and "--yes" in error["error"] and "\n" not in error["error"]
    assert not (firestop_home / "sandbox").exists()  # not even the sandbox was opened


def test_run_yes_json_rotates_keys_and_prints_no_key(firestop_home):
    old = tenant(firestop_home).account_keys(ACCOUNT)
    result = cli("runbook", "run", "keys.rotate", "--target", ACCOUNT, "--yes", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ok"] and out["exit_code"] == 0 and out["incident_id"] == INCIDENT and out["azure"] is False
    assert out["plan"]["ok"] and out["apply"]["result"]["changed"] and out["verify"]["ok"]
    assert out["apply"]["result"]["artifacts"]["ledger"]["seq"] == 1
    now = tenant(firestop_home)
    new = now.account_keys(ACCOUNT)
    assert new["key1"] != old["key1"] and new["key2"] != old["key2"]
    assert not any(value in result.output for value in now.issued_key_values())
    again = json.loads(cli("runbook", "run", "keys.rotate", "--target", ACCOUNT, "--yes", "--json").stdout)
    assert again["step_id"] != out["step_id"] and again["apply"]["result"]["changed"]  # a second manual run acts again
    assert [e["step_id"] for e in ledger(firestop_home)] == [out["step_id"], again["step_id"]]


def test_run_applied_but_not_verified_exits_3(firestop_home):
    # priority 300 is evaluated after the gateway's allow rule (200) that covers 198.51.100.0/24
    args = ("runbook", "run", "network.block_ips", "--target", NSG, "--param", 'ips=["198.51.100.7"]', "--param", "priority_from=300")
    result = cli(*args, "--yes")
    assert result.exit_code == 3, result.output
    assert "✘ no allow rule evaluated before" in result.output and "NOT verified" in result.output
    names = {r["name"] for r in tenant(firestop_home).resource(NSG)["properties"]["securityRules"]}
    assert f"firestop-{INCIDENT}-198.51.100.7_32" in names  # applied
    assert json.loads(cli(*args[:-2], "--param", "priority_from=300", "--yes", "--json").stdout)["exit_code"] == 3


def test_run_azure_refusal_exits_1_naming_the_permission(firestop_home):
    tenant(firestop_home).inject_fault("accounts.update", status=403, times=2)
    result = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes")
    assert result.exit_code == 1
    assert "apply failed, not verified: forbidden" in result.output
    assert "Microsoft.CognitiveServices/accounts/write" in result.output
    assert ledger(firestop_home)[-1]["data"]["error"]["kind"] == "forbidden"  # the refused attempt is on the ledger too
    as_json = json.loads(cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes", "--json").stdout)
    assert as_json["exit_code"] == 1 and as_json["apply"]["error"]["kind"] == "forbidden" and as_json["verify"] is None


@pytest.mark.parametrize(
    "args,expected",
    [
        (["no.such", "--target", ACCOUNT], "NAME: no runbook named 'no.such'"),
        (["network.lock"], "--target: network.lock acts on a microsoft.cognitiveservices/accounts resource"),
        (["network.lock", "--target", ACCOUNT, "--param", "mode"], "--param: 'mode' is not key=value"),
        (["network.lock", "--target", ACCOUNT, "--param", "mode=open"], "--param mode"),
        (["network.lock", "--target", ACCOUNT.replace("contoso-openai-prod", "nope")], "not_found"),
        (["network.lock", "--target", ACCOUNT, "--tenant", "/nonexistent/tenant.yaml"], "--tenant: /nonexistent/tenant.yaml is not a file"),
        (["keys.rotate", "--target", DEV], "tag contoso-openai-dev with firestop-key-secret="),  # the runbook refuses: dev has no secret
    ],
)
def test_run_bad_input_exits_2_with_one_line(firestop_home, args, expected):
    result = cli("runbook", "run", *args, "--yes")
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert result.output.strip().startswith("error:") and not [r for r in tenant(firestop_home).requests if r.method in WRITES]


def test_tenant_file_seeds_the_sandbox_for_plan_and_run(firestop_home, tmp_path):
    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    dev = next(a for a in spec["accounts"] if a["name"] == "contoso-openai-dev")
    dev["tags"]["firestop-key-secret"] = "https://kv-contoso-ai.vault.azure.net/secrets/openai-api-key-dev"
    spec["vaults"][0]["secrets"].append({"name": "openai-api-key-dev", "value_from": {"account": "contoso-openai-dev", "key": "key1"}})
    seed = tmp_path / "tenant.yaml"
    seed.write_text(yaml.safe_dump(spec))
    plan = cli("runbook", "plan", "keys.rotate", "--target", DEV, "--tenant", str(seed), "--json")
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["result"]["before"]["secret_name"] == "openai-api-key-dev"
    run = cli("runbook", "run", "keys.rotate", "--target", DEV, "--tenant", str(seed), "--yes", "--json")
    assert run.exit_code == 0, run.output
    assert tenant(firestop_home).secret_versions("kv-contoso-ai", "openai-api-key-dev")[-1]["value"] == \
        tenant(firestop_home).account_keys(DEV)["key2"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("accounts: [")
    (firestop_home / "other").mkdir()
    other = cli("runbook", "plan", "network.lock", "--target", ACCOUNT, "--tenant", str(broken))
    assert other.exit_code == 0  # the sandbox already has state: the tenant file only seeds an empty one


def test_bad_tenant_file_on_an_empty_sandbox_exits_2(firestop_home, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("- just a list of nothing\n")
    result = cli("runbook", "plan", "network.lock", "--target", ACCOUNT, "--tenant", str(broken))
    assert result.exit_code == 2 and "--tenant:" in result.output and "not a valid tenant file" in result.output


# --azure: only the refusal and confirmation paths (azure_environment fails if built) --------------

def test_run_azure_json_without_yes_is_refused_and_builds_nothing(firestop_home, azure_calls):
    result = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--azure", "--json")
    assert result.exit_code == 2 and "--yes" in json.loads(result.stdout)["error"]
    assert azure_calls == []


def test_run_azure_checks_the_sign_in_before_asking(firestop_home, azure_calls):
    """leftovers9 item 8: the environment (and its sign-in check) comes first, so a responder with no usable sign-in is
    told so before being asked to confirm anything; nothing is applied before the answer either way."""
    declined = cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--azure", input="n\n")
    assert declined.exit_code == 1 and "no Azure in tests" in declined.output and "REAL Azure" not in declined.output
    assert len(azure_calls) == 1
    assert cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--azure", "--yes").exit_code == 1
    assert len(azure_calls) == 2
    assert not (firestop_home / "sandbox").exists()  # --azure never falls back to the sandbox


def test_plan_azure_reads_without_asking_and_refuses_a_tenant_file(firestop_home, tmp_path, azure_calls):
    result = cli("runbook", "plan", "network.lock", "--target", ACCOUNT, "--azure")
    assert result.exit_code == 1 and "no Azure in tests" in result.output and "[y/N]" not in result.output
    assert len(azure_calls) == 1
    seed = tmp_path / "tenant.yaml"
    seed.write_text("{}")
    for command in ("plan", "run"):
        both = cli("runbook", command, "network.lock", "--target", ACCOUNT, "--azure", "--tenant", str(seed), *(["--yes"] if command == "run" else []))
        assert both.exit_code == 2 and "--tenant: a sandbox tenant file makes no sense with --azure" in both.output
    assert len(azure_calls) == 1
    assert cli("runbook", "plan", "network.lock", "--target", ACCOUNT).exit_code == 0  # the sandbox, not Azure
    assert len(azure_calls) == 1


def test_undo_preview_shows_nsg_rules_as_a_responder_reads_them_and_json_keeps_them_raw(firestop_home):
    """The preview of undoing network.block_ips lists the rules it restores one a line (name, direction, priority,
    access, protocol, source → destination, ports), not ARM's JSON; --json carries the recorded rules unchanged."""
    run = cli("runbook", "run", "network.block_ips", "--target", NSG, "--param", 'ips=["203.0.113.7"]', "--yes", "--json")
    assert run.exit_code == 0, run.output
    run_id = next(line.split("runbook undo ", 1)[1] for line in cli("runbook", "run", "network.block_ips", "--target", NSG,
                  "--param", 'ips=["203.0.113.8"]', "--yes").output.splitlines() if "runbook undo " in line).strip()
    preview = cli("runbook", "undo", run_id, input="n\n")
    assert preview.exit_code == 2, preview.output
    out = preview.output
    assert f"on {NSG}: restore:\n  securityRules: 2 rules\n" in out, out
    assert "    allow-https-from-gateway: Inbound, priority 200, Allow Tcp from 198.51.100.0/24 to any, port 443\n" in out, out
    assert "Inbound, priority 100, Deny any protocol from 203.0.113.7/32 to any, any port" in out, out
    assert '"properties"' not in out and "provisioningState" not in out
    plan = cli("runbook", "plan", "network.block_ips", "--target", NSG, "--param", 'ips=["203.0.113.9"]')
    assert "State now:\n  securityRules: 3 rules\n" in plan.output and '"properties"' not in plan.output, plan.output
    raw = json.loads(cli("runbook", "plan", "network.block_ips", "--target", NSG, "--param", 'ips=["203.0.113.9"]', "--json").stdout)
    gateway = next(r for r in raw["result"]["before"]["securityRules"] if r["name"] == "allow-https-from-gateway")
    assert gateway["properties"]["sourceAddressPrefix"] == "198.51.100.0/24"  # --json: ARM's form, unchanged


def _rule_names(firestop_home) -> set[str]:
    from firestop.sandbox import Tenant

    return {r["name"] for r in Tenant.open(firestop_home / "sandbox").resource(NSG)["properties"]["securityRules"]}


def test_undo_of_a_manual_block_ips_run_removes_its_deny_rule(firestop_home):
    """New user 13: ``runbook undo`` of a ``runbook run network.block_ips`` answered "the step's rules are already
    gone; nothing changed", exit 0, and marked the run undone while its deny rule stayed on the NSG: the manual run's
    ledger entry kept no ``artifacts`` (the rule names the undo deletes), so the undo looked for no rule. The
    responder believed the IP unblocked, and the run could not be undone again."""
    before = _rule_names(firestop_home)
    run = cli("runbook", "run", "network.block_ips", "--target", NSG, "--param", 'ips=["203.0.113.99"]', "--yes", "--json")
    assert run.exit_code == 0, run.output
    added = _rule_names(firestop_home) - before
    assert len(added) == 1, added
    undo = cli("runbook", "undo", json.loads(run.stdout)["run_id"], "--yes", "--json")
    assert undo.exit_code == 0, undo.output
    assert _rule_names(firestop_home) == before, undo.output  # the run's rule is gone, nothing else touched
    assert "already gone" not in undo.output and next(iter(added)) in undo.output


def test_a_plan_names_the_deny_rule_the_run_then_creates(firestop_home):
    """New user 13: ``runbook plan network.block_ips`` showed ``securityRules.firestop-manual-203.0.113.98_32: null → …``
    while ``runbook run`` created ``firestop-manual-2026-11-29-203.0.113.98_32``: the plan ran for incident id
    "manual", the run for its manual-<date> ledger. A plan is what the run will do, names included."""
    plan = cli("runbook", "plan", "network.block_ips", "--target", NSG, "--param", "ips=203.0.113.98", "--json")
    assert plan.exit_code == 0, plan.output
    planned = {c["field"].removeprefix("securityRules.") for c in json.loads(plan.stdout)["result"]["changes"]}
    before = _rule_names(firestop_home)
    run = cli("runbook", "run", "network.block_ips", "--target", NSG, "--param", "ips=203.0.113.98", "--yes", "--json")
    assert run.exit_code == 0, run.output
    assert _rule_names(firestop_home) - before == planned == {f"firestop-{INCIDENT}-203.0.113.98_32"}


NOT_YAML = (REPO_ROOT / "README.md").read_text()  # the README given as --tenant: not YAML


@pytest.mark.parametrize("command", [
    ("sandbox", "reset"),
    ("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json")),
    ("audit", "run"),
    ("runbook", "plan", "network.lock", "--target", ACCOUNT),
], ids=["sandbox-reset", "alert-handle", "audit-run", "runbook-plan"])
@pytest.mark.parametrize("content, says", [
    (NOT_YAML, "not valid YAML"),  # yaml's ScannerError was "internal error", exit 1, on every command
    ('{"schemaId": "azureMonitorCommonAlertSchema", "data": {}}', "missing key 'clock'"),  # an alert, not a tenant
], ids=["readme", "alert-json"])
def test_a_file_that_is_not_a_tenant_is_bad_input_naming_tenant_and_the_format(firestop_home, tmp_path, command,
                                                                               content, says):
    """newuser16: ``--tenant README.md`` answered ``error: internal error: ScannerError: mapping values are not
    allowed in this context`` (exit 1) from sandbox reset, alert handle, audit run and runbook plan alike, and
    ``sandbox reset --tenant <an alert payload>`` said only ``is not a valid tenant file: 'clock'``."""
    bad = tmp_path / ("tenant.json" if content.startswith("{") else "README.md")
    bad.write_text(content)
    result = cli(*command, "--tenant", str(bad))
    assert result.exit_code == 2, result.output
    line = " ".join(result.output.split())
    assert line.startswith(f"error: --tenant: {bad} is not a valid tenant file") and says in line, line
    assert "firestop/sandbox/default_tenant.yaml" in line and "Traceback" not in result.output

"""``python -m firestop infra``: parameters generated from the playbooks, scopes checked, errors name the flag."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .conftest import ENTRA_CLIENT_ID, generated_parameters

SHIPPED_FLAGS = ["--account", "rg-ai-prod/contoso-openai-prod", "--account", "rg-ai-dev/contoso-openai-dev",
                 "--nsg", "rg-ai-prod/nsg-ai-apps", "--key-vault", "rg-ai-prod/kv-contoso-ai", "--workspace", "rg-ai-prod/law-contoso-sec",
                 "--sentinel-workspace", "rg-ai-prod/law-contoso-sec", "--apim", "rg-ai-prod/apim-contoso-ai"]


def run(*args: str):
    return CliRunner().invoke(app, ["infra", *args])


def test_cli_output_is_what_the_deployment_tests_deploy(firestop_home):
    result = run(*SHIPPED_FLAGS, "--entra-client-id", ENTRA_CLIENT_ID, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == generated_parameters()


def test_shipped_parameters_file_is_the_generators_output(firestop_home):
    """infra/azuredeploy.parameters.json is regenerated, never edited: it matches the playbooks of today."""
    shipped = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    result = run(*SHIPPED_FLAGS, "--entra-client-id", shipped["parameters"]["entraClientId"]["value"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == shipped, "regenerate: python -m firestop infra " + " ".join(SHIPPED_FLAGS) + " --entra-client-id <id> --out infra/azuredeploy.parameters.json"


def test_role_follows_the_playbooks(firestop_home, tmp_path):
    """A playbook folder that only locks the network needs no key or secret rights."""
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "lock.yaml").write_text((REPO_ROOT / "playbooks" / "public-network-exposure.yaml").read_text())
    result = run("--account", "rg-ai-dev/contoso-openai-dev", "--playbooks", str(folder), "--json")
    assert result.exit_code == 3, result.output  # entraClientId & co. still needed
    params = json.loads(result.stdout)["parameters"]
    assert "Microsoft.CognitiveServices/accounts/regenerateKey/action" not in params["customRoleActions"]["value"]
    assert "Microsoft.CognitiveServices/accounts/write" in params["customRoleActions"]["value"]
    assert params["protectedResources"]["value"] == [{"resourceGroup": "rg-ai-dev", "resource": "Microsoft.CognitiveServices/accounts/contoso-openai-dev"}]


def test_unknown_or_missing_scopes_exit_2_naming_the_flag(firestop_home):
    cases = [
        ((), "--account: no protected scope given"),
        (("--account", "rg-ai-prod/no-such-account"), "--account: no Azure OpenAI account 'no-such-account'"),
        (("--account", "rg-nope/x"), "--account: resource group 'rg-nope' does not exist"),
        (("--resource-group", "rg-missing"), "--resource-group: resource group 'rg-missing' does not exist"),
        (("--nsg", "rg-ai-prod/nsg-missing"), "--nsg: no network security group 'nsg-missing'"),
        (("--account", "not a scope"), "--account: 'not a scope' is not <resource group>/<name>"),
        (("--account", "../contoso-openai-prod"), "--account: '../contoso-openai-prod' is not <resource group>/<name>"),
        (("--account", "rg-ai-prod/x", "--resource-group", ".."), "--resource-group: '..' is not a resource group name"),
        (("--subscription", "nope", "--account", "rg-ai-prod/contoso-openai-prod"), "--subscription: 'nope' is not a subscription ID"),
        (("--account", "/subscriptions/99999999-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"), "is in subscription 99999999"),
        (("--azure", "--account", "rg-ai-prod/contoso-openai-prod"), "--subscription: required with --azure"),
    ]
    for args, message in cases:
        result = run(*args, "--json")
        assert result.exit_code == 2, (args, result.output)
        assert message in json.loads(result.output)["error"], (args, result.output)


def test_still_needed_exits_3_and_names_each_on_stderr(firestop_home, tmp_path):
    """A parameters file missing what only the operator knows is not "done": exit 3 (needs a responder),
    each missing parameter named with how to get it; complete, it is exit 0."""
    out = tmp_path / "p.json"
    for extra in ((), ("--json",)):
        result = run("--account", "rg-ai-prod/contoso-openai-prod", "--out", str(out), *extra)
        assert result.exit_code == 3, result.output
        assert "Still needed: entraClientId" in result.stderr and "Still needed: logWorkspaceId" in result.stderr
        # the playbooks write back to Sentinel and suspend APIM subscriptions: those scopes are named too
        assert "Still needed: sentinelWorkspaceId — " in result.stderr and "--sentinel-workspace" in result.stderr
        assert "Still needed: apimServiceIds — " in result.stderr and "--apim" in result.stderr
        assert "defenderResourceGroups" not in result.stderr  # the --account's group is where its alerts are
        assert "Still needed" not in result.stdout
        assert json.loads(out.read_text())["parameters"]["protectedResources"]
    result = run(*SHIPPED_FLAGS, "--entra-client-id", ENTRA_CLIENT_ID, "--out", str(out))
    assert result.exit_code == 0 and "Still needed" not in result.output


def test_write_back_scopes_are_checked_and_named_by_their_flag(firestop_home):
    cases = [
        (("--sentinel-workspace", "nope"), "--sentinel-workspace: 'nope' is not <resource group>/<name>"),
        (("--apim", "rg-missing/apim-x"), "--apim: resource group 'rg-missing' does not exist"),
        (("--defender-resource-group", "bad name!"), "--defender-resource-group: 'bad name!' is not a resource group name"),
    ]
    for args, message in cases:
        result = run("--account", "rg-ai-prod/contoso-openai-prod", *args, "--json")
        assert result.exit_code == 2 and message in json.loads(result.stdout)["error"], (args, result.output)


def test_each_still_needed_line_names_the_flag_that_fills_it(firestop_home):
    """Every "Still needed" line names the template parameter and the exact infra flag; passing that flag (with the
    value the line describes) makes the line go away."""
    import re

    import typer.main

    flags = {opt for p in typer.main.get_command(app).commands["infra"].params for opt in p.opts}
    values = {"--entra-client-id": ENTRA_CLIENT_ID, "--key-vault": "rg-ai-prod/kv-contoso-ai",
              "--workspace": "rg-ai-prod/law-contoso-sec",
              "--sentinel-workspace": "rg-ai-prod/law-contoso-sec", "--apim": "rg-ai-prod/apim-contoso-ai"}
    args = ["--account", "rg-ai-prod/contoso-openai-prod"]
    lines = [line for line in run(*args).stderr.splitlines() if line.startswith("Still needed: ")]
    assert len(lines) == 5, lines
    for line in lines:
        found = re.match(r"Still needed: (\w+) — pass (--[a-z-]+) <[^>]+>.*\(or set parameters\.\1\.value in the file\)$", line)
        assert found and found.group(2) in flags, line
        name, flag = found.groups()
        again = run(*args, flag, values[flag])
        assert f"Still needed: {name} " not in again.stderr and "Still needed: " in again.stderr, (flag, again.stderr)
    done = run(*args, *[x for flag, value in values.items() for x in (flag, value)])
    assert done.exit_code == 0 and "Still needed" not in done.stderr, done.stderr


WORKSPACE_ID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"  # law-contoso-sec's customerId in the sandbox seed


def test_the_workspace_id_is_read_from_the_workspace_not_asked_for(firestop_home):
    """--workspace alone fills logWorkspaceId with the workspace's customerId read through ARM (Workspaces_Get); nothing
    is still needed for it."""
    result = run("--account", "rg-ai-prod/contoso-openai-prod", "--workspace", "rg-ai-prod/law-contoso-sec",
                 "--entra-client-id", ENTRA_CLIENT_ID, "--key-vault", "rg-ai-prod/kv-contoso-ai", "--json")
    assert json.loads(result.stdout)["parameters"]["logWorkspaceId"] == {"value": WORKSPACE_ID}
    assert "logWorkspaceId" not in result.stderr and "--log-workspace-id" not in result.stderr
    # the same ID given as well is accepted; without --workspace, --log-workspace-id alone still fills it
    again = run("--account", "rg-ai-prod/contoso-openai-prod", "--workspace", "rg-ai-prod/law-contoso-sec",
                "--log-workspace-id", WORKSPACE_ID.upper(), "--json")
    assert json.loads(again.stdout)["parameters"]["logWorkspaceId"] == {"value": WORKSPACE_ID.upper()}, again.output
    alone = run("--account", "rg-ai-prod/contoso-openai-prod", "--log-workspace-id", WORKSPACE_ID, "--json")
    assert json.loads(alone.stdout)["parameters"]["logWorkspaceId"] == {"value": WORKSPACE_ID}


def test_workspace_id_errors_name_the_flag_and_the_fix(firestop_home):
    cases = [
        (("--workspace", "rg-ai-prod/law-missing"), "--workspace: no Log Analytics workspace 'law-missing' in resource group 'rg-ai-prod'"),
        (("--workspace", "rg-ai-prod/law-contoso-sec", "--log-workspace-id", "11111111-2222-3333-4444-555555555555"),
         "--log-workspace-id: 11111111-2222-3333-4444-555555555555 is not the ID of --workspace rg-ai-prod/law-contoso-sec "
         f"(ARM: {WORKSPACE_ID}); drop --log-workspace-id"),
        (("--log-workspace-id", "law-contoso-sec"), "--log-workspace-id: 'law-contoso-sec' is not a workspace ID (a GUID); drop it and pass --workspace"),
        (("--log-workspace-id", '"; drop'), "--log-workspace-id: "),
    ]
    for args, message in cases:
        result = run("--account", "rg-ai-prod/contoso-openai-prod", *args, "--json")
        assert result.exit_code == 2, (args, result.output)
        assert message in json.loads(result.stdout)["error"], (args, result.output)


def test_a_workspace_the_caller_may_not_read_names_the_flag_that_replaces_the_read(firestop_home):
    """ARM answers 403 to a caller without Microsoft.OperationalInsights/workspaces/read: exit 2 naming --workspace, why,
    and --log-workspace-id as the way round (the sandbox enforces a role without that action)."""
    from firestop.infra import scopes as S
    from firestop.sandbox import Tenant

    from .conftest import factory

    tenant = Tenant.load()
    tenant.enforce_role({"Name": "no workspace read", "AssignableScopes": [f"/subscriptions/{tenant.subscription_id}"],
                         "Actions": ["Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.CognitiveServices/*/read"]})
    nobody = factory(tenant)
    parsed = S.parse(subscription=tenant.subscription_id, resource_groups=[], accounts=["rg-ai-prod/contoso-openai-prod"],
                     key_vault=None, key_secret_name="openai-api-key", workspace="rg-ai-prod/law-contoso-sec")
    try:
        S.check(parsed, nobody)
    except S.ScopeError as exc:
        assert exc.flag == "--workspace" and "403" in exc.message and "--log-workspace-id <GUID>" in exc.message, exc.message
    else:
        raise AssertionError("a workspace that cannot be read was taken as read")

"""``python -m firestop infra deploy``: infra/azuredeploy.json deployed into the sandbox tenant under FIRESTOP_HOME through
azure-mgmt-resource (the sandbox as the SDK's transport), exit codes per README, --json, errors naming the flag."""

from __future__ import annotations

import json

import pytest

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.infra.grants import held
from firestop.sandbox import Tenant

from .conftest import TEMPLATE_PATH, factory


def deploy(*args: str):
    return CliRunner().invoke(app, ["infra", "deploy", *args])


def _tenant(home) -> Tenant:
    return Tenant.open(home / "sandbox")


def test_deploys_the_template_into_the_sandbox_through_the_sdk_and_never_shows_a_secret(firestop_home):
    result = deploy("--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["provisioning_state"], out["resource_group"], out["deployment"], out["first"]) == ("Succeeded", "rg-ai-prod", "firestop", True)
    # empty, the template would deploy no action group, no seal key; the digest of the one under the other (events17)
    assert out["generated"] == ["alertsFunctionKey", "sealKey", "alertsKeyDigest"]
    tenant = _tenant(firestop_home)
    # what azure-mgmt-resource sent: the deployment PUT, answered by the sandbox's ARM deployments route
    puts = [r for r in tenant.requests if r.operation == "templateDeployments.createOrUpdate"]
    assert [(r.method, r.status) for r in puts] == [("PUT", 201)] and puts[0].api_version
    # the deployment is live in the sandbox: the identity holds the custom role at the protected scopes
    grants = held(factory(tenant), tenant.subscription_id, out["outputs"]["identityPrincipalId"])
    assert {g.role["roleName"] for g in grants if g.role is not None} >= {"Firestop responder"}
    deployed = tenant._state.doc["deployed_resources"]  # noqa: SLF001 — inspection of what the sandbox recorded
    assert any(r["type"] == "Microsoft.Web/sites" for r in deployed.values()) and set(out["resources"]) >= {
        r["id"] for r in deployed.values() if r["type"] in ("Microsoft.Web/sites", "Microsoft.KeyVault/vaults")}
    # the generated secrets reached the sandbox and were shown nowhere
    (group,) = [r for r in deployed.values() if r["type"] == "Microsoft.Insights/actionGroups"]
    code = group["properties"]["webhookReceivers"][0]["serviceUri"].split("?code=", 1)[1]
    secrets = {r["name"].rsplit("/", 1)[-1]: r for r in deployed.values() if r["type"] == "Microsoft.KeyVault/vaults/secrets"}
    assert set(secrets) == {"firestop-seal-key", "firestop-alerts-key-digest", "firestop-seal-key-retired"}
    # deploy18: no retired key yet, said so; the app setting always references the secret
    assert out["seal_key_retired"] == "initialised" and secrets["firestop-seal-key-retired"]["properties"]["value"] == "none"
    seal = secrets["firestop-seal-key"]["properties"]["value"]
    assert len(code) >= 40 and len(seal) >= 40
    for text in (result.output, result.stderr):
        assert code not in text and seal not in text
    # the digest the audit compares the action group's code with: of that code under that seal key, never the code
    from firestop.trust.alerts_key import KeyMatch, compare
    from firestop.trust.seal import SealKey

    digest = secrets["firestop-alerts-key-digest"]["properties"]["value"]
    assert code not in digest and seal not in digest
    assert compare(code, digest, key=SealKey(seal, "test")) is KeyMatch.MATCHES
    assert compare(code + "x", digest, key=SealKey(seal, "test")) is KeyMatch.DIFFERS


def test_a_second_deploy_changes_nothing_and_keeps_the_secrets(firestop_home):
    assert deploy().exit_code == 0
    tenant = _tenant(firestop_home)
    assignments = json.dumps(tenant._state.doc["role_assignments"], sort_keys=True)  # noqa: SLF001
    preview = deploy("--what-if", "--json")
    assert preview.exit_code == 0, preview.output
    changes = json.loads(preview.stdout)
    assert changes["what_if"] is True and changes["generated"] == [] and changes["changes"]
    assert {c["change_type"] for c in changes["changes"]} == {"NoChange"}  # nested deployments too (kept as ARM keeps them)
    # the text says what kind of change: an unchanged resource is not counted as a "change" (new-user trial 8)
    shown = deploy("--what-if")
    assert shown.exit_code == 0, shown.output
    header = shown.output.splitlines()[0]
    kinds = {}
    for c in changes["changes"]:
        kinds[c["change_type"]] = kinds.get(c["change_type"], 0) + 1
    assert f"{len(changes['changes'])} resource(s) (" in header and f"{kinds['NoChange']} NoChange" in header and "change(s)" not in header
    again = deploy("--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["generated"] == [] and json.loads(again.stdout)["first"] is False
    assert json.loads(again.stdout)["seal_key_retired"] == "kept"  # read from the vault: the secret is there
    assert json.dumps(_tenant(firestop_home)._state.doc["role_assignments"], sort_keys=True) == assignments  # noqa: SLF001
    text = deploy()
    assert text.exit_code == 0 and "Succeeded" in text.output and "identityPrincipalId" in text.output
    # fewer resources than the first deployment listed, and the text says why (README: deploying again changes nothing)
    said = " ".join(text.output.split())
    assert f"{len(json.loads(again.stdout)['resources'])} resources (deploying again:" in said and "left as it made them" in said


def test_bad_input_exits_2_naming_the_flag(firestop_home, tmp_path):
    not_json = tmp_path / "not.json"
    not_json.write_text("{nope")
    not_params = tmp_path / "not-params.json"
    not_params.write_text(json.dumps({"customRoleName": "x"}))
    typo = tmp_path / "typo.json"
    typo.write_text(TEMPLATE_PATH.read_text().replace("[parameters('immutabilityDays')]", "[parameters('immutabiltyDays')]", 1))
    line = next(i for i, text in enumerate(typo.read_text().splitlines(), 1) if "immutabiltyDays" in text)
    cases = [
        (("--parameters", str(tmp_path / "missing.json")), "is not a file; give the path of an existing JSON file"),
        (("--template", str(tmp_path / "missing.json")), "--template: "),
        (("--template", str(tmp_path / "missing.json")), "(the shipped template is infra/azuredeploy.json, the default)"),
        (("--parameters", str(not_json)), "--parameters: "),
        (("--parameters", str(not_params)), "--parameters: not an ARM parameters file"),
        (("--template", str(not_json)), "--template: "),
        (("--resource-group", "rg-nope"), "--resource-group: no resource group 'rg-nope'"),
        (("--name", "a b"), "--name: 'a b' is not a deployment name"),
        # the template's own text is sent, so the line ARM names is the file's line
        (("--template", str(typo)), "--template/--parameters: ARM refused the deployment (400 InvalidTemplate): "
                                    f"Deployment template validation failed: 'The template value 'resources[9].properties."
                                    f"immutabilityPeriodSinceCreationInDays' at line '{line}'"),
    ]
    for args, message in cases:
        result = deploy(*args, "--json")
        assert result.exit_code == 2, (args, result.output)
        assert message in json.loads(result.stdout)["error"], (args, result.output)
    assert not _tenant(firestop_home)._state.doc.get("deployed_resources")  # noqa: SLF001 — refused whole: nothing deployed
    mixed = CliRunner().invoke(app, ["infra", "--account", "rg-ai-prod/contoso-openai-prod", "deploy", "--json"])
    assert mixed.exit_code == 2 and json.loads(mixed.stdout)["error"].startswith("--account: a flag of infra itself")


def test_infra_without_a_sub_command_still_generates_the_parameters(firestop_home):
    result = CliRunner().invoke(app, ["infra", "--account", "rg-ai-prod/contoso-openai-prod", "--json"])
    assert result.exit_code == 3 and json.loads(result.stdout)["parameters"]["protectedResources"]


def test_a_later_deploy_gives_none_only_when_the_vault_has_no_retired_keys_secret(firestop_home):
    """deploy18: infra deploy reads what is there. An app deployed with a template from before deploy18 that never
    rotated has no firestop-seal-key-retired (stand-in: the secret's record removed); the next deploy initialises it
    with 'none' and says so, where with the secret there it keeps it (test above)."""
    assert deploy().exit_code == 0
    tenant = _tenant(firestop_home)
    deployed = tenant._state.doc["deployed_resources"]  # noqa: SLF001
    (key,) = [k for k, r in deployed.items() if k.endswith("/secrets/firestop-seal-key-retired")]
    del deployed[key]
    tenant.save()
    again = deploy("--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["seal_key_retired"] == "initialised"
    assert json.loads(deploy("--json").stdout)["seal_key_retired"] == "kept"
    # an empty sealKeyRetired in the parameters file is the template's "keep" too, never written
    from firestop.settings import REPO_ROOT

    doc = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    doc["parameters"]["sealKeyRetired"] = {"value": ""}
    path = firestop_home.parent / "empty-retired.parameters.json"
    path.write_text(json.dumps(doc))
    assert json.loads(deploy("--parameters", str(path), "--json").stdout)["seal_key_retired"] == "kept"


@pytest.mark.parametrize("value", [
    "[parameters('sealKeyRetired')]",                       # the parameter itself: the keys in the app setting
    "old-key-" + "x" * 40,                                  # a literal key
    "[if(true(), parameters('sealKey'), format('@Microsoft.KeyVault(SecretUri=https://{0}/secrets/s)', parameters('vaultName')))]",
])
def test_a_template_writing_a_seal_key_into_an_app_setting_is_refused(firestop_home, tmp_path, value):
    """deploy18: the app-settings writer never puts a key in an app setting: infra deploy refuses a template whose
    Function App would carry FIRESTOP_SEAL_KEY_RETIRED as anything but a Key Vault reference (exit 2, nothing sent)."""
    from tests.infra.conftest import template

    doc = template()
    (site,) = [r for r in doc["resources"] if r["type"] == "Microsoft.Web/sites"]
    for setting in site["properties"]["siteConfig"]["appSettings"]:
        if setting["name"] == "FIRESTOP_SEAL_KEY_RETIRED":
            setting["value"] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    result = deploy("--template", str(path), "--json")
    assert result.exit_code == 2, result.output
    assert "FIRESTOP_SEAL_KEY_RETIRED" in json.loads(result.stdout)["error"] and "x" * 40 not in result.output
    assert not [r for r in _tenant(firestop_home).requests if r.operation == "templateDeployments.createOrUpdate"]


def test_a_later_deploy_with_a_new_seal_key_and_no_retired_keys_is_refused(firestop_home, tmp_path):
    """deploy18: a rotation that forgets sealKeyRetired drops the stored key from the ring (its ledgers, tokens and
    trusted rules stop verifying) — refused before anything is sent, naming both ways out (fails before: deployed)."""
    from firestop.settings import REPO_ROOT

    assert deploy().exit_code == 0
    doc = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    doc["parameters"]["sealKey"] = {"value": "new-" + "n" * 40}
    path = tmp_path / "rotate.parameters.json"
    path.write_text(json.dumps(doc))
    refused = deploy("--parameters", str(path), "--json")
    assert refused.exit_code == 2 and "sealKeyRetired" in json.loads(refused.stdout)["error"] and "n" * 40 not in refused.output
    doc["parameters"]["sealKeyRetired"] = {"value": "old-" + "o" * 40}
    path.write_text(json.dumps(doc))
    rotated = deploy("--parameters", str(path), "--json")
    assert rotated.exit_code == 0 and json.loads(rotated.stdout)["seal_key_retired"] == "given"

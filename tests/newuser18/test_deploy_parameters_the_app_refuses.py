"""newuser18: README "Deploy to Azure" step 4 names the new template parameters (publicUrl, auditSchedule,
keyVaultAllowedUrls, entraTenantId, auditResourceGroups, …) and step 5 says the app validates its settings at start:
"a wrong or missing one stops it". ``infra deploy`` (the sandbox rehearsal of step 4) deployed a value the app refuses
— ``publicUrl=http://evil.example/path?x``, ``auditSchedule="every monday"`` — with exit 0 (``--what-if`` too), and
``doctor --app`` then said nothing: the first sign would have been an app that does not start after ``publish``.
``infra deploy`` now checks the settings the parameters would write with :mod:`firestop.settings`'s own checks and
refuses, exit 2, naming the parameter, the setting and the fix; nothing is deployed.

Fails before: each bad value deploys, exit 0."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT

PARAMS = REPO_ROOT / "infra" / "azuredeploy.parameters.json"


def _file(tmp_path, **values) -> str:
    doc = json.loads(PARAMS.read_text())
    doc["parameters"].update({name: {"value": value} for name, value in values.items()})
    path = tmp_path / "my.parameters.json"
    path.write_text(json.dumps(doc))
    return str(path)


@pytest.mark.parametrize("parameter, value, setting", [
    ("publicUrl", "http://evil.example/path?x", "FIRESTOP_PUBLIC_URL"),
    ("auditSchedule", "every monday", "FIRESTOP_AUDIT_SCHEDULE"),
    ("keyVaultAllowedUrls", ["http://notavault"], "FIRESTOP_KEY_VAULT_ALLOWED_URLS"),
    ("entraTenantId", "not-a-guid", "FIRESTOP_TENANT_ID"),
    ("auditResourceGroups", ["../bad rg"], "FIRESTOP_AUDIT_RESOURCE_GROUPS"),
])
def test_a_parameter_value_the_app_would_refuse_at_start_is_refused_before_deploying(firestop_home, tmp_path, parameter,
                                                                                     value, setting):
    path = _file(tmp_path, **{parameter: value})
    for extra in (("--what-if",), ()):
        result = CliRunner().invoke(app, ["infra", "deploy", "--parameters", path, "--json", *extra])
        assert result.exit_code == 2, (extra, result.output)
        error = json.loads(result.stdout)["error"]
        assert error.startswith("--parameters: ") and parameter in error and setting in error, error
    assert not Tenant.open(firestop_home / "sandbox")._state.doc.get("deployed_resources")  # noqa: SLF001 — nothing deployed


def test_good_values_of_the_new_parameters_deploy(firestop_home, tmp_path):
    path = _file(tmp_path, publicUrl="https://firestop.contoso.com", auditSchedule="0 0 6 * * 2",
                 keyVaultAllowedUrls=["https://kv-other.vault.azure.net"], entraTenantId="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                 auditResourceGroups=["rg-ai-prod"], evidenceMaxWindowSeconds=7200, logFormat="json",
                 roleTable={"principals": {"oid-x": ["responder"]}, "groups": {}})
    result = CliRunner().invoke(app, ["infra", "deploy", "--parameters", path, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["provisioning_state"] == "Succeeded"


SECRET = "s" * 43


@pytest.mark.parametrize("retired, said", [
    ("short none", "retired key 1 must be at least 32 characters"),
    (" ".join(c * 43 for c in "abcd"), "holds 4 retired keys"),
])
def test_a_retired_seal_keys_value_the_app_would_refuse_is_refused_before_deploying(firestop_home, tmp_path, retired, said):
    """README "Rotating the seal key" step 2 deploys sealKey and sealKeyRetired="$OLD $RETIRED": a retired key cut short
    by a copy-paste, or a fourth one kept, went into the vault (exit 0) and the app, reading it through its Key Vault
    reference, would refuse to start. Refused now, exit 2, naming sealKeyRetired and never the value. Fails before:
    deployed, exit 0."""
    assert CliRunner().invoke(app, ["infra", "deploy"]).exit_code == 0  # the first deployment
    path = _file(tmp_path, sealKey=SECRET, sealKeyRetired=retired)
    result = CliRunner().invoke(app, ["infra", "deploy", "--parameters", path, "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert "sealKeyRetired (the app setting FIRESTOP_SEAL_KEY_RETIRED)" in error and said in error, error
    assert "short" not in error and "a" * 43 not in error and SECRET not in error, error


def test_a_rotation_as_readme_gives_it_deploys(firestop_home, tmp_path):
    assert CliRunner().invoke(app, ["infra", "deploy"]).exit_code == 0
    path = _file(tmp_path, sealKey=SECRET, sealKeyRetired="o" * 43 + " none")
    result = CliRunner().invoke(app, ["infra", "deploy", "--parameters", path, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["seal_key_retired"] == "given"

"""deploy18: every setting the app reads is written by infra/azuredeploy.json or listed as left out, with the reason.

Before, the template left FIRESTOP_TENANT_ID, FIRESTOP_PUBLIC_URL, FIRESTOP_AUDIT_RESOURCE_GROUPS,
FIRESTOP_KEY_VAULT_ALLOWED_URLS, FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS, FIRESTOP_AUDIT_SCHEDULE, FIRESTOP_ROLES and
FIRESTOP_LOG_FORMAT unset — and one set by hand was dropped by the next deployment (a deployment writes the site's
app settings whole). These tests fail before: those names are in neither list of firestop.infra.app_settings, and the
deployed site had none of them.

The names the app reads are found in the code (every string literal of a setting's shape in firestop/, runbooks/ and
function_app.py), so the next new setting fails here until it is placed."""

from __future__ import annotations

import ast
import json
import re

from firestop.infra.app_settings import FROM_TEMPLATE, LEFT_OUT, PLATFORM, missing_on_azure, template_app_settings
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT, SETTINGS, check_environment

from .conftest import factory, generated_parameters, template

#: The shapes of an environment variable the app, the Functions host, App Service or azure-identity reads.
SETTING_NAME = re.compile(r"(FIRESTOP_[A-Z0-9_]*[A-Z0-9]|WEBSITE_[A-Z_]+|AZURE_[A-Z_]+|APPLICATIONINSIGHTS_[A-Z_]+|"
                          r"AzureWebJobs[A-Za-z_]*|FUNCTIONS_[A-Z_]+|IDENTITY_[A-Z_]+|MSI_[A-Z_]+)")


def names_in_code() -> set[str]:
    found: set[str] = set()
    paths = [*(REPO_ROOT / "firestop").rglob("*.py"), *(REPO_ROOT / "runbooks").rglob("*.py"), REPO_ROOT / "function_app.py"]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SETTING_NAME.fullmatch(node.value):
                found.add(node.value)
    return found


def test_every_setting_the_code_names_is_placed():
    registry = {s.name for s in SETTINGS}
    placed = registry | set(LEFT_OUT) | PLATFORM
    assert names_in_code() - placed == set(), "add it to firestop.settings.SETTINGS (and the template) or LEFT_OUT"
    assert {"FIRESTOP_TENANT_ID", "FIRESTOP_LOG_FORMAT", "WEBSITE_HOSTNAME"} <= names_in_code()  # the scan sees them


def test_every_setting_is_written_by_the_template_or_left_out_with_a_reason():
    local = {s.name for s in SETTINGS if s.required == "local"}
    on_azure = {s.name for s in SETTINGS} - local
    assert set(FROM_TEMPLATE) & set(LEFT_OUT) == set()
    assert on_azure - set(FROM_TEMPLATE) - set(LEFT_OUT) == set(), "a setting the app reads on Azure is neither written nor left out"
    assert all(len(why) > 40 for why in LEFT_OUT.values())
    written = template_app_settings(template())
    assert set(written) == set(FROM_TEMPLATE), "FROM_TEMPLATE must be exactly the template's app settings"
    assert set(written) & (local | PLATFORM) == set(), "the template writes a local-only or platform setting"
    for name in ("FIRESTOP_TENANT_ID", "FIRESTOP_PUBLIC_URL", "FIRESTOP_AUDIT_RESOURCE_GROUPS", "FIRESTOP_KEY_VAULT_ALLOWED_URLS",
                 "FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "FIRESTOP_AUDIT_SCHEDULE", "FIRESTOP_ROLES", "FIRESTOP_LOG_FORMAT"):
        assert name in written, name


def _deploy(**overrides) -> dict[str, str]:
    tenant = Tenant.load()
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": "s" * 43},
              "sealKeyRetired": {"value": "none"}, **{k: {"value": v} for k, v in overrides.items()}}
    result = factory(tenant).resources(tenant.subscription_id).deployments.begin_create_or_update(
        "rg-ai-prod", "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    assert result.properties.provisioning_state == "Succeeded"
    (site,) = [r for r in tenant._state.doc["deployed_resources"].values() if r["type"] == "Microsoft.Web/sites"]  # noqa: SLF001
    return {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}


def _resolved(settings: dict[str, str]) -> dict[str, str]:
    """What the app reads: App Service resolves the Key Vault references first (stand-in values)."""
    return {**settings, "FIRESTOP_SEAL_KEY": "x" * 43, "FIRESTOP_SEAL_KEY_RETIRED": "none",
            "FIRESTOP_ALERTS_KEY_DIGEST": "v1.0123abcd." + "A" * 43}


def test_the_defaults_deploy_safe_values_the_app_accepts(firestop_home):
    tenant_id = Tenant.load().tenant_id
    settings = _deploy()
    assert settings["FIRESTOP_TENANT_ID"] == tenant_id  # the deployment's tenant: only its callers are believed
    assert settings["FIRESTOP_PUBLIC_URL"] == ""  # unset: App Service's https://WEBSITE_HOSTNAME
    assert settings["FIRESTOP_AUDIT_RESOURCE_GROUPS"] == "" and settings["FIRESTOP_KEY_VAULT_ALLOWED_URLS"] == ""
    assert (settings["FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS"], settings["FIRESTOP_AUDIT_SCHEDULE"], settings["FIRESTOP_LOG_FORMAT"]) == (
        "3600", "0 0 5 * * 1", "text")
    assert json.loads(settings["FIRESTOP_ROLES"]) == {"principals": {}, "groups": {}}  # the Entra app roles alone
    assert check_environment(_resolved(settings), on_azure=True) == []
    assert missing_on_azure(settings) == []
    empty = {name for name, value in settings.items() if value == ""}
    assert empty <= {n for n, s in FROM_TEMPLATE.items() if s.may_be_empty}, "an always-set setting came out empty"


def test_the_parameters_reach_the_app_settings(firestop_home):
    roles = {"principals": {"0b6e2c55-9b1e-4b3a-8a4e-1f2d3c4b5a69": ["responder"]}, "groups": {}}
    settings = _deploy(publicUrl="https://firestop.contoso.com", auditResourceGroups=["rg-ai-prod", "rg-ai-dev"],
                       keyVaultAllowedUrls=["https://kv-team-a.vault.azure.net"], evidenceMaxWindowSeconds=7200,
                       auditSchedule="off", roleTable=roles, logFormat="json")
    assert settings["FIRESTOP_PUBLIC_URL"] == "https://firestop.contoso.com"
    assert settings["FIRESTOP_AUDIT_RESOURCE_GROUPS"] == "rg-ai-prod,rg-ai-dev"
    assert settings["FIRESTOP_KEY_VAULT_ALLOWED_URLS"] == "https://kv-team-a.vault.azure.net"
    assert (settings["FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS"], settings["FIRESTOP_AUDIT_SCHEDULE"], settings["FIRESTOP_LOG_FORMAT"]) == (
        "7200", "off", "json")
    assert json.loads(settings["FIRESTOP_ROLES"]) == roles
    assert check_environment(_resolved(settings), on_azure=True) == []


def test_a_bad_choice_is_refused_by_the_deployment_not_by_the_starting_app(firestop_home):
    from azure.core.exceptions import HttpResponseError

    for bad in ({"evidenceMaxWindowSeconds": 30}, {"logFormat": "xml"}):
        try:
            _deploy(**bad)
        except HttpResponseError as exc:
            assert next(iter(bad)) in str(exc)
        else:
            raise AssertionError(f"{bad} was deployed")


def test_doctor_on_azure_names_a_setting_the_template_writes_that_is_missing():
    settings = _resolved({n: "x" for n in FROM_TEMPLATE})
    assert missing_on_azure(settings) == []
    del settings["FIRESTOP_TENANT_ID"]
    del settings["FIRESTOP_PUBLIC_URL"]  # may be empty: App Service's own host name stands in
    (only,) = missing_on_azure(settings)
    assert only[0] == "FIRESTOP_TENANT_ID" and "entraTenantId" in only[1] and "redeploy" in only[1]


def test_doctor_settings_check_names_the_missing_one_on_azure_only(firestop_home):
    """doctor --azure, run where the app runs, reads the app's environment: a setting the template always writes and
    a hand edit removed is a problem naming the parameter to deploy it with; locally nothing is required."""
    from firestop.infra.doctor import check_settings

    settings = _resolved(_deploy())
    settings["FIRESTOP_PLAYBOOKS"] = str(REPO_ROOT / "playbooks")
    settings["WEBSITE_SITE_NAME"] = "firestop-app"  # where the app runs (review18 R18-04: not a laptop's --azure)
    assert check_settings(settings, on_azure=True)["status"] == "ok"
    del settings["FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS"]
    found = check_settings(settings, on_azure=True)
    assert found["status"] == "problem" and [p["setting"] for p in found["problems"]] == ["FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS"]
    assert "evidenceMaxWindowSeconds" in found["detail"]
    assert check_settings(settings, on_azure=False)["status"] == "ok"


def test_the_readme_on_azure_table_is_the_registry():
    from firestop.infra.app_settings import deployment_table

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert deployment_table() in readme, "regenerate README's On Azure table: python -c \"from firestop.infra.app_settings " \
        "import deployment_table; print(deployment_table())\""


def test_doctor_names_a_seal_key_pasted_into_an_app_setting(firestop_home):
    """deploy18: whoever writes app settings could put a literal retired key in FIRESTOP_SEAL_KEY_RETIRED instead of
    the Key Vault reference, and no check saw it. doctor --app reads the site's Key Vault references through ARM (names
    and statuses, never a value) and names it; a reference to a secret that is not there is named too. Fails before:
    doctor had no such check."""
    from typer.testing import CliRunner

    from firestop.cli.main import app

    from firestop.infra.deploy import alerts_key_digest_of

    tenant = Tenant.open(firestop_home / "sandbox")
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": "s" * 43},
              "sealKeyRetired": {"value": "none"}}
    params["alertsKeyDigest"] = {"value": alerts_key_digest_of(params)}
    out = factory(tenant).resources(tenant.subscription_id).deployments.begin_create_or_update(
        "rg-ai-prod", "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    site = out.properties.outputs["functionAppName"]["value"]

    def doctor() -> dict:
        result = CliRunner().invoke(app, ["doctor", "--app", f"rg-ai-prod/{site}", "--json"])
        return {c["check"]: c for c in json.loads(result.output)["checks"]}["app secrets"]

    first = doctor()
    assert first["status"] == "ok", first
    literal = "old-retired-" + "q" * 40
    doc = Tenant.open(firestop_home / "sandbox")
    (deployed,) = [r for r in doc._state.doc["deployed_resources"].values() if r["type"] == "Microsoft.Web/sites"]  # noqa: SLF001
    for setting in deployed["properties"]["siteConfig"]["appSettings"]:  # stand in for an edit in the portal
        if setting["name"] == "FIRESTOP_SEAL_KEY_RETIRED":
            setting["value"] = literal
        if setting["name"] == "FIRESTOP_ALERTS_KEY_DIGEST":
            setting["value"] = setting["value"].replace("firestop-alerts-key-digest", "no-such-secret")
    doc.save()
    found = doctor()
    assert found["status"] == "problem" and literal not in json.dumps(found)
    assert "FIRESTOP_SEAL_KEY_RETIRED is not a Key Vault reference" in found["detail"]
    assert "FIRESTOP_ALERTS_KEY_DIGEST's Key Vault reference is SecretNotFound" in found["detail"]
    assert "FIRESTOP_SEAL_KEY " not in found["detail"] and "FIRESTOP_SEAL_KEY'" not in found["detail"]


def test_the_app_logs_a_missing_template_setting_at_start_on_azure_only(caplog):
    """function_app.py calls log_missing_on_azure at start: on Flex Consumption the app's log is where an operator sees
    that a hand edit removed a setting the template writes (the app still starts on its default)."""
    import logging

    from firestop.infra.app_settings import log_missing_on_azure

    env = {n: "x" for n in FROM_TEMPLATE if n != "FIRESTOP_ROLES"}
    with caplog.at_level(logging.WARNING, logger="firestop.settings"):
        assert log_missing_on_azure(env) == []  # locally: nothing
        found = log_missing_on_azure({**env, "WEBSITE_SITE_NAME": "firestop-x"})
    assert [n for n, _ in found] == ["FIRESTOP_ROLES"]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["FIRESTOP_ROLES"] and "roleTable" in caplog.records[0].getMessage()

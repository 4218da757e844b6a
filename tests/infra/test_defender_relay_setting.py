"""newuser17: README (Alert sources) says to set ``FIRESTOP_DEFENDER_RELAY`` to the relay Logic App's id, but
infra/azuredeploy.json had no parameter for it and lists the site's ``siteConfig.appSettings`` whole — so a setting
added by hand (``az functionapp config appsettings set``) is dropped by the next template deployment (ARM's PUT
replaces a site's app settings: Azure/azure-cli#11718), e.g. by the seal-key rotation's own deployment, and the
audit's monitoring.alert-rules silently stops counting the Defender-fed playbooks. The template now takes
``defenderRelay`` and sets the setting from it (empty: unset, as before). Fails before: no such app setting.
Deployed into the sandbox tenant through azure-mgmt-resource, as tests/seal17/test_seal_rotation_template.py does."""

from __future__ import annotations

from firestop.sandbox import Tenant
from firestop.settings import check_environment
from tests.infra.conftest import factory, generated_parameters, template

RG = "rg-ai-prod"
RELAY = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.Logic/workflows/firestop-relay"


def _settings_after_deploy(tenant, relay: str | None) -> dict[str, str]:
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": "seal-" + "k" * 40}, "sealKeyRetired": {"value": "none"}}
    if relay is not None:
        params["defenderRelay"] = {"value": relay}
    client = factory(tenant).resources(tenant.subscription_id)
    result = client.deployments.begin_create_or_update(
        RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    assert result.properties.provisioning_state == "Succeeded"
    doc = tenant._state.doc  # noqa: SLF001 — inspection of what the sandbox recorded
    (site,) = [r for r in doc.get("deployed_resources", {}).values() if r["type"].lower() == "microsoft.web/sites"]
    return {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}


def test_the_relay_is_a_template_parameter_the_app_setting_follows(firestop_home):
    settings = _settings_after_deploy(Tenant.load(), RELAY)
    assert settings["FIRESTOP_DEFENDER_RELAY"] == RELAY
    assert not dict(check_environment(settings, on_azure=False)).get("FIRESTOP_DEFENDER_RELAY")


def test_without_the_parameter_the_setting_is_empty_which_is_unset(firestop_home):
    settings = _settings_after_deploy(Tenant.load(), None)
    assert settings["FIRESTOP_DEFENDER_RELAY"] == ""
    assert "FIRESTOP_DEFENDER_RELAY" not in dict(check_environment({"FIRESTOP_DEFENDER_RELAY": ""}, on_azure=True))

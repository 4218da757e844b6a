"""newuser17: the template grants the checklist audit its read-only role at the deployment's subscription
(``auditRoleActions``), but never set ``FIRESTOP_AUDIT_SUBSCRIPTION`` — so the deployed ``audit_timer`` skipped every
week and ``POST /api/audits`` answered 503, while README promises the audit "every week"; setting it by hand does not
survive the next deployment (the template replaces the site's app settings whole). The template now sets it to the
subscription the audit role is granted at, when it is granted (empty otherwise: unset, as before). Fails before: no
such app setting. Deployed into the sandbox tenant through azure-mgmt-resource (tests/seal17's way)."""

from __future__ import annotations

from firestop.sandbox import Tenant
from firestop.settings import check_environment
from tests.infra.conftest import factory, generated_parameters, template

RG = "rg-ai-prod"


def _settings_after_deploy(tenant, **overrides) -> dict[str, str]:
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": "seal-" + "k" * 40}, "sealKeyRetired": {"value": "none"},
              **{k: {"value": v} for k, v in overrides.items()}}
    client = factory(tenant).resources(tenant.subscription_id)
    result = client.deployments.begin_create_or_update(
        RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    assert result.properties.provisioning_state == "Succeeded"
    doc = tenant._state.doc  # noqa: SLF001 — inspection of what the sandbox recorded
    (site,) = [r for r in doc.get("deployed_resources", {}).values() if r["type"].lower() == "microsoft.web/sites"]
    return {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}


def test_the_audit_is_told_the_subscription_its_role_is_granted_at(firestop_home):
    tenant = Tenant.load()
    assert generated_parameters()["parameters"]["auditRoleActions"]["value"]  # the sandbox's parameters grant it
    settings = _settings_after_deploy(tenant)
    assert settings["FIRESTOP_AUDIT_SUBSCRIPTION"] == tenant.subscription_id
    assert "FIRESTOP_AUDIT_SUBSCRIPTION" not in dict(check_environment(settings, on_azure=False))


def test_without_the_audit_role_the_setting_is_empty_which_is_unset(firestop_home):
    settings = _settings_after_deploy(Tenant.load(), auditRoleActions=[], auditRoleDataActions=[])
    assert settings["FIRESTOP_AUDIT_SUBSCRIPTION"] == ""

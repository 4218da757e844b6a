"""Room security/: Defender for Cloud alerts (2022-01-01) and pricings (2024-01-01) through azure-mgmt-security.

Shapes are held against the REST specifications' examples in ``data/security/`` (SOURCE.md names each).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.security import SecurityCenter
from azure.mgmt.security.models import Extension, Pricing

from .conftest import SUB

DATA = Path(__file__).parent / "data" / "security"
ALERT = "2516935104399999999_5f0c2e8a-3b1d-4c7e-9a6f-1d2e3f4a5b6c"
SUB_SCOPE = f"subscriptions/{SUB}"
DEV = f"subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"


def _example(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def _raw(tenant, path: str) -> dict:
    """The JSON body the sandbox answers for a GET (read through the SDK's own pipeline)."""
    from azure.core.rest import HttpRequest

    sc = SecurityCenter(tenant.credential, SUB, transport=tenant.transport)
    response = sc._client.send_request(HttpRequest("GET", f"https://management.azure.com{path}"))
    response.raise_for_status()
    return response.json()


@pytest.fixture
def sc(tenant):
    return SecurityCenter(tenant.credential, SUB, transport=tenant.transport)


def test_seeded_ai_alert_lists_and_gets_in_the_spec_examples_shape(tenant, sc):
    listed = list(sc.alerts.list())
    assert ALERT in [a.name for a in listed] and all(a.alert_type.startswith("AI.Azure_") for a in listed)
    alert = sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", ALERT)
    assert alert.alert_type == "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt" and alert.status == "Active"
    assert alert.resource_identifiers[0].azure_resource_id.endswith("/accounts/contoso-openai-prod")
    assert [a.name for a in sc.alerts.list_by_resource_group("rg-ai-dev")] == []
    assert sorted(a.name for a in sc.alerts.list_resource_group_level_by_region("westeurope", "rg-ai-prod")) == sorted(a.name for a in listed)
    assert list(sc.alerts.list_subscription_level_by_region("westeurope")) == []  # resource-group alerts only
    body = _raw(tenant, f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.Security/locations/westeurope/alerts/{ALERT}?api-version=2022-01-01")
    spec = _example("GetAlertSubscriptionLocation_example.json")["responses"]["200"]["body"]
    assert set(body) == set(spec) and set(body["properties"]) == set(spec["properties"])
    assert body["type"] == spec["type"]
    for key in ("startTimeUtc", "endTimeUtc", "timeGeneratedUtc"):
        assert len(body["properties"][key]) == len(spec["properties"][key])  # 7 fractional digits + Z


def test_alert_state_changes_answer_204_and_are_idempotent(tenant, sc):
    assert _example("UpdateAlertResourceGroupLocation_resolve_example.json")["responses"] == {"204": {}}
    for _ in range(2):
        assert sc.alerts.update_resource_group_level_state_to_resolve("rg-ai-prod", "westeurope", ALERT) is None
    assert sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", ALERT).status == "Resolved"
    sc.alerts.update_resource_group_level_state_to_activate("rg-ai-prod", "westeurope", ALERT)
    assert sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", ALERT).status == "Active"
    assert [(r.operation, r.status) for r in tenant.requests if r.operation.startswith("securityAlerts.") and r.method == "POST"] == [
        ("securityAlerts.resolve", 204), ("securityAlerts.resolve", 204), ("securityAlerts.activate", 204)]
    with pytest.raises(ResourceNotFoundError) as caught:
        sc.alerts.update_resource_group_level_state_to_resolve("rg-ai-prod", "westeurope", "no-such-alert")
    assert caught.value.error.code == "AlertNotFound"


def test_pricings_subscription_and_resource_scope_match_the_spec_examples(tenant, sc):
    ai = sc.pricings.get(SUB_SCOPE, "AI")
    assert ai.pricing_tier == "Standard" and [(e.name, e.is_enabled) for e in ai.extensions] == [("AIPromptEvidence", "True")]
    assert sc.pricings.get(SUB_SCOPE, "VirtualMachines").pricing_tier == "Free"
    body = _raw(tenant, f"/{SUB_SCOPE}/providers/Microsoft.Security/pricings/CloudPosture?api-version=2024-01-01")
    spec = _example("GetPricingByNameCloudPosture_example.json")["responses"]["200"]["body"]
    assert set(body) == set(spec) and set(body["properties"]) == set(spec["properties"]) - {"extensions"}
    inherited = _raw(tenant, f"/{DEV}/providers/Microsoft.Security/pricings/AI?api-version=2024-01-01")
    spec = _example("GetResourcePricingByNameVirtualMachines_example.json")["responses"]["200"]["body"]
    assert set(inherited["properties"]) == set(spec["properties"]) - {"subPlan"}
    assert inherited["properties"]["inherited"] == "True" and inherited["properties"]["inheritedFrom"] == f"/subscriptions/{SUB}"
    names = [p.name for p in sc.pricings.list(SUB_SCOPE).value]
    assert "AI" in names and len(names) == len(set(names))
    assert [p.name for p in sc.pricings.list(SUB_SCOPE, filter="name in ('AI','Api')").value] == ["Api", "AI"]


def test_pricing_update_switches_the_plan_and_records_when(tenant, sc):
    off = sc.pricings.update(DEV, "AI", Pricing(pricing_tier="Free"))
    assert off.pricing_tier == "Free" and off.inherited is None
    assert sc.pricings.get(DEV, "AI").pricing_tier == "Free"
    assert sc.pricings.get(SUB_SCOPE, "AI").pricing_tier == "Standard"  # the subscription keeps its plan
    tenant.clock.advance(60)
    on = sc.pricings.update(DEV, "AI", Pricing(pricing_tier="Standard", extensions=[Extension(name="AIPromptEvidence", is_enabled="False")]))
    assert abs((on.enablement_time - tenant.clock.now()).total_seconds()) < 1  # enabled now, not at seed time
    assert [(e.name, e.is_enabled) for e in on.extensions] == [("AIPromptEvidence", "False")]
    sc.pricings.delete(DEV, "AI")
    assert sc.pricings.get(DEV, "AI").inherited == "True"


def test_pricing_bad_input_is_a_400_naming_the_member(sc):
    with pytest.raises(HttpResponseError) as caught:
        sc.pricings.update(SUB_SCOPE, "AI", Pricing(pricing_tier="Premium"))
    assert caught.value.status_code == 400 and "pricingTier" in caught.value.error.message
    with pytest.raises(HttpResponseError) as caught:
        sc.pricings.delete(SUB_SCOPE, "AI")
    assert caught.value.status_code == 400
    with pytest.raises(ResourceNotFoundError):
        sc.pricings.get(SUB_SCOPE, "NoSuchPlan")


def test_enforced_role_without_resolve_cannot_change_alert_state(tenant, sc):
    tenant.enforce_role({"Actions": ["Microsoft.Security/locations/alerts/read", "Microsoft.Security/pricings/read"],
                         "AssignableScopes": [f"/subscriptions/{SUB}"]})
    assert sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", ALERT).status == "Active"
    with pytest.raises(HttpResponseError) as caught:
        sc.alerts.update_resource_group_level_state_to_resolve("rg-ai-prod", "westeurope", ALERT)
    assert caught.value.status_code == 403 and "alerts/resolve/action" in caught.value.error.message
    with pytest.raises(HttpResponseError):
        sc.pricings.update(SUB_SCOPE, "AI", Pricing(pricing_tier="Free"))
    tenant.enforce_role(None)
    assert sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", ALERT).status == "Active"

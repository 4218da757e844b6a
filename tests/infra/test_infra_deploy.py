"""infra/azuredeploy.json deploys into the sandbox through azure-mgmt-resource (PUT deployment, what-if),
a mutated template is refused with ARM's error naming the expression and its line, and every shipped
tabletop scenario is green under exactly the role and assignments the deployment created."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError

from firestop.infra.grants import enforced_roles, held
from firestop.sandbox import Tenant
from firestop.tabletop import load_scenario, run_scenario

from .conftest import TEMPLATE_PATH, factory, generated_parameters, template

RG = "rg-ai-prod"
SEAL = "seal-" + "k" * 40


def deploy(tenant, tpl=None, params=None, name="firestop", body_text=None):
    client = factory(tenant).resources(tenant.subscription_id)
    params = params if params is not None else generated_parameters()["parameters"]
    params = {**params, "alertsFunctionKey": {"value": "test-action-group-key"}, "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    if body_text is not None:
        import io
        return client.deployments.begin_create_or_update(RG, name, io.BytesIO(body_text.encode()), content_type="application/json").result()
    return client.deployments.begin_create_or_update(
        RG, name, {"properties": {"mode": "Incremental", "template": tpl or template(), "parameters": params}}).result()


def deployed(tenant, rtype):
    doc = tenant._state.doc  # noqa: SLF001 — inspection of what the sandbox recorded
    return [r for r in doc.get("deployed_resources", {}).values() if r["type"].lower() == rtype.lower()]


def test_template_deploys_and_records_every_resource(firestop_home):
    tenant = Tenant.load()
    result = deploy(tenant)
    assert result.properties.provisioning_state == "Succeeded"
    outputs = result.properties.outputs
    principal = outputs["identityPrincipalId"]["value"]
    assert result.properties.parameters["alertsFunctionKey"] == {"type": "securestring"}  # secure values never echoed
    assert "test-action-group-key" not in json.dumps(result.properties.as_dict()) and SEAL not in json.dumps(result.properties.as_dict())
    assert result.properties.parameters["sealKey"] == {"type": "securestring"}
    # the Function App: Flex Consumption, Python, identity-based host storage
    (site,) = deployed(tenant, "Microsoft.Web/sites")
    (plan,) = deployed(tenant, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == outputs["identityClientId"]["value"] == settings["AZURE_CLIENT_ID"]
    assert settings["FIRESTOP_AUTOMATION_PRINCIPAL_ID"] == principal
    assert "AzureWebJobsStorage" not in settings  # no connection string, no key
    (vault,) = deployed(tenant, "Microsoft.KeyVault/vaults")
    assert vault["properties"]["enableRbacAuthorization"] is True and vault["properties"]["enablePurgeProtection"] is True
    assert settings["FIRESTOP_SEAL_KEY"] == f"@Microsoft.KeyVault(SecretUri=https://{vault['name']}.vault.azure.net/secrets/firestop-seal-key)"
    assert site["properties"]["keyVaultReferenceIdentity"].endswith("/userAssignedIdentities/" + site["name"] + "-id")
    assert SEAL not in json.dumps(settings)  # the key is in the vault, never an app setting
    (storage,) = deployed(tenant, "Microsoft.Storage/storageAccounts")
    assert storage["properties"]["allowSharedKeyAccess"] is False
    worm = {r["name"].split("/")[2]: r["properties"] for r in deployed(tenant, "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies")}
    assert set(worm) == {"firestop-evidence", "firestop-ledger", "firestop-records"}
    # records are only ever created (records.file, If-None-Match: *): no appends, and no delete within the retention —
    # a deleted revision rolled undo back to an older sealed one (ledger9); Azurite cannot enforce it, so the request
    # is what is tested here and the code refuses a sealed revision missing from the store (tests/custody)
    assert worm["firestop-records"] == {"immutabilityPeriodSinceCreationInDays": 365, "allowProtectedAppendWrites": False}
    (blob_service,) = deployed(tenant, "Microsoft.Storage/storageAccounts/blobServices")
    assert blob_service["properties"]["isVersioningEnabled"] is True  # a deleted or overwritten blob keeps a version
    assert blob_service["properties"]["deleteRetentionPolicy"] == {"enabled": True, "days": 7}  # soft delete
    assert blob_service["properties"]["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 7}
    assert worm["firestop-ledger"]["allowProtectedAppendWrites"] is True and worm["firestop-evidence"]["immutabilityPeriodSinceCreationInDays"] == 365
    assert worm["firestop-evidence"]["allowProtectedAppendWrites"] is False  # evidence is only ever created, never appended
    # the app keeps its state in those containers of that account (firestop.storage), nothing on an instance's disk
    assert settings["FIRESTOP_STORAGE_BLOB_URL"] == f"https://{storage['name']}.blob.core.windows.net/"
    assert (settings["FIRESTOP_EVIDENCE_CONTAINER"], settings["FIRESTOP_LEDGER_CONTAINER"]) == ("firestop-evidence", "firestop-ledger")
    assert settings["FIRESTOP_RECORDS_CONTAINER"] == "firestop-records" and "FIRESTOP_HOME" not in settings
    # App Service authentication: Entra ID, 401 for the unauthenticated, the webhook path left to its function key
    (auth,) = deployed(tenant, "Microsoft.Web/sites/config")
    assert auth["name"].endswith("/authsettingsV2")
    assert auth["properties"]["globalValidation"] == {"requireAuthentication": True, "unauthenticatedClientAction": "Return401", "excludedPaths": ["/api/alerts", "/api/events", "/runtime/webhooks/durabletask"]}
    # the action group posts the common alert schema to this app's webhook
    (group,) = deployed(tenant, "Microsoft.Insights/actionGroups")
    (receiver,) = group["properties"]["webhookReceivers"]
    assert receiver["serviceUri"] == f"https://{outputs['functionAppHost']['value']}/api/alerts?code=test-action-group-key"
    assert receiver["useCommonAlertSchema"] is True and receiver["useAadAuth"] is False


def test_app_service_authentication_leaves_exactly_the_key_only_routes_to_their_key(firestop_home):
    """Every FUNCTION-level route (the machines': action groups, Event Grid) is excluded from App Service
    authentication, else the platform answers it 401 before the host sees the key; no people route is excluded.
    (excludedPaths entries are matched as path prefixes, as the Durable status prefix already relies on.)"""
    from firestop.cli.wiring import function_app
    from firestop.runtime.serve import http_routes

    tenant = Tenant.load()
    deploy(tenant)
    (auth,) = deployed(tenant, "Microsoft.Web/sites/config")
    excluded = auth["properties"]["globalValidation"]["excludedPaths"]

    def covered(template: str) -> bool:
        path = "/api/" + template
        return any(path == e or path.startswith(e.rstrip("/") + "/") for e in excluded)

    routes = {r.template: r.auth_level for r in http_routes(function_app())}
    assert {t for t, level in routes.items() if level == "function"} == {"alerts", "alerts/{delivery_id}/status", "events"}
    assert {t: covered(t) for t, level in routes.items()} == {t: level == "function" for t, level in routes.items()}


def test_identity_holds_the_custom_role_exactly_at_the_protected_scopes(firestop_home):
    tenant = Tenant.load()
    outputs = deploy(tenant).properties.outputs
    grants = held(factory(tenant), tenant.subscription_id, outputs["identityPrincipalId"]["value"])
    params = generated_parameters()["parameters"]
    custom = [g for g in grants if g.role is not None and g.role["roleName"] == params["customRoleName"]["value"]]
    sub = f"/subscriptions/{tenant.subscription_id}"
    assert sorted(g.scope for g in custom) == sorted([
        f"{sub}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod",
        f"{sub}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev",
        f"{sub}/resourceGroups/rg-ai-prod/providers/Microsoft.Network/networkSecurityGroups/nsg-ai-apps",
        f"{sub}/resourceGroups/rg-ai-prod/providers/Microsoft.KeyVault/vaults/kv-contoso-ai/secrets/openai-api-key",
        f"{sub}/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec",
    ])
    assert {g.role_definition_id for g in custom} == {outputs["customRoleDefinitionId"]["value"]}
    assert custom[0].role["Actions"] == params["customRoleActions"]["value"]
    assert custom[0].role["DataActions"] == params["customRoleDataActions"]["value"]
    assert not [a for a in custom[0].role["Actions"] if a.startswith(("Microsoft.Security/", "Microsoft.SecurityInsights/", "Microsoft.ApiManagement/"))]
    # the write-back roles: each holds only its own provider's actions, assigned only where those live
    narrow = {g.role["roleName"]: (g.role, []) for g in grants if g.role is not None and g not in custom}
    for g in grants:
        if g.role is not None and g.role["roleName"] in narrow:
            narrow[g.role["roleName"]][1].append(g.scope)
    prod = f"{sub}/resourceGroups/rg-ai-prod"
    assert {name: (role["Actions"], role["DataActions"], sorted(scopes)) for name, (role, scopes) in narrow.items()} == {
        "Firestop responder (Defender write-back)": (params["defenderRoleActions"]["value"], [], [f"{sub}/resourceGroups/rg-ai-dev", prod]),
        "Firestop responder (Sentinel write-back)": (params["sentinelRoleActions"]["value"], [], [f"{prod}/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"]),
        "Firestop responder (API Management)": (params["apimRoleActions"]["value"], [], [f"{prod}/providers/Microsoft.ApiManagement/service/apim-contoso-ai"]),
        # the checklist audit's reads (alert rules, pricings, policy states are listed subscription-wide): reads only
        "Firestop responder (audit reads)": (params["auditRoleActions"]["value"], params["auditRoleDataActions"]["value"], [sub]),
    }
    assert all(a.endswith(("/read", "/readMetadata/action", "/queryResults/action"))
               for a in params["auditRoleActions"]["value"] + params["auditRoleDataActions"]["value"])
    assert params["defenderRoleActions"]["value"] == ["Microsoft.Security/locations/alerts/activate/action",
                                                     "Microsoft.Security/locations/alerts/read", "Microsoft.Security/locations/alerts/resolve/action"]
    site = deployed(tenant, "Microsoft.Web/sites")[0]
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    assert settings["FIRESTOP_SENTINEL_WORKSPACE_ID"] == params["sentinelWorkspaceId"]["value"]
    builtin = {g.role_definition_id.rsplit("/", 1)[-1]: g.scope for g in grants if g.role is None}
    assert set(builtin) == {"b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
                            "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "3913510d-42f4-4e42-8a64-420c390055eb",
                            "4633458b-17de-408a-b874-0445c86b69e6"}
    assert builtin["4633458b-17de-408a-b874-0445c86b69e6"].endswith("/secrets/firestop-seal-key")  # Key Vault Secrets User: one secret


def test_deploying_twice_is_idempotent_and_what_if_shows_no_change(firestop_home):
    tenant = Tenant.load()
    deploy(tenant)
    before = json.dumps(tenant._state.doc["role_assignments"], sort_keys=True)  # noqa: SLF001
    deploy(tenant)
    assert json.dumps(tenant._state.doc["role_assignments"], sort_keys=True) == before  # noqa: SLF001
    client = factory(tenant).resources(tenant.subscription_id)
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "test-action-group-key"}, "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    fresh = Tenant.load()
    created = factory(fresh).resources(fresh.subscription_id).deployments.begin_what_if(
        RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    assert {c.change_type for c in created.changes} == {"Create"}
    assert not fresh._state.doc.get("deployed_resources")  # noqa: SLF001 — what-if writes nothing
    again = client.deployments.begin_what_if(RG, "firestop", {"properties": {"mode": "Incremental", "template": template(), "parameters": params}}).result()
    # nothing changed: no Create and no Modify (the custom roles' createdOn/updatedOn, which ARM sets, are not a change),
    # nested deployments included — each is a deployment record of its own, as on ARM
    assert {c.change_type for c in again.changes} == {"NoChange"}
    nested = [c.resource_id for c in again.changes if "/Microsoft.Resources/deployments/" in c.resource_id]
    assert len(nested) == 10


def test_nested_deployments_are_kept_as_deployment_records_and_what_if_compares_them(firestop_home):
    """ARM keeps a nested Microsoft.Resources/deployments resource as a deployment at its scope (Deployments - Get
    answers it; azure-rest-api-specs Microsoft.Resources/stable/2025-04-01/resources.json DeploymentExtended): the
    sandbox did not, so what-if listed every nested deployment as Create on every run."""
    tenant = Tenant.load()
    deploy(tenant)
    client = factory(tenant).resources(tenant.subscription_id)
    (sentinel,) = [d for d in tenant._state.doc["deployments"].values() if d["name"] == "firestop-sentinel"]  # noqa: SLF001
    group = sentinel["id"].split("/resourceGroups/")[1].split("/")[0]
    got = client.deployments.get(group, "firestop-sentinel")
    assert got.properties.provisioning_state == "Succeeded" and got.properties.template_hash
    assert got.properties.output_resources and all("/providers/" in r.id for r in got.properties.output_resources)
    assert SEAL not in json.dumps(got.as_dict())
    top = client.deployments.get(RG, "firestop")
    assert top.properties.template_hash and top.properties.parameters["sealKey"] == {"type": "securestring"}
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "test-action-group-key"}, "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    changed = template()  # a nested template that is not the one deployed: that deployment is a Modify, the rest NoChange
    (res,) = [r for r in changed["resources"] if r.get("name") == "firestop-sentinel"]
    res["properties"]["template"].setdefault("metadata", {})["edited"] = "yes"
    result = client.deployments.begin_what_if(RG, "firestop", {"properties": {"mode": "Incremental", "template": changed,
                                                                                "parameters": params}}).result()
    kinds = {c.resource_id.rsplit("/", 1)[-1]: c.change_type for c in result.changes if "/Microsoft.Resources/deployments/" in c.resource_id}
    assert kinds.pop("firestop-sentinel") == "Modify" and set(kinds.values()) == {"NoChange"}


def _refusal(tenant, text: str) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as info:
        deploy(tenant, body_text=text)
    return info.value


def _body(template_text: str, params: dict) -> str:
    """The request body with the template text embedded verbatim: line N of the file is line N of the body."""
    return '{"properties": {"mode": "Incremental", "parameters": ' + json.dumps(params) + ', "template": ' + template_text + "}}"


def test_a_typo_in_a_parameter_name_is_refused_naming_it_and_its_line(firestop_home):
    tenant = Tenant.load()
    text = TEMPLATE_PATH.read_text()
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    mutated = text.replace("[parameters('immutabilityDays')]", "[parameters('immutabiltyDays')]", 1)
    line = next(i for i, l in enumerate(mutated.splitlines(), 1) if "immutabiltyDays" in l)
    error = _refusal(tenant, _body(mutated, params))
    assert error.error.code == "InvalidTemplate"
    assert "The template parameter 'immutabiltyDays' is not found" in error.message
    assert f"at line '{line}'" in error.message and "[parameters('immutabiltyDays')]" in error.message
    assert not tenant._state.doc.get("deployed_resources")  # noqa: SLF001 — refused whole: nothing deployed

    misnamed = {**params, "immutabiltyDays": {"value": 30}}  # a supplied parameter the template lacks
    error = _refusal(tenant, _body(text, misnamed))
    assert error.error.code == "InvalidTemplate" and "'immutabiltyDays'" in error.message and "not present in the original template" in error.message


def test_an_unknown_function_is_refused_naming_it_and_its_line(firestop_home):
    tenant = Tenant.load()
    text = TEMPLATE_PATH.read_text()
    params = {**generated_parameters()["parameters"], "alertsFunctionKey": {"value": "k"}, "sealKey": {"value": SEAL}, "sealKeyRetired": {"value": "none"}}
    mutated = text.replace("[resourceGroup().location]", "[resourceGroups().location]", 1)
    line = next(i for i, l in enumerate(mutated.splitlines(), 1) if "resourceGroups()" in l)
    error = _refusal(tenant, _body(mutated, params))
    assert error.error.code == "InvalidTemplate"
    assert "The template function 'resourceGroups' is not valid" in error.message and f"at line '{line}'" in error.message


def test_missing_required_parameter_and_bad_dependency_are_refused(firestop_home):
    tenant = Tenant.load()
    params = {k: v for k, v in generated_parameters()["parameters"].items() if k != "entraClientId"}
    with pytest.raises(HttpResponseError) as info:
        deploy(tenant, params=params)
    assert "The value for the template parameter 'entraClientId' is not provided" in info.value.message
    tpl = template()
    site = next(r for r in tpl["resources"] if r["type"] == "Microsoft.Web/sites")
    site["dependsOn"] = [d for d in site["dependsOn"] if "Insights" not in d]  # reference() without dependsOn
    with pytest.raises(HttpResponseError) as info:
        deploy(tenant, tpl=tpl)
    assert "needs a dependsOn" in info.value.message and "Microsoft.Insights/components" in info.value.message
    tpl = template()
    tpl["resources"][0]["dependsOn"] = ["[resourceId('Microsoft.Web/sites', 'nope')]"]
    with pytest.raises(HttpResponseError) as info:
        deploy(tenant, tpl=tpl)
    assert "is not defined in the template" in info.value.message


#: missing-permission rehearses a trimmed role of its own; narrow-identity runs a drill playbook, not a shipped one.
#: Every other scenario — the ai-* ones writing back to Defender for Cloud and Sentinel, and the narrow-* ones acting on
#: API Management — runs under exactly the roles the template assigned: containment at the protected resources, the
#: narrow write-back roles at the Defender alerts' resource groups, the Sentinel workspace and the APIM service.
NOT_UNDER_DEPLOYED_ROLE = {"missing-permission", "narrow-identity"}
SCENARIOS = sorted(p for p in (TEMPLATE_PATH.parents[1] / "tabletop" / "scenarios").glob("*.yaml")
                   if p.stem not in NOT_UNDER_DEPLOYED_ROLE)


@pytest.fixture(scope="module")
def deployed_roles():
    """The roles the sandbox enforces after deploying the generated parameters: read back through the SDK."""
    tenant = Tenant.load()
    outputs = deploy(tenant).properties.outputs
    return enforced_roles(held(factory(tenant), tenant.subscription_id, outputs["identityPrincipalId"]["value"]))


@pytest.fixture(scope="module")
def deployed_role(deployed_roles):
    """The containment role alone (assigned at the protected resources)."""
    return next(r for r in deployed_roles if r["Name"] == generated_parameters()["parameters"]["customRoleName"]["value"])


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_is_green_under_the_deployed_role(path, deployed_roles, firestop_home):
    """missing-permission is left out on purpose: it rehearses a trimmed role of its own."""
    scenario = load_scenario(path)
    tenant_spec = scenario.tenant.model_copy(update={"role": deployed_roles})
    card = run_scenario(scenario.model_copy(update={"tenant": tenant_spec}), home=firestop_home, run_id="deployed-role")
    missed = [f"{e['check']}: {e['evidence']}" for e in card["expectations"] if not e["met"]]
    assert card["result"] == "met" and not missed, missed
    scripted = {f.operation for f in scenario.faults.scripted if f.status == 403}  # refusals the scenario injects itself
    assert [m for m in card["permissions_missing"] if m["operation"] not in scripted] == []


def test_the_deployed_role_is_what_enforcement_checks(deployed_role, firestop_home):
    """Negative control: the same role assigned only at the prod account leaves the NSG and the vault secret out.
    (Its own FIRESTOP_HOME: the fixed run id failed a second run in one checkout with FileExistsError.)"""
    narrower = {**deployed_role, "AssignableScopes": [s for s in deployed_role["AssignableScopes"] if s.endswith("contoso-openai-prod")]}
    path = next(p for p in SCENARIOS if p.stem == "leaked-api-key")
    scenario = load_scenario(path)
    card = run_scenario(scenario.model_copy(update={"tenant": scenario.tenant.model_copy(update={"role": narrower})}),
                        home=firestop_home, run_id="narrow")
    assert card["result"] != "met" and card["permissions_missing"]


@pytest.mark.parametrize("shape", ["nested calls", "property chain", "nested arrays", "nested body"])
def test_crafted_nesting_is_refused_with_an_arm_error_never_a_crash(firestop_home, shape):
    """Adversarial review: 3,000 nested concat() calls, a 5,000-long property chain, 900 arrays in arrays in a
    template value and a body nested 100,000 deep each raised RecursionError out of the deployments route."""
    tenant = Tenant.open(firestop_home / "sandbox")
    empty = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
             "contentVersion": "1.0.0.0", "resources": []}
    outputs = {
        "nested calls": {"type": "string", "value": "[" + "concat(" * 3000 + "'a'" + ")" * 3000 + "]"},
        "property chain": {"type": "object", "value": "[json('{}')" + ".a" * 5000 + "]"},
        "nested arrays": {"type": "array", "value": json.loads("[" * 900 + "]" * 900)},
    }
    if shape == "nested body":
        text = '{"properties": {"mode": "Incremental", "template": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    else:
        text = json.dumps({"properties": {"mode": "Incremental", "parameters": {}, "template": {**empty, "outputs": {"o": outputs[shape]}}}})
    error = _refusal(tenant, text)
    assert error.status_code == 400 and error.error.code in ("InvalidTemplate", "InvalidRequestContent"), error.message
    assert "nest" in error.message


def _doubling(n: int, step: str, seed: str = "'aaaaaaaaaaaaaaaa'") -> dict:
    """Variables v0..vn, each ``step`` of the one before twice: 16 × 2**n characters (or leaves) at vn."""
    variables = {"v0": f"[concat({seed})]"}
    for i in range(1, n + 1):
        variables[f"v{i}"] = f"[{step}(variables('v{i - 1}'), variables('v{i - 1}'))]"
    return variables


@pytest.mark.parametrize("step, what", [("concat", "string"), ("createArray", "array")])
def test_a_template_that_doubles_a_value_is_refused_at_the_cap_not_expanded(firestop_home, step, what):
    """Adversarial review: 20 variables each concat() of the one before twice reach 16 MB (30 would be 16 GB) —
    the engine had no cap on intermediate values. A value over 1 MB (ARM: a resource definition after expansion)
    is InvalidTemplate naming the expression; the deployment never holds more than about twice the cap."""
    tenant = Tenant.open(firestop_home / "sandbox")
    tpl = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
           "contentVersion": "1.0.0.0", "resources": [], "variables": _doubling(20, step),
           "outputs": {"o": {"type": "int", "value": "[length(variables('v20'))]"}}}
    error = _refusal(tenant, json.dumps({"properties": {"mode": "Incremental", "parameters": {}, "template": tpl}}))
    assert error.status_code == 400 and error.error.code == "InvalidTemplate", error.message
    assert "larger than 1,048,576" in error.message and f"{step}(variables('v1" in error.message
    small = {**tpl, "variables": _doubling(10, step), "outputs": {"o": {"type": "int", "value": "[length(variables('v10'))]"}}}
    client = factory(tenant).resources(tenant.subscription_id)
    done = client.deployments.begin_create_or_update(RG, "small", {"properties": {"mode": "Incremental", "template": small}}).result()
    assert done.properties.outputs["o"]["value"] == (16 * 1024 if what == "string" else 2)


def test_a_template_whose_values_add_up_past_4_mb_is_refused(firestop_home):
    """Each value under the 1 MB cap, together over ARM's 4 MB for a template after expansion: InvalidTemplate."""
    tenant = Tenant.open(firestop_home / "sandbox")
    variables = _doubling(14, "concat")  # v14: 262,144 characters
    variables.update({f"big{k}": f"[concat(variables('v14'), variables('v14'), variables('v14'), '{k}')]" for k in range(6)})
    tpl = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
           "contentVersion": "1.0.0.0", "resources": [], "variables": variables,
           "outputs": {f"o{k}": {"type": "int", "value": f"[length(variables('big{k}'))]"} for k in range(6)}}
    error = _refusal(tenant, json.dumps({"properties": {"mode": "Incremental", "parameters": {}, "template": tpl}}))
    assert error.status_code == 400 and error.error.code == "InvalidTemplate", error.message
    assert "4,194,304" in error.message

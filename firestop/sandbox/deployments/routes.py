"""ARM: Microsoft.Resources deployments (template deployments and what-if) and resource groups.

REST: Deployments - Create Or Update / Get / What If, Resource Groups - Get / Check Existence
(https://learn.microsoft.com/rest/api/resources/deployments, api-version 2025-04-01 is what
azure-mgmt-resource 24.0.0 sends; any api-version is accepted and logged).

=============================  ======  ==================================================================
operation                      method  path
=============================  ======  ==================================================================
templateDeployments.createOrUpdate     PUT     ``/subscriptions/{s}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}``
                                       body ``{"properties": {"mode": "Incremental", "template": {...}, "parameters": {...}}}``
                                       → 201 DeploymentExtended, ``provisioningState`` Succeeded (the sandbox deploys
                                       synchronously, so the SDK's poller finishes on the first answer); 400
                                       ``InvalidTemplate`` / ``InvalidTemplateDeployment`` naming the expression and its
                                       line/column in the request body; 404 ``ResourceGroupNotFound``
templateDeployments.get                GET     same → 200 the last deployment of that name (secure parameters never echoed)
templateDeployments.whatIf             POST    ``…/deployments/{name}/whatIf`` → 200 WhatIfOperationResult
                                       ``{"status": "Succeeded", "properties": {"changes": [{resourceId, changeType
                                       Create|Modify|NoChange, after}]}}``; nothing is written. (Azure answers 202 +
                                       ``Location`` first; the sandbox answers the result at once — the SDK's poller
                                       accepts both.)
resourceGroups.get             GET     ``/subscriptions/{s}/resourcegroups/{rg}`` → 200 ``{id, name, type, location,
                                       properties.provisioningState}``; 404 ``ResourceGroupNotFound``
resourceGroups.checkExistence  HEAD    same → 204 / 404
sites.getAppSettingsKeyVault-  GET     ``…/providers/Microsoft.Web/sites/{site}/config/configreferences/appsettings`` → 200
References                             ``{"value": [{name, properties: {reference, status, vaultName, secretName}}]}``:
                                       the deployed site's Key Vault references and whether each resolves, never a
                                       value; 404 ``ResourceNotFound`` (:func:`get_key_vault_references`)
=============================  ======  ==================================================================

Only ``mode: Incremental`` is accepted (Complete would delete what the template does not name; the
sandbox refuses it with 400 ``InvalidDeploymentMode``). Request bodies over 4 MB → 413
(ARM's request limit is 4 MB: https://learn.microsoft.com/azure/azure-resource-manager/templates/best-practices).
State: ``doc["deployments"]`` = ``{lower deployment id: DeploymentExtended}`` — the top-level deployment and each
nested ``Microsoft.Resources/deployments`` resource it deployed (a nested deployment is a deployment record of its own
at its scope, as on ARM: ``Deployments - Get`` reads it; what-if compares a template's nested deployments with these
records, ``NoChange`` when template hash, mode and parameters are the same; :func:`.engine.deployment_record`); see :mod:`.engine`
for ``deployed_resources``, ``role_definitions`` and ``role_assignments``.
"""

from __future__ import annotations

import copy
import json
import re
import uuid

from ..core.armapi import caller_object_id, check_scope, ok, state_of
from ..core.clock import format_utc
from ..core.errors import arm_not_found, error
from ..core.router import RequestContext, Route
from ..core.wire import SandboxResponse
from . import room

ARM = "management.azure.com"
BASE = "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}"
MAX_BODY = 4 * 1024 * 1024
_NAME = re.compile(r"^[-\w._()]{1,64}$")
LOCATION = "swedencentral"  # sandbox resource groups' location


def _group_location(state, rg: str) -> str:
    for body in state.doc["resources"].values():
        if f"/resourcegroups/{rg.lower()}/" in body["id"].lower() and body.get("location"):
            return body["location"]
    return LOCATION


def _read(ctx: RequestContext):
    """(body text, parsed body) or an error response."""
    if len(ctx.request.body) > MAX_BODY:
        return None, None, error(413, "RequestEntityTooLarge", f"The request content size exceeds the maximum of {MAX_BODY} bytes.")
    try:
        text = ctx.request.body.decode("utf-8")
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, None, error(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{exc}'.")
    except RecursionError:
        return None, None, error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'JSON nested too deeply'.")
    props = doc.get("properties") if isinstance(doc, dict) else None
    if not isinstance(props, dict) or "template" not in props:
        what = "templateLink is not supported by the sandbox; send the template inline" if isinstance(props, dict) and "templateLink" in props else "properties.template is required"
        return None, None, error(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{what}'.")
    mode = str(props.get("mode", "Incremental"))
    if mode.lower() != "incremental":
        return None, None, error(400, "InvalidDeploymentMode", f"The deployment mode '{mode}' is not supported by the sandbox; use 'Incremental'.")
    return text, doc, None


def _run(ctx: RequestContext, apply: bool):
    # the template engine loads with the first deployment: every tenant registers this room, few deploy (start-up)
    from .engine import Deployer, TemplateError, Target
    from .positions import value_positions

    bad = check_scope(ctx)
    if bad:
        return None, None, bad
    if not _NAME.match(ctx.params["name"]):
        return None, None, error(400, "InvalidDeploymentName", f"The deployment name '{ctx.params['name']}' is invalid: 1-64 letters, digits, '-', '_', '.', '(' or ')'.")
    text, doc, bad = _read(ctx)
    if bad:
        return None, None, bad
    state = state_of(ctx)
    try:
        positions = value_positions(text)
    except (ValueError, RecursionError):
        positions = {}
    deployer = Deployer(
        state, now=format_utc(ctx.now), caller=caller_object_id(ctx), apply=False,
        position=lambda path: positions.get(("properties", "template") + tuple(path)),
        group_exists=state.resource_group_exists,
    )
    rg = ctx.params["rg"]
    target = Target(state.subscription_id, rg, _group_location(state, rg))
    try:
        outcome = deployer.deploy(doc["properties"]["template"], doc["properties"].get("parameters"), target, ctx.params["name"], ())
    except TemplateError as exc:
        return None, None, error(exc.status, exc.code, exc.message)
    except RecursionError:  # a template value (arrays in arrays …) nested deeper than evaluation recurses
        return None, None, error(400, "InvalidTemplate", "Deployment template validation failed: a value is nested too deeply to evaluate.")
    if apply:  # evaluate everything first, then write: a refused template changes nothing
        deployer = Deployer(
            state, now=format_utc(ctx.now), caller=caller_object_id(ctx), apply=True,
            position=lambda path: positions.get(("properties", "template") + tuple(path)),
            group_exists=state.resource_group_exists,
        )
        outcome = deployer.deploy(doc["properties"]["template"], doc["properties"].get("parameters"), target, ctx.params["name"], ())
    return deployer, (doc, outcome), None


def create_or_update(ctx: RequestContext) -> SandboxResponse:
    from .engine import deployment_record

    deployer, result, bad = _run(ctx, apply=True)
    if bad:
        return bad
    doc, outcome = result
    state = state_of(ctx)
    did = f"/subscriptions/{state.subscription_id}/resourceGroups/{ctx.params['rg']}/providers/Microsoft.Resources/deployments/{ctx.params['name']}"
    body = deployment_record(did, ctx.params["name"], now=format_utc(ctx.now), template=doc["properties"]["template"],
                             parameters=doc["properties"].get("parameters"), outputs=outcome.outputs,
                             output_resources=[r["id"] for r in deployer.created])
    state.doc.setdefault("deployments", {})[did.lower()] = copy.deepcopy(body)
    state.doc.setdefault("deployment_log", []).append({"id": did, "at": format_utc(ctx.now), "resources": copy.deepcopy(deployer.created)})
    return ok(body, status=201)


def get_deployment(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    did = f"/subscriptions/{state.subscription_id}/resourceGroups/{ctx.params['rg']}/providers/Microsoft.Resources/deployments/{ctx.params['name']}"
    found = state.doc.get("deployments", {}).get(did.lower())
    if found is None:
        return error(404, "DeploymentNotFound", f"Deployment '{ctx.params['name']}' could not be found.")
    return ok(copy.deepcopy(found))


#: properties ARM sets itself on a role definition (read-only: a template cannot set them); the sandbox stamps them on
#: every deployment, so comparing them would call every unchanged custom role a "Modify"; likewise a metric alert's
#: read-only ``lastUpdatedTime`` (metricAlert_API.json 2018-03-01), stamped on each write (A13-09)
_SERVER_SET = frozenset({"createdOn", "updatedOn", "createdBy", "updatedBy", "lastUpdatedTime"})


def _settable(value):
    """``value`` (a resource's ``properties`` or another top-level field) without the server-set keys above."""
    return {k: v for k, v in value.items() if k not in _SERVER_SET} if isinstance(value, dict) else value


def _same_deployment(before: dict, after: dict) -> bool:
    """A nested deployment that would be deployed again as it is: the same template (``templateHash``), mode and
    parameters as the record kept (secure parameters' values are never kept, so they cannot be compared)."""
    b, a = before.get("properties") or {}, after.get("properties") or {}
    return all(b.get(k) == a.get(k) for k in ("templateHash", "mode", "parameters"))


def what_if(ctx: RequestContext) -> SandboxResponse:
    deployer, result, bad = _run(ctx, apply=False)
    if bad:
        return bad
    state = state_of(ctx)
    changes = []
    for resource in deployer.created:
        rid = resource["id"]
        after = {k: v for k, v in resource.items() if k not in ("apiVersion", "record")}
        if "record" in resource:  # a nested deployment: the deployment record its last run kept (create_or_update, engine)
            before = state.doc.get("deployments", {}).get(rid.lower())
            change = "Create" if before is None else "NoChange" if _same_deployment(before, resource["record"]) else "Modify"
            changes.append({"resourceId": rid, "changeType": change, "after": after, **({"before": before} if before else {})})
            continue
        before = state.resource(rid) or state.doc.get("deployed_resources", {}).get(rid.lower()) \
            or state.doc.get("role_definitions", {}).get(rid.lower()) or state.doc.get("role_assignments", {}).get(rid.lower())
        if before is None:
            change = "Create"
        else:
            same = all(_settable(before.get(k)) == _settable(v) for k, v in after.items() if k in ("properties", "location", "kind", "sku"))
            change = "NoChange" if same else "Modify"
        changes.append({"resourceId": rid, "changeType": change, "after": after, **({"before": before} if before else {})})
    return ok({"status": "Succeeded", "properties": {"changes": changes}})


def _deployed_site(ctx: RequestContext, suffix: str, missing: str) -> "tuple[dict, None] | tuple[None, SandboxResponse]":
    """(the deployed record of the route's site ``+ suffix``, None), or (None, 404 ``ResourceNotFound`` — ``missing``
    added to ARM's wording — or :func:`check_scope`'s answer)."""
    bad = check_scope(ctx)
    if bad:
        return None, bad
    state = state_of(ctx)
    site = ctx.params["site"]
    rid = f"/subscriptions/{state.subscription_id}/resourceGroups/{ctx.params['rg']}/providers/Microsoft.Web/sites/{site}{suffix}"
    found = state.doc.get("deployed_resources", {}).get(rid.lower())
    if found is None or (not suffix and str(found.get("type", "")).lower() != "microsoft.web/sites"):
        return None, error(404, "ResourceNotFound", f"The Resource 'Microsoft.Web/sites/{site}' under resource group "
                           f"'{ctx.params['rg']}' was not found{missing}.")
    return found, None


def get_auth_settings(ctx: RequestContext) -> SandboxResponse:
    """``GET …/providers/Microsoft.Web/sites/{site}/config/authsettingsV2`` — App Service authentication a template
    deployed (WebApps_GetAuthSettingsV2WithoutSecrets; what ``firestop doctor`` reads). Answers from
    ``doc["deployed_resources"]`` (id, name, type, properties); 404 ``ResourceNotFound`` otherwise."""
    found, bad = _deployed_site(ctx, "/config/authsettingsV2", " or has no authentication settings")
    if bad:
        return bad
    return ok({"id": found["id"], "name": "authsettingsV2", "type": "Microsoft.Web/sites/config",
               "properties": copy.deepcopy(found.get("properties") or {})})


room.add(Route("GET", ARM, "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Web/sites/{site}/config/authsettingsV2",
               "sites.getAuthSettingsV2", "arm", get_auth_settings))


_KV_REFERENCE = re.compile(r"^@Microsoft\.KeyVault\(SecretUri=https://([a-z0-9-]{3,24})\.vault\.azure\.net/secrets/([A-Za-z0-9-]{1,127})"
                          r"(?:/([0-9a-f]{32}))?/?\)$", re.IGNORECASE)


def _reference_status(state, value: str) -> dict:  # state: the TenantState
    """The properties App Service reports for one Key Vault reference (ResolveStatus): Resolved when the secret exists in
    the sandbox (a template deployed it, or the seed holds it), SecretNotFound / VaultNotFound otherwise, InvalidSyntax
    for a reference that is not ``SecretUri=https://<vault>.vault.azure.net/secrets/<name>[/<version>]``."""
    m = _KV_REFERENCE.match(value.strip())
    if m is None:
        return {"reference": value, "status": "InvalidSyntax", "source": "KeyVault"}
    vault, secret = m.group(1).lower(), m.group(2).lower()
    deployed = state.doc.get("deployed_resources", {})
    vaults = {k for k, r in deployed.items() if str(r.get("type", "")).lower() == "microsoft.keyvault/vaults"
              and k.rsplit("/", 1)[-1] == vault} | ({vault} if vault in state.doc.get("vaults", {}) else set())
    secrets = {k for k, r in deployed.items() if str(r.get("type", "")).lower() == "microsoft.keyvault/vaults/secrets"
               and k.endswith(f"/vaults/{vault}/secrets/{secret}")}
    seeded = secret in ((state.doc.get("vaults", {}).get(vault) or {}).get("secrets") or {})
    status = "Resolved" if secrets or seeded else "SecretNotFound" if vaults else "VaultNotFound"
    return {"reference": value, "status": status, "vaultName": m.group(1), "secretName": m.group(2),
            "identityType": "UserAssigned", "source": "KeyVault"}


def get_key_vault_references(ctx: RequestContext) -> SandboxResponse:
    """``GET …/providers/Microsoft.Web/sites/{site}/config/configreferences/appsettings`` (WebApps_GetAppSettingsKeyVault
    References): ``{"value": [{id, name: <setting>, type, properties: {reference, status, vaultName, secretName,
    identityType, source}}]}`` for each app setting of the deployed site that is a Key Vault reference — never a value
    (what ``firestop doctor --app`` reads). 404 ``ResourceNotFound`` when no such site was deployed."""
    found, bad = _deployed_site(ctx, "", "")
    if bad:
        return bad
    state = state_of(ctx)
    listed = ((found.get("properties") or {}).get("siteConfig") or {}).get("appSettings") or []
    base = f"{found['id']}/config/configreferences/appsettings"
    return ok({"value": [{"id": f"{base}/{s['name']}", "name": s["name"], "type": "Microsoft.Web/sites/config/configreferences",
                          "properties": _reference_status(state, str(s.get("value") or ""))}
                         for s in listed if isinstance(s, dict) and str(s.get("value") or "").strip().startswith("@Microsoft.KeyVault(")]})


room.add(Route("GET", ARM, "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Web/sites/{site}/config/configreferences/appsettings",
               "sites.getAppSettingsKeyVaultReferences", "arm", get_key_vault_references))


def get_group(ctx: RequestContext) -> SandboxResponse:
    state = state_of(ctx)
    bad = check_scope(ctx)
    if bad:
        return bad
    rg = ctx.params["rg"]
    return ok({"id": f"/subscriptions/{state.subscription_id}/resourceGroups/{rg}", "name": rg,
               "type": "Microsoft.Resources/resourceGroups", "location": _group_location(state, rg),
               "properties": {"provisioningState": "Succeeded"}})


def head_group(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    return SandboxResponse(404 if bad else 204)


room.add(
    Route("POST", ARM, BASE + "/whatIf", "templateDeployments.whatIf", "arm", what_if),
    Route("PUT", ARM, BASE, "templateDeployments.createOrUpdate", "arm", create_or_update),
    Route("GET", ARM, BASE, "templateDeployments.get", "arm", get_deployment),
    Route("GET", ARM, "/subscriptions/{sub}/resourcegroups/{rg}", "resourceGroups.get", "arm", get_group),
    Route("HEAD", ARM, "/subscriptions/{sub}/resourcegroups/{rg}", "resourceGroups.checkExistence", "arm", head_group),
)

# Action groups a template deployed are answered by the monitor room (same doc["deployed_resources"]).



# Immutability policies a template deployed (Microsoft.Storage/storageAccounts/blobServices/containers/
# immutabilityPolicies, BlobContainers - Get Immutability Policy, api-version 2023-05-01:
# https://learn.microsoft.com/rest/api/storagerp/blob-containers/get-immutability-policy). ARM creates a policy
# *Unlocked*; locking it is a separate call (``…/immutabilityPolicies/default/lock``, irreversible). The sandbox answers
# ``properties.state`` "Unlocked", or "Locked" for a policy id in ``doc["immutability_locks"]`` (kept outside the
# deployed properties, so what-if still compares only what the template sets).
_POLICY = ("/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}/blobServices/default"
           "/containers/{container}/immutabilityPolicies/{policy}")


def policy_id(state, rg: str, account: str, container: str) -> str:
    """The ARM id of ``container``'s immutability policy (``default``) in ``account`` of resource group ``rg``."""
    return (f"/subscriptions/{state.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/"
            f"{account}/blobServices/default/containers/{container}/immutabilityPolicies/default")


def get_immutability_policy(ctx: RequestContext) -> SandboxResponse:
    """``GET …/containers/{container}/immutabilityPolicies/default`` → ``{id, name, type, etag, properties: {
    immutabilityPeriodSinceCreationInDays, allowProtectedAppendWrites, state}}``; 404 ``ResourceNotFound`` when no
    template deployed one (an account without a policy answers an empty default policy on Azure; the doctor treats
    both as "no policy")."""
    bad = check_scope(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    p = ctx.params
    rid = policy_id(state, p["rg"], p["account"], p["container"])
    found = state.doc.get("deployed_resources", {}).get(rid.lower()) if p["policy"] == "default" else None
    if found is None:
        return error(404, "ResourceNotFound", f"The container '{p['container']}' of storage account '{p['account']}' has no "
                     "immutability policy.")
    locked = rid.lower() in state.doc.get("immutability_locks", {})
    props = {**copy.deepcopy(found.get("properties") or {}), "state": "Locked" if locked else "Unlocked"}
    etag = '"' + uuid.uuid5(uuid.NAMESPACE_URL, rid.lower() + ("/locked" if locked else "")).hex[:16] + '"'
    return ok({"id": found["id"], "name": "default", "etag": etag,
               "type": "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies", "properties": props})


def lock_immutability_policy(ctx: RequestContext) -> SandboxResponse:
    """``POST …/containers/{container}/immutabilityPolicies/default/lock`` with ``If-Match: <the policy's etag>``
    (BlobContainers - Lock Immutability Policy, 2023-05-01:
    https://learn.microsoft.com/rest/api/storagerp/blob-containers/lock-immutability-policy) → 200 the policy, now
    ``state`` "Locked" (kept in ``doc["immutability_locks"]``; irreversible, as on Azure: there is no unlock). 404 as
    the GET; 412 ``ConditionNotMet`` when If-Match is missing or not the current etag (Azure requires it); locking a
    locked policy again answers it as it is."""
    bad = check_scope(ctx)
    if bad:
        return bad
    current = get_immutability_policy(ctx)
    if current.status != 200:
        return current
    etag = (current.headers or {}).get("ETag") or current.body.get("etag")
    if ctx.request.header("If-Match") not in (etag, "*") or not ctx.request.header("If-Match"):
        return error(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met: give "
                     "If-Match with the policy's current etag (BlobContainers - Get Immutability Policy).")
    state = state_of(ctx)
    p = ctx.params
    rid = policy_id(state, p["rg"], p["account"], p["container"])
    state.doc.setdefault("immutability_locks", {})[rid.lower()] = format_utc(ctx.now)
    return get_immutability_policy(ctx)


# Storage accounts a template deployed (Storage Accounts - Get Properties, 2023-05-01:
# https://learn.microsoft.com/rest/api/storagerp/storage-accounts/get-properties; also what a generic
# ``resources.get_by_id`` of the account reaches): the deployed body, 404 ``ResourceNotFound`` for any other name — so
# a reader can tell a mistyped account from an account without a container policy (``doctor --storage``).
_ACCOUNT = "/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}"


def get_storage_account(ctx: RequestContext) -> SandboxResponse:
    """``GET …/Microsoft.Storage/storageAccounts/{account}`` → ``{id, name, type, location, kind, sku, properties}`` of
    the deployed account; 404 ``ResourceNotFound`` (ARM's wording) when no template deployed one of that name."""
    bad = check_scope(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    p = ctx.params
    rid = (f"/subscriptions/{state.subscription_id}/resourceGroups/{p['rg']}/providers/Microsoft.Storage/storageAccounts/"
           f"{p['account']}")
    found = state.doc.get("deployed_resources", {}).get(rid.lower())
    if found is None or str(found.get("type", "")).lower() != "microsoft.storage/storageaccounts":
        return arm_not_found("Microsoft.Storage/storageAccounts", p["account"], p["rg"])
    body = {k: copy.deepcopy(found[k]) for k in ("location", "kind", "sku", "tags") if k in found}
    return ok({"id": found["id"], "name": str(found.get("name") or p["account"]).split("/")[-1],
               "type": "Microsoft.Storage/storageAccounts", **body,
               "properties": copy.deepcopy(found.get("runtime") or found.get("properties") or {})})


room.add(Route("GET", ARM, _POLICY, "blobContainers.getImmutabilityPolicy", "arm", get_immutability_policy),
         Route("POST", ARM, _POLICY + "/lock", "blobContainers.lockImmutabilityPolicy", "arm", lock_immutability_policy),
         Route("GET", ARM, _ACCOUNT, "storageAccounts.getProperties", "arm", get_storage_account))

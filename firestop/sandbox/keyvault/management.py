"""Key Vault management plane on ARM: ``Microsoft.KeyVault/vaults`` (read-only).

Operations (Key Vault management REST, ``Vaults_Get`` / ``Vaults_ListByResourceGroup`` /
``Vaults_ListBySubscription``; azure-mgmt-keyvault 14.1.0 sends api-version 2026-05-15 —
any api-version is accepted and logged):

==========================  ======  ==================================================================
operation                   method  path
==========================  ======  ==================================================================
vaults.get                  GET     /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}
vaults.listByResourceGroup  GET     /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults
vaults.listBySubscription   GET     /subscriptions/{s}/providers/Microsoft.KeyVault/vaults
vaultSecrets.get            GET     /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}/secrets/{secret}
==========================  ======  ==================================================================

Bodies are the vault's ARM JSON (:func:`~.models.key_vault`); lists answer
``{"value": [...]}`` without ``nextLink`` (a tenant holds few vaults): the seeded vaults only — a vault a template
deployed answers ``vaults.get`` but is not listed (the audit's counts rest on the seeded ones). An unknown vault is 404
``ResourceNotFound``. Writes (create, update, access policies) are not modelled.

``vaultSecrets.get`` (Secrets_Get, the management plane's secret: "intended for internal use in ARM deployments") answers a
secret a template deployed (``doc["deployed_resources"]``) or a seeded one (``doc["vaults"]``) as ``{id, name, type,
properties: {secretUri, secretUriWithVersion?, contentType?, attributes}}`` — never its ``value``, which the spec says
"will never be returned from the service"; 404 ``ResourceNotFound`` for a secret or vault that is not there
(``infra deploy`` reads whether ``firestop-seal-key-retired`` exists with it).
"""

from __future__ import annotations

import copy

from ..core.armapi import check_scope, ok, state_of, typed_resource
from ..core.errors import error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from . import room
from .models import VAULT_TYPE

ARM = "management.azure.com"
RG_BASE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults"


def _vaults(ctx: RequestContext, prefix: str) -> list[dict]:
    resources = state_of(ctx).doc["resources"]
    return [copy.deepcopy(r) for k, r in sorted(resources.items()) if k.startswith(prefix.lower()) and r.get("type") == VAULT_TYPE]


@room.route("GET", ARM, RG_BASE + "/{name}", "vaults.get")
def get_vault(ctx: RequestContext) -> SandboxResponse:
    """A seeded vault (``doc["resources"]``), else one a template deployed (``doc["deployed_resources"]``: Firestop's
    own ``kv-fire-…``, which answered 404 before), else 404 ``ResourceNotFound``."""
    vault, bad = typed_resource(ctx, VAULT_TYPE, ctx.params["name"])
    if bad is not None and bad.status == 404 and (deployed := _deployed_vault(ctx)) is not None:
        return ok(deployed)
    if bad:
        return bad
    return ok(copy.deepcopy(vault))


def _deployed_vault(ctx: RequestContext) -> dict | None:
    """The ARM JSON of a vault a template deployed in the route's resource group, None when there is none (or the
    subscription or group is not this tenant's)."""

    if check_scope(ctx) is not None:
        return None
    state = state_of(ctx)
    p = ctx.params
    rid = f"/subscriptions/{state.subscription_id}/resourceGroups/{p['rg']}/providers/{VAULT_TYPE}/{p['name']}"
    found = state.doc.get("deployed_resources", {}).get(rid.lower())
    if found is None or str(found.get("type", "")).lower() != VAULT_TYPE.lower():
        return None
    body = {k: copy.deepcopy(found[k]) for k in ("location", "tags") if k in found}
    return {"id": found["id"], "name": str(found.get("name") or p["name"]).split("/")[-1], "type": VAULT_TYPE, **body,
            "properties": copy.deepcopy(found.get("runtime") or found.get("properties") or {})}


@room.route("GET", ARM, RG_BASE, "vaults.listByResourceGroup")
def list_by_resource_group(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    p = ctx.params
    return ok({"value": _vaults(ctx, f"/subscriptions/{p['sub']}/resourcegroups/{p['rg']}/")})


@room.route("GET", ARM, "/subscriptions/{sub}/providers/Microsoft.KeyVault/vaults", "vaults.listBySubscription")
def list_by_subscription(ctx: RequestContext) -> SandboxResponse:
    bad = check_scope(ctx)
    if bad:
        return bad
    return ok({"value": _vaults(ctx, f"/subscriptions/{ctx.params['sub']}/")})


SECRET_TYPE = "Microsoft.KeyVault/vaults/secrets"


@room.route("GET", ARM, RG_BASE + "/{name}/secrets/{secret}", "vaultSecrets.get")
def get_secret(ctx: RequestContext) -> SandboxResponse:
    """Secrets_Get on ARM (module docstring): a deployed or seeded secret's properties, never its value."""
    bad = check_scope(ctx)
    if bad:
        return bad
    state = state_of(ctx)
    p = ctx.params
    vault_id = f"/subscriptions/{state.subscription_id}/resourceGroups/{p['rg']}/providers/{VAULT_TYPE}/{p['name']}"
    rid = f"{vault_id}/secrets/{p['secret']}"
    uri = f"https://{p['name'].lower()}.vault.azure.net/secrets/{p['secret']}"
    deployed = state.doc.get("deployed_resources", {}).get(rid.lower())
    if deployed is not None and str(deployed.get("type", "")).lower() == SECRET_TYPE.lower():
        given = deployed.get("properties") or {}
        props = {"secretUri": uri, "attributes": {"enabled": True},
                 **({"contentType": given["contentType"]} if given.get("contentType") else {})}
        return ok({"id": rid, "name": p["secret"], "type": SECRET_TYPE, "properties": props})
    vault = state.doc.get("vaults", {}).get(p["name"].lower())
    if vault and vault["resource_id"].lower() == vault_id.lower():
        held = vault["secrets"].get(p["secret"].lower())
        if held and held.get("versions"):
            last = held["versions"][-1]
            return ok({"id": rid, "name": held["name"], "type": SECRET_TYPE, "properties": {
                "secretUri": uri, "secretUriWithVersion": f"{uri}/{last['version']}",
                "attributes": {"enabled": bool(last.get("enabled", True))},
                **({"contentType": last["contentType"]} if last.get("contentType") else {})}})
    return error(404, "ResourceNotFound", f"The Resource '{SECRET_TYPE}/{p['name']}/{p['secret']}' under resource group "
                 f"'{p['rg']}' was not found.")

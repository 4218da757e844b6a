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
==========================  ======  ==================================================================

Bodies are the vault's ARM JSON (:func:`~.models.key_vault`); lists answer
``{"value": [...]}`` without ``nextLink`` (a tenant holds few vaults). An unknown
vault is 404 ``ResourceNotFound``. Writes (create, update, access policies) are not modelled.
"""

from __future__ import annotations

import copy

from ..core.armapi import check_scope, ok, state_of, typed_resource
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
    vault, bad = typed_resource(ctx, VAULT_TYPE, ctx.params["name"])
    if bad:
        return bad
    return ok(copy.deepcopy(vault))


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

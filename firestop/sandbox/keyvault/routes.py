"""Key Vault secrets data plane on ``https://{vault}.vault.azure.net``.

Shapes per Key Vault REST 7.5 examples (corpus ``keyvault/SetSecret-example.7.5.json``,
``GetSecret-example.7.5.json``); azure-keyvault-secrets 4.12.0 sends api-version
2026-04-01 (any version accepted and logged).

============================  ======  ===========================================
operation                     method  path
============================  ======  ===========================================
secrets.set                   PUT     /secrets/{name}        body {"value", "contentType"?, "attributes"?, "tags"?}
secrets.versions              GET     /secrets/{name}/versions   (?maxresults=N, $skiptoken paging)
secrets.get                   GET     /secrets/{name}/{version?}  (empty version = latest)
============================  ======  ===========================================

Every set creates a new version (32 lower-hex id). ``attributes.created`` /
``updated`` are Unix epoch seconds of the virtual clock; ``recoveryLevel`` is
``Recoverable+Purgeable``. Secret names must match ``^[0-9a-zA-Z-]{1,127}$``.
Unauthenticated requests get the 401 challenge (see :mod:`firestop.sandbox.core.auth`).
A host naming a vault the tenant does not have is reported as unrouted (501).
"""

from __future__ import annotations

import re
from typing import Optional

from ..core.errors import error
from ..core.router import RequestContext
from ..core.wire import SandboxResponse
from ..core.armapi import json_body, ok, state_of
from . import room

VAULT_HOST = "{vault}.vault.azure.net"
RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90
_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
_NOT_FOUND_HELP = (
    " If you recently deleted this secret you may be able to recover it using the correct recovery command. "
    "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
)


def _vault(ctx: RequestContext) -> Optional[dict]:
    vault = state_of(ctx).doc["vaults"].get(ctx.params["vault"].lower())
    if vault is None:
        ctx.unrouted_reason = f"no vault named {ctx.params['vault']!r} in this tenant"
    return vault


def _base_url(ctx: RequestContext) -> str:
    return f"https://{ctx.request.host}"


def _attributes(v: dict) -> dict:
    return {
        "enabled": v["enabled"],
        "created": v["created"],
        "updated": v["updated"],
        "recoveryLevel": RECOVERY_LEVEL,
        "recoverableDays": RECOVERABLE_DAYS,
    }


def _bundle(ctx: RequestContext, name: str, v: dict, with_value: bool) -> dict:
    body: dict = {}
    if with_value:
        body["value"] = v["value"]
    body["id"] = f"{_base_url(ctx)}/secrets/{name}/{v['version']}"
    if v.get("contentType"):
        body["contentType"] = v["contentType"]
    body["attributes"] = _attributes(v)
    if v.get("tags"):
        body["tags"] = v["tags"]
    return body


def _bad_name(name: str) -> Optional[SandboxResponse]:
    if not _NAME.match(name):
        return error(400, "BadParameter", f"The request URI contains an invalid name: {name}")
    return None


@room.route("PUT", VAULT_HOST, "/secrets/{name}", "secrets.set", service="keyvault")
def set_secret(ctx: RequestContext) -> SandboxResponse:
    vault = _vault(ctx)
    if vault is None:
        return SandboxResponse(501)
    name = ctx.params["name"]
    bad = _bad_name(name)
    if bad:
        return bad
    body, bad = json_body(ctx)
    if bad:
        return error(400, "BadParameter", "The request body is not valid JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        return error(400, "BadParameter", "Property 'value' is required and must be a string.")
    attrs = body.get("attributes") or {}
    state = state_of(ctx)
    epoch = int(ctx.now.timestamp())
    version = {
        "version": state.new_hex("secret-version", 32),
        "value": body["value"],
        "created": epoch,
        "updated": epoch,
        "enabled": bool(attrs.get("enabled", True)),
        "contentType": body.get("contentType"),
        "tags": body.get("tags"),
    }
    secret = vault["secrets"].setdefault(name.lower(), {"name": name, "versions": []})
    secret["versions"].append(version)
    return ok(_bundle(ctx, secret["name"], version, with_value=True))


@room.route("GET", VAULT_HOST, "/secrets/{name}/{version?}", "secrets.get", service="keyvault")
@room.route("GET", VAULT_HOST, "/secrets/{name}", "secrets.get", service="keyvault")
def get_secret(ctx: RequestContext) -> SandboxResponse:
    vault = _vault(ctx)
    if vault is None:
        return SandboxResponse(501)
    name, wanted = ctx.params["name"], ctx.params.get("version") or ""
    secret = vault["secrets"].get(name.lower())
    versions = secret["versions"] if secret else []
    if wanted:
        match = [v for v in versions if v["version"].lower() == wanted.lower()]
        version = match[0] if match else None
    else:
        version = versions[-1] if versions else None
    if version is None:
        shown = f"{name}/{wanted}" if wanted else name
        return error(404, "SecretNotFound", f"A secret with (name/id) {shown} was not found in this key vault." + _NOT_FOUND_HELP)
    if not version["enabled"]:
        return error(403, "Forbidden", "Operation get is not allowed on a disabled secret.", innererror={"code": "SecretDisabled"})
    return ok(_bundle(ctx, secret["name"], version, with_value=True))


@room.route("GET", VAULT_HOST, "/secrets/{name}/versions", "secrets.versions", service="keyvault")
def list_versions(ctx: RequestContext) -> SandboxResponse:
    vault = _vault(ctx)
    if vault is None:
        return SandboxResponse(501)
    name = ctx.params["name"]
    secret = vault["secrets"].get(name.lower())
    versions = secret["versions"] if secret else []
    try:
        page_size = max(1, min(25, int(ctx.request.query.get("maxresults", "25"))))
        offset = int(ctx.request.query.get("$skiptoken", "0"))
    except ValueError:
        return error(400, "BadParameter", "maxresults and $skiptoken must be integers.")
    page = versions[offset : offset + page_size]
    next_link = None
    if offset + page_size < len(versions):
        next_link = (
            f"{_base_url(ctx)}/secrets/{name}/versions?api-version={ctx.request.api_version or '7.5'}"
            f"&maxresults={page_size}&$skiptoken={offset + page_size}"
        )
    value = [_bundle(ctx, secret["name"], v, with_value=False) for v in page] if secret else []
    return ok({"value": value, "nextLink": next_link})

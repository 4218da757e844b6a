"""The playbook-dependent parameters of ``infra/azuredeploy.json`` (an ARM parameters file).

``build(playbooks, scopes, …)`` → ``{"$schema": …deploymentParameters.json#, "contentVersion", "parameters": {…}}``
with ``customRoleName``, ``customRoleActions``, ``customRoleDataActions`` (what the playbooks'
runbooks call on the protected resources, :func:`runbooks.permissions.scoped_actions`), ``protectedResources``
(``[{resourceGroup, resource}]``), ``protectedResourceGroups``, the narrow write-back roles' actions and
scopes (``defenderRoleActions``/``defenderResourceGroups``, ``sentinelRoleActions``/``sentinelWorkspaceId``,
``apimRoleActions``/``apimServiceIds``: each role assigned only there), ``actionGroupName`` and, when
known, ``keyVaultUrl``/``keySecretName``/``entraClientId``/``logWorkspaceId``. Settings that do not
follow from the playbooks (``entraClientId`` …) are filled when given, else left for the operator:
:data:`OPERATOR_PARAMETERS` names them and the CLI prints what is still missing.
"""

from __future__ import annotations

from typing import Any, Optional

from .scopes import Scopes

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
#: Required parameters of the template the generator cannot know: name → how to give it, starting with the exact
#: ``infra`` flag that fills it (``pass --flag VALUE``; or set ``parameters.<name>.value`` in the file by hand).
OPERATOR_PARAMETERS = {
    "entraClientId": "pass --entra-client-id <appId>: the app registration's appId "
                     "(az ad app create … --query appId -o tsv, README 'Deploy to Azure' step 2)",
    "keyVaultUrl": "pass --key-vault <resource group>/<vault name>: the consumers' Key Vault (the URL follows from it)",
    "logWorkspaceId": "pass --workspace <resource group>/<workspace name>: the Log Analytics workspace with the accounts' "
                      "diagnostic logs (its workspace ID is read from ARM; where you may not read it, pass --log-workspace-id "
                      "<GUID> instead: az monitor log-analytics workspace show -g <resource group> -n <name> --query customerId -o tsv)",
}


def build(playbooks: list[Any], scopes: Scopes, *, role_name: str = "Firestop responder", action_group: str = "ag-firestop",
          key_secret_name: str = "openai-api-key", entra_client_id: Optional[str] = None,
          log_workspace_id: Optional[str] = None) -> dict[str, Any]:
    """The parameters file as a dict (JSON-able)."""
    from runbooks.permissions import audit_actions, scoped_actions

    scoped = scoped_actions(playbooks)
    audit, audit_data = audit_actions()
    actions, data = scoped["protected"]
    sentinel_id, apim_ids = scopes.write_back_ids()
    params: dict[str, Any] = {
        "customRoleName": {"value": role_name},
        "customRoleActions": {"value": actions},
        "customRoleDataActions": {"value": data},
        "protectedResources": {"value": [{"resourceGroup": r.resource_group, "resource": r.path} for r in scopes.resources]},
        "protectedResourceGroups": {"value": list(scopes.resource_groups)},
        "defenderRoleActions": {"value": scoped["defender"][0]},
        "defenderResourceGroups": {"value": list(scopes.defender_resource_groups) if scoped["defender"][0] else []},
        "sentinelRoleActions": {"value": scoped["sentinel"][0]},
        "apimRoleActions": {"value": scoped["apim"][0]},
        "apimServiceIds": {"value": apim_ids if scoped["apim"][0] else []},
        "auditRoleActions": {"value": audit},
        "auditRoleDataActions": {"value": audit_data},
        "actionGroupName": {"value": action_group},
        "keySecretName": {"value": key_secret_name},
    }
    if sentinel_id and scoped["sentinel"][0]:
        params["sentinelWorkspaceId"] = {"value": sentinel_id}
    if scopes.key_vault:
        params["keyVaultUrl"] = {"value": f"https://{scopes.key_vault}.vault.azure.net"}
    if entra_client_id:
        params["entraClientId"] = {"value": entra_client_id}
    if log_workspace_id:
        params["logWorkspaceId"] = {"value": log_workspace_id}
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": params}


#: Write-back scopes the playbooks need but the flags did not name: (actions parameter, scope parameter, how to give
#: it — the exact ``infra`` flag first, as in :data:`OPERATOR_PARAMETERS`).
WRITE_BACK_PARAMETERS = (
    ("defenderRoleActions", "defenderResourceGroups", "pass --defender-resource-group <resource group> (repeatable): the resource "
     "groups of the Defender for Cloud alerts to resolve (default: the --account groups)"),
    ("sentinelRoleActions", "sentinelWorkspaceId", "pass --sentinel-workspace <resource group>/<workspace name>: the Microsoft "
     "Sentinel workspace the playbooks write back to"),
    ("apimRoleActions", "apimServiceIds", "pass --apim <resource group>/<service name> (repeatable): the API Management services "
     "whose subscriptions the playbooks suspend"),
)


def missing(parameters: dict[str, Any]) -> dict[str, str]:
    """Required operator parameters still absent, and write-back scopes the playbooks' actions need but nobody
    named (their step would end forbidden): ``{template parameter name: "pass --flag VALUE: what it is"}``."""
    have = parameters.get("parameters", {})
    out = {k: v for k, v in OPERATOR_PARAMETERS.items() if k not in have}
    for actions, scope, how in WRITE_BACK_PARAMETERS:
        if (have.get(actions) or {}).get("value") and not (have.get(scope) or {}).get("value"):
            out[scope] = how
    return out

"""The playbook-dependent parameters of ``infra/azuredeploy.json`` (an ARM parameters file).

``build(playbooks, scopes, …)`` → ``{"$schema": …deploymentParameters.json#, "contentVersion", "parameters": {…}}``
with ``customRoleName``, ``customRoleActions``, ``customRoleDataActions`` (exactly what the
playbooks' runbooks call, :func:`runbooks.permissions.role_definition`), ``protectedResources``
(``[{resourceGroup, resource}]``), ``protectedResourceGroups``, ``actionGroupName`` and, when
known, ``keyVaultUrl``/``keySecretName``/``entraClientId``/``logWorkspaceId``. Settings that do not
follow from the playbooks (``entraClientId`` …) are filled when given, else left for the operator:
:data:`OPERATOR_PARAMETERS` names them and the CLI prints what is still missing.
"""

from __future__ import annotations

from typing import Any, Optional

from .scopes import Scopes

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
#: Required parameters of the template the generator cannot know: (name, how to get it).
OPERATOR_PARAMETERS = {
    "entraClientId": "the app registration's appId (az ad app create …, README 'Deploy to Azure')",
    "keyVaultUrl": "the consumers' vault URL (--key-vault gives it)",
    "logWorkspaceId": "the evidence workspace ID: az monitor log-analytics workspace show --query customerId",
}


def build(playbooks: list[Any], scopes: Scopes, *, role_name: str = "Firestop responder", action_group: str = "ag-firestop",
          key_secret_name: str = "openai-api-key", entra_client_id: Optional[str] = None,
          log_workspace_id: Optional[str] = None) -> dict[str, Any]:
    """The parameters file as a dict (JSON-able)."""
    from runbooks.permissions import role_definition

    role = role_definition(playbooks, [f"/subscriptions/{scopes.subscription_id}"], name=role_name)
    params: dict[str, Any] = {
        "customRoleName": {"value": role_name},
        "customRoleActions": {"value": role["Actions"]},
        "customRoleDataActions": {"value": role["DataActions"]},
        "protectedResources": {"value": [{"resourceGroup": r.resource_group, "resource": r.path} for r in scopes.resources]},
        "protectedResourceGroups": {"value": list(scopes.resource_groups)},
        "actionGroupName": {"value": action_group},
        "keySecretName": {"value": key_secret_name},
    }
    if scopes.key_vault:
        params["keyVaultUrl"] = {"value": f"https://{scopes.key_vault}.vault.azure.net"}
    if entra_client_id:
        params["entraClientId"] = {"value": entra_client_id}
    if log_workspace_id:
        params["logWorkspaceId"] = {"value": log_workspace_id}
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": params}


def missing(parameters: dict[str, Any]) -> dict[str, str]:
    """Required operator parameters still absent: ``{name: how to get it}``."""
    have = parameters.get("parameters", {})
    return {k: v for k, v in OPERATOR_PARAMETERS.items() if k not in have}

"""What ``infra/azuredeploy.json`` writes into the Function App's application settings, and why it leaves the rest out.

The contract: every environment variable the app reads (:data:`firestop.settings.SETTINGS`, and the names the platform
and azure-identity read) is exactly one of

* :data:`FROM_TEMPLATE` — an app setting the template writes: ``name → Source(origin, may_be_empty)``, ``origin`` naming
  the parameter it comes from (with its default) or what of the deployment it is derived from (the tenant, the
  identity, the storage account, the vault the template creates, …); ``may_be_empty``: the template writes ``''``
  for "unset" in some deployments (a parameter left at its empty default), which the app reads as unset;
* :data:`LEFT_OUT` — the app reads it, the template does not set it, and why (the operator's to set, or never on Azure);
* :data:`PLATFORM` — set by App Service / Azure Functions on every instance, never an app setting
  (https://learn.microsoft.com/azure/app-service/reference-app-settings);
* a local-tools setting (``required == "local"`` in :data:`~firestop.settings.SETTINGS`), never on the Function App.

``tests/infra/test_app_settings_coverage.py`` keeps this equal to the template's ``siteConfig.appSettings`` and to
every such name in the code, so a new setting cannot be forgotten: it fails until the setting is written by the
template or listed here with its reason.

Why a choice is a template parameter and never a hand edit: a deployment writes ``siteConfig.appSettings`` whole
(Web Apps - Create Or Update, ``SiteConfig.appSettings``), so a setting added in the portal is dropped by the next
``az deployment group create``.

Functions:

* :func:`template_app_settings(template)` → ``{name: value or expression}`` of the template's ``Microsoft.Web/sites``.
* :func:`missing_on_azure(env)` → ``[(name, problem with the fix)]``: the settings the template always writes
  (not ``may_be_empty``) that ``env`` lacks — a hand edit removed them, or the app was deployed with an older
  template; ``doctor`` names each (the app itself still starts: each has a safe default).
* :func:`deployment_table()` → the README's table of the above (Markdown; a test keeps README.md equal to it).
* :func:`log_missing_on_azure(env)` → the same list, each logged as a warning on ``firestop.settings`` when ``env`` is
  App Service's (``function_app.py`` calls it at start: on Flex Consumption the app's log is where an operator sees it).
* :func:`parameter_setting_problems(template, parameters)` → ``[(parameter, setting, problem with the fix)]``: the
  app settings the template writes straight from one parameter (``[parameters('P')]``, ``[string(parameters('P'))]``,
  ``[join(parameters('P'), ',')]``) whose value — the one given, else the parameter's literal default — the app's own
  start-up check (:func:`firestop.settings.check_environment`, as on Azure) refuses: ``infra deploy`` refuses them
  before deploying, since the app would not start with them (newuser18). Parameters given as a Key Vault reference,
  and defaults that are expressions, are not evaluated (not checked). The secrets the app reads through a Key Vault
  reference (:data:`VAULT_SECRET_PARAMETERS`: ``sealKey``, ``sealKeyRetired``, ``alertsKeyDigest``) are checked too when
  given (never echoed): a retired key under 32 characters, or a fourth retired key, stops the app as a setting does.
* :func:`not_key_vault_references(values)` → names of :data:`KEY_VAULT_SETTINGS` whose value is not an
  ``@Microsoft.KeyVault(...)`` reference (a literal key in an app setting: readable by anyone who may read the
  site's configuration, and outside the vault's access log).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Source:
    """Where the template's value of one app setting comes from."""

    origin: str
    may_be_empty: bool = False


_P = "parameter "
FROM_TEMPLATE: dict[str, Source] = {
    "AzureWebJobsStorage__accountName": Source(_P + "storageAccountName (the account the template creates)"),
    "AzureWebJobsStorage__credential": Source("managedidentity (fixed)"),
    "AzureWebJobsStorage__clientId": Source("the user-assigned identity the template creates (its clientId)"),
    "AZURE_CLIENT_ID": Source("the user-assigned identity the template creates (its clientId)"),
    "APPLICATIONINSIGHTS_CONNECTION_STRING": Source("the Application Insights component the template creates"),
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": Source("ClientId=<the identity's clientId>;Authorization=AAD (fixed form)"),
    "FIRESTOP_KEY_VAULT_URL": Source(_P + "keyVaultUrl (python -m firestop infra --key-vault)"),
    "FIRESTOP_KEY_SECRET_NAME": Source(_P + "keySecretName (default openai-api-key)"),
    "FIRESTOP_LOG_WORKSPACE_ID": Source(_P + "logWorkspaceId (python -m firestop infra --workspace)"),
    "FIRESTOP_SENTINEL_WORKSPACE_ID": Source(_P + "sentinelWorkspaceId (empty: none)", may_be_empty=True),
    "FIRESTOP_AUTOMATION_PRINCIPAL_ID": Source("the user-assigned identity the template creates (its principalId)"),
    "FIRESTOP_SEAL_KEY": Source("a Key Vault reference to firestop-seal-key in the vault the template creates"),
    "FIRESTOP_SEAL_KEY_RETIRED": Source("a Key Vault reference to firestop-seal-key-retired in the vault the template creates"),
    "FIRESTOP_ALERTS_KEY_DIGEST": Source("a Key Vault reference to firestop-alerts-key-digest in the vault the template creates"),
    "FIRESTOP_AUDIT_SUBSCRIPTION": Source("the deployment's subscription, when the audit role is granted (auditRoleActions)",
                                          may_be_empty=True),
    "FIRESTOP_DEFENDER_RELAY": Source(_P + "defenderRelay (empty: none)", may_be_empty=True),
    "FIRESTOP_NOTIFY_WEBHOOK_URL": Source(_P + "notifyWebhookUrl (empty: notify.webhook is skipped)", may_be_empty=True),
    "FIRESTOP_TABLETOP_SCHEDULE": Source(_P + "tabletopSchedule (default 0 0 6 * * 1)"),
    "FIRESTOP_CORRELATION_WINDOW_SECONDS": Source(_P + "correlationWindowSeconds (default 3600)"),
    "FIRESTOP_CORRELATION_KEY": Source(_P + "correlationKey (default resource)"),
    "FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS": Source(_P + "evidenceMaxWindowSeconds (default 3600)"),
    "FIRESTOP_AUDIT_SCHEDULE": Source(_P + "auditSchedule (default 0 0 5 * * 1)"),
    "FIRESTOP_AUDIT_RESOURCE_GROUPS": Source(_P + "auditResourceGroups (default []: the whole subscription)", may_be_empty=True),
    "FIRESTOP_KEY_VAULT_ALLOWED_URLS": Source(_P + "keyVaultAllowedUrls (default []: keyVaultUrl's vault only)", may_be_empty=True),
    "FIRESTOP_NON_PRODUCTION_ACCOUNTS": Source(_P + "nonProductionAccounts (default []: every account is production)", may_be_empty=True),
    "FIRESTOP_TENANT_ID": Source(_P + "entraTenantId (default: the deployment's tenant, subscription().tenantId)"),
    "FIRESTOP_PUBLIC_URL": Source(_P + "publicUrl (default '': App Service's https://WEBSITE_HOSTNAME)", may_be_empty=True),
    "FIRESTOP_ROLES": Source(_P + "roleTable (default {\"principals\": {}, \"groups\": {}}: the Entra app roles alone)"),
    "FIRESTOP_LOG_FORMAT": Source(_P + "logFormat (default text)"),
    "FIRESTOP_ALERT_SOURCE_CHECK": Source("on (fixed: on Azure every alert is read back from its source)"),
    "FIRESTOP_STORAGE_BLOB_URL": Source("the blob endpoint of the storage account the template creates"),
    "FIRESTOP_RECORDS_CONTAINER": Source("the records container the template creates"),
    "FIRESTOP_EVIDENCE_CONTAINER": Source("the evidence container the template creates"),
    "FIRESTOP_LEDGER_CONTAINER": Source("the ledger container the template creates"),
}

#: Read by the app, never written by the template: why.
LEFT_OUT: dict[str, str] = {
    "FIRESTOP_HOME": "not set on Azure: records, evidence and ledgers live in Blob Storage (FIRESTOP_STORAGE_BLOB_URL) and "
                     "the durable history in the task hub; only the tabletop timer's exercises write, under the temp folder",
    "FIRESTOP_PLAYBOOKS": "the deployment package's own playbooks/ (the default): playbooks ship with the code they call, "
                          "and a folder outside the package does not exist on an instance",
    "FIRESTOP_TABLETOP_SCENARIOS": "the deployment package's own tabletop/scenarios (the default), as FIRESTOP_PLAYBOOKS",
    "AzureWebJobsStorage": "a connection string carries the storage account key: the template uses "
                           "AzureWebJobsStorage__accountName with the managed identity, and the app refuses it on Azure",
    **{name: "azure-identity's EnvironmentCredential (a service principal's secret, certificate or password): never on "
             "the Function App, which signs in as its managed identity (AZURE_CLIENT_ID alone selects it); the tabletop "
             "timer's child process is started without them"
       for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_PASSWORD")},
}

#: Set by App Service / Azure Functions on every instance (reference-app-settings: "App environment", "Authentication &
#: authorization", managed identity's IDENTITY_ENDPOINT/IDENTITY_HEADER and their older MSI_* names); never app settings.
PLATFORM: frozenset[str] = frozenset({
    "WEBSITE_HOSTNAME", "WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID", "WEBSITE_AUTH_ENABLED", "FUNCTIONS_WORKER_RUNTIME",
    "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
})

#: Secrets the app reads through a Key Vault reference on Azure; a literal value there is refused (doctor, infra deploy).
KEY_VAULT_SETTINGS = ("FIRESTOP_SEAL_KEY", "FIRESTOP_SEAL_KEY_RETIRED", "FIRESTOP_ALERTS_KEY_DIGEST")
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
SITE_TYPE = "microsoft.web/sites"


def template_app_settings(template: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: value}`` of the app settings the template's Function App (``Microsoft.Web/sites``) is deployed with,
    values as written (expressions unevaluated); ``{}`` when it deploys no site or its settings are not a list."""
    for resource in template.get("resources") or []:
        if isinstance(resource, dict) and str(resource.get("type", "")).lower() == SITE_TYPE:
            listed = ((resource.get("properties") or {}).get("siteConfig") or {}).get("appSettings")
            if isinstance(listed, list):
                return {str(s.get("name")): s.get("value") for s in listed if isinstance(s, dict)}
    return {}


def missing_on_azure(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``[(name, problem with the fix)]`` for the settings the template always writes that ``env`` lacks."""
    return [(name, f"missing; infra/azuredeploy.json sets it ({source.origin}): redeploy the template (a hand edit "
                   "removed it, or the app was deployed with an older template)")
            for name, source in FROM_TEMPLATE.items() if not source.may_be_empty and not env.get(name)]


def log_missing_on_azure(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """On App Service (``WEBSITE_SITE_NAME`` or ``WEBSITE_INSTANCE_ID`` set), :func:`missing_on_azure` of ``env``, each
    logged as a warning (name and fix; a value is never read into the line); elsewhere ``[]``, nothing logged."""
    import logging

    if not (env.get("WEBSITE_SITE_NAME") or env.get("WEBSITE_INSTANCE_ID")):
        return []
    missing = missing_on_azure(env)
    for name, problem in missing:
        logging.getLogger("firestop.settings").warning("%s: %s", name, problem)
    return missing


_FROM_ONE_PARAMETER = re.compile(
    r"^\[\s*(?:(?P<fn>string|join)\s*\(\s*)?parameters\(\s*'(?P<name>[^']+)'\s*\)\s*(?(fn)(?:,\s*'(?P<sep>[^']*)'\s*)?\))\s*\]$",
    re.IGNORECASE)


def _as_setting(value: Any, fn: str | None, sep: str | None) -> str | None:
    """The app setting ARM writes for ``value`` through ``fn`` (None, ``string`` or ``join``); None when not evaluated."""
    if fn and fn.lower() == "join":
        return sep.join(str(v) for v in value) if isinstance(value, list) and sep is not None else None
    if isinstance(value, bool):
        return "True" if value else "False"  # ARM's string(bool)
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, (dict, list)) and fn:
        return json.dumps(value, separators=(",", ":"))
    return None


def parameter_setting_problems(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``[(parameter, setting, problem with the fix)]`` (module docstring). ``parameters``: an ARM parameters file's
    ``{name: {"value": …} | {"reference": …}}``."""
    from firestop.settings import check_environment

    declared = template.get("parameters") if isinstance(template.get("parameters"), Mapping) else {}
    problems = []
    for setting, expression in template_app_settings(template).items():
        match = _FROM_ONE_PARAMETER.match(expression) if isinstance(expression, str) else None
        if match is None:
            continue
        name = match.group("name")
        given = parameters.get(name) if isinstance(parameters.get(name), Mapping) else None
        if given is not None and "value" in given:
            value = given["value"]
        elif given is None and isinstance(declared.get(name), Mapping) and "defaultValue" in declared[name]:
            value = declared[name]["defaultValue"]
            if isinstance(value, str) and value.startswith("[") and not value.startswith("[["):
                continue  # an expression (subscription().tenantId): ARM's to evaluate
        else:
            continue
        text = _as_setting(value, match.group("fn"), match.group("sep"))
        if text is None:
            continue
        problems += [(name, setting, problem) for _, problem in check_environment({setting: text}, on_azure=False)]
    for name, setting in VAULT_SECRET_PARAMETERS.items():  # read by the app through a Key Vault reference
        given = parameters.get(name) if isinstance(parameters.get(name), Mapping) else None
        value = given.get("value") if given is not None else None
        if name in declared and isinstance(value, str) and value.strip():  # empty: the template keeps the stored secret
            problems += [(name, setting, problem) for _, problem in check_environment({setting: value}, on_azure=False)]
    return problems


#: Parameters the template stores as secrets in Firestop's vault, read by the app as the setting through a Key Vault
#: reference: the same start-up check applies to the value (their checks never echo it).
VAULT_SECRET_PARAMETERS = {"sealKey": "FIRESTOP_SEAL_KEY", "sealKeyRetired": "FIRESTOP_SEAL_KEY_RETIRED",
                           "alertsKeyDigest": "FIRESTOP_ALERTS_KEY_DIGEST"}


def not_key_vault_references(values: Mapping[str, Any]) -> list[str]:
    """Names of :data:`KEY_VAULT_SETTINGS` present in ``values`` whose value is neither empty nor a Key Vault reference
    (as written in the site's configuration, or as a template expression that writes one)."""
    found = []
    for name in KEY_VAULT_SETTINGS:
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        text = value.strip()
        if text.startswith(KEY_VAULT_REFERENCE):
            continue
        if text.startswith("[") and not text.startswith("[[") and KEY_VAULT_REFERENCE in text:
            continue  # a template expression formatting a reference (format('@Microsoft.KeyVault(SecretUri=…)', …))
        found.append(name)
    return found


def deployment_table() -> str:
    """README's "On Azure" table (Markdown): each setting the template writes and from what, then each it leaves out
    and why. Print it with ``python -c "from firestop.infra.app_settings import deployment_table; print(deployment_table())"``."""
    rows = ["| setting | on Azure |", "|---|---|"]
    rows += [f"| `{name}` | written by the template: {source.origin}"
             + (" — may be empty, which the app reads as unset" if source.may_be_empty else "") + " |"
             for name, source in FROM_TEMPLATE.items()]
    rows += [f"| `{name}` | left out: {why} |" for name, why in LEFT_OUT.items()]
    rows += [f"| `{name}` | set by App Service on every instance, never an app setting |" for name in sorted(PLATFORM)]
    return "\n".join(rows) + "\n"

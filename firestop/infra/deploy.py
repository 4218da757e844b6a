"""Deploy ``infra/azuredeploy.json`` into the sandbox tenant, as ``az deployment group create`` deploys it on Azure.

``python -m firestop infra deploy`` rehearses README "Deploy to Azure" step 4 on the simulated tenant under
``FIRESTOP_HOME``: the same template and parameters file go through ``azure-mgmt-resource``'s
``ResourceManagementClient.deployments`` (``begin_create_or_update`` / ``begin_what_if``, mode ``Incremental``) with the
sandbox as the SDK's transport — exactly what ``tests/infra/test_infra_deploy.py`` does — so the deployment's identity,
roles, containers and action group then exist in the sandbox for ``doctor``, ``tabletop`` and ``serve``.

Shapes:

* :func:`read_json(path, flag)` → the document (dict); :func:`read_json_text` → (it, its text);
  :class:`DeployInputError` (``flag``, ``message``) when the file is missing, over :data:`MAX_FILE_BYTES` (ARM's 4 MB
  request limit), not UTF-8 JSON or not an object. The template's text is sent verbatim (``template_text``), so ARM's
  ``InvalidTemplate`` names the file's own line.
* :func:`parameters_of(doc)` → ``{name: {"value": …} | {"reference": …}}`` from an ARM parameters file
  (``deploymentParameters.json`` schema: ``{"$schema", "contentVersion", "parameters": {…}}``); DeployInputError otherwise.
* :func:`deploy(clients, …)` → ``{"deployment", "resource_group", "provisioning_state", "outputs": {name: value},
  "resources": [ARM ids], "generated": [parameter names], "first": bool, "seal_key_retired": "given"|"kept"|"initialised"|None}``
  (None: the template has no ``sealKeyRetired``); with ``what_if=True`` → ``{"deployment", "resource_group", "what_if": True,
  "changes": [{"change_type", "resource_id"}], "generated", "first", "seal_key_retired"}``
  (nothing written).

Secrets: on the *first* deployment of a name, the template's ``alertsFunctionKey`` and ``sealKey`` (both
``securestring``, default empty) are generated at random when the parameters file does not set them — empty, the
template would deploy no action group and store no seal key — and reported by name only; later deployments leave them
out, which keeps what the first stored (the template's own rule for ``sealKey``; an empty ``alertsFunctionKey`` leaves the
action group as it is in Incremental mode). ARM never echoes a secure value (outputs and parameters carry only their
type), and neither does this module. Whenever both ``alertsFunctionKey`` and ``sealKey`` are in the parameters (given or
generated) and ``alertsKeyDigest`` is not, the digest is computed from them (:func:`alerts_key_digest_of`) and listed in
``generated``: the audit compares it with the action group's ``?code=`` (:mod:`firestop.trust.alerts_key`).

Retired seal keys (deploy18): the template always points ``FIRESTOP_SEAL_KEY_RETIRED`` at the vault secret
``firestop-seal-key-retired`` and writes it only when ``sealKeyRetired`` is given, so a deployment without the parameter
keeps what the vault holds — but the secret must exist. When the parameters leave ``sealKeyRetired`` out, :func:`deploy`
reads what is there (:func:`retired_secret_exists`: ARM Secrets_Get, which never returns a value) and gives ``none``
(a ring without a retired key) only when no such secret exists yet — a first deployment, or one made before the
template kept it. The result's ``seal_key_retired`` says which: ``"given"``, ``"kept"`` or ``"initialised"``. Kept
only when the deployed site already reads the secret (:func:`site_reads_retired_from_vault`): a site an older template
deployed with ``sealKeyRetired`` left empty runs with no retired key while the secret may still hold the keys that
deployment dropped, so a deployment without the parameter is refused (R18-01: it revived them). A later
deployment giving ``sealKey`` without ``sealKeyRetired`` is refused: a new key would drop the stored one from the ring.

Secrets in app settings: a template whose Function App writes ``FIRESTOP_SEAL_KEY``, ``FIRESTOP_SEAL_KEY_RETIRED`` or
``FIRESTOP_ALERTS_KEY_DIGEST`` as anything but a Key Vault reference (a literal key, or an expression built from a
parameter other than ``vaultName``) is refused before anything is sent
(:func:`firestop.infra.app_settings.not_key_vault_references`, :func:`literal_secret_settings`).

Settings the app refuses (newuser18): a parameter the template writes into an app setting as it is (``publicUrl``,
``auditSchedule``, ``keyVaultAllowedUrls``, ``entraTenantId``, …) with a value :mod:`firestop.settings` refuses at the
app's start is refused before anything is sent, naming the parameter and the setting
(:func:`firestop.infra.app_settings.parameter_setting_problems`): ARM checks only types, ranges and allowed values.

Errors: :class:`DeployInputError` for bad input (the CLI's exit 2: the resource group does not exist, ARM refused the
template or parameters — ``InvalidTemplate``/``InvalidTemplateDeployment`` with the expression and its line, as the
sandbox answers like ARM); anything else from azure-core propagates (the CLI's exit 1).
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

#: ARM refuses a request body over 4 MB (Azure Resource Manager template limits); a larger file is refused unread.
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Deployment names: 1-64 of letters, digits, '-', '_', '.', '(' and ')' (Microsoft.Resources/deployments naming rules).
DEPLOYMENT_NAME = re.compile(r"^[-\w._()]{1,64}$", re.ASCII)
#: securestring parameters generated on a name's first deployment when the parameters file leaves them out
GENERATED_ON_FIRST = ("alertsFunctionKey", "sealKey")


#: The (not secret) parameter computed from alertsFunctionKey and sealKey whenever both are in the deployment's parameters.
DIGEST_PARAMETER = "alertsKeyDigest"


def alerts_key_digest_of(params: dict[str, Any]) -> str | None:
    """``alertsKeyDigest`` for parameters ``params`` (``{name: {"value": …}}``): the keyed digest of ``alertsFunctionKey``
    under ``sealKey`` (:func:`firestop.trust.alerts_key.alerts_key_digest`), or None when either is not given as a
    non-empty value (a later deployment leaves both out: the vault keeps the stored digest). The seal key is taken as
    the app takes ``FIRESTOP_SEAL_KEY`` (stripped)."""
    from firestop.trust.alerts_key import alerts_key_digest
    from firestop.trust.seal import SealKey

    code, seal = ((params.get(name) or {}).get("value") for name in ("alertsFunctionKey", "sealKey"))
    if not (isinstance(code, str) and code and isinstance(seal, str) and seal.strip()):
        return None
    return alerts_key_digest(code, key=SealKey(seal.strip(), "deployment parameters"))


#: The template parameter holding the retired seal keys, the vault secret it writes, and the value of a ring without one.
RETIRED_PARAMETER = "sealKeyRetired"
RETIRED_SECRET = "firestop-seal-key-retired"
NO_RETIRED_KEY = "none"  # firestop.trust.seal.NO_RETIRED_KEY


def retired_secret_exists(clients: Any, *, subscription_id: str, resource_group: str, vaults: list[str]) -> bool:
    """Whether one of ``vaults`` (names, in ``resource_group``; ``[]``: every vault of the group, as
    ``vaults.list_by_resource_group`` lists them) holds the secret :data:`RETIRED_SECRET`, read with azure-mgmt-keyvault's
    ``secrets.get`` (ARM Secrets_Get: properties only, "'value' will never be returned from the service"). A vault or
    secret that is not there (404) counts as no secret; any other error propagates (never guessed: a wrong "no"
    would write ``none`` over the retired keys)."""
    from azure.core.exceptions import ResourceNotFoundError

    manager = clients.key_vault_management(subscription_id)
    names = vaults or [v.name for v in manager.vaults.list_by_resource_group(resource_group)]
    for vault in names:
        try:
            manager.secrets.get(resource_group, vault, RETIRED_SECRET)
        except ResourceNotFoundError:
            continue
        return True
    return False


def site_reads_retired_from_vault(clients: Any, *, subscription_id: str, resource_group: str, app: str) -> bool | None:
    """Whether the deployed Function App ``app`` reads ``FIRESTOP_SEAL_KEY_RETIRED`` through a Key Vault reference
    (ARM WebApps_GetAppSettingsKeyVaultReferences, ``…/config/configreferences/appsettings``: setting names and
    statuses, never a value; :data:`firestop.infra.doctor.REFERENCES_API_VERSION`), or None when that cannot be told (no
    such site yet, a target that does not model the list, a deployer who may not read it). R18-01: a site an older
    template deployed with ``sealKeyRetired`` left empty has the setting ``''`` (no retired key) while the vault may
    still hold keys an earlier deployment wrote; other errors propagate."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from .doctor import REFERENCES_API_VERSION

    rid = (f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.Web/sites/{app}"
           "/config/configreferences/appsettings")
    try:
        body = clients.resources(subscription_id).resources.get_by_id(
            rid, api_version=REFERENCES_API_VERSION, cls=lambda response, _deserialized, _headers: response.http_response.json())
    except ResourceNotFoundError:
        return None
    except HttpResponseError as exc:
        if exc.status_code in (401, 403, 501):  # not modelled, or not readable by this deployer: cannot be told
            return None
        raise
    names = set()
    for item in (body or {}).get("value") or []:
        if isinstance(item, dict):  # the setting's name: "name", and the last segment of "id" (…/appsettings/<name>)
            names |= {str(item.get("name") or ""), str(item.get("id") or "").rstrip("/").rsplit("/", 1)[-1]}
    return "FIRESTOP_SEAL_KEY_RETIRED" in names


def literal_secret_settings(template: dict[str, Any]) -> list[str]:
    """The names among the template's Function App settings that would carry a seal key or digest as a literal (a
    Key Vault reference is the only form accepted): a plain value, or an expression using a parameter other than
    ``vaultName`` or a variable (either could hold the key itself)."""
    from .app_settings import KEY_VAULT_SETTINGS, not_key_vault_references, template_app_settings

    values = template_app_settings(template)
    bad = set(not_key_vault_references(values))
    for name in KEY_VAULT_SETTINGS:
        value = values.get(name)
        if isinstance(value, str) and value.startswith("[") and not value.startswith("[["):
            used = set(re.findall(r"parameters\(\s*'([^']*)'\s*\)", value, re.IGNORECASE))
            if used - {"vaultName"} or re.search(r"variables\s*\(", value, re.IGNORECASE):
                bad.add(name)
    return sorted(bad)


class DeployInputError(ValueError):
    """Bad input, named by the flag that carries it: ``flag`` and ``message`` (one line)."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"{flag}: {message}")
        self.flag = flag
        self.message = message


def read_json(path: Path, flag: str) -> dict[str, Any]:
    """The JSON object in ``path`` (at most :data:`MAX_FILE_BYTES`); DeployInputError naming ``flag`` otherwise."""
    return read_json_text(path, flag)[0]


def read_json_text(path: Path, flag: str) -> tuple[dict[str, Any], str]:
    """(the JSON object in ``path``, its text as UTF-8), as :func:`read_json`."""
    if not path.is_file():
        name, eq, _ = str(path).partition("=")
        if flag == "--parameters" and eq and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,79}", name):
            # az's NAME=VALUE habit; the value is not echoed: the path type already folded its '//' (newuser18)
            raise DeployInputError(flag, f"takes an ARM parameters file, not NAME=VALUE: set {name} in the file's "
                                   f'"parameters" ({{"{name}": {{"value": …}}}}; python -m firestop infra … --out FILE '
                                   "writes one, infra/azuredeploy.parameters.json is the sandbox's) and give its path")
        shipped = " (the shipped template is infra/azuredeploy.json, the default)" if flag == "--template" else ""
        raise DeployInputError(flag, f"{path} is not a file; give the path of an existing JSON file{shipped}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DeployInputError(flag, f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DeployInputError(flag, f"{path} is over 4 MB, ARM's request limit")
    try:
        text = raw.decode("utf-8-sig")
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DeployInputError(flag, f"{path} is not JSON in UTF-8 ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(doc, dict):
        raise DeployInputError(flag, f"{path} is not a JSON object")
    return doc, text


def parameters_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``parameters`` of an ARM parameters file; DeployInputError (``--parameters``) when it is not one."""
    params = doc.get("parameters")
    if not isinstance(params, dict) or not all(isinstance(v, dict) and ("value" in v or "reference" in v) for v in params.values()):
        raise DeployInputError("--parameters", 'not an ARM parameters file: expected {"parameters": {"<name>": {"value": …}}} '
                               "(python -m firestop infra … --out FILE writes one)")
    return params


def declared_spelling(parameters: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` with each name spelt as the template declares it. ARM matches a parameters file's names to the
    template's without regard to case (the sandbox's engine does too), so the guards that read ``sealKey``,
    ``sealKeyRetired`` and ``vaultName`` must: A18-07 — ``"SealKey"`` deployed a new key past the refusal of a new key
    without ``sealKeyRetired``. Two names alike but for case: DeployInputError (``--parameters``) naming both (never a
    value). A name the template does not declare is kept as given (ARM refuses it)."""
    spelled = {str(k).lower(): k for k in declared}
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for name, value in parameters.items():
        canon = spelled.get(str(name).lower(), name)
        if canon.lower() in seen:
            raise DeployInputError("--parameters", f"the parameters {seen[canon.lower()][:80]!r} and {str(name)[:80]!r} differ "
                                   "only in case; ARM reads parameter names without regard to case: give one of them")
        seen[canon.lower()] = str(name)
        out[canon] = value
    return out


def _exists(client: Any, resource_group: str, name: str) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        client.deployments.get(resource_group, name)
    except ResourceNotFoundError:
        return False
    return True


def parameter_setting_problems(template: dict[str, Any], parameters: dict[str, Any]) -> list[tuple[str, str, str]]:
    """:func:`firestop.infra.app_settings.parameter_setting_problems`: parameter values the app refuses at start."""
    from .app_settings import parameter_setting_problems as problems

    return problems(template, parameters)


def deploy(clients: Any, *, subscription_id: str, resource_group: str, name: str, template: dict[str, Any],
           parameters: dict[str, Any], what_if: bool = False, template_text: str | None = None) -> dict[str, Any]:
    """Deploy (or, ``what_if``, preview) ``template`` with ``parameters`` into ``resource_group`` through
    ``clients.resources(subscription_id)`` (a :class:`~firestop.azure.clients.ClientFactory` on the sandbox's transport).
    ``template_text``: the template file's text (``template`` parsed), sent verbatim inside the request body so that the
    line ARM names in an ``InvalidTemplate`` error is the file's line. Returns the shape in the module docstring;
    DeployInputError for bad input."""
    import io

    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    if not DEPLOYMENT_NAME.match(name):
        raise DeployInputError("--name", f"{name[:80]!r} is not a deployment name (1-64 letters, digits, '-', '_', '.', '(' or ')')")
    client = clients.resources(subscription_id)
    try:
        client.resource_groups.get(resource_group)
    except ResourceNotFoundError:
        raise DeployInputError("--resource-group", f"no resource group {resource_group!r} in the sandbox tenant's subscription "
                               f"{subscription_id}") from None
    literal = literal_secret_settings(template)
    if literal:
        raise DeployInputError("--template", f"the Function App's {', '.join(literal)} would not be a Key Vault reference: "
                               "a seal key in an app setting is readable by whoever reads the site's configuration and "
                               "leaves no trace in the vault's audit log; write @Microsoft.KeyVault(SecretUri=…) of the "
                               "secret in Firestop's vault, as infra/azuredeploy.json does")
    declared = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    params = declared_spelling(parameters, declared)  # (A18-07: before any check below reads a name)
    refused = parameter_setting_problems(template, params)
    if refused:
        raise DeployInputError("--parameters", "; ".join(
            f"{parameter} (the app setting {setting}): {problem.replace('fix or unset ' + setting, 'fix the parameter')}"
            for parameter, setting, problem in refused) + " — the Function App checks its settings at start and would not "
            "start with this (README: Deploy to Azure, step 5); nothing was deployed")
    first = not _exists(client, resource_group, name)
    given_retired = params.get(RETIRED_PARAMETER) or {}
    if RETIRED_PARAMETER in params and "reference" not in given_retired and not str(given_retired.get("value") or "").strip():
        del params[RETIRED_PARAMETER]  # given empty: the template's "keep", decided below like a parameter left out
    retired = "given" if RETIRED_PARAMETER in params else None
    new_seal = str((params.get("sealKey") or {}).get("value") or "").strip() or "reference" in (params.get("sealKey") or {})
    if new_seal and not first and retired is None and RETIRED_PARAMETER in declared:
        raise DeployInputError("--parameters", "sealKey is given on a later deployment without sealKeyRetired: a new key "
                               "would leave the stored one out of the ring, and everything it sealed would stop verifying. "
                               "To keep the stored key, leave sealKey out; to rotate, give sealKeyRetired with the stored "
                               "key first (README: Rotating the seal key)")
    if retired is None and RETIRED_PARAMETER in declared:
        vault = (params.get("vaultName") or {}).get("value")
        if not (isinstance(vault, str) and vault) and not first:
            outputs = client.deployments.get(resource_group, name).properties.outputs or {}
            vault = (outputs.get("vaultName") or {}).get("value") if isinstance(outputs.get("vaultName"), dict) else None
        if retired_secret_exists(clients, subscription_id=subscription_id, resource_group=resource_group,
                                 vaults=[vault] if isinstance(vault, str) and vault else []):
            app = (params.get("appName") or {}).get("value")
            if not (isinstance(app, str) and app) and not first:
                outputs = client.deployments.get(resource_group, name).properties.outputs or {}
                app = (outputs.get("functionAppName") or {}).get("value") if isinstance(outputs.get("functionAppName"), dict) else None
            if isinstance(app, str) and app and site_reads_retired_from_vault(
                    clients, subscription_id=subscription_id, resource_group=resource_group, app=app) is False:
                raise DeployInputError("--parameters", (
                    f"sealKeyRetired is not given, and the deployed app {app[:60]!r} does not read "
                    f"{RETIRED_SECRET} (its FIRESTOP_SEAL_KEY_RETIRED is not a Key Vault reference: an earlier template "
                    "left it empty, which dropped the retired keys): keeping the vault's secret would put keys back into "
                    "the ring that the running app no longer holds. Give sealKeyRetired: 'none' keeps the ring as the "
                    "app runs it, or the keys to keep, newest first (review18, R18-01)"))
            retired = "kept"
        else:
            params[RETIRED_PARAMETER] = {"value": NO_RETIRED_KEY}
            retired = "initialised"
    generated = [p for p in GENERATED_ON_FIRST if first and p in declared and p not in params]
    for p in generated:
        params[p] = {"value": secrets.token_urlsafe(32)}
    if DIGEST_PARAMETER in declared and DIGEST_PARAMETER not in params:
        digest = alerts_key_digest_of(params)
        if digest is not None:
            params[DIGEST_PARAMETER] = {"value": digest}
            generated.append(DIGEST_PARAMETER)
    if template_text is not None:  # the file's text from its first line: line N of the file is line N of the body
        body: Any = io.BytesIO(('{"properties": {"template": ' + template_text + ',\n"mode": "Incremental", "parameters": '
                                + json.dumps(params) + "}}").encode("utf-8"))
        sent = {"content_type": "application/json"}
    else:
        body, sent = {"properties": {"mode": "Incremental", "template": template, "parameters": params}}, {}
    try:
        if what_if:
            result = client.deployments.begin_what_if(resource_group, name, body, **sent).result()
            return {"deployment": name, "resource_group": resource_group, "what_if": True, "generated": generated, "first": first,
                    "seal_key_retired": retired,
                    "changes": [{"change_type": str(c.change_type), "resource_id": c.resource_id} for c in result.changes or []]}
        result = client.deployments.begin_create_or_update(resource_group, name, body, **sent).result()
    except ResourceNotFoundError:
        raise
    except HttpResponseError as exc:
        if exc.status_code is not None and 400 <= exc.status_code < 500 and exc.status_code not in (401, 403, 429):
            code = getattr(getattr(exc, "error", None), "code", None) or exc.reason
            message = getattr(getattr(exc, "error", None), "message", None) or str(exc)
            raise DeployInputError("--template/--parameters", f"ARM refused the deployment ({exc.status_code} {code}): "
                                   f"{str(message).splitlines()[0][:600]}") from None
        raise
    props = result.properties
    outputs = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in (props.outputs or {}).items()}
    return {"deployment": result.name, "resource_group": resource_group, "provisioning_state": props.provisioning_state,
            "outputs": outputs, "resources": [r.id for r in props.output_resources or []], "generated": generated, "first": first,
            "seal_key_retired": retired}

"""``firestop doctor``: does this configuration work? Each check says what it looked at.

Checks (each → ``{"check", "status": ok|problem|skipped, "detail"}``; ``skipped`` details start with what
could not be checked and why — "— not checkable: …" when the target (e.g. the sandbox) cannot answer):

1. ``settings`` — :func:`firestop.settings.check_environment` on the environment (``on_azure`` with
   ``--azure``: the required application settings must be present, and, run inside the app, so must every one
   ``infra/azuredeploy.json`` always writes, :func:`firestop.infra.app_settings.missing_on_azure`, each named with the
   parameter it comes from).
2. ``storage`` — the stores of :func:`firestop.storage.stores_for` answer: with ``FIRESTOP_STORAGE_BLOB_URL``
   each container (records, evidence, ledger) is read with Get Container Properties (the managed identity on
   Azure, Azurite's development key locally; a missing container is a problem on Azure, created on first write
   on Azurite); without it ``FIRESTOP_HOME`` is writable — and a problem with ``--azure``, where nothing may stay
   on an instance's disk. Locally, anything under ``FIRESTOP_HOME`` other users may read (a home made before state
   files were created 0600) is a problem naming ``chmod -R go-rwx <home>`` (:mod:`firestop.private`).
3. ``storage WORM`` — records, evidence and ledger containers carry a time-based immutability policy
   (``x-ms-has-immutability-policy`` of Get Container Properties,
   https://learn.microsoft.com/rest/api/storageservices/get-container-properties). Azurite does not model
   immutability policies and local folders have none: skipped there, naming what does hold (the app's own
   write-once refusal, and ``infra/azuredeploy.json`` requesting the policies).
4. ``permissions`` — the identity (``--principal-id`` or ``FIRESTOP_AUTOMATION_PRINCIPAL_ID``) holds,
   through its role assignments read with the SDK, exactly the actions the playbooks need: nothing
   missing, nothing extra; and lists the scopes it holds them at.
5. ``app authentication`` — the Function App (``--app RG/NAME``) has App Service authentication as
   ``infra/azuredeploy.json`` sets it: enabled, Microsoft Entra ID enabled with a client ID, authentication
   required with 401 for the unauthenticated, and nothing excluded but the function-key routes for machines
   (``/api/alerts``, which prefixes its ``/{deliveryId}/status``, and ``/api/events`` for Event Grid) and the Durable
   status prefix (ARM ``GET …/sites/{name}/config/authsettingsV2``, WebApps_GetAuthSettingsV2WithoutSecrets,
   api-version 2024-04-01: no secret is read).
5b. ``app secrets`` — the Function App's (``--app RG/NAME``) ``FIRESTOP_SEAL_KEY``, ``FIRESTOP_SEAL_KEY_RETIRED`` and
   ``FIRESTOP_ALERTS_KEY_DIGEST`` are Key Vault references App Service resolved, never a literal key (ARM ``GET
   …/config/configreferences/appsettings``, WebApps_GetAppSettingsKeyVaultReferences: names and statuses, no value):
   :func:`check_app_secrets`.
6. ``action group`` — the action group (``--action-group RG/NAME``) has a webhook with the common
   alert schema whose URL is this app's ``/api/alerts`` (``--app-host`` or ``WEBSITE_HOSTNAME``).
7. ``alert rules`` — through azure-mgmt-monitor (scheduled query rules, metric alerts, activity log alerts of
   the subscription): every rule that routes to a playbook (custom property ``firestop-playbook``) names a
   shipped playbook and notifies that action group, and at least one rule does. Where the target does not
   model alert rules (a sandbox without the monitor room answers 501) the check is skipped, saying so.

8. ``telemetry`` — whether OpenTelemetry is configured (:mod:`firestop.telemetry.otel`): with
   ``APPLICATIONINSIGHTS_CONNECTION_STRING`` (an ``InstrumentationKey`` and an ``IngestionEndpoint``; the value is
   never printed) and azure-monitor-opentelemetry installed, the Function App and ``serve`` export traces and
   metrics (``ok``, saying whether ingestion uses Entra ID through ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING``);
   a malformed string or a missing package is a problem, and so is no connection string with ``--azure``;
   locally without one it is skipped ("nothing exported"), naming ``FIRESTOP_OTEL_CONSOLE=1``.

Where each check looks (``"about"`` of each result, and the two headed groups of the text output):
``settings``, ``storage``, ``storage WORM`` and ``telemetry`` read **this machine** — this process's environment
and ``FIRESTOP_HOME``; ``permissions``, ``app authentication``, ``app secrets``, ``action group``, ``alert rules``, ``storage WORM locked`` and ``audit logs`` read **Azure**
(or the sandbox tenant) through ARM with this process's credential. So ``doctor --azure`` run from a laptop checks
the laptop's settings, not the deployed app's: :func:`not_checked_here` says so and where the app's own are checked
(the app validates its settings at start and logs each bad one; doctor run inside the app reads the app's).
9. ``storage WORM locked`` (``--storage RG/ACCOUNT``) — the records, evidence and ledger containers' immutability
   policies are *Locked* (ARM; an unlocked policy can be deleted by an account Owner, and the blobs after it):
   :func:`check_worm_locks`, whose problem names the ``az storage container immutability-policy lock`` command.
10. ``audit logs`` (``--vault RG/NAME``, ``--storage RG/ACCOUNT``) — the ``firestop-audit`` diagnostic settings the
   template creates: Key Vault ``AuditEvent``, blob ``StorageWrite``/``StorageDelete``, to a workspace
   (:func:`check_audit_logs`, naming the ``az monitor diagnostic-settings create`` fix).
   Both read the account or vault itself when ARM answers 404 (a missing policy or setting and a missing resource
   answer alike): "there is no storage account / key vault … mistyped?" or "no policy / no setting", each its fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional

OK, PROBLEM, SKIPPED = "ok", "problem", "skipped"


def _result(check: str, status: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": check, "status": status, "detail": detail, **extra}


def check_settings(env: Mapping[str, str], on_azure: bool) -> dict[str, Any]:
    """``settings``: every value checked; on Azure also the required ones present, and — run inside the app (App
    Service's ``WEBSITE_SITE_NAME``/``WEBSITE_INSTANCE_ID``, as :func:`~firestop.infra.app_settings.log_missing_on_azure`
    looks; a laptop's ``--azure`` environment never holds the app's settings, R18-04) — every setting the template
    always writes (:func:`firestop.infra.app_settings.missing_on_azure`: a hand edit removed it, or an older template
    deployed the app): the app still starts without those (each has a safe default), so doctor is where they show."""
    from firestop.settings import check_environment

    from .app_settings import missing_on_azure

    problems = check_environment(env, on_azure=on_azure)
    if on_azure and (env.get("WEBSITE_SITE_NAME") or env.get("WEBSITE_INSTANCE_ID")):  # R18-04: the app's, not a laptop's
        named = {name for name, _ in problems}
        problems += [(name, problem) for name, problem in missing_on_azure(env) if name not in named]
    if problems:
        return _result("settings", PROBLEM, "; ".join(f"{n}: {p}" for n, p in problems), problems=[{"setting": n, "problem": p} for n, p in problems])
    return _result("settings", OK, "every FIRESTOP_* and host setting present is valid" + (" and the required ones are set" if on_azure else ""))


def check_telemetry(env: Mapping[str, str], on_azure: bool) -> dict[str, Any]:
    """The ``telemetry`` check (module docstring); ``telemetry`` in the result: ``{"configured": bool, "exports"}``."""
    import importlib.util

    from firestop.telemetry.otel import CONNECTION_ENV, CONSOLE_ENV

    raw = (env.get(CONNECTION_ENV) or "").strip()
    console = (env.get(CONSOLE_ENV) or "").strip() == "1"
    if not raw:
        detail = (f"not configured: {CONNECTION_ENV} is not set, nothing is exported"
                  + (f"; {CONSOLE_ENV}=1 prints spans and metrics on serve's stderr" if console else
                     f" (locally, {CONSOLE_ENV}=1 prints spans and metrics on serve's stderr)"))
        status = PROBLEM if on_azure else SKIPPED
        if on_azure:
            detail += "; infra/azuredeploy.json sets it to its Application Insights component"
        return _result("telemetry", status, detail, telemetry={"configured": False, "exports": "console" if console else None})
    parts = dict(p.split("=", 1) for p in raw.split(";") if "=" in p)
    parts = {k.strip().lower(): v.strip() for k, v in parts.items()}
    missing = [k for k in ("InstrumentationKey", "IngestionEndpoint") if not parts.get(k.lower())]
    if missing:
        return _result("telemetry", PROBLEM, f"{CONNECTION_ENV} has no {' or '.join(missing)} (value not shown); copy the "
                       "connection string of the Application Insights component (az monitor app-insights component show "
                       "--query connectionString)", telemetry={"configured": False, "exports": None})
    if importlib.util.find_spec("azure.monitor.opentelemetry") is None:
        return _result("telemetry", PROBLEM, f"{CONNECTION_ENV} is set but azure-monitor-opentelemetry is not installed: "
                       "pip install -r requirements.txt", telemetry={"configured": False, "exports": None})
    from urllib.parse import urlsplit

    auth = (env.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING") or "").replace(" ", "").lower()
    entra = "authorization=aad" in auth
    host = urlsplit(parts["ingestionendpoint"]).hostname or "?"
    return _result("telemetry", OK, f"configured: the Function App and serve export traces and metrics to Application "
                   f"Insights (ingestion {host}, " + ("Entra ID through APPLICATIONINSIGHTS_AUTHENTICATION_STRING" if entra
                   else "instrumentation key; a component with local authentication disabled needs "
                        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING=ClientId=<identity client id>;Authorization=AAD") + ")",
                   telemetry={"configured": True, "exports": "Azure Monitor" + (" and console" if console else ""), "entra": entra})


def check_storage(env: Mapping[str, str], on_azure: bool, home: Path, credential: Any = None) -> list[dict[str, Any]]:
    """The ``storage`` and ``storage WORM`` checks (see the module docstring)."""
    from firestop.storage import is_azurite

    url = env.get("FIRESTOP_STORAGE_BLOB_URL")
    if not url:
        if on_azure:
            return [_result("storage", PROBLEM, "FIRESTOP_STORAGE_BLOB_URL is not set: records, evidence and the ledger would stay on "
                            "an instance's disk (lost on scale-in, split across instances); set it to the storage account's blob "
                            "endpoint (infra/azuredeploy.json does)"),
                    _result("storage WORM", SKIPPED, "— not checkable: no Blob Storage configured")]
        local = check_storage_local(home)
        return [local, _result("storage WORM", SKIPPED, "— not checkable: records, evidence and ledger are local folders "
                               "(FIRESTOP_STORAGE_BLOB_URL not set); the app still writes each once and never overwrites it")]
    containers = {kind: env.get(f"FIRESTOP_{kind.upper()}_CONTAINER") or f"firestop-{kind}" for kind in ("records", "evidence", "ledger")}
    found, problem = _containers(url, containers, credential)
    if problem:
        return [_result("storage", PROBLEM, problem), _result("storage WORM", SKIPPED, "— not checkable: the storage did not answer")]
    azurite = is_azurite(url)
    missing = [name for name, props in found.items() if props is None]
    if missing and not azurite:
        storage = _result("storage", PROBLEM, f"{url}: container(s) {', '.join(missing)} do not exist; deploy infra/azuredeploy.json "
                          "(or set FIRESTOP_*_CONTAINER to the containers you made)")
    else:
        storage = _result("storage", OK, f"{url} answers with this identity; containers {', '.join(containers.values())}"
                          + (f" ({', '.join(missing)} created on first write)" if missing else ""), containers=containers)
    if azurite:
        worm = _result("storage WORM", SKIPPED, "— not checkable: Azurite does not model immutability policies; the app itself "
                       "refuses to overwrite records, evidence and ledger entries (If-None-Match: *, append position), and "
                       "infra/azuredeploy.json requests the WORM policies on Azure")
    else:
        unprotected = [containers[k] for k in ("records", "evidence", "ledger")
                       if found.get(containers[k]) is None or not (found[containers[k]].has_immutability_policy
                                                                  or found[containers[k]].immutable_storage_with_versioning_enabled)]
        worm = (_result("storage WORM", PROBLEM, f"no immutability (WORM) policy on {', '.join(unprotected)}; deploy infra/azuredeploy.json "
                        "(policies immutabilityDays long, the ledger's with protected appends)") if unprotected
                else _result("storage WORM", OK, f"{containers['records']}, {containers['evidence']} and {containers['ledger']} carry an "
                             "immutability (WORM) policy"))
    return [storage, worm]


def _containers(url: str, containers: Mapping[str, str], credential: Any) -> tuple[dict[str, Any], str | None]:
    """``({container: properties or None when missing}, problem)`` — Get Container Properties of each."""
    from azure.core.exceptions import ResourceNotFoundError

    from firestop.storage import blob_service
    from firestop.storage.blob import _kind

    try:
        service = blob_service(url, credential)
    except ValueError as exc:
        return {}, str(exc)
    found: dict[str, Any] = {}
    for name in containers.values():
        try:
            found[name] = service.get_container_client(name).get_container_properties()
        except ResourceNotFoundError:
            found[name] = None
        except Exception as exc:  # noqa: BLE001 — azure-core and transport errors, named by kind
            kind = _kind(exc)
            fix = {"forbidden": "give the app's identity Storage Blob Data Contributor (or Owner) on the account",
                   "transient": "check the endpoint and the network"}.get(kind, "check the endpoint")
            return {}, f"{url} did not answer for container {name} ({type(exc).__name__}: {kind}); {fix}"
    return found, None


def check_storage_local(home: Path) -> dict[str, Any]:
    """``storage`` without Blob Storage: ``home`` is writable, and nothing under it is open to other local users
    (:func:`firestop.private.loose`: a home made before files were created 0600 gets a problem naming ``chmod``)."""
    from firestop.private import private_dirs

    try:
        private_dirs(home)
        probe = home / ".doctor-probe"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return _result("storage", PROBLEM, f"FIRESTOP_HOME {home} is not writable ({exc.strerror}); set FIRESTOP_HOME to a writable folder")
    from firestop.private import loose

    shown, count = loose(home)
    if count:
        return _result("storage", PROBLEM, f"FIRESTOP_HOME {home}: {count} file(s) or folder(s) other local users may read "
                       f"(e.g. {', '.join(shown)}): records, evidence, ledgers, the durable history and the sandbox state are "
                       f"the operator's alone (files 0600, folders 0700, as new ones are made); fix: chmod -R go-rwx {home}")
    return _result("storage", OK, f"FIRESTOP_HOME {home} is writable and private (records, evidence and ledger are local "
                   "folders: FIRESTOP_STORAGE_BLOB_URL is not set)")


def check_permissions(clients: Any, subscription_id: str, principal_id: Optional[str], playbooks: list[Any]) -> dict[str, Any]:
    from runbooks.permissions import audit_actions, needed_actions, runbooks_of

    from .grants import held

    if not principal_id:
        return _result("permissions", SKIPPED, "no identity to check: give --principal-id or set FIRESTOP_AUTOMATION_PRINCIPAL_ID")
    need_actions, need_data = needed_actions(runbooks_of(playbooks))
    audit, audit_data = audit_actions()  # the checklist audit's read-only role (the template's auditRoleActions)
    need_actions = sorted(set(need_actions) | set(audit), key=str.lower)
    need_data = sorted(set(need_data) | set(audit_data), key=str.lower)
    grants = held(clients, subscription_id, principal_id)
    readable = [g for g in grants if g.role is not None]
    if not readable:
        return _result("permissions", PROBLEM, f"principal {principal_id} holds no role Firestop can read in subscription {subscription_id}; deploy infra/azuredeploy.json with python -m firestop infra's parameters")
    have_actions = {a.lower() for g in readable for a in g.role["Actions"]}
    have_data = {a.lower() for g in readable for a in g.role["DataActions"]}
    missing = sorted(a for a in need_actions if a.lower() not in have_actions) + sorted(a for a in need_data if a.lower() not in have_data)
    extra = sorted(a for a in have_actions | have_data if a not in {x.lower() for x in need_actions + need_data})
    scopes = sorted({g.scope for g in readable}, key=str.lower)
    detail = f"{len(need_actions) + len(need_data)} actions needed, held at {len(scopes)} scope(s)"
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"extra {', '.join(extra)}"] if extra else [])
        return _result("permissions", PROBLEM, "; ".join(parts) + " — regenerate with python -m firestop infra and redeploy", missing=missing, extra=extra, scopes=scopes)
    return _result("permissions", OK, detail + ": nothing missing, nothing extra", missing=[], extra=[], scopes=scopes)


def _posts_to_alerts_route(uri: str, app_host: str) -> bool:
    """``uri`` is ``POST /api/alerts`` of ``app_host`` over HTTPS (:mod:`firestop.infra.alerts_route`: not merely a URI
    starting so — ``/api/alertsX`` or ``/api/alerts/x`` reach no function; attack 17)."""
    from urllib.parse import urlsplit

    from firestop.infra.alerts_route import reaches_alerts_route

    url = urlsplit(uri)
    return url.scheme.lower() == "https" and (url.hostname or "").lower() == app_host.lower() and reaches_alerts_route(url)


def check_action_group(clients: Any, subscription_id: str, action_group: Optional[str], app_host: Optional[str]) -> dict[str, Any]:
    from azure.core.exceptions import ResourceNotFoundError

    if not action_group:
        return _result("action group", SKIPPED, "give --action-group <rg>/<name> to check where alerts go")
    if not app_host:
        return _result("action group", SKIPPED, "give --app-host <app>.azurewebsites.net (WEBSITE_HOSTNAME on Azure)")
    rg, _, name = action_group.partition("/")
    rid = f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.Insights/actionGroups/{name}"
    try:
        group = clients.resources(subscription_id).resources.get_by_id(rid, api_version="2023-01-01")
    except ResourceNotFoundError:
        return _result("action group", PROBLEM, f"action group {action_group} does not exist; deploy infra/azuredeploy.json with alertsFunctionKey")
    receivers = (group.properties or {}).get("webhookReceivers") or []
    ours = [r for r in receivers if _posts_to_alerts_route(str(r.get("serviceUri", "")), app_host)]
    if not ours:
        return _result("action group", PROBLEM, f"no webhook of {action_group} posts to https://{app_host}/api/alerts")
    if not all(r.get("useCommonAlertSchema") for r in ours):
        return _result("action group", PROBLEM, f"the webhook of {action_group} does not use the common alert schema; turn useCommonAlertSchema on")
    return _result("action group", OK, f"{action_group} posts the common alert schema to https://{app_host}/api/alerts")


#: api-version of the immutability policy read (BlobContainers - Get Immutability Policy; the template's).
STORAGE_API_VERSION = "2023-05-01"
#: The diagnostic setting infra/azuredeploy.json creates on Firestop's own Key Vault and blob service, and the log
#: categories each must send (who read the seal key; who wrote or deleted a record, evidence or ledger blob).
AUDIT_SETTING = "firestop-audit"
AUDIT_CATEGORIES = {"vault": ("AuditEvent",), "blob": ("StorageWrite", "StorageDelete")}


def _storage_id(subscription_id: str, storage: str) -> str:
    rg, _, name = storage.partition("/")
    return f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"


#: api-version of the Key Vault read that tells a missing vault from a vault without the audit setting (Vaults - Get).
VAULT_API_VERSION = "2023-07-01"


def _exists(clients: Any, subscription_id: str, resource_id: str, api_version: str) -> bool | None:
    """Whether ARM holds ``resource_id`` (a generic ``resources.get_by_id``): True, False (404), None when it cannot
    tell (another error: no read permission, throttled) — then the caller words around it as before."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    try:
        clients.resources(subscription_id).resources.get_by_id(resource_id, api_version=api_version)
    except ResourceNotFoundError:
        return False
    except HttpResponseError:
        return None
    return True


def check_worm_locks(clients: Any, subscription_id: str, storage: Optional[str], env: Mapping[str, str]) -> dict[str, Any]:
    """``storage WORM locked``: the immutability policy of the records, evidence and ledger containers of ``storage``
    (``RG/ACCOUNT``, ``--storage``) is *Locked*. An unlocked time-based policy can be shortened or deleted by anyone with
    ``Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/delete`` (an account Owner or
    Contributor) and then the blobs with it; a locked one cannot be deleted, only extended
    (https://learn.microsoft.com/azure/storage/blobs/immutable-time-based-retention-policy-overview#locked-versus-unlocked-policies).
    Read through ARM (``GET …/containers/{c}/immutabilityPolicies/default``, ``properties.state``); the template creates
    the policies unlocked, so the fix names the lock command."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    check = "storage WORM locked"
    if not storage:
        return _result(check, SKIPPED, "give --storage <rg>/<storage account> (the template's storageAccountName) to check "
                       "that the records, evidence and ledger containers' immutability policies are locked")
    account = storage.partition("/")[2]
    containers = [env.get(f"FIRESTOP_{kind.upper()}_CONTAINER") or f"firestop-{kind}" for kind in ("records", "evidence", "ledger")]
    unlocked, missing = [], []
    for container in containers:
        rid = f"{_storage_id(subscription_id, storage)}/blobServices/default/containers/{container}/immutabilityPolicies/default"
        try:
            policy = clients.resources(subscription_id).resources.get_by_id(rid, api_version=STORAGE_API_VERSION)
        except ResourceNotFoundError:
            missing.append(container)
            continue
        except HttpResponseError as exc:
            return _result(check, PROBLEM, f"the immutability policy of {container} in {storage} could not be read "
                           f"({exc.status_code}: {exc.reason}); the identity needs Microsoft.Storage/*/read on the account")
        props = policy.properties or {}
        if str(props.get("state", "")).lower() != "locked" or not props.get("immutabilityPeriodSinceCreationInDays"):
            unlocked.append(container)
    if missing:
        # ARM answers 404 alike for a missing policy and a missing account: ask for the account itself
        exists = _exists(clients, subscription_id, _storage_id(subscription_id, storage), STORAGE_API_VERSION)
        if exists is False:
            return _result(check, PROBLEM, f"there is no storage account {account} in resource group "
                           f"{storage.partition('/')[0]}: is --storage {storage} mistyped? Give Firestop's own account, "
                           "the deployment's storageAccountName output, as <resource group>/<account>")
        wrong = (f" (none of the three: is --storage {storage} Firestop's own account, the deployment's storageAccountName "
                 "output, in its resource group?)") if len(missing) == len(containers) and exists is None else ""
        return _result(check, PROBLEM, f"no immutability (WORM) policy on {', '.join(missing)} of {storage}{wrong}; deploy "
                       "infra/azuredeploy.json, then lock the policies")
    if unlocked:
        fix = "; ".join(f"az storage container immutability-policy lock --account-name {account} -c {c} --if-match "
                        f"$(az storage container immutability-policy show --account-name {account} -c {c} --query etag -o tsv)"
                        for c in unlocked)
        return _result(check, PROBLEM, f"the immutability policy of {', '.join(unlocked)} is not locked: an account Owner or "
                       "Contributor can delete it, and then the blobs it protects. Lock it (irreversible; the retention "
                       f"can then only be extended): {fix}")
    return _result(check, OK, f"{', '.join(containers)} of {storage} carry locked immutability policies")


def check_audit_logs(clients: Any, subscription_id: str, storage: Optional[str], vault: Optional[str]) -> dict[str, Any]:
    """``audit logs``: the diagnostic setting :data:`AUDIT_SETTING` sends :data:`AUDIT_CATEGORIES` to a Log Analytics
    workspace — on Firestop's Key Vault (``--vault RG/NAME``: ``AuditEvent``, who read the seal key) and on the blob
    service of ``--storage RG/ACCOUNT`` (``StorageWrite``/``StorageDelete``: who planted or deleted a record, evidence
    or ledger blob). Read with azure-mgmt-monitor's ``diagnostic_settings.get`` (2021-05-01-preview). Categories:
    https://learn.microsoft.com/azure/key-vault/general/logging and
    https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference#resource-logs."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    check = "audit logs"
    targets = []
    if vault:
        rg, _, name = vault.partition("/")
        targets.append(("vault", vault, f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"))
    if storage:
        targets.append(("blob", f"{storage} blob service", f"{_storage_id(subscription_id, storage)}/blobServices/default"))
    if not targets:
        return _result(check, SKIPPED, "give --vault <rg>/<Firestop's key vault> and --storage <rg>/<storage account> to "
                       f"check their {AUDIT_SETTING} diagnostic settings")
    problems = []
    for kind, label, rid in targets:
        wanted = AUDIT_CATEGORIES[kind]
        fix = (f"deploy infra/azuredeploy.json, or: az monitor diagnostic-settings create --name {AUDIT_SETTING} --resource {rid} "
               "--workspace <Log Analytics workspace id> --logs '[" + ",".join(f'{{"category":"{c}","enabled":true}}' for c in wanted) + "]'")
        try:
            setting = clients.monitor(subscription_id).diagnostic_settings.get(rid, AUDIT_SETTING)
        except ResourceNotFoundError:
            # also ARM's answer for a resource that does not exist: ask for the resource itself, and say which
            flag = ("--vault: Firestop's own key vault, the deployment's vaultName output (kv-fire-…), not the consumers'"
                    if kind == "vault" else "--storage: the deployment's storageAccountName output")
            owner = rid.removesuffix("/blobServices/default")
            exists = _exists(clients, subscription_id, owner, VAULT_API_VERSION if kind == "vault" else STORAGE_API_VERSION)
            if exists is False:
                what = "key vault" if kind == "vault" else "storage account"
                rg, _, name = (vault if kind == "vault" else storage or "").partition("/")
                problems.append(f"there is no {what} {name} in resource group {rg}: mistyped? check {flag}")
            elif exists:
                problems.append(f"{label} has no diagnostic setting {AUDIT_SETTING} (it exists: if it is not "
                                f"Firestop's own, check {flag}); {fix}")
            else:
                problems.append(f"{label} has no diagnostic setting {AUDIT_SETTING} (or is not there; check {flag}); {fix}")
            continue
        except HttpResponseError as exc:
            problems.append(f"the diagnostic settings of {label} could not be read ({exc.status_code}: {exc.reason})")
            continue
        sent = {str(getattr(log, "category", "") or "").lower() for log in (setting.logs or []) if getattr(log, "enabled", False)}
        gaps = [c for c in wanted if c.lower() not in sent]
        if gaps or not setting.workspace_id:
            what = f"does not send {', '.join(gaps)}" if gaps else "sends to no Log Analytics workspace"
            problems.append(f"{AUDIT_SETTING} on {label} {what}; {fix}")
    if problems:
        return _result(check, PROBLEM, "; ".join(problems))
    return _result(check, OK, " and ".join(f"{label} sends {', '.join(AUDIT_CATEGORIES[kind])}" for kind, label, _ in targets)
                   + f" to Log Analytics ({AUDIT_SETTING})"
                   + ("" if len(targets) == 2 else f"; give --{'storage' if vault else 'vault'} to check the other"))


#: What infra/azuredeploy.json leaves open to the unauthenticated: the alert webhook (its function key guards it)
#: and the Durable status prefix.
EXCLUDED_PATHS = {"/api/alerts", "/api/events", "/runtime/webhooks/durabletask"}
AUTH_API_VERSION = "2024-04-01"


def check_app_auth(clients: Any, subscription_id: str, app: Optional[str]) -> dict[str, Any]:
    """App Service authentication of the Function App ``app`` (``RG/NAME``), as the template sets it."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    if not app:
        return _result("app authentication", SKIPPED, "give --app <rg>/<function app name> to check App Service authentication")
    rg, _, name = app.partition("/")
    rid = f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}/config/authsettingsV2"
    try:
        auth = clients.resources(subscription_id).resources.get_by_id(rid, api_version=AUTH_API_VERSION)
    except ResourceNotFoundError:
        return _result("app authentication", PROBLEM, f"{app} has no App Service authentication settings (or does not exist); "
                       "deploy infra/azuredeploy.json")
    except HttpResponseError as exc:
        if exc.status_code == 501:
            return _result("app authentication", SKIPPED, f"— not checkable: the target does not model {rid.split('/providers/')[1]} (HTTP 501)")
        raise
    props = auth.properties or {}
    platform = props.get("platform") or {}
    validation = props.get("globalValidation") or {}
    entra = ((props.get("identityProviders") or {}).get("azureActiveDirectory") or {})
    problems = []
    if not platform.get("enabled"):
        problems.append("authentication is off (platform.enabled)")
    if not (entra.get("enabled", True) and (entra.get("registration") or {}).get("clientId")):
        problems.append("Microsoft Entra ID is not the configured provider (identityProviders.azureActiveDirectory with a clientId)")
    if not validation.get("requireAuthentication") or validation.get("unauthenticatedClientAction") != "Return401":
        problems.append("unauthenticated callers are not refused with 401 (globalValidation.requireAuthentication, unauthenticatedClientAction: Return401)")
    opened = sorted(set(validation.get("excludedPaths") or []) - EXCLUDED_PATHS)
    if opened:
        problems.append(f"paths opened to the unauthenticated beyond the alert and event webhooks: {', '.join(opened)}")
    if problems:
        return _result("app authentication", PROBLEM, f"{app}: " + "; ".join(problems) + " — redeploy infra/azuredeploy.json", problems=problems)
    return _result("app authentication", OK, f"{app}: Microsoft Entra ID required, 401 for the unauthenticated, only "
                   f"{', '.join(sorted(set(validation.get('excludedPaths') or [])))} left to their keys")


#: Web Apps - Get App Settings Key Vault References (GET …/sites/{name}/config/configreferences/appsettings, api-version
#: 2023-12-01): each app setting that is a Key Vault reference, its vault, secret and ``status`` (ResolveStatus:
#: Initialized, Resolved, InvalidSyntax, MSINotEnabled, VaultNotFound, SecretNotFound, SecretVersionNotFound,
#: AccessToKeyVaultDenied, OtherReasons, FetchTimedOut, UnauthorizedClient) — never a value.
REFERENCES_API_VERSION = "2023-12-01"


def check_app_secrets(clients: Any, subscription_id: str, app: Optional[str]) -> dict[str, Any]:
    """``app secrets`` (``--app RG/NAME``): the seal settings of the deployed Function App
    (:data:`firestop.infra.app_settings.KEY_VAULT_SETTINGS`) are Key Vault references App Service resolved. A seal key
    pasted into an app setting by hand is not in the references list: named as not a reference (readable by whoever
    may read the site's configuration, outside the vault's audit log; the next deployment puts the reference back). Read
    through ARM with :data:`REFERENCES_API_VERSION` — names and statuses only, no value is read."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from .app_settings import KEY_VAULT_SETTINGS

    check = "app secrets"
    if not app:
        return _result(check, SKIPPED, "give --app <rg>/<function app name> to check the seal settings are Key Vault references")
    rg, _, name = app.partition("/")
    rid = f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}/config/configreferences/appsettings"
    try:  # the collection is {"value": [...]}: taken as sent (azure-core's cls hook), not as a GenericResource
        body = clients.resources(subscription_id).resources.get_by_id(
            rid, api_version=REFERENCES_API_VERSION, cls=lambda response, _deserialized, _headers: response.http_response.json())
    except ResourceNotFoundError:
        return _result(check, PROBLEM, f"{app} does not exist (or has no configuration); check --app, or deploy infra/azuredeploy.json")
    except HttpResponseError as exc:
        if exc.status_code == 501:
            return _result(check, SKIPPED, "— not checkable: the target does not model Key Vault references (HTTP 501)")
        if exc.status_code in (401, 403):
            return _result(check, PROBLEM, f"the Key Vault references of {app} could not be read ({exc.status_code}): "
                           "Microsoft.Web/sites/config/read, e.g. Website Contributor or Reader on the app")
        raise
    found = {str((item or {}).get("name", "")): ((item or {}).get("properties") or {}) for item in (body or {}).get("value") or []}
    problems = []
    for setting in KEY_VAULT_SETTINGS:
        ref = found.get(setting)
        if ref is None:
            problems.append(f"{setting} is not a Key Vault reference (a key in an app setting: readable by whoever may read "
                            "the site's configuration and outside the vault's audit log); redeploy infra/azuredeploy.json, "
                            "which writes the reference, after moving any key only the setting held into the vault secret")
        elif str(ref.get("status", "")).lower() != "resolved":
            problems.append(f"{setting}'s Key Vault reference is {ref.get('status') or 'not resolved'} "
                            f"({ref.get('vaultName') or '?'}/{ref.get('secretName') or '?'}): the app reads the reference "
                            "text, not the key; give the identity Key Vault Secrets User on the secret (the template does)")
    if problems:
        return _result(check, PROBLEM, f"{app}: " + "; ".join(problems), problems=problems)
    return _result(check, OK, f"{app}: {', '.join(KEY_VAULT_SETTINGS)} are Key Vault references App Service resolved")


PLAYBOOK_PROPERTY = "firestop-playbook"


def _rule_routes(kind: str, rule: Any) -> tuple[set[str], dict[str, str]]:
    """(action group IDs lower-cased, custom properties) of one alert rule of ``kind`` (azure-mgmt-monitor models)."""
    groups: set[str] = set()
    props: dict[str, str] = {}
    actions = getattr(rule, "actions", None)
    if kind == "scheduled query rule":  # 2022-08-01-preview: actions.actionGroups [id], actions.customProperties
        groups = {str(g).lower() for g in (getattr(actions, "action_groups", None) or [])}
        props = dict(getattr(actions, "custom_properties", None) or {})
    elif kind == "metric alert":  # 2018-03-01: actions [{actionGroupId, webHookProperties}]
        for action in actions or []:
            groups.add(str(action.action_group_id).lower())
            props.update(action.web_hook_properties or {})
    else:  # activity log alert, 2020-10-01: actions.actionGroups [{actionGroupId, webhookProperties}]
        for action in (getattr(actions, "action_groups", None) or []):
            groups.add(str(action.action_group_id).lower())
            props.update(action.webhook_properties or {})
    return groups, {str(k).lower(): str(v) for k, v in props.items()}


def check_alert_rules(clients: Any, subscription_id: str, action_group: Optional[str], playbooks: list[Any]) -> dict[str, Any]:
    """Alert rules routed to a playbook notify this app's action group (see the module docstring)."""
    from azure.core.exceptions import HttpResponseError

    if not action_group:
        return _result("alert rules", SKIPPED, "give --action-group <rg>/<name> to check which alert rules reach this app")
    rg, _, name = action_group.partition("/")
    group_id = f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.Insights/actionGroups/{name}".lower()
    monitor = clients.alert_rules(subscription_id)
    listings = (("scheduled query rule", lambda: monitor.scheduled_query_rules.list_by_subscription()),
                ("metric alert", lambda: monitor.metric_alerts.list_by_subscription()),
                ("activity log alert", lambda: monitor.activity_log_alerts.list_by_subscription_id()))
    rules: list[tuple[str, Any]] = []
    for kind, listing in listings:
        try:
            rules.extend((kind, rule) for rule in listing())
        except HttpResponseError as exc:
            if exc.status_code == 501:
                return _result("alert rules", SKIPPED, f"— not checkable: the target does not model {kind}s (HTTP 501 for "
                               "Microsoft.Insights alert rules; the sandbox gains them with its monitor room)")
            if exc.status_code in (401, 403):
                return _result("alert rules", PROBLEM, f"the identity may not list {kind}s in subscription {subscription_id} "
                               "(Microsoft.Insights/*/read, e.g. Monitoring Reader)")
            raise
    known = {p.name for p in playbooks}
    routed, wrong, unknown = {}, [], []
    for kind, rule in rules:
        groups, props = _rule_routes(kind, rule)
        playbook = props.get(PLAYBOOK_PROPERTY)
        if playbook is None:
            continue
        if playbook not in known:
            unknown.append(f"{rule.name} ({playbook})")
        if group_id not in groups:
            wrong.append(f"{kind} {rule.name}")
        else:
            routed.setdefault(playbook, []).append(rule.name)
    problems = ([f"{', '.join(wrong)} route(s) to a playbook but do not notify {action_group}: add it to the rule's "
                 "action groups"] if wrong else []) + \
               ([f"{', '.join(unknown)} name(s) no loaded playbook: set {PLAYBOOK_PROPERTY} to one of "
                 f"{', '.join(sorted(known)) or '(no playbook loaded)'}"] if unknown else [])
    if not routed:
        problems.append(f"no alert rule routed to a playbook (custom property {PLAYBOOK_PROPERTY}) notifies {action_group}: "
                        f"give each alert rule the action group {action_group} and the custom property "
                        f"{PLAYBOOK_PROPERTY}: <playbook name> (README, Deploy to Azure, step 6; each playbook describes "
                        "the alert rule it expects)")
    without = sorted(known - set(routed))
    detail = (f"{sum(len(v) for v in routed.values())} rule(s) reach this app through {action_group}"
              + (f" (playbooks without a rule: {', '.join(without)})" if without else ""))
    if problems:
        return _result("alert rules", PROBLEM, "; ".join(problems), routed=routed, playbooks_without_rule=without)
    return _result("alert rules", OK, detail, routed=routed, playbooks_without_rule=without)


#: Checks that read this machine (this process's environment, FIRESTOP_HOME); the others read Azure through ARM.
MACHINE_CHECKS = frozenset({"settings", "storage", "storage WORM", "telemetry"})
THIS_MACHINE, AZURE = "this machine", "azure"


def not_checked_here(*, azure: bool, in_app: bool) -> str | None:
    """What ``doctor --azure`` run outside the deployed app (a laptop) cannot check, and where it is checked; None when
    there is nothing to say (the sandbox, or doctor running inside the app, whose environment is the app's)."""
    if not azure or in_app:
        return None
    return ("Not checked from here: the deployed app's own settings, storage and telemetry — the checks above read this "
            "machine's environment, not the app's. The app validates its settings at start (a wrong or missing one stops "
            "it, its log names each; README 'Deploy to Azure' step 5); run doctor inside the app to check them there. "
            "From here, ARM shows the app's authentication and whether its seal settings are Key Vault references (--app "
            "<rg>/<function app name>) and where alerts go "
            "(--action-group <rg>/<name> --app-host <app>.azurewebsites.net).")


def run(*, clients: Any, subscription_id: str, env: Mapping[str, str], on_azure: bool, home: Path, playbooks: list[Any],
        principal_id: Optional[str], action_group: Optional[str], app_host: Optional[str], credential: Any = None,
        app: Optional[str] = None, storage: Optional[str] = None, vault: Optional[str] = None) -> list[dict[str, Any]]:
    """Every check, in order (see the module docstring), each with ``"about"``: :data:`THIS_MACHINE` or :data:`AZURE`."""
    checks = [
        check_settings(env, on_azure),
        *check_storage(env, on_azure, home, credential if on_azure else None),
        check_permissions(clients, subscription_id, principal_id, playbooks),
        check_app_auth(clients, subscription_id, app),
        check_app_secrets(clients, subscription_id, app),
        check_action_group(clients, subscription_id, action_group, app_host or os.environ.get("WEBSITE_HOSTNAME")),
        check_alert_rules(clients, subscription_id, action_group, playbooks),
        check_worm_locks(clients, subscription_id, storage, env),
        check_audit_logs(clients, subscription_id, storage, vault),
        check_telemetry(env, on_azure),
    ]
    return [{**c, "about": THIS_MACHINE if c["check"] in MACHINE_CHECKS else AZURE} for c in checks]

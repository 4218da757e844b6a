"""``firestop doctor``: does this configuration work? A first, modest version — each check says what it looked at.

Checks (each → ``{"check", "status": ok|problem|skipped, "detail"}``):

1. ``settings`` — :func:`firestop.settings.check_environment` on the environment (``on_azure`` with
   ``--azure``: the required application settings must be present).
2. ``storage`` — sandbox: ``FIRESTOP_HOME`` is writable (local state lives there). ``--azure``: the
   blob endpoint ``FIRESTOP_STORAGE_BLOB_URL`` answers ``get_service_properties`` with the
   credential (untested here: no Azure), and the evidence/ledger containers have an immutability
   policy (``get_container_properties().immutable_storage_with_versioning`` / ``has_immutability_policy``).
3. ``permissions`` — the identity (``--principal-id`` or ``FIRESTOP_AUTOMATION_PRINCIPAL_ID``) holds,
   through its role assignments read with the SDK, exactly the actions the playbooks need: nothing
   missing, nothing extra; and lists the scopes it holds them at.
4. ``action group`` — the action group (``--action-group RG/NAME``) has a webhook with the common
   alert schema whose URL is this app's ``/api/alerts`` (``--app-host`` or ``WEBSITE_HOSTNAME``).

Not checked yet: alert rules (issue 11), diagnostic settings, App Service authentication settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional

OK, PROBLEM, SKIPPED = "ok", "problem", "skipped"


def _result(check: str, status: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"check": check, "status": status, "detail": detail, **extra}


def check_settings(env: Mapping[str, str], on_azure: bool) -> dict[str, Any]:
    from firestop.settings import check_environment

    problems = check_environment(env, on_azure=on_azure)
    if problems:
        return _result("settings", PROBLEM, "; ".join(f"{n}: {p}" for n, p in problems), problems=[{"setting": n, "problem": p} for n, p in problems])
    return _result("settings", OK, "every FIRESTOP_* and host setting present is valid" + (" and the required ones are set" if on_azure else ""))


def check_storage_local(home: Path) -> dict[str, Any]:
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".doctor-probe"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return _result("storage", PROBLEM, f"FIRESTOP_HOME {home} is not writable ({exc.strerror}); set FIRESTOP_HOME to a writable folder")
    return _result("storage", OK, f"FIRESTOP_HOME {home} is writable (records, evidence and ledger are local on the sandbox)")


def check_storage_azure(env: Mapping[str, str], credential: Any) -> dict[str, Any]:  # pragma: no cover - needs Azure
    from azure.core.exceptions import AzureError
    from azure.storage.blob import BlobServiceClient

    url = env.get("FIRESTOP_STORAGE_BLOB_URL")
    if not url:
        return _result("storage", PROBLEM, "FIRESTOP_STORAGE_BLOB_URL is not set; give https://<account>.blob.core.windows.net/")
    try:
        service = BlobServiceClient(account_url=url, credential=credential)
        service.get_service_properties()
        missing = []
        for setting, default in (("FIRESTOP_EVIDENCE_CONTAINER", "firestop-evidence"), ("FIRESTOP_LEDGER_CONTAINER", "firestop-ledger")):
            props = service.get_container_client(env.get(setting) or default).get_container_properties()
            if not (props.has_immutability_policy or props.immutable_storage_with_versioning_enabled):
                missing.append(env.get(setting) or default)
    except AzureError as exc:
        return _result("storage", PROBLEM, f"{url} did not answer with this identity ({type(exc).__name__}); check the Storage Blob Data roles")
    if missing:
        return _result("storage", PROBLEM, f"no immutability (WORM) policy on {', '.join(missing)}; deploy infra/azuredeploy.json")
    return _result("storage", OK, f"{url} reachable; evidence and ledger containers are WORM")


def check_permissions(clients: Any, subscription_id: str, principal_id: Optional[str], playbooks: list[Any]) -> dict[str, Any]:
    from runbooks.permissions import needed_actions, runbooks_of

    from .grants import held

    if not principal_id:
        return _result("permissions", SKIPPED, "no identity to check: give --principal-id or set FIRESTOP_AUTOMATION_PRINCIPAL_ID")
    need_actions, need_data = needed_actions(runbooks_of(playbooks))
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
    ours = [r for r in receivers if str(r.get("serviceUri", "")).lower().startswith(f"https://{app_host.lower()}/api/alerts")]
    if not ours:
        return _result("action group", PROBLEM, f"no webhook of {action_group} posts to https://{app_host}/api/alerts")
    if not all(r.get("useCommonAlertSchema") for r in ours):
        return _result("action group", PROBLEM, f"the webhook of {action_group} does not use the common alert schema; turn useCommonAlertSchema on")
    return _result("action group", OK, f"{action_group} posts the common alert schema to https://{app_host}/api/alerts")


def run(*, clients: Any, subscription_id: str, env: Mapping[str, str], on_azure: bool, home: Path, playbooks: list[Any],
        principal_id: Optional[str], action_group: Optional[str], app_host: Optional[str], credential: Any = None) -> list[dict[str, Any]]:
    """Every check, in order (see the module docstring)."""
    return [
        check_settings(env, on_azure),
        check_storage_azure(env, credential) if on_azure else check_storage_local(home),
        check_permissions(clients, subscription_id, principal_id, playbooks),
        check_action_group(clients, subscription_id, action_group, app_host or os.environ.get("WEBSITE_HOSTNAME")),
    ]

"""Settings: where state lives and which Azure resources Firestop works with.

Read from the environment (Function App application settings on Azure, the
shell locally). Every value has a documented default; paths are resolved when
read, so ``FIRESTOP_HOME`` set after import still counts.

| variable | meaning | default |
|---|---|---|
| ``FIRESTOP_HOME`` | local state: durable history (local host), the sandbox tenant, tabletop runs; records, evidence, ledger and notification copies too unless ``FIRESTOP_STORAGE_BLOB_URL`` is set | ``./.firestop`` |
| ``FIRESTOP_PLAYBOOKS`` | directory of playbook YAML files | ``playbooks/`` beside ``firestop/`` |
| ``FIRESTOP_KEY_VAULT_URL`` | vault that receives rotated keys, e.g. ``https://kv-contoso-ai.vault.azure.net`` | none (the sandbox sets its own) |
| ``FIRESTOP_KEY_SECRET_NAME`` | secret that consumers read the Azure OpenAI key from | ``openai-api-key`` |
| ``FIRESTOP_KEY_VAULT_ALLOWED_URLS`` | comma-separated further vaults ``keys.*`` may write a rotated key to (besides ``FIRESTOP_KEY_VAULT_URL``'s) | none |
| ``FIRESTOP_LOG_WORKSPACE_ID`` | Log Analytics workspace ID (GUID) queried for evidence | none (the sandbox sets its own) |
| ``FIRESTOP_AUTOMATION_PRINCIPAL_ID`` | object ID of Firestop's own identity: ``identity.revoke_role_assignment`` never removes its role assignments | none (the runbook also protects the object ID in its own access token) |
| ``FIRESTOP_STORAGE_BLOB_URL`` | Blob endpoint that keeps records, evidence, ledger and notification copies (:mod:`firestop.storage`) instead of ``FIRESTOP_HOME`` | none |
| ``FIRESTOP_RECORDS_CONTAINER`` / ``FIRESTOP_EVIDENCE_CONTAINER`` / ``FIRESTOP_LEDGER_CONTAINER`` | its containers | ``firestop-records`` / ``firestop-evidence`` / ``firestop-ledger`` |
| ``FIRESTOP_SENTINEL_WORKSPACE_ID`` | ARM resource ID of the Sentinel workspace whose incidents ``sentinel.*`` runbooks comment on and close | none (the sandbox sets its own) |
| ``FIRESTOP_NOTIFY_WEBHOOK_URL`` | Teams/Slack incoming-webhook URL for ``notify.webhook`` — its only source (a secret: such URLs carry a token) | none |
| ``FIRESTOP_ROLES`` | the role table (JSON: object/group IDs → reader, responder, approver, admin), else ``FIRESTOP_HOME/roles.json`` — read by :mod:`firestop.trust.roles` | none (Entra app roles on Azure; the sandbox's demo roles locally) |
| ``FIRESTOP_CORRELATION_WINDOW_SECONDS`` | a new alert joins an open incident opened at most this long ago (``0``: never) — read by :mod:`firestop.intake.correlation` | ``3600`` |
| ``FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS`` | evidence windows are clamped to at most this long before the alert fired (and 15 min after it), whatever window the alert claims; the clamp is recorded in the evidence manifest (60 .. 604800) | ``3600`` (1 h: a hostile window then costs no more MTTC than a real one) |
| ``FIRESTOP_NON_PRODUCTION_ACCOUNTS`` | comma-separated ARM ids of the Azure OpenAI accounts an admin declared not production: only there may a playbook's production approval (``target.production``) be skipped, unless the account's ``environment`` tag says production (a tag only adds approvals, RT20-09) | none (every account is production; the sandbox's ``contoso-openai-dev`` locally) |
| ``FIRESTOP_CORRELATION_KEY`` | what "the same resource" means for correlation: ``resource``, ``resource_group``, ``subscription`` or ``none`` | ``resource`` |
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from firestop.environ import ENVIRON, environ_get

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseModel):
    """Resolved settings (frozen). Build with :meth:`from_env`."""

    model_config = ConfigDict(frozen=True)

    home: Path
    playbooks_dir: Path
    key_vault_url: str | None = None
    key_secret_name: str = "openai-api-key"
    #: further vaults (``https://<name>.vault.azure.net``, lower-case) keys.rotate/revoke may write a key to
    key_vault_allowed_urls: tuple[str, ...] = ()
    log_workspace_id: str | None = None
    automation_principal_id: str | None = None
    storage_blob_url: str | None = None
    records_container: str = "firestop-records"
    evidence_container: str = "firestop-evidence"
    ledger_container: str = "firestop-ledger"
    notify_webhook_url: SecretStr | None = None
    sentinel_workspace_id: str | None = None
    evidence_max_window_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    #: ARM ids (lower-case, no trailing slash) of the accounts an admin declared not production (RT20-09)
    non_production_accounts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from the environment; keyword overrides win over the environment."""
        env = os.environ
        values: dict[str, object] = {
            "home": Path(env.get("FIRESTOP_HOME", ".firestop")),
            "playbooks_dir": Path(env.get("FIRESTOP_PLAYBOOKS", REPO_ROOT / "playbooks")),
            "key_vault_url": env.get("FIRESTOP_KEY_VAULT_URL") or None,
            "key_secret_name": env.get("FIRESTOP_KEY_SECRET_NAME") or "openai-api-key",
            "key_vault_allowed_urls": _vault_list(env.get("FIRESTOP_KEY_VAULT_ALLOWED_URLS") or ""),
            "log_workspace_id": env.get("FIRESTOP_LOG_WORKSPACE_ID") or None,
            "automation_principal_id": env.get("FIRESTOP_AUTOMATION_PRINCIPAL_ID") or None,
            "storage_blob_url": env.get("FIRESTOP_STORAGE_BLOB_URL") or None,
            "records_container": env.get("FIRESTOP_RECORDS_CONTAINER") or "firestop-records",
            "evidence_container": env.get("FIRESTOP_EVIDENCE_CONTAINER") or "firestop-evidence",
            "ledger_container": env.get("FIRESTOP_LEDGER_CONTAINER") or "firestop-ledger",
            "notify_webhook_url": env.get("FIRESTOP_NOTIFY_WEBHOOK_URL") or None,
            "sentinel_workspace_id": env.get("FIRESTOP_SENTINEL_WORKSPACE_ID") or None,
            "evidence_max_window_seconds": env.get("FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS") or None,
            "non_production_accounts": _id_list(env.get("FIRESTOP_NON_PRODUCTION_ACCOUNTS") or ""),
        }
        read = {name: env[name] for name in _PARSED_BY_FROM_ENV if env.get(name)}
        problems = check_environment(read, on_azure=False)
        if problems:  # named with the fix, never a pydantic traceback
            raise SettingsError("; ".join(f"{name}: {problem}" for name, problem in problems))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: v for k, v in values.items() if v is not None or k not in _DEFAULTED})

    # Paths under FIRESTOP_HOME -------------------------------------------------
    @property
    def durable_db(self) -> Path:
        """SQLite file of the local durable host."""
        return self.home / "durable.sqlite"

    @property
    def records_dir(self) -> Path:
        """Post-incident records (``<incident>.json`` and ``.md``)."""
        return self.home / "records"

    @property
    def evidence_dir(self) -> Path:
        """Evidence, one folder per incident, each with ``manifest.json``."""
        return self.home / "evidence"

    @property
    def ledger_dir(self) -> Path:
        """Hash-chained ledgers, one ``<incident>.jsonl`` per incident (see :mod:`runbooks.ledger`)."""
        return self.home / "ledger"

    @property
    def sandbox_dir(self) -> Path:
        """The simulated tenant's persisted state."""
        return self.home / "sandbox"


#: Fields whose unset environment variable means "the field's default".
_DEFAULTED = frozenset({"evidence_max_window_seconds"})

_settings: Settings | None = None


def configure_settings(settings: Settings | None) -> None:
    """Install ``settings`` for this process (None: read the environment again on next use)."""
    global _settings
    _settings = settings


#: Every variable :meth:`Settings.from_env` reads (a test keeps them in step): the settings built from the
#: environment are kept while these values stay the same.
FROM_ENV_NAMES = ("FIRESTOP_HOME", "FIRESTOP_PLAYBOOKS", "FIRESTOP_KEY_VAULT_URL", "FIRESTOP_KEY_SECRET_NAME",
                  "FIRESTOP_KEY_VAULT_ALLOWED_URLS", "FIRESTOP_LOG_WORKSPACE_ID", "FIRESTOP_AUTOMATION_PRINCIPAL_ID",
                  "FIRESTOP_STORAGE_BLOB_URL", "FIRESTOP_RECORDS_CONTAINER", "FIRESTOP_EVIDENCE_CONTAINER",
                  "FIRESTOP_LEDGER_CONTAINER", "FIRESTOP_NOTIFY_WEBHOOK_URL", "FIRESTOP_SENTINEL_WORKSPACE_ID",
                  "FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "FIRESTOP_NON_PRODUCTION_ACCOUNTS")
#: (values of FROM_ENV_NAMES, the settings built from them): the last :meth:`Settings.from_env` of get_settings
_from_env: "tuple[tuple[str | None, ...], Settings] | None" = None


def get_settings() -> Settings:
    """The settings installed with :func:`configure_settings`, else from the environment.

    From the environment: built again only when a value of :data:`FROM_ENV_NAMES` changed since the last call
    (a change takes effect at the next call, as before); building them (14 variables, their checks, the pydantic
    model) was ~110 µs, paid twice by every webhook (the seal key's and the playbooks' folders), a fifth of a
    correlated alert's CPU (``bench/intake.py hot``). Settings are frozen, so one object serves every caller. A
    failure (:class:`SettingsError`) is raised again at every call, never kept."""
    global _from_env
    if _settings is not None:
        return _settings
    values = tuple(map(environ_get, FROM_ENV_NAMES))  # no KeyError raised and caught per unset name
    kept = _from_env
    if kept is not None and kept[0] == values:
        return kept[1]
    built = Settings.from_env()
    _from_env = (values, built)
    return built


# ----------------------------------------------------------------------------- validation
# Every setting Firestop (and the Functions host it needs) reads, with what a wrong value means.
# The README's settings table is this registry; tests/infra/test_settings.py keeps them in step and
# checks that every FIRESTOP_* name read anywhere in the code is listed here.
import re as _re
from dataclasses import dataclass as _dataclass
from typing import Callable as _Callable, Mapping as _Mapping

_GUID_RE = _re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@_dataclass(frozen=True)
class Setting:
    """One application setting: ``required`` is ``"azure"`` (on the Function App), ``"no"``, or ``"local"`` (local tools only)."""

    name: str
    required: str
    default: str
    meaning: str
    check: _Callable[[str], str | None] | None = None  # value -> problem text with the fix, or None
    blank: str | None = None  # set but blank (or only spaces): None = the same as unset, else the problem text


def _guid(what: str) -> _Callable[[str], str | None]:
    return lambda v: None if _GUID_RE.match(v) else f"{v!r} is not a GUID; give {what}"


#: What ``--as`` takes from a person, as ``FIRESTOP_PRINCIPAL_ID`` stands in for it: an Entra object ID (a GUID) or,
#: in the sandbox simulation, a demo identity's id (``oid-alice``); no space, no control character, at most 128.
_PRINCIPAL_RE = _re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


def _principal_id(v: str) -> str | None:
    if _GUID_RE.match(v) or _PRINCIPAL_RE.match(v):
        return None
    return (f"{v!r} is not an object ID; give your Entra object ID (az ad signed-in-user show --query id), or in the "
            "sandbox simulation a demo identity's (oid-alice)")


def _vault_url(v: str) -> str | None:
    if _re.match(r"^https://[A-Za-z0-9-]{3,24}\.vault\.azure\.net/?$", v):
        return None
    return f"{v!r} is not a Key Vault URL; give https://<vault-name>.vault.azure.net (az keyvault show --query properties.vaultUri)"


def _vault_list(v: str) -> tuple[str, ...]:
    """``"https://a.vault.azure.net, https://b.vault.azure.net/"`` → their URLs, lower-case, without a trailing slash."""
    return tuple(p.strip().rstrip("/").lower() for p in v.split(",") if p.strip())


def _id_list(v: str) -> tuple[str, ...]:
    """``"/subscriptions/…/accounts/a, /subscriptions/…/accounts/b/"`` → the ids, lower-case, without a trailing slash
    (ARM ids compare case-insensitively)."""
    return tuple(p.strip().rstrip("/").lower() for p in v.split(",") if p.strip())


_ACCOUNT_ID_RE = _re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
                             r"Microsoft\.CognitiveServices/accounts/[A-Za-z0-9][-A-Za-z0-9]{1,63}$", _re.IGNORECASE)


def _account_ids(v: str) -> str | None:
    parts = [p.strip().rstrip("/") for p in v.split(",") if p.strip()]
    if len(parts) > 100:
        return "must be at most 100 comma-separated Azure OpenAI account ids"
    bad = [p for p in parts if not _ACCOUNT_ID_RE.match(p)]
    return (f"{bad[0][:300]!r} is not an Azure OpenAI account's ARM id; give comma-separated /subscriptions/<id>/"
            "resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>" if bad else None)


def _vault_urls(v: str) -> str | None:
    parts = [p.strip() for p in v.split(",") if p.strip()]
    if len(parts) > 20:
        return "must be at most 20 comma-separated Key Vault URLs"
    bad = [p for p in parts if _vault_url(p)]
    return (f"{bad[0]!r} is not a Key Vault URL; give comma-separated https://<vault-name>.vault.azure.net"
            if bad else None)


def _https(v: str) -> str | None:
    return None if v.startswith("https://") and len(v) < 2048 else "must be an https:// URL (the incoming-webhook URL Teams/Slack gave you)"


def https_origin_problem(v: str) -> str | None:
    """Why ``v`` is not an ``https://host[:port]`` origin without a path (None: it is) — FIRESTOP_PUBLIC_URL."""
    m = _re.fullmatch(r"https://[A-Za-z0-9.-]{1,253}(?::(\d{1,5}))?/?", v)
    if m and m.group(1) is not None and port_problem(m.group(1)):
        return f"{v!r}: {port_problem(m.group(1))}"
    if m:
        return None
    return f"{v!r} is not an https:// origin; give https://<host>[:port] without a path, e.g. https://firestop.contoso.com"


def port_problem(port: str) -> str | None:
    """Why ``port`` (decimal digits) is not a TCP port (None: it is 1-65535, RFC 6335 §6; 0 is not a listening port)."""
    return None if 1 <= int(port) <= 65535 else f"port {port} is out of range; give a port in 1-65535 (or none for 443)"


def _window(v: str) -> str | None:
    try:
        seconds = float(v)
    except ValueError:
        return f"{v!r} is not a number of seconds; e.g. 3600 (0 turns correlation off)"
    return None if 0 <= seconds <= 7 * 86400 else f"{v!r} must be between 0 and 604800 seconds (7 days)"


def _one_of(*allowed: str) -> _Callable[[str], str | None]:
    return lambda v: None if v in allowed else f"{v!r} is not one of {', '.join(allowed)}"


def _schedule(v: str) -> str | None:
    return None if v.strip().lower() == "off" or len(v.split()) == 6 else f"{v!r} is not a six-field NCRONTAB (e.g. '0 0 6 * * 1') or 'off'"


def _sentinel_workspace(v: str) -> str | None:
    if _re.match(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/Microsoft\.OperationalInsights/workspaces/[-\w]{1,63}$", v, _re.IGNORECASE):
        return None
    return f"{v!r} is not a Log Analytics workspace resource ID; give /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name> (az monitor log-analytics workspace show --query id)"


def _secret_name(v: str) -> str | None:
    return None if _re.match(r"^[A-Za-z0-9-]{1,127}$", v) else f"{v!r} is not a Key Vault secret name (1-127 letters, digits and '-')"


def _directory(v: str) -> str | None:
    return None if Path(v).is_dir() else f"{v!r} is not a directory; point it at the folder of playbook YAML files"


def _home(v: str) -> str | None:
    """FIRESTOP_HOME: a folder, or a path one can be created at (its nearest existing ancestor is a folder); a file
    there would otherwise surface as an internal error (FileExistsError, NotADirectoryError) of whichever command
    first writes under it."""
    path = Path(v).expanduser()
    for candidate in (path, *path.parents):
        if candidate.exists():
            if candidate.is_dir():
                return None
            what = f"{v!r} is a file" if candidate == path else f"{v!r} cannot be a folder: {str(candidate)!r} in its path is a file"
            return f"{what}; point FIRESTOP_HOME at a folder (it is created if missing)"
    return None


def _factor(v: str) -> str | None:
    try:
        return None if float(v) >= 0 else f"{v!r} must be >= 0"
    except ValueError:
        return f"{v!r} is not a number (wall seconds per simulated second, e.g. 1 or 0.1)"


def _json_object(v: str) -> str | None:
    import json as _json

    try:
        return None if isinstance(_json.loads(v), dict) else "must be a JSON object {\"principals\": {...}, \"groups\": {...}}"
    except ValueError:
        return "is not JSON; give {\"principals\": {\"<object id>\": [\"responder\"]}, \"groups\": {}}"


def _seal_key(v: str) -> str | None:
    """Never echoes the value (a secret)."""
    if v.startswith("@Microsoft.KeyVault("):
        return ("is an unresolved Key Vault reference: give the identity Key Vault Secrets User on the secret and set the "
                "site's keyVaultReferenceIdentity (infra/azuredeploy.json does both)")
    if len(v) < 32 or any(c.isspace() for c in v):
        return "must be at least 32 characters without whitespace: python -c \"import secrets; print(secrets.token_urlsafe(32))\""
    return None


def _seal_keys_retired(v: str) -> str | None:
    """Never echoes the value (secrets): at most 3 keys, each as :func:`_seal_key` wants it (seal17)."""
    if v.strip().startswith("@Microsoft.KeyVault("):
        return _seal_key(v.strip())
    words = [w for w in v.split() if w.lower() != "none"]  # firestop.trust.seal.NO_RETIRED_KEY: the word for no key
    if len(words) > 3:
        return (f"holds {len(words)} retired keys; the ring holds at most 3 besides FIRESTOP_SEAL_KEY: drop the oldest "
                "(the last) once what it sealed need not be believed (README: Rotating the seal key)")
    for n, word in enumerate(words, 1):
        problem = _seal_key(word)
        if problem:
            return f"retired key {n} {problem}"
    return None


def _alerts_key_digest(v: str) -> str | None:
    """The form :func:`firestop.trust.alerts_key.alerts_key_digest` makes, ``v1.<8 hex key id>.<MAC>`` (40..48
    base64url characters); never echoes the value (an alerts key pasted here by mistake is a secret). An unresolved Key
    Vault reference is left to the audit (``monitoring.webhook-key`` names it): this setting only feeds the audit."""
    v = v.strip()
    if v.startswith("@Microsoft.KeyVault("):
        return None
    if _re.fullmatch(r"v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{40,48}", v):
        return None
    return ("is not a digest of the form v1.<key id>.<MAC> (the alerts key's digest, never the key): the deployment "
            "writes it (infra/azuredeploy.json parameter alertsKeyDigest; README: Deploy to Azure, step 4), or unset it")


def _blob_url(v: str) -> str | None:
    from urllib.parse import urlparse

    parsed = urlparse(v)
    if parsed.scheme == "https" and parsed.hostname and not parsed.query and len(v) < 2048:
        return None
    if parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1") and parsed.path.strip("/") == "devstoreaccount1":
        return None  # Azurite
    shown = f"{parsed.scheme}://{parsed.hostname}/…" if parsed.scheme and parsed.hostname else "the value"  # a SAS token is never echoed
    return (f"{shown} is not a blob endpoint; give https://<account>.blob.core.windows.net/ (no SAS token: the managed identity "
            "is used), or Azurite's http://127.0.0.1:<port>/devstoreaccount1 locally")


_LOGIC_APP_RE = _re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Logic/"
                           r"workflows/[-\w._()]{1,80}$", _re.IGNORECASE)


def _logic_apps(v: str) -> str | None:
    parts = [p.strip().rstrip("/") for p in v.split(",") if p.strip()]
    if parts and len(parts) <= 20 and all(_LOGIC_APP_RE.match(p) for p in parts):
        return None
    return ("must be up to 20 comma-separated Logic App ids: /subscriptions/<id>/resourceGroups/<rg>/providers/"
            "Microsoft.Logic/workflows/<name>")


def _container(v: str) -> str | None:
    ok = _re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", v)
    return None if ok else f"{v!r} is not a blob container name (3-63 lower-case letters, digits and single hyphens)"


def _storage_account(v: str) -> str | None:
    return None if _re.match(r"^[a-z0-9]{3,24}$", v) else f"{v!r} is not a storage account name (3-24 lower-case letters and digits)"


SETTINGS: tuple[Setting, ...] = (
    Setting("FIRESTOP_KEY_VAULT_URL", "azure", "none (the sandbox's vault locally)", "Vault the consumers read the Azure OpenAI key from; keys.rotate writes the new key there.", _vault_url),
    Setting("FIRESTOP_LOG_WORKSPACE_ID", "azure", "none (the sandbox's workspace locally)", "Workspace ID (GUID) of the Log Analytics workspace with the accounts' diagnostic logs (evidence; the only workspace a workspace-scoped detection is trusted on, RT17-01).", _guid("the workspace ID: az monitor log-analytics workspace show --query customerId")),
    Setting("FIRESTOP_SENTINEL_WORKSPACE_ID", "no", "none (the sandbox's law-contoso-sec locally)", "ARM resource ID of the Microsoft Sentinel workspace whose incidents Firestop comments on and closes (sentinel.* runbooks); unset: only an incident that arrived itself is written back.", _sentinel_workspace),
    Setting("FIRESTOP_KEY_SECRET_NAME", "no", "openai-api-key", "Secret the consumers read the key from (an account's ARM tag firestop-key-secret overrides it).", _secret_name),
    Setting("FIRESTOP_KEY_VAULT_ALLOWED_URLS", "no", "none (only FIRESTOP_KEY_VAULT_URL's vault)", "Comma-separated further vaults (https://<vault-name>.vault.azure.net, at most 20) keys.rotate/keys.revoke may write a new key to, e.g. the vault an account's firestop-key-secret tag names; any other vault is refused.", _vault_urls),
    Setting("FIRESTOP_AUTOMATION_PRINCIPAL_ID", "azure", "none", "Object ID of Firestop's own identity: identity.revoke_role_assignment never removes its assignments; doctor checks its permissions; a detection's {automation_principal_id} must be it (RT17-01).", _guid("the managed identity's principalId (template output identityPrincipalId)")),
    Setting("FIRESTOP_SEAL_KEY", "azure", "locally generated into FIRESTOP_HOME/seal-key", "HMAC key sealing incident inputs and decisions (firestop.trust.seal); on Azure a Key Vault reference the template creates.", _seal_key),
    Setting("FIRESTOP_ALERTS_KEY_DIGEST", "no", "none (the audit's monitoring.webhook-key is not evaluable)", "Keyed digest (v1.<key id>.<MAC>, sealed with FIRESTOP_SEAL_KEY; never the key) of the action group's host key actiongroup: the audit tells a wrong ?code= in the action group by it (firestop.trust.alerts_key). On Azure a Key Vault reference the template creates from alertsKeyDigest.", _alerts_key_digest),
    Setting("FIRESTOP_SEAL_KEY_RETIRED", "no", "FIRESTOP_HOME/seal-key.retired locally (seal-key rotate writes it), else none", "Retired seal keys, newest first, whitespace-separated (at most 3), or none: they still verify what they sealed, never seal (firestop.trust.seal; README: Rotating the seal key); on Azure always a Key Vault reference to the secret firestop-seal-key-retired (none until a key is retired).", _seal_keys_retired),
    Setting("FIRESTOP_NOTIFY_WEBHOOK_URL", "no", "none (notify.webhook is skipped)", "Teams/Slack incoming-webhook URL (a secret: the URL carries a token).", _https),
    Setting("FIRESTOP_TABLETOP_SCHEDULE", "no", "0 0 6 * * 1", "NCRONTAB of the weekly tabletop timer, or off.", _schedule),
    Setting("FIRESTOP_TABLETOP_SCENARIOS", "no", "tabletop/scenarios", "Folder of tabletop scenario files.", None),
    Setting("FIRESTOP_AUDIT_SCHEDULE", "no", "0 0 5 * * 1", "NCRONTAB of the weekly audit timer (drift opens incidents), or off.", _schedule),
    Setting("FIRESTOP_AUDIT_SUBSCRIPTION", "no", "none (the sandbox tenant's locally; the timer skips without it)", "Subscription the audit timer and POST /api/audits check. On Azure the template sets it to its deployment's subscription when it grants the audit's role (auditRoleActions).", _guid("the subscription ID: az account show --query id")),
    Setting("FIRESTOP_DEFENDER_RELAY", "no", "none (a Defender-only playbook is not counted fed by the audit)", "Comma-separated ARM ids of the Logic Apps that post Defender for Cloud alerts to Firestop's /api/alerts (a workflow automation's LogicApp action names one): monitoring.alert-rules counts a playbook fed by Defender alerts only when an enabled automation exports them to one of these (trust17) and Defender's alerts are shown to reach /api/alerts (defender18: naming the relay does not show where the automation's write-only trigger URI points). On Azure the template's parameter defenderRelay.", _logic_apps),
    Setting("FIRESTOP_NON_PRODUCTION_ACCOUNTS", "no", "none (every account is production; the sandbox's contoso-openai-dev locally)", "Comma-separated ARM ids of the Azure OpenAI accounts an admin declared not production (at most 100): a playbook's production approval (target.production, e.g. public-network-exposure's disable-local-auth) is skipped only on these, and not even there while the account's environment tag says production — a tag can only add approvals (RT20-09: anyone with tags/write could rewrite it). On Azure the template's parameter nonProductionAccounts.", _account_ids),
    Setting("FIRESTOP_AUDIT_RESOURCE_GROUPS", "no", "none (the whole subscription)", "Comma-separated resource groups the audit is limited to.", lambda v: None if all(_re.match(r"^[-\w._()]{1,90}$", p.strip()) for p in v.split(",")) and len(v.split(",")) <= 50 else "must be up to 50 comma-separated resource group names"),
    Setting("FIRESTOP_CORRELATION_WINDOW_SECONDS", "no", "3600", "A new alert joins an open incident opened at most this long ago (0: never).", _window),
    Setting("FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "no", "3600", "Evidence windows are clamped to at most this long before the alert fired (60..604800).", lambda v: None if v.isdigit() and 60 <= int(v) <= 604800 else f"{v!r} must be whole seconds from 60 to 604800"),
    Setting("FIRESTOP_ROLES", "no", "FIRESTOP_HOME/roles.json, else Entra app role claims only", "Role table (JSON): extra roles for object IDs and groups (firestop.trust.roles); {} = nobody holds a role; set but blank is an error.", lambda v: _json_object(v),
            blank='is set but blank; give the role table as JSON, {} for a table where nobody holds a role, or unset it'),
    Setting("FIRESTOP_ALERT_SOURCE_CHECK", "no", "on on Azure, off locally (firestop serve's function key never leaves your machine)", "on: an alert is read back from its source before any automatic containment — an Azure Monitor alert from Alerts Management (GET its alertId), a Defender for Cloud alert from Defender (GET its id, Security Alerts 2022-01-01), a Sentinel incident from Sentinel (GET it, its alerts and entities, 2024-03-01), an Azure Policy state event from Policy Insights (the resource's latest states, 2019-10-01); not found, not matching or unreadable: nothing acts until a responder decides the alert genuine (one decision, step alert.genuine; evidence steps do not wait). Needs Microsoft.AlertsManagement/alerts/read, Microsoft.Insights/{metricAlerts,scheduledQueryRules,activityLogAlerts}/read (the alert rule's route), Microsoft.Security/locations/alerts/read, Microsoft.SecurityInsights/incidents/{read,alerts/read,entities/read} and Microsoft.PolicyInsights/policyStates/queryResults/action; an alert's dimensions: its log rule's query re-run or its metric read, Microsoft.Insights/{logs,metrics}/read and Microsoft.OperationalInsights/workspaces/{read,query/read}.", _one_of("on", "off")),
    Setting("FIRESTOP_CORRELATION_KEY", "no", "resource", "What 'the same resource' means for correlation: resource, resource_group, subscription or none.", _one_of("resource", "resource_group", "subscription", "none")),
    Setting("FIRESTOP_PLAYBOOKS", "no", "playbooks/", "Folder of playbook YAML files.", _directory),
    Setting("FIRESTOP_HOME", "no", "./.firestop (not set on Azure)", "Local disk: the local durable host's history, the sandbox tenant, keys firestop serve generates, tabletop runs (on Azure only the weekly tabletop timer's exercises write, under <temp dir>/firestop); records, evidence, ledger and notification copies too when FIRESTOP_STORAGE_BLOB_URL is not set.", _home),
    Setting("FIRESTOP_STORAGE_BLOB_URL", "azure", "none (records, evidence, ledger and notification copies under FIRESTOP_HOME)", "Blob endpoint of the app's storage account (https://<account>.blob.core.windows.net/, reached with the managed identity; Azurite's http://127.0.0.1:<port>/devstoreaccount1 locally): records, evidence, ledger and notification copies live there, none on an instance's disk.", _blob_url),
    Setting("FIRESTOP_RECORDS_CONTAINER", "no", "firestop-records", "Blob container for records, and notification copies under notifications/.", _container),
    Setting("FIRESTOP_EVIDENCE_CONTAINER", "no", "firestop-evidence", "Blob container for evidence (write-once; WORM policy in the template).", _container),
    Setting("FIRESTOP_LEDGER_CONTAINER", "no", "firestop-ledger", "Blob container for the hash-chained ledgers (append blobs; WORM with protected appends in the template).", _container),
    Setting("FIRESTOP_TENANT_ID", "no", "none (any tenant App Service authentication admits)", "Microsoft Entra tenant ID: on Azure only callers whose tid claim names it are believed (the template sets it from entraTenantId, by default the deployment's tenant).", _guid("the directory (tenant) ID: az account show --query tenantId")),
    Setting("FIRESTOP_PUBLIC_URL", "no", "https://WEBSITE_HOSTNAME on Azure; firestop serve's own address locally", "Origin (https://host[:port]) of the links the app hands out (statusUri, Location): set it for a custom domain or a gateway (template parameter publicUrl); never taken from the Host header.", https_origin_problem),
    Setting("FIRESTOP_FUNCTION_KEY", "local", "generated into FIRESTOP_HOME/function-key", "Function key firestop serve requires (Azure manages its own keys).", None),
    Setting("FIRESTOP_SYSTEM_KEY", "local", "generated into FIRESTOP_HOME/system-key", "firestop serve: the Durable administration key (Azure: the extension's system key); must differ from the function key.", None),
    Setting("FIRESTOP_PRINCIPAL_ID", "local", "none", "Your Entra object ID for incident approve/reject (instead of --as).", _principal_id),
    Setting("FIRESTOP_APP_URL", "local", "none (local mode)", "Remote mode: the deployed Function App the responders' commands act on (https://<app>.azurewebsites.net; --app).", None),
    Setting("FIRESTOP_APP_SCOPE", "local", "none", "Remote mode: the scope of the app's API to sign in for (api://<app registration client id>/.default).", None),
    Setting("FIRESTOP_APP_AUTH", "local", "cli", "Remote mode sign-in: cli (az login), device-code or browser (--auth).", _one_of("cli", "device-code", "browser")),
    Setting("FIRESTOP_SANDBOX_REALTIME_FACTOR", "local", "1", "firestop serve: wall seconds per simulated second of the sandbox clock.", _factor),
    Setting("FIRESTOP_SANDBOX_UNROUTED_LOG", "local", "none", "Test suite: file that collects requests the sandbox does not route.", None),
    Setting("FIRESTOP_SEED_CACHE", "local", "$XDG_CACHE_HOME/firestop, else ~/.cache/firestop", "Folder keeping built sandbox seed documents (a fresh FIRESTOP_HOME reads the built tenant instead of generating it), or off.", None),
    Setting("FIRESTOP_SERVE_PER_PEER", "local", "16", "firestop serve: connections one remote address (an IPv6 /64, every loopback address: one) may hold open at once (raise it behind a proxy, or for a load test from one address).", lambda v: None if v.isdigit() and int(v) >= 1 else f"{v!r} must be a whole number of connections >= 1"),
    Setting("AzureWebJobsStorage__accountName", "azure", "none", "Functions host and Durable task hub storage, reached with the identity (no key).", _storage_account),
    Setting("AzureWebJobsStorage__credential", "azure", "none", "managedidentity: the host authenticates to storage with the managed identity.", _one_of("managedidentity")),
    Setting("AzureWebJobsStorage__clientId", "azure", "none", "Client ID of the user-assigned identity the host uses for storage.", _guid("the identity's clientId (template output identityClientId)")),
    Setting("AZURE_CLIENT_ID", "azure", "none", "Client ID of the user-assigned identity DefaultAzureCredential uses for ARM, Key Vault and Logs.", _guid("the identity's clientId (template output identityClientId)")),
    Setting("APPLICATIONINSIGHTS_CONNECTION_STRING", "no", "none (nothing exported)", "Application Insights (set by the template): the Function App and firestop serve export OpenTelemetry traces and metrics there (firestop.telemetry).", None),
    Setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "no", "none (ingestion with the connection string's instrumentation key)", "ClientId=<identity client id>;Authorization=AAD: telemetry is sent with the managed identity's Entra token, as a component with local authentication disabled requires (set by the template; doctor's telemetry check reads it).", None),
    Setting("FIRESTOP_LOG_FORMAT", "no", "text", "Log lines (one per request and per decision): text (key=value) or json (JSON lines); firestop serve prints them on stderr.", _one_of("text", "json")),
    Setting("FIRESTOP_OTEL_CONSOLE", "local", "none", "1: firestop serve also prints OpenTelemetry spans and metrics on stderr (nothing else is exported locally).", _one_of("1", "0")),
)


def alert_source_check_enabled(env: _Mapping[str, str] | None = None) -> bool:
    """``FIRESTOP_ALERT_SOURCE_CHECK``: ``on``/``off``; unset, on when running on Azure (``WEBSITE_SITE_NAME`` or
    ``WEBSITE_INSTANCE_ID``, as :mod:`firestop.trust` decides) and off locally, where the webhook's function key is
    generated into FIRESTOP_HOME on the operator's machine (whoever can read it can run the CLI as the operator)."""
    read = env if env is not None else ENVIRON  # every webhook reads it: no KeyError per unset name (firestop.environ)
    value = (read.get("FIRESTOP_ALERT_SOURCE_CHECK") or "").strip().lower()
    if value in ("on", "off"):
        return value == "on"
    return bool(read.get("WEBSITE_SITE_NAME") or read.get("WEBSITE_INSTANCE_ID"))


_REQUIRED_LABEL = {"azure": "on Azure", "no": "no", "local": "local tools"}


def settings_table() -> str:
    """The README's settings table (Markdown), generated from :data:`SETTINGS`; a test keeps README.md equal to it.
    Print it with ``python -c "from firestop.settings import settings_table; print(settings_table())"``."""
    rows = ["| setting | required | default | meaning |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {_REQUIRED_LABEL[s.required]} | {s.default} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows) + "\n"


def check_environment(env: _Mapping[str, str], *, on_azure: bool) -> list[tuple[str, str]]:
    """``[(setting, problem with the fix)]`` for ``env``: every wrong value, and on Azure every missing required one."""
    problems = []
    for setting in SETTINGS:
        value = env.get(setting.name)
        if value is not None and setting.blank is not None and not value.strip():
            problems.append((setting.name, setting.blank))
            continue
        if value is None or value == "":
            if on_azure and setting.required == "azure":
                problems.append((setting.name, f"missing; {setting.meaning} (infra/azuredeploy.json sets it)"))
            continue
        if setting.check is not None:
            problem = setting.check(value)
            if problem:
                problems.append((setting.name, problem))
    if on_azure and not env.get("AzureWebJobsStorage__accountName") and env.get("AzureWebJobsStorage"):
        problems.append(("AzureWebJobsStorage", "a connection string (shared key): use AzureWebJobsStorage__accountName with the managed identity instead"))
    return problems


#: The settings :meth:`Settings.from_env` parses into a typed field, checked there against :data:`SETTINGS` so a
#: malformed value is named with its fix (paths and URLs are checked where they are used: a local stand-in
#: webhook on http:// and a missing playbook folder have their own, more specific answers).
_PARSED_BY_FROM_ENV = ("FIRESTOP_EVIDENCE_MAX_WINDOW_SECONDS", "FIRESTOP_KEY_VAULT_ALLOWED_URLS", "FIRESTOP_NON_PRODUCTION_ACCOUNTS", "FIRESTOP_STORAGE_BLOB_URL", "FIRESTOP_RECORDS_CONTAINER",
                       "FIRESTOP_EVIDENCE_CONTAINER", "FIRESTOP_LEDGER_CONTAINER")


#: Settings a local command does not check at start-up (:func:`command_problems`): a stand-in webhook on http:// is
#: fine locally (notify.webhook answers for it), and a missing playbook folder has its own answer naming the folder.
_CHECKED_WHERE_USED = frozenset({"FIRESTOP_NOTIFY_WEBHOOK_URL", "FIRESTOP_PLAYBOOKS"})


def command_problems(env: _Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """``[(setting, problem with the fix)]`` of the ``FIRESTOP_*`` settings in ``env`` (default ``os.environ``) a
    local command reads, checked when the CLI starts (:func:`firestop.cli.main._root`; ``doctor`` reports them
    instead). Each problem names the value as :func:`repr` escapes it, never a secret's (:func:`_seal_key`)."""
    env = os.environ if env is None else env
    read = {name: value for name, value in env.items() if name.startswith("FIRESTOP_") and name not in _CHECKED_WHERE_USED}
    return check_environment(read, on_azure=False)


class SettingsError(RuntimeError):
    """Settings that keep the app from starting; the message lists every problem and its fix."""


def check_startup(env: _Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Validate the settings when the Function App starts (``function_app.py``).

    On Azure (App Service sets ``WEBSITE_SITE_NAME``/``WEBSITE_INSTANCE_ID``) any problem raises :class:`SettingsError`
    naming every setting and its fix, so the host logs it and indexes no function; elsewhere the
    problems are returned (the local tools fall back to the sandbox).
    """
    env = os.environ if env is None else env
    on_azure = bool(env.get("WEBSITE_SITE_NAME") or env.get("WEBSITE_INSTANCE_ID"))  # as firestop.trust decides
    problems = check_environment(env, on_azure=on_azure)
    if problems and on_azure:
        raise SettingsError("Firestop cannot start, fix these application settings: " + "; ".join(f"{n}: {p}" for n, p in problems))
    return problems

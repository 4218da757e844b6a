"""Secrets and keys: the consumers' Key Vault (soft delete, purge protection, RBAC, secret expiry) and account key age."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field

from firestop.audit.models import Area, Evidence, RunbookFix, Severity
from firestop.audit.reader import ACTIVITY_LOG_DAYS, AuditContext
from firestop.audit.registry import NoParams, NotApplicable, Verdict, control, failed, passed

REGENERATE = "microsoft.cognitiveservices/accounts/regeneratekey/action"


def _props(vault: dict) -> dict:
    return vault.get("properties") or {}


@control("secrets.vault-soft-delete", title="Key Vault soft delete on",
         area=Area.SECRETS, severity=Severity.MEDIUM, target="vault",
         policy="1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d",  # Key vaults should have soft delete enabled
         fix="Enable soft delete (on by default for new vaults; 7–90 days retention).", reads=("vaults.list",))
def soft_delete(ctx: AuditContext, vault: dict, params: NoParams) -> Verdict:
    on = _props(vault).get("enableSoftDelete")
    days = _props(vault).get("softDeleteRetentionInDays")
    evidence = (Evidence(read="vaults.get properties.enableSoftDelete", value=on),
                Evidence(read="vaults.get properties.softDeleteRetentionInDays", value=days))
    if on is False:
        return failed("soft delete is off: a deleted vault and its secrets are gone at once", *evidence)
    return passed(f"soft delete on, deleted secrets kept {days or 90} days", *evidence)


@control("secrets.vault-purge-protection", title="Key Vault purge protection on",
         area=Area.SECRETS, severity=Severity.MEDIUM, target="vault",
         policy="0b60c0b2-2dc2-4e1c-b5c9-abbed971de53",  # Key vaults should have deletion protection enabled
         fix="Enable purge protection (az keyvault update --enable-purge-protection true); it cannot be turned off again.",
         reads=("vaults.list",))
def purge_protection(ctx: AuditContext, vault: dict, params: NoParams) -> Verdict:
    on = _props(vault).get("enablePurgeProtection")
    evidence = Evidence(read="vaults.get properties.enablePurgeProtection", value=on)
    if on is True:
        return passed("purge protection on: a deleted secret cannot be purged before its retention ends", evidence)
    return failed("purge protection off: an insider or a stolen admin identity can delete and purge the consumers' key for good", evidence)


@control("secrets.vault-rbac", title="Key Vault uses Azure RBAC (not access policies)",
         area=Area.SECRETS, severity=Severity.MEDIUM, target="vault",
         policy="12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5",  # Azure Key Vault should use RBAC permission model
         fix="Switch the vault to the Azure RBAC permission model (enableRbacAuthorization: true) and grant Key Vault Secrets User per secret.",
         reads=("vaults.list",))
def vault_rbac(ctx: AuditContext, vault: dict, params: NoParams) -> Verdict:
    on = _props(vault).get("enableRbacAuthorization")
    evidence = Evidence(read="vaults.get properties.enableRbacAuthorization", value=on)
    if on is True:
        return passed("Azure RBAC authorisation (access reviewed with role assignments)", evidence)
    return failed("vault access policies: who can read the key is outside Azure RBAC reviews", evidence)


class SecretExpiryParams(BaseModel):
    """max_days: longest validity a secret version may be given (days)."""

    model_config = ConfigDict(extra="forbid")

    max_days: int = Field(default=90, ge=1, le=3650)


def _utc(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@control("secrets.secret-expiry", title="The consumers' key secret has an expiry date",
         area=Area.SECRETS, severity=Severity.MEDIUM, target="vault", params=SecretExpiryParams,
         policy="98728c90-32c7-4049-8429-847dc0f4fe37",  # Key Vault secrets should have an expiration date
         fix="Set an expiry on the secret holding the Azure OpenAI key (at most the rotation period) and rotate before it: "
             "keys.rotate writes the new key as a new version.",
         reads=("secrets.versions",))
def secret_expiry(ctx: AuditContext, vault: dict, params: SecretExpiryParams) -> Verdict | None:
    url = str(_props(vault).get("vaultUri") or "").rstrip("/").lower()
    consumers = str(ctx.settings.key_vault_url or "").rstrip("/").lower()
    if not url or url != consumers:
        return None  # only the vault the consumers read the key from (FIRESTOP_KEY_VAULT_URL)
    name = ctx.settings.key_secret_name
    versions = [v for v in ctx.secret_versions(url, name) if v.get("enabled") is not False]
    if not versions:
        return failed(f"secret {name} has no enabled version", Evidence(read=f"secrets.versions {name}", value=[]))
    latest = max(versions, key=lambda v: _utc(v.get("created")) or datetime.min.replace(tzinfo=timezone.utc))
    expires, created = _utc(latest.get("expires")), _utc(latest.get("created"))
    evidence = (Evidence(read=f"secrets.versions {name} (newest) attributes.exp", value=expires.isoformat() if expires else None),
                Evidence(read=f"secrets.versions {name} (newest) attributes.created", value=created.isoformat() if created else None))
    if expires is None:
        return failed(f"secret {name} never expires", *evidence)
    if created and (expires - created).days > params.max_days:
        return failed(f"secret {name} is valid {(expires - created).days} days (more than {params.max_days})", *evidence)
    if expires <= ctx.now():
        return failed(f"secret {name} expired on {expires:%Y-%m-%d}", *evidence)
    return passed(f"secret {name} expires on {expires:%Y-%m-%d}", *evidence)


class KeyAgeParams(BaseModel):
    """max_days: oldest an account key may be (days since it was last regenerated; at most the Activity Log's 90)."""

    model_config = ConfigDict(extra="forbid")

    max_days: int = Field(default=90, ge=1, le=ACTIVITY_LOG_DAYS)


def parse_time(text: object) -> datetime | None:
    """An ISO 8601 time as ARM writes it (``Z`` or an offset, 0–7 fractional digits) as aware UTC; None if unparsable."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$", str(text or "").strip())
    if not m:
        return None
    micro = (m.group(2) or "")[:6].ljust(6, "0")
    offset = m.group(3) if m.group(3) and m.group(3) != "Z" else "+00:00"
    try:
        return datetime.fromisoformat(f"{m.group(1)}.{micro}{offset}").astimezone(timezone.utc)
    except ValueError:
        return None


def _key_name(event: dict) -> str | None:
    body = ((event.get("properties") or {}).get("requestbody")) or ""
    try:
        parsed = json.loads(body) if isinstance(body, str) and body else {}
    except ValueError:
        return None
    name = parsed.get("keyName") if isinstance(parsed, dict) else None
    return str(name).lower() if name else None


@control("secrets.key-age", title="Account keys regenerated within the rotation period",
         area=Area.SECRETS, severity=Severity.MEDIUM, target="account", params=KeyAgeParams,
         fix="Rotate the keys (keys.rotate: regenerate the key consumers do not use, cut them over in Key Vault, then the other) "
             "on a schedule shorter than the rotation period — or disable key authentication altogether.",
         runbook=RunbookFix(runbook="keys.rotate"), reads=("activityLogs.list",))
def key_age(ctx: AuditContext, account: dict, params: KeyAgeParams) -> Verdict | None:
    if (account.get("properties") or {}).get("disableLocalAuth") is True:
        raise NotApplicable("local auth is disabled on it: its keys authenticate no one, there is nothing to rotate")
    events = ctx.activity_events(account["id"], params.max_days)
    regenerations = [e for e in events if str(((e.get("operationName") or {}).get("value")) or "").lower() == REGENERATE]
    # the key is named in the request body of the Start event; the Succeeded event shares its correlationId
    named = {e.get("correlationId"): _key_name(e) for e in regenerations if _key_name(e)}
    last: dict[str, datetime] = {}
    for e in regenerations:
        if str(((e.get("status") or {}).get("value")) or "") != "Succeeded":
            continue
        key = _key_name(e) or named.get(e.get("correlationId"))
        when = parse_time(e.get("eventTimestamp"))
        if when is not None and key in ("key1", "key2") and (key not in last or when > last[key]):
            last[key] = when
    created_text = (account.get("systemData") or {}).get("createdAt") or (account.get("properties") or {}).get("dateCreated")
    created = parse_time(created_text)
    now = ctx.now()
    ages = {}
    for k in ("key1", "key2"):
        since = last.get(k) or created
        ages[k] = {"last_regenerated": last[k].isoformat() if k in last else None,
                   "age_days": round((now - since).total_seconds() / 86400, 1) if since else None}
    evidence = (Evidence(read=f"activityLogs.list regenerateKey/action, last {params.max_days} days", value=ages),
                Evidence(read="accounts.get systemData.createdAt", value=created.isoformat() if created else None))
    old = [k for k, a in ages.items() if a["age_days"] is None or a["age_days"] > params.max_days]
    if not old:
        return passed(f"both keys are at most {params.max_days} days old", *evidence)
    words = ", ".join(f"{k.capitalize()} not regenerated in the last {params.max_days} days of Activity Log"
                      + (f" (account created {created:%Y-%m-%d})" if created else "") for k in old)
    return failed(words, *evidence)

"""Separate environments: production and non-production accounts share no resource group and no key vault."""

from __future__ import annotations

from firestop.audit.models import Area, Evidence, Severity
from firestop.audit.reader import AuditContext, parse_arm_id
from firestop.audit.registry import NoParams, Verdict, control, failed, passed

#: The account tag naming the consumers' secret (``runbooks.keys.ACCOUNT_SECRET_TAG``).
SECRET_TAG = "firestop-key-secret"
_PROD = ("prod", "production", "prd", "live")


def environment_of(account: dict) -> str:
    """``production`` or ``non-production``: the ``environment`` tag, else the name (``…-prod``)."""
    tags = {str(k).lower(): str(v).lower() for k, v in (account.get("tags") or {}).items()}
    value = tags.get("environment") or tags.get("env")
    if value:
        return "production" if value in _PROD else "non-production"
    return "production" if any(p in str(account.get("name", "")).lower().split("-") for p in _PROD) else "non-production"


def _vault_of(account: dict) -> str | None:
    """The vault URL of the account's own consumers' secret (its firestop-key-secret tag), lower-case; None without the tag."""
    tag = next((v for k, v in (account.get("tags") or {}).items() if str(k).lower() == SECRET_TAG), None)
    if tag:
        return str(tag).split("/secrets/")[0].rstrip("/").lower()
    return None


@control("environments.separated", title="Production and non-production accounts share no resource group or key vault",
         area=Area.ENVIRONMENTS, severity=Severity.MEDIUM, target="subscription",
         fix="Keep production accounts in their own resource group (ideally subscription) with their own Key Vault and keys; "
             "development never reads production secrets.",
         reads=("accounts.list",))
def separated(ctx: AuditContext, subscription: dict, params: NoParams) -> Verdict | None:
    accounts = ctx.list_accounts()
    if not accounts:
        return None
    rows = []
    for a in accounts:
        rows.append({"account": a["name"], "environment": environment_of(a),
                     "resource_group": parse_arm_id(a["id"])["resource_group"],
                     "key_vault": _vault_of(a)})
    evidence = Evidence(read="accounts.list tags.environment / resource group / tag firestop-key-secret", value=rows)
    envs = {r["environment"] for r in rows}
    if envs != {"production", "non-production"}:
        return passed(f"all {len(rows)} account(s) are {next(iter(envs))}: nothing to separate", evidence)
    shared = []
    for field in ("resource_group", "key_vault"):
        by: dict[str, set[str]] = {}
        for r in rows:
            if r[field]:
                by.setdefault(str(r[field]).lower(), set()).add(r["environment"])
        shared += [f"{field.replace('_', ' ')} {k}" for k, v in by.items() if len(v) > 1]
    if shared:
        return failed(f"production and non-production share: {', '.join(shared)}", evidence)
    return passed("production and non-production accounts are in separate resource groups and vaults", evidence)

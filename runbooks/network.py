"""Network runbooks: close an Azure OpenAI account to the Internet.

``network.lock`` (account PATCH, REST API 2025-09-01; properties
``publicNetworkAccess`` and ``networkAcls`` per the 2024-10-01 swagger
``AccountProperties``/``NetworkRuleSet``):

- ``mode: disable_public_access`` — ``publicNetworkAccess: Disabled``: only
  private endpoints reach the account;
- ``mode: deny_by_default`` (default) — ``networkAcls.defaultAction: Deny``,
  keeping the existing IP and virtual-network allow rules (or the ``allow_ips``
  given), so known consumers keep working while unknown callers are cut off.

The whole ``networkAcls`` object is read, changed and written back (arrays
are replaced whole by ARM's merge-patch), and undo writes back exactly the
object that was there, refusing if someone changed it since.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from firestop.azure.errors import RunbookError
from runbooks.arm import READ_ACCOUNT, WRITE_ACCOUNT, get_account, patch_account
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.registry import register
from runbooks.targets import ACCOUNT_TYPE, account_ref


class LockParams(BaseModel):
    """mode: ``deny_by_default`` | ``disable_public_access``; allow_ips: IPv4 addresses or CIDR
    ranges to allow (deny_by_default only; None keeps the account's current ipRules)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["deny_by_default", "disable_public_access"] = "deny_by_default"
    allow_ips: list[str] | None = None

    @field_validator("allow_ips")
    @classmethod
    def _valid_ips(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for item in value:
            try:
                net = ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IPv4 address or CIDR range (e.g. 198.51.100.0/24)") from None
            if net.version != 4:
                raise ValueError(f"{item!r}: Azure AI services IP rules take IPv4 only")
            out.append(str(net.network_address) if net.prefixlen == 32 else str(net))
        return out


def _state(account: dict[str, Any]) -> dict[str, Any]:
    props = account.get("properties") or {}
    return {
        "publicNetworkAccess": props.get("publicNetworkAccess"),
        "networkAcls": props.get("networkAcls"),
        "etag": account.get("etag"),
    }


def _desired(state: dict[str, Any], params: LockParams) -> dict[str, Any]:
    """The properties to write (whole objects), or {} when the account is already locked."""
    if params.mode == "disable_public_access":
        return {} if state["publicNetworkAccess"] == "Disabled" else {"publicNetworkAccess": "Disabled"}
    acls = dict(state["networkAcls"] or {})
    rules = acls.get("ipRules") or []
    if params.allow_ips is not None:
        rules = [{"value": ip} for ip in params.allow_ips]
    wanted = {
        **acls,
        "defaultAction": "Deny",
        "ipRules": rules,
        "virtualNetworkRules": acls.get("virtualNetworkRules") or [],
    }
    current = state["networkAcls"] or {}
    same = current.get("defaultAction") == "Deny" and (current.get("ipRules") or []) == wanted["ipRules"]
    return {} if same else {"networkAcls": wanted}


@register
class LockNetwork(Runbook[LockParams]):
    name = "network.lock"
    summary = "Close the account to the Internet: deny by default keeping the allow list, or disable public access."
    permissions = (READ_ACCOUNT, WRITE_ACCOUNT)
    target_type = ACCOUNT_TYPE
    Params = LockParams

    def plan(self, ctx: RunContext, target: str, params: LockParams) -> Plan:
        before = _state(get_account(ctx, account_ref(target)))
        desired = _desired(before, params)
        return Plan(
            runbook=self.name,
            target=target,
            before=before,
            changes=[Change(field=f"properties.{k}", before=before[k], after=v) for k, v in desired.items()],
            notes=[] if desired else ["already locked"],
        )

    def apply(self, ctx: RunContext, target: str, params: LockParams) -> Applied:
        ref = account_ref(target)
        before = _state(get_account(ctx, ref))
        desired = _desired(before, params)
        if desired:
            patch_account(ctx, ref, desired, etag=before["etag"])
        after = _state(get_account(ctx, ref))
        what = ", ".join(f"{k} → {'Deny' if k == 'networkAcls' else v}" for k, v in desired.items())
        return Applied(
            runbook=self.name,
            target=target,
            changed=bool(desired),
            before=before,
            after=after,
            summary=f"set {what}" if desired else "account already locked; nothing changed",
        )

    def verify(self, ctx: RunContext, target: str, params: LockParams, applied: Applied) -> Verification:
        now = _state(get_account(ctx, account_ref(target)))
        if params.mode == "disable_public_access":
            checks = [
                Check(
                    name="publicNetworkAccess is Disabled",
                    ok=now["publicNetworkAccess"] == "Disabled",
                    detail=f"publicNetworkAccess = {now['publicNetworkAccess']}",
                )
            ]
        else:
            acls = now["networkAcls"] or {}
            wanted_rules = (applied.after.get("networkAcls") or {}).get("ipRules") or []
            checks = [
                Check(
                    name="networkAcls.defaultAction is Deny",
                    ok=acls.get("defaultAction") == "Deny",
                    detail=f"defaultAction = {acls.get('defaultAction')}",
                ),
                Check(
                    name="allow list as applied",
                    ok=(acls.get("ipRules") or []) == wanted_rules,
                    detail=", ".join(r.get("value", "?") for r in acls.get("ipRules") or []) or "(none)",
                ),
            ]
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: LockParams, applied: Applied) -> Applied:
        ref = account_ref(target)
        now = _state(get_account(ctx, ref))
        fields = ("publicNetworkAccess", "networkAcls")
        if all(now[f] == applied.before[f] for f in fields):
            return Applied(
                runbook=self.name, target=target, changed=False, before=now, after=now, summary="already as before; nothing changed"
            )
        if any(now[f] != applied.after[f] for f in fields):
            raise RunbookError(
                "conflict",
                "network.lock undo refused: the account's network settings changed after the lock "
                f"(publicNetworkAccess {applied.after['publicNetworkAccess']} → {now['publicNetworkAccess']}); "
                "review them and restore by hand",
            )
        patch_account(ctx, ref, {f: applied.before[f] for f in fields}, etag=now["etag"])
        after = _state(get_account(ctx, ref))
        return Applied(runbook=self.name, target=target, changed=True, before=now, after=after, summary="restored the network settings from before the lock")

"""Network runbooks: close an Azure OpenAI account to the Internet; deny addresses on an NSG.

``network.block_ips`` (target: a network security group) is described at its class below.

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
object that was there, refusing if someone changed it since. The state before
the PATCH is kept in a marker first (:mod:`runbooks.markers`): a retry after
the PATCH landed but its poll failed reports the original, not the locked state.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from firestop.azure.errors import RunbookError, map_azure_error
from firestop.empty import new_list
from runbooks.arm import READ_ACCOUNT, READ_OPERATION_RESULTS, WRITE_ACCOUNT, get_account, patch_account
from runbooks.base import Applied, Change, Check, Plan, RunContext, Runbook, Verification
from runbooks.registry import register
from runbooks.common import raw_json
from runbooks.targets import ACCOUNT_TYPE, NSG_TYPE, NsgRef, account_ref, nsg_ref


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
    permissions = (READ_ACCOUNT, WRITE_ACCOUNT, READ_OPERATION_RESULTS)
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
        from runbooks.markers import recall, remember

        ref = account_ref(target)
        now = _state(get_account(ctx, ref))
        marker = recall(ctx, self.name, target)  # an earlier try's PATCH may have landed (its answer or poll lost)
        before = marker["before"] if marker else now
        desired = _desired(now, params)
        if desired:
            remember(ctx, self.name, target, before)
            patch_account(ctx, ref, desired, etag=now["etag"])
        after = _state(get_account(ctx, ref))
        what = ", ".join(f"{k} → {'Deny' if k == 'networkAcls' else v}" for k, v in desired.items())
        return Applied(
            runbook=self.name,
            target=target,
            changed=bool(desired),
            before=before,
            after=after,
            summary=f"set {what}" if desired else ("set networkAcls → Deny (an earlier try's change)" if before != now
                                                    else "account already locked; nothing changed"),
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


# network.block_ips -------------------------------------------------------------
#
# NSG security rules (Microsoft.Network, azure-mgmt-network 33.1; rule shape per
# the SecurityRule swagger: protocol, source/destination port and address
# prefixes, access, priority 100-4096 (lower is evaluated first), direction).
# Rule PUT and DELETE are long-running operations; Microsoft.Network serialises
# writes per NSG and re-stamps every rule's etag on each write, so undo compares
# rule contents, not etags.

NSG_READ = "Microsoft.Network/networkSecurityGroups/read"
RULE_READ = "Microsoft.Network/networkSecurityGroups/securityRules/read"
RULE_WRITE = "Microsoft.Network/networkSecurityGroups/securityRules/write"
RULE_DELETE = "Microsoft.Network/networkSecurityGroups/securityRules/delete"
NETWORK_OPERATIONS_READ = "Microsoft.Network/locations/operations/read"
MIN_PRIORITY, MAX_PRIORITY = 100, 4096
#: Widest ranges accepted (a wider block would cut off large parts of the Internet by mistake).
MIN_PREFIX = {4: 8, 6: 32}
_RULE_NAME_MAX = 80  # NSG rule names: 1-80 chars, letters, digits, '_', '.', '-'


def block_network(text: str) -> str:
    """Validate one IP address or CIDR range to block; its canonical text (``203.0.113.77/32``).

    ValueError naming the fix for: not an address, host bits set, wider than /8 (IPv4) or
    /32 (IPv6), loopback, link-local, multicast or unspecified addresses.
    """
    raw = str(text).strip()
    try:
        net = ipaddress.ip_network(raw, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            raise ValueError(f"{raw!r} is not an IP address or CIDR range (e.g. 203.0.113.77 or 203.0.113.0/24)") from None
        raise ValueError(f"{raw!r} has host bits set; did you mean {loose}?") from None
    if net.prefixlen < MIN_PREFIX[net.version]:
        raise ValueError(f"{raw!r} is too wide to block (narrowest allowed: /{MIN_PREFIX[net.version]} for IPv{net.version})")
    address = net.network_address
    if address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified:
        raise ValueError(f"{raw!r} is a loopback, link-local, multicast or unspecified address; block Internet addresses")
    return str(net)


class BlockIpsParams(BaseModel):
    """ips: IPv4/IPv6 addresses or CIDR ranges to deny (default: the alert's caller IPs), at most 50;
    direction: ``Inbound`` (traffic from the IPs) or ``Outbound`` (traffic to them);
    priority_from: lowest priority number to use — the free numbers from here up are taken, so the
    deny rules are evaluated before existing allow rules with higher numbers."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    ips: list[str] = Field(default_factory=new_list, max_length=50)
    direction: Literal["Inbound", "Outbound"] = "Inbound"
    priority_from: int = Field(default=MIN_PRIORITY, ge=MIN_PRIORITY, le=MAX_PRIORITY)

    @field_validator("ips")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for item in value:
            net = block_network(item)
            if net not in out:
                out.append(net)
        return out


def rule_name(incident_id: str, network: str) -> str:
    """Deterministic rule name for ``network`` in ``incident_id``: ``firestop-<incident>-<address>_<prefix>``."""
    slug = network.replace(":", "-").replace("/", "_")
    incident = re.sub(r"[^A-Za-z0-9_.-]+", "-", incident_id).strip("-.") or "incident"
    name = f"firestop-{incident}-{slug}"
    if len(name) > _RULE_NAME_MAX:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"firestop-{incident[: _RULE_NAME_MAX - len(slug) - 19]}-{digest}-{slug}"
    return name


def _description(ctx: RunContext, network: str) -> str:
    return f"Firestop incident {ctx.incident_id} step {ctx.step_id}: deny {network}"


def _rule_props(ctx: RunContext, network: str, priority: int, direction: str) -> dict[str, Any]:
    remote, local = (network, "*")
    return {
        "description": _description(ctx, network),
        "protocol": "*",
        "sourcePortRange": "*",
        "destinationPortRange": "*",
        "sourceAddressPrefix": remote if direction == "Inbound" else local,
        "destinationAddressPrefix": local if direction == "Inbound" else remote,
        "access": "Deny",
        "priority": priority,
        "direction": direction,
    }


def _remote_prefix(props: dict[str, Any], direction: str) -> str | None:
    return props.get("sourceAddressPrefix") if direction == "Inbound" else props.get("destinationAddressPrefix")


def _without_etags(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k != "etag"} for r in rules), key=lambda r: r["name"].lower())


def _covers(prefix: str, network: str) -> bool:
    """True when an NSG address prefix (CIDR, ``*``, ``Any``, ``Internet``) includes ``network``."""
    if prefix in ("*", "Any", "Internet"):
        return True
    try:
        outer, inner = ipaddress.ip_network(prefix, strict=False), ipaddress.ip_network(network)
    except ValueError:
        return False  # another service tag: unknown here
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


class _Nsg:
    def __init__(self, ctx: RunContext, target: str) -> None:
        self.ctx = ctx
        self.ref: NsgRef = nsg_ref(target)
        self.client = ctx.clients.network(self.ref.subscription_id)

    def rules(self) -> list[dict[str, Any]]:
        """The NSG's security rules as Azure sent them (``GET`` the NSG)."""
        try:
            nsg = self.client.network_security_groups.get(self.ref.resource_group, self.ref.name, cls=raw_json)
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=NSG_READ) from None
        return list((nsg.get("properties") or {}).get("securityRules") or [])

    def put(self, name: str, props: dict[str, Any]) -> None:
        try:
            poller = self.client.security_rules.begin_create_or_update(
                self.ref.resource_group, self.ref.name, name, {"properties": props}
            )
            poller.result()
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=RULE_WRITE) from None

    def delete(self, name: str) -> None:
        try:
            self.client.security_rules.begin_delete(self.ref.resource_group, self.ref.name, name).result()
        except Exception as exc:  # noqa: BLE001
            raise map_azure_error(exc, permission=RULE_DELETE) from None


#: Addresses an alert's caller IPs may never make Firestop deny: the sender of an alert chooses them, and denying
#: these would cut the account's own network off — private ranges (RFC 1918, RFC 6598 shared, RFC 4193 unique
#: local), loopback, link-local, unspecified and multicast, and Azure's platform addresses 168.63.129.16 (DNS,
#: health probes) and 169.254.169.254 (instance metadata) — https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16.
#: A playbook or responder naming such an address in ``ips`` is trusted; an alert is not.
_NEVER_FROM_ALERTS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "224.0.0.0/4", "240.0.0.0/4", "168.63.129.16/32", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"))


def _internal(net: str) -> bool:
    network = ipaddress.ip_network(net, strict=False)
    return any(network.version == n.version and network.overlaps(n) for n in _NEVER_FROM_ALERTS)


def _networks(ctx: RunContext, params: BlockIpsParams) -> list[str]:
    if params.ips:
        return params.ips
    out: list[str] = []
    skipped: list[str] = []
    for ip in ctx.alert.caller_ips:
        try:
            net = block_network(ip if "/" in ip else f"{ip}/{32 if ':' not in ip else 128}")
        except ValueError:  # loopback, link-local, …: one address an alert names never stops the others' denial
            skipped.append(ip)
            continue
        if _internal(net):
            skipped.append(net)  # never denied on an alert's word: private, platform or special-purpose
        elif net not in out:
            out.append(net)
    if not out:
        why = (f"the alert's caller IPs are private or platform addresses ({', '.join(skipped[:5])}), which an alert never makes "
               "Firestop deny" if skipped else "the alert names no caller IPs")
        raise RunbookError("invalid", f"params.ips: no IPs given and {why}; give ips: [<IP or CIDR>, ...]")
    return out


def _layout(ctx: RunContext, rules: list[dict[str, Any]], networks: list[str], params: BlockIpsParams) -> tuple[list[dict], list[dict]]:
    """(present, to_create): our rules already there, and the ones to add with free priorities."""
    by_name = {r["name"].lower(): r for r in rules}
    used = {r["properties"]["priority"] for r in rules if r["properties"].get("direction") == params.direction}
    # a deny rule for the same network and direction already there (an earlier incident's, a person's): it
    # already blocks the network, so no second rule is added (an alert handled again stacked duplicates)
    denying = {}
    for r in sorted(rules, key=lambda r: r["properties"].get("priority", MAX_PRIORITY + 1)):
        props = r["properties"]
        if props.get("access") == "Deny" and props.get("direction") == params.direction:
            denying.setdefault(_remote_prefix(props, params.direction), r)
    present, create = [], []
    next_free = params.priority_from
    for net in networks:
        name = rule_name(ctx.incident_id, net)
        existing = by_name.get(name.lower())
        if existing is None and net in denying:
            other = denying[net]
            present.append({"name": other["name"], "network": net, "priority": other["properties"]["priority"],
                            "direction": params.direction, "owned": False})
            continue
        if existing is not None:
            props = existing["properties"]
            if props.get("access") != "Deny" or _remote_prefix(props, params.direction) != net or props.get("direction") != params.direction:
                raise RunbookError(
                    "conflict",
                    f"rule {name} exists but no longer denies {net} {params.direction.lower()}; review it by hand",
                )
            present.append({"name": existing["name"], "network": net, "priority": props["priority"], "direction": params.direction,
                            "owned": props.get("description") == _description(ctx, net)})
            continue
        while next_free in used:
            next_free += 1
        if next_free > MAX_PRIORITY:
            raise RunbookError("invalid", f"params.priority_from: no free {params.direction} priority from {params.priority_from} to {MAX_PRIORITY}")
        used.add(next_free)
        create.append({"name": name, "network": net, "priority": next_free, "direction": params.direction, "owned": True})
    return present, create


def _rule_names(action: dict[str, Any], keys: tuple[str, ...]) -> frozenset[str] | None:
    """Lower-cased rule names under ``action["artifacts"][key]`` for ``key`` in ``keys``; None (the whole NSG) when the
    action records no artifacts (an older record, a manual run): whole-resource reliance, refusing rather than reopening."""
    artifacts = action.get("artifacts") if isinstance(action, dict) else None
    if not isinstance(artifacts, dict) or not any(isinstance(artifacts.get(k), list) for k in keys):
        return None
    return frozenset(str(r.get("name")).lower() for k in keys for r in artifacts.get(k) or []
                     if isinstance(r, dict) and r.get("name"))


@register
class BlockIps(Runbook[BlockIpsParams]):
    """Deny rules, one per IP/CIDR, named ``firestop-<incident>-<address>_<prefix>``; undo deletes exactly the
    rules this step created (found by name and by the step named in their description); verify reads back
    those and the rules of another step of the incident that already denied an IP (``denied_by``), so a
    second run is verified on what actually denies the IPs, not vacuously.

    Several targets: rule names are scoped to their NSG (ARM: ``…/networkSecurityGroups/<nsg>/securityRules/<rule>``),
    so a step the orchestrator fans out over two NSGs creates the same-named rule in each, and each
    target's apply, verify and undo read and change only its own NSG (its ``applied`` names its rules)."""

    name = "network.block_ips"
    summary = "Add NSG deny rules for the given IPs/CIDRs (default: the alert's caller IPs) at free priorities."
    permissions = (NSG_READ, RULE_READ, RULE_WRITE, RULE_DELETE, NETWORK_OPERATIONS_READ)
    target_type = NSG_TYPE
    Params = BlockIpsParams

    @classmethod
    def restored_parts(cls, action: dict[str, Any]) -> frozenset[str] | None:
        """The rules this step created (``artifacts.rules``): its undo deletes exactly those, so a later incident's
        own rules on the NSG do not rely on it (each incident's rules are named for it: :func:`rule_name`)."""
        return _rule_names(action, ("rules",))

    @classmethod
    def relied_parts(cls, action: dict[str, Any]) -> frozenset[str] | None:
        """The rules that deny this step's IPs: its own (``artifacts.rules``) and those of an earlier step or
        incident it found already denying one (``artifacts.denied_by``) — it relies on those."""
        return _rule_names(action, ("rules", "denied_by"))

    def plan(self, ctx: RunContext, target: str, params: BlockIpsParams) -> Plan:
        nsg = _Nsg(ctx, target)
        rules = nsg.rules()
        present, create = _layout(ctx, rules, _networks(ctx, params), params)
        return Plan(
            runbook=self.name,
            target=target,
            before={"securityRules": _without_etags(rules)},
            changes=[
                Change(field=f"securityRules.{r['name']}", before=None,
                       after={"access": "Deny", "network": r["network"], "priority": r["priority"], "direction": r["direction"]})
                for r in create
            ],
            notes=[f"{r['network']} already denied by {r['name']}" for r in present] or ([] if create else ["nothing to block"]),
        )

    def apply(self, ctx: RunContext, target: str, params: BlockIpsParams) -> Applied:
        nsg = _Nsg(ctx, target)
        before = nsg.rules()
        present, create = _layout(ctx, before, _networks(ctx, params), params)
        for rule in create:
            nsg.put(rule["name"], _rule_props(ctx, rule["network"], rule["priority"], rule["direction"]))
        after = nsg.rules()
        owned = [r for r in [*present, *create] if r["owned"]]
        return Applied(
            runbook=self.name,
            target=target,
            changed=bool(create),
            before={"securityRules": _without_etags(before)},
            after={"securityRules": _without_etags(after)},
            summary=(
                f"denied {', '.join(r['network'] for r in create)} ({params.direction.lower()}) at priorit{'y' if len(create) == 1 else 'ies'} "
                f"{', '.join(str(r['priority']) for r in create)}"
                if create
                else "every IP already denied; nothing changed"
            ),
            artifacts={
                # this step's rules (undo removes exactly these) ...
                "rules": [{k: r[k] for k in ("name", "network", "priority", "direction")} for r in owned],
                # ... and rules of another step of the incident that already deny an IP (verified, never undone)
                "denied_by": [{k: r[k] for k in ("name", "network", "priority", "direction")} for r in present if not r["owned"]],
            },
        )

    def verify(self, ctx: RunContext, target: str, params: BlockIpsParams, applied: Applied) -> Verification:
        rules = _Nsg(ctx, target).rules()
        by_name = {r["name"].lower(): r for r in rules}
        checks = []
        for wanted in [*applied.artifacts.get("rules", []), *applied.artifacts.get("denied_by", [])]:
            rule = by_name.get(wanted["name"].lower())
            props = (rule or {}).get("properties") or {}
            checks.append(Check(
                name=f"{wanted['name']} denies {wanted['network']}",
                ok=rule is not None and props.get("access") == "Deny" and _remote_prefix(props, wanted["direction"]) == wanted["network"]
                and props.get("provisioningState") == "Succeeded",
                detail=f"priority {props.get('priority')}, {props.get('provisioningState')}" if rule else "rule missing",
            ))
            shadows = [
                r["name"] for r in rules
                if r["properties"].get("access") == "Allow" and r["properties"].get("direction") == wanted["direction"]
                and r["properties"].get("priority", MAX_PRIORITY + 1) < props.get("priority", 0)
                and any(_covers(p, wanted["network"]) for p in [_remote_prefix(r["properties"], wanted["direction"]) or "",
                        *(r["properties"].get("sourceAddressPrefixes" if wanted["direction"] == "Inbound" else "destinationAddressPrefixes") or [])])
            ]
            checks.append(Check(
                name=f"no allow rule evaluated before {wanted['name']}",
                ok=not shadows,
                detail=("shadowed by " + ", ".join(shadows)) if shadows else "",
            ))
        if not checks:  # nothing to read back is no proof that anything is denied
            checks.append(Check(name="deny rules to read back", ok=False, detail="the apply names no rule"))
        return Verification(runbook=self.name, target=target, checks=checks)

    def undo(self, ctx: RunContext, target: str, params: BlockIpsParams, applied: Applied) -> Applied:
        if not isinstance(applied.artifacts.get("rules"), list):
            # an apply that recorded no rule names (a manual run's ledger entry before they were kept): undo could only
            # guess which deny rules were its own, and "nothing to remove" would leave the IP blocked while saying it is not
            raise RunbookError("invalid", "network.block_ips undo refused: the apply recorded no rule names (a manual run "
                                          "recorded before runs kept them); remove its firestop-… deny rule from the NSG by hand")
        nsg = _Nsg(ctx, target)
        now = nsg.rules()
        by_name = {r["name"].lower(): r for r in now}
        doomed = []
        for wanted in applied.artifacts.get("rules", []):
            rule = by_name.get(wanted["name"].lower())
            if rule is None:
                continue
            props = rule["properties"]
            if props != {**props, **_rule_props(ctx, wanted["network"], wanted["priority"], wanted["direction"])}:
                raise RunbookError(
                    "conflict",
                    f"network.block_ips undo refused: rule {rule['name']} changed after the step; review it and remove it by hand",
                )
            doomed.append(rule["name"])
        for name in doomed:
            nsg.delete(name)
        after = nsg.rules() if doomed else now
        return Applied(
            runbook=self.name,
            target=target,
            changed=bool(doomed),
            before={"securityRules": _without_etags(now)},
            after={"securityRules": _without_etags(after)},
            summary=f"removed {', '.join(doomed)}" if doomed else "the step's rules are already gone; nothing changed",
        )

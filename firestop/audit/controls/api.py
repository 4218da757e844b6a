"""API security: content filtering and rate limits on every deployment, outbound restriction."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from firestop.audit.models import Area, Evidence, Severity
from firestop.audit.reader import AuditContext
from firestop.audit.registry import NoParams, Verdict, control, failed, passed


@control("api.content-filter", title="A content filter (RAI policy) on every deployment",
         area=Area.API, severity=Severity.MEDIUM, target="account",
         fix="Give every deployment a content filtering configuration (raiPolicyName: Microsoft.DefaultV2 or a stricter custom policy).",
         reads=("deployments.list",))
def content_filter(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    deployments = ctx.deployments(account)
    policies = {d.get("name"): (d.get("properties") or {}).get("raiPolicyName") for d in deployments}
    evidence = Evidence(read="deployments.list properties.raiPolicyName", value=policies)
    missing = [n for n, p in policies.items() if not p]
    if missing:
        return failed(f"{len(missing)} deployment(s) without a content filter: {', '.join(map(str, missing))}", evidence)
    return passed(f"{len(policies)} deployment(s), each with a content filter", evidence)


class RateLimitParams(BaseModel):
    """max_capacity: largest capacity (thousands of tokens per minute, ``sku.capacity``) one deployment may have."""

    model_config = ConfigDict(extra="forbid")

    max_capacity: int = Field(default=500, ge=1, le=100_000)


@control("api.rate-limits", title="Deployment rate limits (capacity) bounded",
         area=Area.API, severity=Severity.LOW, target="account", params=RateLimitParams,
         fix="Lower the capacity (tokens per minute) of the deployments above the limit to what their consumers need, "
             "so a leaked key cannot spend the whole quota (denial of wallet).",
         reads=("deployments.list",))
def rate_limits(ctx: AuditContext, account: dict, params: RateLimitParams) -> Verdict:
    deployments = ctx.deployments(account)
    capacity = {d.get("name"): (d.get("sku") or {}).get("capacity") for d in deployments}
    evidence = Evidence(read="deployments.list sku.capacity (thousands of tokens per minute)", value=capacity)
    over = [f"{n} ({c})" for n, c in capacity.items() if c is None or c > params.max_capacity]
    if over:
        return failed(f"capacity above {params.max_capacity}K TPM or unset: {', '.join(over)}", evidence)
    return passed(f"every deployment capped at or below {params.max_capacity}K TPM", evidence)


@control("api.outbound-restricted", title="Outbound network access restricted to an allow list",
         area=Area.API, severity=Severity.LOW, target="account",
         fix="Set restrictOutboundNetworkAccess: true with allowedFqdnList naming the data sources the account may reach "
             "(against exfiltration through tools and 'on your data').",
         reads=("accounts.list",))
def outbound(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    props = account.get("properties") or {}
    on, fqdns = props.get("restrictOutboundNetworkAccess"), props.get("allowedFqdnList")
    evidence = (Evidence(read="accounts.get properties.restrictOutboundNetworkAccess", value=on),
                Evidence(read="accounts.get properties.allowedFqdnList", value=fqdns))
    if on is True:
        return passed(f"outbound limited to {len(fqdns or [])} FQDN(s)", *evidence)
    return failed("the account may call out to any endpoint", *evidence)

"""Network isolation: public network access and network rules, private endpoints."""

from __future__ import annotations

from firestop.audit.models import Area, Evidence, RunbookFix, Severity
from firestop.audit.reader import AuditContext
from firestop.audit.registry import NoParams, Verdict, control, failed, passed


@control("network.public-access", title="Public network access off, or restricted to allowed networks",
         area=Area.NETWORK, severity=Severity.HIGH, target="account",
         policy="037eea7a-bd0a-46c5-9a66-03aea78705d3",  # Cognitive Services accounts should restrict network access
         fix="Deny by default (networkAcls.defaultAction = Deny) keeping only reviewed ipRules / virtual network rules, "
             "or set publicNetworkAccess = Disabled and reach the account through a private endpoint.",
         runbook=RunbookFix(runbook="network.lock", params={"mode": "deny_by_default"}),
         playbook="public-network-exposure", reads=("accounts.list",))
def public_access(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    props = account.get("properties") or {}
    public = props.get("publicNetworkAccess") or "Enabled"  # absent = Enabled (ARM default)
    acls = props.get("networkAcls") or {}
    default = acls.get("defaultAction") or "Allow"
    ips = [r.get("value") for r in acls.get("ipRules") or []]
    vnets = [r.get("id") for r in acls.get("virtualNetworkRules") or []]
    evidence = (Evidence(read="accounts.get properties.publicNetworkAccess", value=props.get("publicNetworkAccess")),
                Evidence(read="accounts.get properties.networkAcls.defaultAction", value=acls.get("defaultAction")),
                Evidence(read="accounts.get properties.networkAcls.ipRules", value=ips))
    if public == "Disabled":
        return passed("public network access is disabled", *evidence)
    if default == "Deny":
        return passed(f"public access is limited to {len(ips)} IP rule(s) and {len(vnets)} virtual network rule(s); everything else is denied", *evidence)
    allowed = f" (the ipRules {', '.join(map(str, ips))} are ignored while the default is Allow)" if ips else ""
    return failed(f"the account answers any IP on the Internet: publicNetworkAccess {public}, networkAcls.defaultAction {default}{allowed}", *evidence)


@control("network.private-link", title="Private endpoint connection approved (Private Link)",
         area=Area.NETWORK, severity=Severity.MEDIUM, target="account",
         policy="d6759c02-b87f-42b7-892e-71b3f471d782",  # Azure AI Services resources should use Azure Private Link
         fix="Create a private endpoint for the account in the consumers' virtual network, approve the connection, "
             "and link the privatelink.openai.azure.com private DNS zone to that network.",
         reads=("privateEndpointConnections.list",))
def private_link(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    connections = ctx.private_endpoint_connections(account)
    states = {str(c.get("name")): ((c.get("properties") or {}).get("privateLinkServiceConnectionState") or {}).get("status")
              for c in connections}
    evidence = Evidence(read="privateEndpointConnections.list properties.privateLinkServiceConnectionState.status", value=states)
    approved = [n for n, s in states.items() if s == "Approved"]
    if approved:
        return passed(f"{len(approved)} approved private endpoint connection(s): {', '.join(approved)} "
                      "(private DNS zone links are not read: check privatelink.openai.azure.com resolves them)", evidence)
    pending = [n for n, s in states.items() if s != "Approved"]
    why = f"no approved one ({len(pending)} not approved: {', '.join(pending)})" if pending else "none"
    return failed(f"private endpoint connections: {why}", evidence)

"""Identity and access: key authentication, managed identity, broad role assignments."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from firestop.audit.models import Area, Evidence, RunbookFix, Severity, Status
from firestop.audit.reader import AuditContext
from firestop.audit.registry import NoParams, Verdict, control, failed, passed

#: Built-in roles that can change the account or read its keys (GUIDs of Azure built-in roles:
#: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68": "Cognitive Services Contributor",
}


@control("identity.local-auth", title="Key (local) authentication disabled: Entra ID only",
         area=Area.IDENTITY, severity=Severity.HIGH, target="account",
         policy="71ef260a-8f18-47b7-abcb-62d0673d94dc",  # Cognitive Services accounts should have local authentication methods disabled
         fix="Move every consumer to Microsoft Entra ID (managed identity + Cognitive Services OpenAI User), then set disableLocalAuth: true.",
         runbook=RunbookFix(runbook="auth.disable_local_auth"), reads=("accounts.list",))
def local_auth(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    value = (account.get("properties") or {}).get("disableLocalAuth")
    evidence = Evidence(read="accounts.get properties.disableLocalAuth", value=value)
    if value is True:
        return passed("API keys are refused; callers need an Entra ID token", evidence)
    return failed("API keys work: anyone holding Key1 or Key2 can call the account from wherever the network allows", evidence)


@control("identity.managed-identity", title="Account has a managed identity",
         area=Area.IDENTITY, severity=Severity.LOW, target="account",
         policy="fe3fd216-4f83-4fc1-8984-2bbec80a3418",  # Cognitive Services accounts should use a managed identity
         fix="Enable a system-assigned (or user-assigned) managed identity on the account, so it reaches Key Vault and storage without secrets.",
         reads=("accounts.list",))
def managed_identity(ctx: AuditContext, account: dict, params: NoParams) -> Verdict:
    identity = account.get("identity") or {}
    kind = identity.get("type") or "None"
    evidence = Evidence(read="accounts.get identity.type", value=identity.get("type"))
    if kind != "None":
        return passed(f"identity {kind} (principal {identity.get('principalId') or 'user-assigned'})", evidence)
    return failed("no managed identity", evidence)


class BroadRoleParams(BaseModel):
    """allowed_principals: object IDs that may hold a broad role (break-glass, the platform team); Firestop's own identity is always allowed."""

    model_config = ConfigDict(extra="forbid")

    allowed_principals: list[str] = Field(default_factory=list, max_length=100)


@control("identity.broad-roles", title="No broad role (Owner, Contributor, Cognitive Services Contributor) beyond the allowed principals",
         area=Area.IDENTITY, severity=Severity.HIGH, target="account", params=BroadRoleParams,
         fix="Replace broad roles with Cognitive Services OpenAI User (calls) or OpenAI Contributor (deployments); keep "
             "key-listing roles for the key-management identity only (identity.revoke_role_assignment revokes one).",
         reads=("roleAssignments.list",))
def broad_roles(ctx: AuditContext, account: dict, params: BroadRoleParams) -> Verdict:
    allowed = {p.lower() for p in params.allowed_principals}
    me = ctx.own_object_id()
    if me:
        allowed.add(me.lower())
    holders = []
    for ra in ctx.role_assignments(account["id"]):
        props = ra.get("properties") or ra
        role_id = str(props.get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()
        if role_id not in BROAD_ROLES:
            continue
        principal = str(props.get("principalId") or "")
        holders.append({
            "principal": principal, "type": props.get("principalType"), "role": BROAD_ROLES[role_id], "role_id": role_id,
            "scope": props.get("scope"), "description": props.get("description"),
            "allowed": principal.lower() in allowed,
        })
    evidence = Evidence(read="roleAssignments.list (atScope) properties.roleDefinitionId/principalId", value=holders)
    extra = [h for h in holders if not h["allowed"]]
    if not extra:
        return passed(f"{len(holders)} broad role assignment(s), all held by allowed principals", evidence)
    names = "; ".join(f"{h['principal']} ({h['type']}{', ' + h['description'] if h['description'] else ''}) holds {h['role']}"
                      f" at {'the account' if str(h['scope'] or '').lower() == account['id'].lower() else h['scope']}" for h in extra)
    first = extra[0]  # --fix plans the revocation of the first; the others are named in the detail
    return Verdict(Status.FAIL, f"{len(extra)} broad role assignment(s) not on the allowed list: {names}", (evidence,),
                   runbook=RunbookFix(runbook="identity.revoke_role_assignment",
                                      params={"principal_id": first["principal"], "roles": [first["role_id"]]}))

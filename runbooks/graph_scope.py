"""Who a person's manual run of a Microsoft Graph runbook may act on (RT18-02).

The Graph runbooks (every runbook declaring ``Runbook.graph_permissions``: ``identity.disable_service_principal``,
``identity.confirm_compromised``, ``identity.revoke_sessions``) act with the app's *tenant-wide* Graph application
permissions, so a Firestop role must not become a slice of Cloud Application Administrator:

- an **admin** may run them on any principal (never Firestop's own identity: the runbooks refuse that themselves);
- a **responder** must name a protected Azure OpenAI account as ``target`` (its ARM resource ID) — one where
  Firestop's own identity holds a containment (write) action of its runbooks
  (:func:`runbooks.permissions.account_containment_actions`: what ``firestop infra`` assigns at each protected
  resource), read through ARM as the caller's effective permissions there (Permissions - List For Resource,
  ``GET {account}/providers/Microsoft.Authorization/permissions``, REST 2022-04-01, azure-rest-api-specs
  ``authorization-RoleDefinitionsCalls.json``: each role's ``actions``/``notActions``; an action is held when an
  entry's ``actions`` match it and that entry's ``notActions`` do not, ``*`` any run of characters, case-insensitive).
  Reading is not protecting (R16-08): the audit's subscription-wide read role holds ``roleAssignments/read``
  everywhere and no write action. And the principal
  (``Runbook.principal_param`` of the params) must hold a role assignment that applies to that account — at it, on a
  child resource of it, or inherited from its own resource group; not one inherited from the subscription, a management
  group or ``/`` (A16-04: every platform principal would be every account's) — read through ARM as
  ``identity.revoke_role_assignment`` reads it (``GET {account}/providers/Microsoft.Authorization/roleAssignments
  ?$filter=principalId eq '{id}'``, REST 2022-04-01; needs ``roleAssignments/read``, already in Firestop's role).

Only a person's manual run (``POST /api/runbooks/{name}``, ``runbook run`` local and ``--app``, and the undo of such
a run) is checked; an incident's own steps act on the principal the confirmed alert names and are not.

:func:`refusal` answers None (allowed) or a :class:`GraphScopeRefusal` naming the rule and the fix; it raises
:class:`firestop.azure.errors.RunbookError` when ARM cannot be read (throttled, forbidden, …) — never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from firestop.azure.errors import RunbookError

#: The rule, as the refusals name it.
RULE = ("Graph runbooks act with the app's tenant-wide Microsoft Graph permissions: a responder's manual run must name "
        "a protected Azure OpenAI account as target, and the principal must hold a role assignment on it; an admin may "
        "run them on any principal")


#: Longest ``target`` read (characters), and how much of a refused one a refusal shows.
MAX_TARGET = 512
MAX_SHOWN = 160
#: An ARM resource ID's characters (names: letters, digits, ``-_.()``): no query, fragment or escape reaches the URL.
_ARM_ID = re.compile(r"[A-Za-z0-9/_.()\-]+")  # (fullmatch: `$` would let a final newline through)
#: How a plan's notes say a run would be refused (the API's note; the CLI words the rest for its options).
PLAN_NOTE = "a run would be refused: "


@dataclass(frozen=True)
class GraphScopeRefusal:
    """Why a manual run is refused: ``field`` (``target`` or the principal's param), ``reason`` and ``fix``."""

    field: str
    reason: str
    fix: str

    def message(self) -> str:
        return f"{self.field}: {self.reason}; {self.fix}"


def _applies(scope: str, account: str, group: str) -> bool:
    """Whether an assignment at ``scope`` ties its principal to ``account`` for a responder: at it, below it, or at its
    resource group (``group``, lower case). Inherited from the subscription, a management group or ``/`` it does not
    (A16-04): those are the tenant's platform principals (pipelines, Owners, elevated Global Administrators), each
    "related" to every account — an admin acts on them."""
    from runbooks.identity import _relation

    relation = _relation(scope, account)
    return relation in ("at", "below") or (relation == "above" and scope.lower().rstrip("/") == group)


def acts_through_graph(runbook: Any) -> bool:
    """True for a runbook (class or instance) acting through Graph application permissions."""
    return bool(getattr(runbook, "graph_permissions", ()))


def principal_of(runbook: Any, params: dict[str, Any] | None) -> str | None:
    """The object ID the runbook acts on (``params[runbook.principal_param]``, lower case), None when absent."""
    name = getattr(runbook, "principal_param", None)
    value = (params or {}).get(name) if name else None
    return str(value).strip().lower() if isinstance(value, str) and value.strip() else None


def refusal(clients: Any, runbook: Any, target: str | None, params: dict[str, Any] | None, *,
            admin: bool) -> GraphScopeRefusal | None:
    """None when a person (``admin``: holds Firestop's admin role) may run ``runbook`` on ``params``' principal with
    ``target``; else the refusal. ``clients``: :class:`firestop.azure.clients.ClientFactory` (ARM reads only).
    Runbooks not acting through Graph are never refused here. A principal param that is missing or not a GUID is
    left to the runbook's own validation (it answers ``invalid`` naming the param)."""
    if admin or not acts_through_graph(runbook):
        return None
    from runbooks.identity import API_VERSION, READ, _GUID
    from runbooks.common import list_raw
    from runbooks.targets import account_ref

    who = principal_of(runbook, params)
    param = getattr(runbook, "principal_param", None) or "params"
    ask = "ask a Firestop admin to run it"
    if not target or not isinstance(target, str):
        return GraphScopeRefusal("target", f"{runbook.name} run by a responder needs the Azure OpenAI account the principal "
                                 f"acts on ({RULE})", f"give target: the account's resource ID "
                                 f"(/subscriptions/…/providers/Microsoft.CognitiveServices/accounts/<name>), or {ask}")
    shown = target[:MAX_SHOWN] + ("…" if len(target) > MAX_SHOWN else "")
    try:
        if len(target) > MAX_TARGET or not _ARM_ID.fullmatch(target):
            raise RunbookError("invalid", "not an ARM resource ID")
        ref = account_ref(target)
    except RunbookError:
        return GraphScopeRefusal("target", f"{shown!r} is not an Azure OpenAI account resource ID ({RULE})",
                                 f"name the account the principal acts on (/subscriptions/<id>/resourceGroups/<rg>/providers/"
                                 f"Microsoft.CognitiveServices/accounts/<name>), or {ask}")
    if who is None or not _GUID.match(who):
        return None  # the runbook's own params validation names the field
    unprotected = _unprotected(clients, ref, ask)
    if unprotected is not None:
        return unprotected
    try:
        items = list_raw(clients.authorization(ref.subscription_id),
                         f"{ref.resource_id}/providers/Microsoft.Authorization/roleAssignments", API_VERSION, READ,
                         {"$filter": f"principalId eq '{who}'"})
    except RunbookError as exc:
        if exc.kind not in ("forbidden", "not_found"):
            raise
        # Firestop holds containment actions there, yet cannot read its role assignments (a role without them)
        return GraphScopeRefusal("target", f"{ref.resource_id} is not an account Firestop protects (reading its role "
                                 f"assignments: {exc.kind}) ({RULE})", f"name a protected account the principal acts on, or {ask}")
    group = f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}".lower()
    held = [a for a in items if str((a.get("properties") or {}).get("principalId", "")).lower() == who
            and _applies(str(a["properties"].get("scope", "")), ref.resource_id, group)]
    if held:
        return None
    return GraphScopeRefusal(param, f"{who} holds no role assignment on {ref.resource_id} ({RULE})",
                             f"name the account this principal acts on as target, or {ask}")

#: Where Firestop's identity reads its own permissions on an account (Permissions - List For Resource, 2022-04-01).
PERMISSIONS = "/providers/Microsoft.Authorization/permissions"


def _unprotected(clients: Any, ref: Any, ask: str) -> GraphScopeRefusal | None:
    """None when Firestop's identity holds one of :func:`runbooks.permissions.account_containment_actions` on the account
    ``ref`` (:class:`runbooks.targets.ResourceRef`), else the refusal naming the fix. A 403 or 404 on the read refuses
    (nothing is protected where Firestop cannot even read its own permissions); anything else raises RunbookError."""
    from runbooks.common import list_raw
    from runbooks.identity import API_VERSION
    from runbooks.permissions import account_containment_actions

    try:
        entries = list_raw(clients.authorization(ref.subscription_id), f"{ref.resource_id}{PERMISSIONS}", API_VERSION,
                           "Microsoft.Authorization/permissions/read")
    except RunbookError as exc:
        if exc.kind not in ("forbidden", "not_found"):
            raise
        entries, why = [], f"reading Firestop's permissions there: {exc.kind}"
    else:
        why = "Firestop's identity holds none of its containment actions there (a read role, such as the audit's, is not protection)"
    wanted = account_containment_actions()
    if any(holds(entries, action) for action in wanted):
        return None
    return GraphScopeRefusal("target", f"{ref.resource_id} is not an account Firestop protects ({why}) ({RULE})",
                             f"name a protected account the principal acts on; to protect this one, deploy Firestop's "
                             f"role there (firestop infra --account {ref.resource_group}/{ref.name} …) or ask an Azure admin to assign it; or {ask}")


def holds(entries: list[dict[str, Any]], action: str) -> bool:
    """Whether ARM ``Permission`` entries (``actions``, ``notActions``) grant the ARM ``action``: one entry's
    ``actions`` match it and the same entry's ``notActions`` do not (a role's NotActions subtract from that role only,
    https://learn.microsoft.com/azure/role-based-access-control/role-definitions#notactions)."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if _matches(entry.get("actions"), action) and not _matches(entry.get("notActions"), action):
            return True
    return False


def _matches(patterns: Any, action: str) -> bool:
    """Whether one of ``patterns`` (action strings, ``*`` any run of characters, case-insensitive) matches ``action``."""
    if not isinstance(patterns, list):
        return False
    for pattern in patterns:
        if isinstance(pattern, str) and re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), action,
                                                     re.IGNORECASE | re.DOTALL):
            return True
    return False

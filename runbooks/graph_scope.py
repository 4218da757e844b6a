"""Who a person's manual run of a Microsoft Graph runbook may act on (RT18-02).

The Graph runbooks (every runbook declaring ``Runbook.graph_permissions``: ``identity.disable_service_principal``,
``identity.confirm_compromised``, ``identity.revoke_sessions``) act with the app's *tenant-wide* Graph application
permissions, so a Firestop role must not become a slice of Cloud Application Administrator:

- an **admin** may run them on any principal (never Firestop's own identity: the runbooks refuse that themselves);
- a **responder** must name a protected Azure OpenAI account as ``target`` (its ARM resource ID), and the principal
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
_ARM_ID = re.compile(r"^[A-Za-z0-9/_.()\-]+$")
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
        if len(target) > MAX_TARGET or not _ARM_ID.match(target):
            raise RunbookError("invalid", "not an ARM resource ID")
        ref = account_ref(target)
    except RunbookError:
        return GraphScopeRefusal("target", f"{shown!r} is not an Azure OpenAI account resource ID ({RULE})",
                                 f"name the account the principal acts on (/subscriptions/<id>/resourceGroups/<rg>/providers/"
                                 f"Microsoft.CognitiveServices/accounts/<name>), or {ask}")
    if who is None or not _GUID.match(who):
        return None  # the runbook's own params validation names the field
    try:
        items = list_raw(clients.authorization(ref.subscription_id),
                         f"{ref.resource_id}/providers/Microsoft.Authorization/roleAssignments", API_VERSION, READ,
                         {"$filter": f"principalId eq '{who}'"})
    except RunbookError as exc:
        if exc.kind not in ("forbidden", "not_found"):
            raise
        # Firestop's role (roleAssignments/read) is assigned where it protects: elsewhere ARM answers 403, or 404
        return GraphScopeRefusal("target", f"{ref.resource_id} is not an account Firestop protects (reading its role "
                                 f"assignments: {exc.kind}) ({RULE})", f"name a protected account the principal acts on, or {ask}")
    group = f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}".lower()
    held = [a for a in items if str((a.get("properties") or {}).get("principalId", "")).lower() == who
            and _applies(str(a["properties"].get("scope", "")), ref.resource_id, group)]
    if held:
        return None
    return GraphScopeRefusal(param, f"{who} holds no role assignment on {ref.resource_id} ({RULE})",
                             f"name the account this principal acts on as target, or {ask}")

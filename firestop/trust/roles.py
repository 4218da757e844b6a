"""Firestop's roles, and where a caller's roles come from.

| role | may |
|---|---|
| ``reader`` | read: ``GET /api/incidents``, ``GET /api/incidents/{id}`` (list, show; ``ledger verify`` reads the same) |
| ``responder`` | act: ``POST /api/runbooks/{name}`` (plan and apply; a Microsoft Graph runbook only on a principal holding a role on the ``target`` account, :mod:`runbooks.graph_scope`), undo, ``POST /api/incidents/{id}/stop``; also what a reader may |
| ``approver`` | decide: ``POST /api/incidents/{id}/approvals/{step}`` — and the decision still counts only if the caller is among the step's ``approvers`` (object ID or group); also what a reader may |
| ``admin`` | everything above, and settings-level actions; a Microsoft Graph runbook run by hand on any principal |

Roles are additive; :data:`IMPLIED` says which roles a role includes.

**On Azure** roles come from the verified principal's Microsoft Entra app role
claims (``roles``): create these app roles on the Function App's app
registration (value → Firestop role, :data:`APP_ROLE_VALUES`) and assign them
to users or groups in Enterprise applications:

    Firestop.Reader, Firestop.Responder, Firestop.Approver, Firestop.Admin

(https://learn.microsoft.com/entra/identity-platform/howto-add-app-roles-in-apps).
The role table below may add roles to object IDs and group IDs (``groups``
claims) on Azure as well.

**The role table** (a setting, never a request): ``FIRESTOP_ROLES`` (JSON text),
else the file ``FIRESTOP_HOME/roles.json``::

    {"principals": {"<object id>": ["responder", "approver"], ...},
     "groups":     {"<group object id>": ["approver"], ...}}

Unknown role names or a malformed table refuse every call (403 naming the
setting), never grant. **Locally** (not on Azure) with no table configured,
:data:`SANDBOX_TABLE` gives the sandbox's demo principals their roles
(``oid-alice`` responder + approver, ``oid-bob`` responder, ``oid-mallory``
reader only, ``oid-admin`` admin, group ``grp-secops`` approver,
``grp-secops-oncall`` responder + approver). Locally the ``roles`` claims of a
principal header are ignored: the header carries identity only.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Iterable, Mapping

from msgspec import Struct, field

ROLES_ENV = "FIRESTOP_ROLES"
#: The answer to a set-but-blank FIRESTOP_ROLES (refused, never read as "no table": that would bring the demo roles back).
BLANK_ROLES = ('is set but blank; give the role table as JSON ({"principals": {"<object id>": ["responder"]}, "groups": {}}), '
               '{} for a table where nobody holds a role, or unset it to use FIRESTOP_HOME/roles.json')
ROLES_FILE = "roles.json"


class Role(StrEnum):
    """A Firestop role (see the module docstring for what each may do)."""

    reader = "reader"
    responder = "responder"
    approver = "approver"
    admin = "admin"


#: role -> the roles it includes (itself too).
IMPLIED: dict[Role, frozenset[Role]] = {
    Role.reader: frozenset({Role.reader}),
    Role.responder: frozenset({Role.responder, Role.reader}),
    Role.approver: frozenset({Role.approver, Role.reader}),
    Role.admin: frozenset(Role),
}
#: Entra app role value (case-insensitive) -> Firestop role.
APP_ROLE_VALUES: dict[str, Role] = {f"Firestop.{r.value.capitalize()}".lower(): r for r in Role}

SANDBOX_TABLE: dict[str, dict[str, list[str]]] = {
    "principals": {
        "oid-alice": ["responder", "approver"],
        "oid-bob": ["responder"],
        "oid-mallory": ["reader"],
        "oid-admin": ["admin"],
    },
    "groups": {
        "grp-secops": ["approver"],
        "grp-secops-oncall": ["responder", "approver"],
    },
}


class RoleTableError(ValueError):
    """The role table setting is malformed; ``setting`` names where it came from."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


class RoleTable(Struct, frozen=True):
    """Object IDs and group IDs → roles. ``source`` names the setting it came from."""

    principals: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    groups: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    source: str = "none"

    def roles_of(self, object_id: str, groups: Iterable[str]) -> frozenset[Role]:
        out: set[Role] = set(self.principals.get(object_id, ()))
        for group in groups:
            out |= self.groups.get(group, frozenset())
        return frozenset(out)


def parse_table(doc: Any, source: str) -> RoleTable:
    """A :class:`RoleTable` from its JSON document; :class:`RoleTableError` naming ``source`` otherwise."""
    if not isinstance(doc, dict) or set(doc) - {"principals", "groups"}:
        raise RoleTableError(source, 'must be a JSON object {"principals": {id: [roles]}, "groups": {id: [roles]}}')
    parsed: dict[str, dict[str, frozenset[Role]]] = {}
    for kind in ("principals", "groups"):
        entries = doc.get(kind, {})
        if not isinstance(entries, dict):
            raise RoleTableError(source, f"{kind} must map IDs to lists of roles")
        parsed[kind] = {}
        for ident, names in entries.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise RoleTableError(source, f"{kind}.{ident}: must be a list of role names")
            try:
                parsed[kind][str(ident)] = frozenset(Role(n) for n in names)
            except ValueError:
                raise RoleTableError(source, f"{kind}.{ident}: roles must be among {', '.join(r.value for r in Role)}") from None
    return RoleTable(principals=parsed["principals"], groups=parsed["groups"], source=source)


def load_table(home: Path | None, env: Mapping[str, str] | None = None, *, local: bool) -> RoleTable:
    """The configured role table: ``FIRESTOP_ROLES``, else ``home/roles.json``, else (``local`` only) the sandbox's.

    Raises :class:`RoleTableError` for a malformed table (the caller refuses the request).
    """
    env = os.environ if env is None else env
    raw = env.get(ROLES_ENV)
    if raw is not None and not raw.strip():  # set but left empty: a mistake, never "use the demo roles"
        raise RoleTableError(ROLES_ENV, BLANK_ROLES)
    if raw is not None:
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise RoleTableError(ROLES_ENV, "is not JSON") from None
        return parse_table(doc, ROLES_ENV)
    if home is not None:
        path = Path(home) / ROLES_FILE
        if path.is_file():
            try:
                doc = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError, RecursionError):
                raise RoleTableError(str(path), "cannot be read as JSON") from None
            return parse_table(doc, str(path))
    if local:
        return parse_table(SANDBOX_TABLE, "the sandbox's demo roles (no FIRESTOP_ROLES, no roles.json)")
    return RoleTable(source="none (Entra app roles only)")


def roles_from_app_roles(values: Iterable[str]) -> frozenset[Role]:
    """Firestop roles named by Entra app role claim values (``Firestop.Reader`` …); others are ignored."""
    return frozenset(APP_ROLE_VALUES[v.lower()] for v in values if v.lower() in APP_ROLE_VALUES)


def expand(roles: Iterable[Role]) -> frozenset[Role]:
    """``roles`` with every role they include (:data:`IMPLIED`)."""
    out: set[Role] = set()
    for role in roles:
        out |= IMPLIED[role]
    return frozenset(out)

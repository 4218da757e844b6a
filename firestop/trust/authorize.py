"""The one gate every responders' route calls: who is calling, and may they do this?

:func:`authorize` answers a :class:`~firestop.trust.principal.Principal` with its
roles, or raises :class:`TrustError` (``status``, ``field``, ``reason``,
``fix``) that the route returns as JSON ``{"error": field, "reason", "fix"}``:

| status | when |
|---|---|
| 401 | on Azure without App Service authentication (``WEBSITE_AUTH_ENABLED`` is not ``True``), or a principal whose ``auth_typ`` is not ``aad`` (or whose ``tid`` is not ``FIRESTOP_TENANT_ID`` when set); locally, a principal header from a peer that is not loopback (or an unknown peer); no principal header; no object ID claim |
| 400 | a principal header that is too large, too deeply nested, not base64 JSON, or whose object ID is not printable |
| 403 | the caller does not hold the role the route needs (the reason names it); the role table is malformed (names the setting) |

**Where identity comes from.** *On Azure* — the process runs in App Service
when ``WEBSITE_SITE_NAME`` or ``WEBSITE_INSTANCE_ID`` is set (both read-only,
set by the platform) — the ``X-MS-CLIENT-PRINCIPAL`` header is believed only
when App Service authentication is enabled, which the platform announces with
``WEBSITE_AUTH_ENABLED=True`` ("Read-only. Injected into a Windows or Linux app
to indicate whether App Service authentication is enabled", Environment
variables and app settings in Azure App Service,
https://learn.microsoft.com/azure/app-service/reference-app-settings#authentication--authorization);
only then does the platform strip client-sent copies of the header. Otherwise
every call is refused with 401 naming the setting. On Azure only principals
whose ``auth_typ`` is ``aad`` (Microsoft Entra ID) are believed: with another
provider also enabled in App Service authentication (a custom OpenID Connect
provider, GitHub, …) that provider's tokens would name whatever ``oid`` their
issuer chose. With ``FIRESTOP_TENANT_ID`` set, the principal's ``tid`` claim
must also name that tenant (a multi-tenant app registration would otherwise
admit other tenants' users). *Locally* the header is
believed only from a loopback peer as stamped by ``firestop serve``
(:mod:`firestop.trust.peer`).

**Where roles come from**: :mod:`firestop.trust.roles` (Entra app role claims
on Azure; the role table everywhere; the sandbox's demo table locally).
Refusals are logged (logger ``firestop.trust``) with every outside value as
``%r``.
"""

from __future__ import annotations

import logging
import os
from typing import Mapping

from firestop.trust.peer import is_loopback
from firestop.trust.principal import HEADER, Principal, PrincipalError, principal_from_headers
from firestop.trust.roles import Role, RoleTableError, expand, load_table, roles_from_app_roles

log = logging.getLogger("firestop.trust")

AUTH_ENABLED_ENV = "WEBSITE_AUTH_ENABLED"
AZURE_MARKERS = ("WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID")
#: ``auth_typ`` of a principal Microsoft Entra ID authenticated (App Service's provider name ``aad``).
ENTRA_PROVIDER = "aad"
#: Optional: the only Microsoft Entra tenant whose callers are believed on Azure (the ``tid`` claim).
TENANT_ENV = "FIRESTOP_TENANT_ID"


class TrustError(Exception):
    """A refused call: ``status`` (400/401/403), ``field`` (what is wrong), ``reason``, ``fix``."""

    def __init__(self, status: int, field: str, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.status = status
        self.field = field
        self.reason = reason
        self.fix = fix

    def body(self) -> dict[str, str]:
        return {"error": self.field, "reason": self.reason, "fix": self.fix}


def on_azure(env: Mapping[str, str] | None = None) -> bool:
    """True when running in App Service / Azure Functions (the platform sets ``WEBSITE_SITE_NAME``/``WEBSITE_INSTANCE_ID``)."""
    env = os.environ if env is None else env
    return any((env.get(name) or "").strip() for name in AZURE_MARKERS)


def auth_enabled(env: Mapping[str, str] | None = None) -> bool:
    """True when App Service authentication is on (``WEBSITE_AUTH_ENABLED`` is ``True``, any case)."""
    env = os.environ if env is None else env
    return (env.get(AUTH_ENABLED_ENV) or "").strip().lower() == "true"


FIX_IDENTITY = ("call through App Service authentication (Microsoft Entra ID); locally, through firestop serve on a "
                "loopback address with the header App Service would send (python -m firestop principal header --as <object id>) "
                "and the function key (x-functions-key)")


def roles_held(object_id: str, groups, app_roles, needed: Role | str, *, azure: bool, settings=None,
               env: Mapping[str, str] | None = None) -> frozenset[Role]:
    """The roles ``object_id`` (with ``groups``; ``app_roles`` counted on Azure only) holds, when they include
    ``needed``; :class:`TrustError` 403 otherwise, or when the role table is malformed (it never grants then).

    The one role check: :func:`authorize` (HTTP) and the CLI (an identity from a credential, or the sandbox
    simulation's ``--as``) both call it, so a CLI decision needs the same role as the API's.
    """
    env = os.environ if env is None else env
    needed = Role(needed)
    if settings is None:
        from firestop.settings import get_settings

        settings = get_settings()
    try:
        table = load_table(getattr(settings, "home", None), env, local=not azure)
    except RoleTableError as exc:
        raise TrustError(403, exc.setting, f"the role table is malformed ({exc.reason}); no role is granted",
                         'fix it: {"principals": {"<object id>": ["responder"]}, "groups": {"<group id>": ["approver"]}}') from None
    held = table.roles_of(object_id, groups)
    if azure:
        held |= roles_from_app_roles(app_roles)
    held = expand(held)
    if needed not in held:
        raise TrustError(403, "role",
                         f"caller {object_id!r} does not hold the {needed.value} role"
                         + (f" (holds: {', '.join(sorted(r.value for r in held))})" if held else " (holds none)"),
                         f"ask an admin to assign the Firestop.{needed.value.capitalize()} app role"
                         + (" in Microsoft Entra ID" if azure else f" (locally: add it in FIRESTOP_ROLES or FIRESTOP_HOME/roles.json; roles now from {table.source})"))
    return held


def authorize(headers: Mapping[str, str], role: Role | str, *, peer_address: str | None, settings=None,
              env: Mapping[str, str] | None = None, action: str = "") -> Principal:
    """The caller, if it may act in ``role``; :class:`TrustError` otherwise (see the module docstring).

    ``peer_address``: the connection's peer as the local server stamped it
    (:func:`firestop.trust.peer.peer_address`), None when unknown.
    ``settings``: :class:`firestop.settings.Settings` (its ``home`` holds ``roles.json``); default the process's.
    ``action``: what the caller asked for, for the log line.
    """
    env = os.environ if env is None else env
    needed = Role(role)
    azure = on_azure(env)
    try:
        if azure and not auth_enabled(env):
            raise TrustError(401, AUTH_ENABLED_ENV,
                             f"App Service authentication is not enabled on this app ({AUTH_ENABLED_ENV} is not True): "
                             f"{HEADER} could be sent by anyone, so no caller is believed",
                             "enable App Service authentication (Microsoft Entra ID) on the Function App "
                             "(az webapp auth update --enabled true …; allow unauthenticated requests so the alert webhook keeps "
                             "working with its function key)")
        if not azure and not is_loopback(peer_address):
            raise TrustError(401, HEADER,
                             f"the caller's identity is accepted from loopback only when not on Azure; peer {peer_address or 'unknown'}",
                             "call firestop serve from the same machine (127.0.0.1 / ::1), or deploy to Azure with App "
                             "Service authentication")
        try:
            caller = principal_from_headers(headers)
        except PrincipalError as exc:
            raise TrustError(exc.status, HEADER, exc.reason, FIX_IDENTITY) from None
        if azure and caller.provider != ENTRA_PROVIDER:
            raise TrustError(401, HEADER,
                             f"the caller was authenticated by identity provider {caller.provider!r}, not Microsoft Entra ID "
                             f"({ENTRA_PROVIDER!r}); only Entra ID object IDs are believed", FIX_IDENTITY)
        tenant = (env.get(TENANT_ENV) or "").strip().lower()
        if azure and tenant and (caller.tenant_id or "").lower() != tenant:
            raise TrustError(401, HEADER, f"the caller's tenant {caller.tenant_id!r} is not {TENANT_ENV} ({tenant})",
                             "sign in with an account of the organisation's Microsoft Entra tenant")
        from firestop.telemetry.requests import note_caller

        note_caller(caller)  # believed from here on: the request line names it (a 403 below included)
        held = roles_held(caller.object_id, caller.groups, caller.app_roles, needed, azure=azure, settings=settings, env=env)
    except TrustError as exc:
        log.warning("refused %r (needs %s) with %d: %r", action, needed.value, exc.status, exc.reason)
        raise
    return Principal(object_id=caller.object_id, name=caller.name, groups=caller.groups, app_roles=caller.app_roles,
                     roles=frozenset(r.value for r in held), provider=caller.provider, tenant_id=caller.tenant_id)

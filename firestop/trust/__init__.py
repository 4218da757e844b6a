"""Trust: who the caller is and what role it holds — the only place identity is read.

Public API:

- :func:`authorize` ``(headers, role, *, peer_address, settings) -> Principal`` — the one
  gate every responders' route calls; raises :class:`TrustError` (401/400/403 with
  ``reason`` and ``fix``). See :mod:`firestop.trust.authorize` for where identity
  comes from on Azure (App Service authentication, ``WEBSITE_AUTH_ENABLED``) and
  locally (``firestop serve``, loopback peers only).
- :class:`Role` (reader, responder, approver, admin) and the role table:
  :mod:`firestop.trust.roles` (Entra app roles ``Firestop.Reader`` …, ``FIRESTOP_ROLES``).
- :func:`principal_from_headers`, :func:`encode_principal`, :class:`Principal`:
  the ``X-MS-CLIENT-PRINCIPAL`` header (:mod:`firestop.trust.principal`).
- :func:`stamp_peer`, :func:`peer_address`: the peer address the local server vouches for
  (:mod:`firestop.trust.peer`).
- :func:`principal_from_credential`: the CLI's identity from its Azure sign-in (the token's
  ``oid``), :mod:`firestop.trust.credential` — never from a flag.

Rule of this package: nothing here reads a request body, a query parameter or a
client-settable header other than the principal header, and nothing outside it
decides who a caller is. Imports only :mod:`firestop.settings` (lazily), the stdlib, and
:mod:`firestop.telemetry.requests` (lazily: the believed caller goes on the request's log line).
"""

from firestop.trust.authorize import AUTH_ENABLED_ENV, TrustError, auth_enabled, authorize, on_azure, roles_held
from firestop.trust.credential import CredentialIdentityError, principal_from_credential
from firestop.trust.peer import PEER_HEADER, is_loopback, peer_address, stamp_peer
from firestop.trust.principal import HEADER, Principal, PrincipalError, encode_principal, principal_from_headers
from firestop.trust.roles import APP_ROLE_VALUES, ROLES_ENV, Role, RoleTable, load_table

__all__ = [
    "APP_ROLE_VALUES", "AUTH_ENABLED_ENV", "CredentialIdentityError", "principal_from_credential", "HEADER", "PEER_HEADER", "ROLES_ENV", "Principal", "PrincipalError", "Role",
    "RoleTable", "TrustError", "auth_enabled", "authorize", "encode_principal", "is_loopback", "load_table", "on_azure",
    "peer_address", "principal_from_headers", "roles_held", "stamp_peer",
]

"""Room ``graph``: Microsoft Graph v1.0 on https://graph.microsoft.com — the identities containment acts on.

Contract (the room shape of :mod:`firestop.sandbox.core.rooms`):

* ``models.py`` — state layout ``doc["graph"]``: ``servicePrincipals``, ``users`` and
  ``riskyServicePrincipals``, each ``{object id (lower case): JSON as Graph returns it}``;
* ``routes.py`` — ``GET/PATCH /v1.0/servicePrincipals/{id}`` (PATCH: 204),
  ``GET /v1.0/users/{id}``, ``POST /v1.0/users/{id}/revokeSignInSessions`` (200 ``{"value": true}``),
  ``GET /v1.0/identityProtection/riskyServicePrincipals/{id}``,
  ``POST /v1.0/identityProtection/riskyServicePrincipals/confirmCompromised`` (204),
  ``GET /v1.0/security/alerts_v2/{id}`` (the security alert a ``Microsoft.Graph.AlertCreated`` event names);
* ``seed.py`` — the seed file's ``graph`` section (order 60).

Requests need a token for ``https://graph.microsoft.com`` (401 ``InvalidAuthenticationToken``
otherwise). Graph permissions are application permissions of the app registration, not Azure
RBAC: :func:`~firestop.sandbox.authorization.rbac.enforce_role` leaves this room alone.
The SDK that calls it, msgraph-sdk, speaks httpx: :class:`firestop.sandbox.core.httpx_transport.SandboxHttpxTransport`
plugs the tenant in as its transport.
"""

from ..core.rooms import Room

room = Room(
    "graph",
    latency={
        "servicePrincipals.get": 0.1,
        "servicePrincipals.update": 0.3,
        "users.get": 0.1,
        "users.revokeSignInSessions": 0.5,
        "riskyServicePrincipals.get": 0.2,
        "riskyServicePrincipals.confirmCompromised": 0.5,
        "security.alerts_v2.get": 0.1,
    },
    modules=("routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)

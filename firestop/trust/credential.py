"""The CLI's identity: who a credential signs in as (never a flag).

:func:`principal_from_credential` asks the credential (``DefaultAzureCredential``,
``AzureCliCredential``, …) for an Azure Resource Manager access token and reads
its claims: ``oid`` (the object ID), ``groups`` (group object IDs, present when
the app registration emits group claims) and ``name``. Entra access tokens are
JWTs (``header.payload.signature``, the payload base64url JSON,
https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
The signature is not checked: the token was just issued to this process by
Microsoft Entra ID over TLS — it is our own token, read to learn who we are,
never accepted from anyone else.

Raises :class:`CredentialIdentityError` when no token can be had or it carries no ``oid``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from firestop.trust.principal import MAX_ID_CHARS, Principal

ARM_SCOPE = "https://management.azure.com/.default"


#: What a responder reads when no credential answers (azure-identity's own report lists every credential
#: it tried; it is logged at debug level only).
NO_SIGN_IN = ("no Azure sign-in ({kind}): run az login (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
              "AZURE_CLIENT_SECRET for a service principal)")


class CredentialIdentityError(ValueError):
    """The credential gives no usable identity (no token, or no ``oid`` claim)."""


def token_claims(token: str) -> dict[str, Any]:
    """The payload claims of a JWT (not verified: see the module docstring). ValueError if it is not one."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 64 * 1024:
        raise ValueError("not a JWT (header.payload.signature)")
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not a JSON object")
    return claims


def principal_from_credential(credential: Any, scope: str = ARM_SCOPE) -> Principal:
    """The signed-in identity of ``credential`` as a :class:`Principal` (object ID, groups, name)."""
    try:
        token = credential.get_token(scope).token
    except Exception as exc:  # noqa: BLE001 — azure-identity raises ClientAuthenticationError and friends
        raise CredentialIdentityError(NO_SIGN_IN.format(kind=type(exc).__name__)) from None
    try:
        claims = token_claims(token)
    except (ValueError, RecursionError):
        raise CredentialIdentityError("the access token is not a readable JWT") from None
    oid = claims.get("oid")
    if not isinstance(oid, str) or not oid or len(oid) > MAX_ID_CHARS or not oid.isprintable():
        raise CredentialIdentityError("the access token has no object ID (oid) claim; sign in as a user or service principal")
    groups = tuple(g for g in claims.get("groups") or () if isinstance(g, str) and g.isprintable())
    name = claims.get("name") or claims.get("upn") or claims.get("preferred_username")
    return Principal(object_id=oid, name=name if isinstance(name, str) else None, groups=groups)

"""The caller's identity from App Service authentication ("Easy Auth").

App Service injects ``X-MS-CLIENT-PRINCIPAL`` (base64 JSON
``{"auth_typ", "name_typ", "role_typ", "claims": [{"typ", "val"}]}``),
``X-MS-CLIENT-PRINCIPAL-ID`` and ``X-MS-CLIENT-PRINCIPAL-NAME`` into requests
it authenticated, and strips any a client sends itself
(https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities).
The object ID is the ``http://schemas.microsoft.com/identity/claims/objectidentifier``
(or ``oid``) claim; groups are ``groups`` claims.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Mapping

OID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


class PrincipalError(ValueError):
    """No usable identity: ``status`` 401 (missing) or 400 (malformed); ``reason`` says which."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    object_id: str
    name: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)


def principal_from_headers(headers: Mapping[str, str]) -> Principal:
    """The authenticated caller; :class:`PrincipalError` when there is none or it cannot be read."""
    lower = {k.lower(): v for k, v in headers.items()}
    encoded = lower.get("x-ms-client-principal")
    if not encoded:
        raise PrincipalError(401, "no authenticated caller: enable App Service authentication (Microsoft Entra ID) on the Function App; X-MS-CLIENT-PRINCIPAL is missing")
    try:
        doc = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError):
        raise PrincipalError(400, "X-MS-CLIENT-PRINCIPAL is not base64-encoded JSON") from None
    claims = doc.get("claims") if isinstance(doc, dict) else None
    if not isinstance(claims, list):
        raise PrincipalError(400, "X-MS-CLIENT-PRINCIPAL has no claims list")
    values = [(c.get("typ"), c.get("val")) for c in claims if isinstance(c, dict)]
    oid = next((v for t, v in values if t in OID_CLAIMS and isinstance(v, str) and v), None) or lower.get("x-ms-client-principal-id")
    if not oid:
        raise PrincipalError(401, "the authenticated caller has no object ID claim (objectidentifier/oid)")
    groups = tuple(v for t, v in values if t == "groups" and isinstance(v, str))
    name = lower.get("x-ms-client-principal-name") or next((v for t, v in values if t in ("name", "preferred_username")), None)
    return Principal(object_id=oid, name=name, groups=groups)


def encode_principal(object_id: str, *, groups: tuple[str, ...] = (), name: str | None = None) -> str:
    """The header value App Service would send for this caller (for local tools and tests)."""
    claims = [{"typ": OID_CLAIMS[0], "val": object_id}, *({"typ": "groups", "val": g} for g in groups)]
    if name:
        claims.append({"typ": "name", "val": name})
    doc = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(doc).encode()).decode()

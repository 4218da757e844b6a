"""The caller's identity from App Service authentication ("Easy Auth"), and nothing else.

App Service authentication injects ``X-MS-CLIENT-PRINCIPAL`` — base64 of the JSON
``{"auth_typ", "name_typ", "role_typ", "claims": [{"typ", "val"}, ...]}`` — into
every request it authenticated, and strips any such header a client sends
(https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities).
Only that header is read: the object ID comes from the
``http://schemas.microsoft.com/identity/claims/objectidentifier`` (or ``oid``)
claim, groups from ``groups`` claims, Entra app roles from claims whose type is
the document's ``role_typ`` (``roles`` for Microsoft Entra ID). The companion
headers ``X-MS-CLIENT-PRINCIPAL-ID`` / ``-NAME`` are never read: an identity
that is not in the principal's claims does not count.

Bounds (a hostile header answers 400, never 500): the header value is at most
:data:`MAX_HEADER_BYTES` (16 KB, more than a real Entra principal with its
groups overage claim needs), decoded JSON nesting that blows the parser's
recursion limit is refused, at most :data:`MAX_CLAIMS` claims are read, and the
object ID must be 1–128 printable characters (no control characters: it is
logged and written into records).

``auth_typ`` (the identity provider) is kept as :attr:`Principal.provider`; on Azure
:func:`firestop.trust.authorize` believes only ``aad`` (Microsoft Entra ID).

Errors: :class:`PrincipalError` with ``status`` 401 (no principal, or no object
ID claim) or 400 (malformed), ``reason`` saying which.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Mapping

from msgspec import Struct, field

HEADER = "X-MS-CLIENT-PRINCIPAL"
OID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
TENANT_CLAIMS = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
#: Largest header value read (bytes of base64 text).
MAX_HEADER_BYTES = 16 * 1024
#: Claims read from one principal (the rest are ignored).
MAX_CLAIMS = 512
MAX_ID_CHARS = 128


class PrincipalError(ValueError):
    """No usable identity: ``status`` 401 (missing) or 400 (malformed); ``reason`` says which."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Principal(Struct, frozen=True):
    """A verified caller. ``app_roles``: the raw values of its Entra app role claims (e.g. ``Firestop.Approver``);
    ``roles``: the Firestop roles it holds once :func:`firestop.trust.authorize` resolved them."""

    object_id: str
    name: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
    app_roles: tuple[str, ...] = field(default_factory=tuple)
    roles: frozenset[str] = field(default_factory=frozenset)
    #: The principal document's ``auth_typ``: the identity provider that authenticated the caller (``aad`` for
    #: Microsoft Entra ID), None when absent or not a short printable string.
    provider: str | None = None
    #: The ``tid`` (tenant ID) claim, None when absent.
    tenant_id: str | None = None


def _printable_id(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_CHARS and value.isprintable() and value.strip() == value


def principal_from_headers(headers: Mapping[str, str]) -> Principal:
    """The caller named by ``X-MS-CLIENT-PRINCIPAL``; :class:`PrincipalError` when there is none or it cannot be read.

    Whether the header may be believed at all is :func:`firestop.trust.authorize`'s decision.
    """
    encoded = next((v for k, v in headers.items() if k.lower() == HEADER.lower()), None)
    if not encoded:
        raise PrincipalError(401, f"no authenticated caller: {HEADER} is missing (App Service authentication sets it)")
    if len(encoded) > MAX_HEADER_BYTES:
        raise PrincipalError(400, f"{HEADER} is {len(encoded)} bytes; at most {MAX_HEADER_BYTES} are read")
    try:
        doc = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=False))
    except RecursionError:
        raise PrincipalError(400, f"{HEADER} is nested too deeply to be a principal") from None
    except (binascii.Error, ValueError):
        raise PrincipalError(400, f"{HEADER} is not base64-encoded JSON") from None
    claims = doc.get("claims") if isinstance(doc, dict) else None
    if not isinstance(claims, list):
        raise PrincipalError(400, f"{HEADER} has no claims list")
    role_typ = doc.get("role_typ") if isinstance(doc.get("role_typ"), str) else None
    values = [(c.get("typ"), c.get("val")) for c in claims[:MAX_CLAIMS] if isinstance(c, dict)]
    values = [(t, v) for t, v in values if isinstance(t, str) and isinstance(v, str) and v]
    oid = next((v for t, v in values if t in OID_CLAIMS), None)
    if not oid:
        raise PrincipalError(401, "the authenticated caller has no object ID claim (objectidentifier/oid)")
    if not _printable_id(oid):
        raise PrincipalError(400, f"{HEADER}: the object ID claim is not 1-{MAX_ID_CHARS} printable characters")
    groups = tuple(v for t, v in values if t == "groups" and _printable_id(v))
    role_types = {*ROLE_CLAIMS, *([role_typ] if role_typ else [])}
    app_roles = tuple(v for t, v in values if t in role_types and _printable_id(v))
    name = next((v[:MAX_ID_CHARS * 2] for t, v in values if t in ("name", "preferred_username") and v.isprintable()), None)
    auth_typ = doc.get("auth_typ")
    provider = auth_typ if isinstance(auth_typ, str) and _printable_id(auth_typ) and len(auth_typ) <= 32 else None
    tenant_id = next((v for t, v in values if t in TENANT_CLAIMS and _printable_id(v)), None)
    return Principal(object_id=oid, name=name, groups=groups, app_roles=app_roles, provider=provider, tenant_id=tenant_id)


def encode_principal(object_id: str, *, groups: tuple[str, ...] = (), name: str | None = None,
                     app_roles: tuple[str, ...] = (), auth_typ: str = "aad", tenant_id: str | None = None) -> str:
    """The header value App Service would send for this caller (for local tools and tests).

    ``app_roles`` become ``roles`` claims — believed on Azure only; locally roles come from the role table.
    """
    claims = [{"typ": OID_CLAIMS[0], "val": object_id}, *({"typ": "groups", "val": g} for g in groups),
              *({"typ": "roles", "val": r} for r in app_roles)]
    if name:
        claims.append({"typ": "name", "val": name})
    if tenant_id:
        claims.append({"typ": TENANT_CLAIMS[0], "val": tenant_id})
    doc = {"auth_typ": auth_typ, "name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(doc).encode()).decode()

"""App Service authentication's bearer-token step, for ``firestop serve``: a validated JWT → the principal header.

On Azure, App Service authentication (Microsoft Entra ID provider) validates an ``Authorization: Bearer``
access token — signature against the issuer's signing keys, ``iss``, ``aud``, ``exp``/``nbf`` — and hands the
app ``X-MS-CLIENT-PRINCIPAL`` built from its claims, removing any copy the client sent ("Work with user
identities in AzureApp Service authentication", https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities;
"Access token claims reference", https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).

``firestop serve --auth-jwks FILE --auth-issuer ISS --auth-audience AUD`` does the same locally
(:class:`BearerAuthenticator`): every client-sent principal header is dropped, and one is set only from a
token that verifies against the **public** keys in ``FILE`` (a JWKS document: RS256 keys), names exactly that
issuer and audience and is within its lifetime (60 s leeway), with an ``oid`` claim. A client can therefore
become someone only by holding a token signed with the issuer's private key — which, for the tests' local
issuer, exists only in the test process, never on disk and never in serve. Without ``--auth-jwks`` serve
keeps its documented development behaviour (a principal header believed from loopback peers).

Raises :class:`~firestop.trust.principal.PrincipalError` (401) for a token that does not verify; the reason
never echoes the token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from firestop.trust.principal import HEADER, MAX_ID_CHARS, PrincipalError, encode_principal

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 60
MAX_TOKEN_CHARS = 16 * 1024
MAX_GROUPS = 200


class BearerAuthenticator:
    """Validates bearer tokens from one issuer for one audience (module docstring)."""

    def __init__(self, jwks: Mapping[str, Any], *, issuer: str, audience: str) -> None:
        import jwt

        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(keys, list) or not keys:
            raise ValueError("the JWKS has no keys")
        self._keys = {}
        for entry in keys:
            key = jwt.PyJWK.from_dict(entry, algorithm="RS256")
            self._keys[entry.get("kid")] = key
        if not issuer or not audience:
            raise ValueError("an issuer and an audience are required")
        self.issuer, self.audience = issuer, audience

    @classmethod
    def from_file(cls, path: str | Path, *, issuer: str, audience: str) -> "BearerAuthenticator":
        return cls(json.loads(Path(path).read_text("utf-8")), issuer=issuer, audience=audience)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; :class:`PrincipalError` 401 otherwise."""
        import jwt

        if not token or len(token) > MAX_TOKEN_CHARS:
            raise PrincipalError(401, "the bearer token is missing or too large")
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid")) or (next(iter(self._keys.values())) if len(self._keys) == 1 and "kid" not in header else None)
            if key is None:
                raise PrincipalError(401, "the bearer token was not signed by a key of the configured issuer")
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iss", "aud"]})
        except PrincipalError:
            raise
        except jwt.ExpiredSignatureError:
            raise PrincipalError(401, "the bearer token has expired; sign in again") from None
        except jwt.InvalidTokenError as exc:
            raise PrincipalError(401, f"the bearer token does not verify ({type(exc).__name__})") from None
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid or len(oid) > MAX_ID_CHARS or not oid.isprintable():
            raise PrincipalError(401, "the bearer token has no object ID (oid) claim")
        return claims

    def principal_header(self, authorization: str | None) -> str:
        """``X-MS-CLIENT-PRINCIPAL`` for the caller of ``Authorization: Bearer <token>``, as App Service builds it."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise PrincipalError(401, "no bearer token: send Authorization: Bearer <Entra access token>")
        claims = self.claims(token.strip())
        groups = tuple(g for g in (claims.get("groups") or [])[:MAX_GROUPS] if isinstance(g, str))
        roles = tuple(r for r in (claims.get("roles") or [])[:MAX_GROUPS] if isinstance(r, str))
        name = claims.get("name") or claims.get("preferred_username")
        return encode_principal(claims["oid"], groups=groups, app_roles=roles, name=name if isinstance(name, str) else None,
                                tenant_id=claims.get("tid") if isinstance(claims.get("tid"), str) else None)

    def authenticate(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` without any client-sent principal header, with the one the token proves (when the
        request carries ``Authorization``). A bad token raises :class:`PrincipalError`; no token leaves no principal
        (the route then answers 401 for want of one)."""
        out = {k: v for k, v in headers.items() if k.lower() != HEADER.lower()}
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if authorization:
            out[HEADER] = self.principal_header(authorization)
        return out

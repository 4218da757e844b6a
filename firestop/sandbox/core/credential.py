"""A fake Entra ID credential for the sandbox tenant.

Implements azure-core's ``TokenCredential`` (``get_token``) and
``SupportsTokenInfo`` (``get_token_info``, which azure-core 1.41's
``BearerTokenCredentialPolicy`` prefers when present). No network, no secrets.

Token format (sandbox-only, *not* a JWT): ``sandbox.<base64url JSON>.unsigned``
where the JSON holds ``aud`` (the scope without ``/.default``, e.g.
``https://management.azure.com``), ``tid`` (tenant id) and ``oid`` (principal).
The simulated services decode it to check the audience, as Entra-protected
APIs do. Expiry is *wall-clock* time (``time.time()`` + 1 h) because
azure-core's token cache compares ``expires_on`` against ``time.time()``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Optional

from azure.core.credentials import AccessToken, AccessTokenInfo

TOKEN_PREFIX = "sandbox."
TOKEN_LIFETIME_S = 3600


def audience_of_scope(scope: str) -> str:
    """``"https://vault.azure.net/.default"`` -> ``"https://vault.azure.net"``."""
    scope = scope.strip()
    if scope.endswith("/.default"):
        scope = scope[: -len("/.default")]
    return scope.rstrip("/")


def encode_token(audience: str, tenant_id: str, principal_id: str) -> str:
    """Build a sandbox bearer token (see module docstring)."""
    claims = {"aud": audience, "tid": tenant_id, "oid": principal_id}
    payload = base64.urlsafe_b64encode(json.dumps(claims, sort_keys=True).encode()).decode().rstrip("=")
    return f"{TOKEN_PREFIX}{payload}.unsigned"


def decode_token(token: str) -> Optional[dict]:
    """Claims of a sandbox token, or ``None`` if ``token`` is not one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) and "aud" in claims else None


class SandboxCredential:
    """Fake bearer-token credential bound to one sandbox tenant id.

    ``get_token(*scopes, **kw) -> AccessToken``; ``get_token_info(*scopes,
    options=None) -> AccessTokenInfo``. Exactly one scope is expected (as every
    Azure SDK sends); the first one decides the token audience.
    """

    #: Object id the sandbox reports for the caller (fake GUID).
    DEFAULT_PRINCIPAL_ID = "5b0c7d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"

    def __init__(self, tenant_id: str, principal_id: str = DEFAULT_PRINCIPAL_ID) -> None:
        self.tenant_id = tenant_id
        self.principal_id = principal_id

    def _token(self, scopes: tuple[str, ...]) -> tuple[str, int]:
        if not scopes:
            raise ValueError("get_token requires at least one scope")
        return (
            encode_token(audience_of_scope(scopes[0]), self.tenant_id, self.principal_id),
            int(time.time()) + TOKEN_LIFETIME_S,
        )

    def get_token(
        self,
        *scopes: str,
        claims: Optional[str] = None,
        tenant_id: Optional[str] = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        token, expires_on = self._token(scopes)
        return AccessToken(token, expires_on)

    def get_token_info(self, *scopes: str, options: Optional[dict] = None) -> AccessTokenInfo:
        token, expires_on = self._token(scopes)
        return AccessTokenInfo(token, expires_on, token_type="Bearer")

    def close(self) -> None:
        """Nothing to release (kept for the credential protocol)."""

    def __enter__(self) -> "SandboxCredential":
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

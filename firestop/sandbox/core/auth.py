"""Bearer-token checks per simulated service.

Tokens come from :class:`~firestop.sandbox.core.credential.SandboxCredential`; the
audience (``aud``) must match the service, as with real Entra-protected APIs.
Answers and wording:

* ARM (management.azure.com): 401 ``AuthenticationFailed`` (no header),
  ``InvalidAuthenticationToken``, ``InvalidAuthenticationTokenAudience``,
  ``InvalidAuthenticationTokenTenant``.
* Key Vault: 401 + ``WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}",
  resource="https://vault.azure.net"`` (the challenge the SDK's ChallengeAuthPolicy answers; corpus arm/NOTES.md).
* Log Analytics: 401 ``AuthenticationFailed`` / 403 ``InvalidAuthenticationToken`` /
  403 ``InvalidAuthenticationTokenAudience`` (corpus ``loganalytics/errors.json``).
"""

from __future__ import annotations

from typing import Optional

from .credential import decode_token
from .errors import error
from .wire import SandboxRequest, SandboxResponse

ARM_AUDIENCES = {
    "https://management.azure.com",
    "https://management.core.windows.net",
}
VAULT_AUDIENCE = "https://vault.azure.net"
LOGS_AUDIENCES = {"https://api.loganalytics.io", "https://api.loganalytics.azure.com"}


def _claims(request: SandboxRequest) -> tuple[Optional[str], Optional[dict]]:
    token = request.bearer_token()
    return token, (decode_token(token) if token else None)


def check_arm(request: SandboxRequest, tenant_id: str) -> Optional[SandboxResponse]:
    token, claims = _claims(request)
    challenge = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token"'}
    if token is None:
        return error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", headers=challenge)
    if claims is None:
        return error(401, "InvalidAuthenticationToken", "The access token is invalid.", headers=challenge)
    if claims["aud"].rstrip("/") not in ARM_AUDIENCES:
        return error(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{claims['aud']}'. It should exactly match "
            "with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'.",
            headers=challenge,
        )
    if claims.get("tid") != tenant_id:
        return error(401, "InvalidAuthenticationTokenTenant", f"The access token is from the wrong issuer (tenant '{claims.get('tid')}').", headers=challenge)
    return None


def vault_challenge_headers(tenant_id: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": f'Bearer authorization="https://login.microsoftonline.com/{tenant_id}", resource="{VAULT_AUDIENCE}"'
    }


def check_vault(request: SandboxRequest, tenant_id: str) -> Optional[SandboxResponse]:
    token, claims = _claims(request)
    headers = vault_challenge_headers(tenant_id)
    if token is None:
        return error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", headers=headers)
    if claims is None:
        return error(401, "Unauthorized", "AKV10032: Invalid issuer or token.", headers=headers)
    if claims["aud"].rstrip("/") != VAULT_AUDIENCE:
        return error(401, "Unauthorized", f"AKV10022: Invalid audience. Expected {VAULT_AUDIENCE}, found: {claims['aud']}.", headers=headers)
    if claims.get("tid") != tenant_id:
        return error(401, "Unauthorized", f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{tenant_id}/.", headers=headers)
    return None


def check_logs(request: SandboxRequest, tenant_id: str) -> Optional[SandboxResponse]:
    token, claims = _claims(request)
    if token is None:
        return error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    if claims is None or claims.get("tid") != tenant_id:
        return error(403, "InvalidAuthenticationToken", "The access token is invalid.")
    if claims["aud"].rstrip("/") not in LOGS_AUDIENCES:
        return error(
            403,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained from wrong audience or resource '{claims['aud']}'. It should exactly match "
            "(including forward slash) with one of the allowed audiences 'https://api.loganalytics.io'.",
        )
    return None


GRAPH_AUDIENCE = "https://graph.microsoft.com"


def check_graph(request: SandboxRequest, tenant_id: str) -> Optional[SandboxResponse]:
    """Microsoft Graph: 401 ``InvalidAuthenticationToken`` for a missing, foreign or wrong-audience token
    (https://learn.microsoft.com/graph/errors)."""
    token, claims = _claims(request)
    if token is None:
        return error(401, "InvalidAuthenticationToken", "Access token is empty.")
    if claims is None or claims.get("tid") != tenant_id:
        return error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer or signature.")
    if claims["aud"].rstrip("/") != GRAPH_AUDIENCE:
        return error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    return None


CHECKS = {"arm": check_arm, "keyvault": check_vault, "loganalytics": check_logs, "graph": check_graph}

"""Error bodies shaped like the real services.

ARM and Key Vault both answer ``{"error": {"code": ..., "message": ...}}``
(ARM RPC common error response; Key Vault REST "Common error codes"). The Log
Analytics query API uses the same envelope plus an optional ``innererror``
(corpus ``loganalytics/errors.json``, from azure-monitor-docs ``logs/api/errors.md``).
"""

from __future__ import annotations

from typing import Any, Optional

from .wire import SandboxResponse

#: Default ``error.code`` per HTTP status, used for injected faults.
DEFAULT_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    408: "RequestTimeout",
    409: "Conflict",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def error_body(code: str, message: str, innererror: Optional[dict] = None, **extra: Any) -> dict:
    """``{"error": {"code", "message"[, "innererror"]}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if innererror is not None:
        error["innererror"] = innererror
    error.update(extra)
    return {"error": error}


def error(status: int, code: str, message: str, headers: Optional[dict] = None, **kw: Any) -> SandboxResponse:
    """A JSON error response."""
    return SandboxResponse(status, error_body(code, message, **kw), dict(headers or {}))


def arm_not_found(resource_type: str, name: str, resource_group: str) -> SandboxResponse:
    """404 ``ResourceNotFound`` worded as ARM words it."""
    return error(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def arm_resource_group_not_found(resource_group: str) -> SandboxResponse:
    """404 ``ResourceGroupNotFound``."""
    return error(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def arm_bad_content(message: str) -> SandboxResponse:
    """400 ``InvalidRequestContent`` (ARM's answer to a body it cannot deserialize)."""
    return error(400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{message}'.")

"""The sandbox's own view of one HTTP exchange, independent of azure-core types.

``SandboxRequest`` is built from whatever request object azure-core hands the
transport (``azure.core.rest.HttpRequest`` or the legacy
``azure.core.pipeline.transport.HttpRequest``); ``SandboxResponse`` is what a
route answers (status, headers, JSON body) and is turned back into an
azure-core response by :mod:`firestop.sandbox.core.transport`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

from msgspec import Struct
from msgspec import field as msgspec_field


def _header_lookup(headers: Mapping[str, str], name: str) -> Optional[str]:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


@dataclass
class SandboxRequest:
    """One request: ``method`` upper-case, ``host`` lower-case, ``path`` URL-decoded."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        parts = urlsplit(self.url)
        self.scheme = parts.scheme.lower()
        self.host = (parts.hostname or "").lower()
        self.raw_path = parts.path or "/"
        self.path = unquote(self.raw_path)
        self.query: dict[str, str] = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}

    @property
    def api_version(self) -> Optional[str]:
        """The ``api-version`` query parameter, if any."""
        return self.query.get("api-version")

    def header(self, name: str) -> Optional[str]:
        """Case-insensitive header lookup."""
        return _header_lookup(self.headers, name)

    def bearer_token(self) -> Optional[str]:
        """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
        value = self.header("Authorization")
        if not value:
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def json(self) -> Any:
        """Parsed JSON body; ``None`` when the body is empty. Raises ``ValueError`` on bad JSON."""
        if not self.body or not self.body.strip():
            return None
        return json.loads(self.body.decode("utf-8"))

    @classmethod
    def from_azure(cls, request: Any) -> "SandboxRequest":
        """Adapt an azure-core request (rest or legacy) without consuming anything the SDK needs."""
        headers = {str(k): str(v) for k, v in request.headers.items()}
        body = getattr(request, "content", None)  # azure.core.rest.HttpRequest
        if body is None:
            body = getattr(request, "data", None)  # legacy HttpRequest
        if body is None:
            body = getattr(request, "body", None)
        return cls(method=request.method, url=request.url, headers=headers, body=_to_bytes(body))


def _to_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if hasattr(body, "__iter__"):
        return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)
    raise TypeError(f"unsupported request body type {type(body).__name__}")


# A msgspec Struct, not a dataclass: its class is made in C (~0.1 M instructions; a frozen dataclass execs its
# generated methods, ~3.4 M, ~1.8 M unfrozen, callgrind) and every process that opens the sandbox makes it.
# The same: fields in order, keyword or positional, __eq__/__repr__, frozen ones hashable.
class SandboxResponse(Struct):
    """What a route answers. ``body`` is JSON-serialisable (or ``None`` for no body)."""

    status: int
    body: Any = None
    headers: dict[str, str] = msgspec_field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """Body bytes and headers, with ``Content-Type``/``Content-Length`` filled in."""
        headers = dict(self.headers)
        if self.body is None:
            data = b""
        else:
            data = json.dumps(self.body, separators=(",", ":")).encode("utf-8")
            if _header_lookup(headers, "Content-Type") is None:
                headers["Content-Type"] = "application/json; charset=utf-8"
        headers["Content-Length"] = str(len(data))
        return data, headers


REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 412: "Precondition Failed",
    429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}

"""Map Azure SDK errors to the few outcomes the incident orchestrator acts on.

| kind | from | the orchestrator |
|---|---|---|
| ``throttled`` | HTTP 429 (``Retry-After`` honoured) | retries later |
| ``conflict`` | HTTP 409 (``ResourceExistsError``, ``AnotherOperationInProgress``), 412 | retries |
| ``transient`` | HTTP 500/502/503/504 after azure-core's own retries, transport errors | retries |
| ``not_found`` | HTTP 404 (``ResourceNotFoundError``) | needs a responder |
| ``forbidden`` | HTTP 401/403 (``ClientAuthenticationError``), with the permission needed | needs a responder |
| ``invalid`` | HTTP 400 and bad runbook parameters | needs a responder |
| ``failed`` | an LRO that ended Failed/Canceled, anything else | needs a responder |

Messages keep the Azure error code and message (ARM error bodies never hold
secret values) and never the request body.
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal["throttled", "conflict", "transient", "not_found", "forbidden", "invalid", "failed"]
RETRYABLE: frozenset[str] = frozenset({"throttled", "conflict", "transient"})


class RunbookError(Exception):
    """A runbook could not do its work.

    kind: one of :data:`ErrorKind`; permission: the Azure action that was
    refused (for ``forbidden``); retry_after: seconds the service asked to wait.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        permission: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.permission = permission
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "permission": self.permission,
            "retry_after": self.retry_after,
            "retryable": self.retryable,
        }


def _status_kind(status: int | None) -> ErrorKind:
    if status == 429:
        return "throttled"
    if status in (409, 412):
        return "conflict"
    if status in (500, 502, 503, 504):
        return "transient"
    if status == 404:
        return "not_found"
    if status in (401, 403):
        return "forbidden"
    if status == 400:
        return "invalid"
    return "failed"


def map_azure_error(exc: BaseException, *, permission: str | None = None) -> RunbookError:
    """Turn an azure-core exception into a :class:`RunbookError`.

    permission: the Azure action the failing call needed, named in ``forbidden`` errors.
    """
    from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, RunbookError):
        return exc
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        kind = _status_kind(status)
        code = getattr(getattr(exc, "error", None), "code", None) or getattr(exc, "reason", None) or ""
        detail = getattr(getattr(exc, "error", None), "message", None) or exc.message or ""
        retry_after = None
        if exc.response is not None:
            header = exc.response.headers.get("Retry-After")
            try:
                retry_after = float(header) if header else None
            except ValueError:
                retry_after = None
        text = f"Azure answered HTTP {status}"
        if code:
            text += f" {code}"
        if detail:
            text += f": {detail.splitlines()[0][:300]}"
        if kind == "forbidden" and permission:
            text += f" (the identity needs '{permission}')"
        return RunbookError(kind, text, permission=permission if kind == "forbidden" else None, retry_after=retry_after)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return RunbookError("transient", f"could not reach Azure: {type(exc).__name__}")
    if isinstance(exc, AzureError):
        message = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return RunbookError("failed", f"Azure operation failed: {message}")
    return RunbookError("failed", f"unexpected {type(exc).__name__}")


def passing(exc: BaseException) -> bool:
    """Whether ``exc`` (left after azure-core's retries) is a passing failure — throttled (429), a 5xx, a timeout or a
    transport error: kinds ``throttled`` and ``transient`` of :func:`map_azure_error` — worth trying again later.
    A 404, 401/403, 400, 409 or anything else is not."""
    return map_azure_error(exc).kind in ("throttled", "transient")


class CouldNotCheck(str):
    """A source check's "why" text when a read failed for a :func:`passing` reason: the confirmers that answer a text
    (:mod:`firestop.azure.monitor_source`, :mod:`firestop.azure.activity_source`) return one so their caller gives
    the code :attr:`firestop.source_reasons.Reason.TRANSIENT`. Still a ``str`` for everything else (variants14)."""

    __slots__ = ()


def unread_why(exc: BaseException, text: str) -> str:
    """``text`` as :class:`CouldNotCheck` when ``exc`` is :func:`passing`, else as it is."""
    return CouldNotCheck(text) if passing(exc) else text

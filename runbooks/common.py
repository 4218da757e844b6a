"""Small helpers shared by runbooks: raw ARM JSON from SDK calls and ledger appends."""

from __future__ import annotations

from typing import Any

from runbooks.base import RunContext


def raw_json(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """``cls=`` hook for SDK calls: the response JSON exactly as Azure sent it (None for an empty body)."""
    import json

    response = pipeline_response.http_response
    if hasattr(response, "json"):  # azure.core.rest.HttpResponse
        return response.json() if response.content else None
    body = response.body()  # legacy azure.core.pipeline.transport.HttpResponse (older generated SDKs)
    return json.loads(body) if body else None


def append_ledger(ctx: RunContext, *, kind: str, runbook: str, action: str, target: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """Append an entry to the incident's ledger (:mod:`runbooks.ledger`); returns ``{"seq", "hash"}``.

    Raises ``RunbookError('failed')`` when the ledger cannot be written or is broken (``transient``
    when the store did not answer):
    evidence that is not on the ledger must not count as collected.
    """
    from firestop.azure.errors import RunbookError
    from runbooks.ledger import Ledger

    from firestop.storage import StoreError

    try:
        entry = Ledger.of(ctx.settings).append(
            ctx.incident_id, kind=kind, runbook=runbook, action=action, step_id=ctx.step_id,
            target=target, at=ctx.now().isoformat(), data=data,
        )
    except StoreError as exc:  # transient: no answer, or contended past the attempts: the step is retried
        raise RunbookError("transient" if exc.kind == "transient" else "failed", f"ledger: {exc}") from None
    except (OSError, ValueError) as exc:
        raise RunbookError("failed", f"ledger: {exc}") from None
    return {"seq": entry["seq"], "hash": entry["hash"]}


def list_raw(
    client: Any, url: str, api_version: str, permission: str, query: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """GET a paged ARM list through a generated SDK client's pipeline (auth, retries), following
    ``nextLink``; the items exactly as Azure sent them. Errors are mapped (``permission`` named)."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    from firestop.azure.errors import map_azure_error

    items: list[dict[str, Any]] = []
    request: HttpRequest | None = HttpRequest("GET", url, params={"api-version": api_version, **(query or {})})
    try:
        while request is not None:
            pipeline = client._client  # the generated client's ARMPipelineClient (auth, retries)
            request.url = pipeline.format_url(request.url)
            response = pipeline.send_request(request)
            if response.status_code >= 400:
                raise HttpResponseError(response=response)
            body = response.json() or {}
            items.extend(body.get("value") or [])
            next_link = body.get("nextLink")
            request = HttpRequest("GET", next_link) if next_link else None
    except Exception as exc:  # noqa: BLE001
        raise map_azure_error(exc, permission=permission) from None
    return items

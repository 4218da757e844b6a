"""Raw ARM JSON reads and merge-patch writes of Azure OpenAI accounts through the SDK.

The SDK call builds the request, authenticates, retries and polls the LRO
(``PATCH`` answers 202 + ``Azure-AsyncOperation``; REST API 2025-09-01); the
``cls=`` hook hands back the response JSON exactly as Azure sent it, so
evidence and undo work on the real document rather than on a model's view.
"""

from __future__ import annotations

import io
import json
from typing import Any

from firestop.azure.errors import map_azure_error
from runbooks.base import RunContext
from runbooks.targets import AccountRef

READ_ACCOUNT = "Microsoft.CognitiveServices/accounts/read"
WRITE_ACCOUNT = "Microsoft.CognitiveServices/accounts/write"
#: Polling the PATCH's Azure-AsyncOperation / Location URL (``…/locations/{loc}/operationResults/{id}``).
READ_OPERATION_RESULTS = "Microsoft.CognitiveServices/locations/operationResults/read"


def _raw(pipeline_response: Any, deserialized: Any, headers: Any) -> dict[str, Any]:
    return pipeline_response.http_response.json()


def get_account(ctx: RunContext, ref: AccountRef) -> dict[str, Any]:
    """The account's ARM JSON (``GET``), as Azure sent it."""
    accounts = ctx.clients.cognitive_services(ref.subscription_id).accounts
    try:
        return accounts.get(ref.resource_group, ref.name, cls=_raw)
    except Exception as exc:  # noqa: BLE001
        raise map_azure_error(exc, permission=READ_ACCOUNT) from None


def patch_account(ctx: RunContext, ref: AccountRef, properties: dict[str, Any], *, etag: str | None = None) -> None:
    """JSON merge-patch ``{"properties": properties}`` and wait for the LRO to finish.

    ``etag`` is sent as ``If-Match`` so a concurrent change fails (412) instead of being overwritten.
    """
    accounts = ctx.clients.cognitive_services(ref.subscription_id).accounts
    body = io.BytesIO(json.dumps({"properties": properties}).encode("utf-8"))
    headers = {"If-Match": etag} if etag else None
    try:
        poller = accounts.begin_update(ref.resource_group, ref.name, body, content_type="application/json", headers=headers)
        poller.result()
    except Exception as exc:  # noqa: BLE001
        raise map_azure_error(exc, permission=WRITE_ACCOUNT) from None

"""``POST /api/alerts``: the Azure Monitor action group webhook (Common Alert Schema).

Answers (JSON bodies): 202 with the incident ID and the Durable status URLs
once the orchestration is started (or already exists for this alert — Monitor
redelivers); 400/413/415/422 naming the field and the fix for a payload
Firestop cannot accept (nothing starts); 503 when the incident could not be
started, so Monitor retries. Never a 500.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import azure.durable_functions as df
import azure.functions as func

from firestop.lifecycle import ORCHESTRATOR_NAME

bp = df.Blueprint()
log = logging.getLogger("firestop.intake")


def _json(status: int, body: dict) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


@bp.route(route="alerts", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def post_alert(req: func.HttpRequest, client) -> func.HttpResponse:
    from firestop.alerts import AlertPayloadError, parse_alert
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.start import incident_input

    content_type = (req.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", "text/json") and not content_type.endswith("+json"):
        return _json(415, {"error": "content-type", "reason": f"{content_type} is not JSON", "fix": "send the Common Alert Schema payload as application/json"})
    try:
        alert = parse_alert(req.get_body())
    except AlertPayloadError as exc:
        return _json(exc.http_status, {"error": exc.field, "reason": exc.reason, "fix": exc.fix})
    try:
        instance_id = alert.incident_key
        existing = await client.get_status(instance_id)
        if existing is None or existing.runtime_status is None:
            payload = incident_input(alert, received_at=datetime.now(timezone.utc), sandbox=get_client_factory().sandbox)
            await client.start_new(ORCHESTRATOR_NAME, instance_id, payload)
        return client.create_check_status_response(req, instance_id)
    except Exception:  # noqa: BLE001 — Monitor retries on 503; a 500 would be a lost alert
        log.exception("could not start the incident for alert %s", alert.alert_id)
        return _json(503, {"error": "unavailable", "reason": "the incident could not be started", "fix": "Azure Monitor retries; nothing to do"})

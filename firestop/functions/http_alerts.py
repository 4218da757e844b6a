"""``POST /api/alerts``: the Azure Monitor action group webhook (Common Alert Schema).

Answers (JSON bodies; decisions in :mod:`firestop.intake`):

* **202** once the alert is durably recorded: a new incident started, or an
  event raised on an open one. Body = the Durable management links of the
  incident (``id``, ``statusQueryGetUri``, ``sendEventPostUri``, …), header
  ``Location`` = ``statusQueryGetUri``. A repeated delivery (same ``alertId``
  and ``monitorCondition``) gets the same body and starts nothing (see
  :mod:`firestop.intake.accept` for how far "same" reaches across processes). A Fired
  alert that joined an open incident adds ``"correlatedTo": <id>``; a Resolved
  one that reached its incident adds ``"event": "alert_resolved"``.
* **200** for a Resolved alert with nothing open to reach: ``{"id",
  "runtimeStatus", "message"}`` (a Resolved never starts an incident).
* **400** not JSON (``position`` = line/column/offset), not an object, or a
  non-common schema; **422** a common-schema field missing or invalid; body
  ``{"error": <field path>, "field", "reason", "fix", "status"}``.
* **413** body over 256 KB (262,144 bytes; ``action-groups.md`` limit).
* **415** a ``Content-Type`` that is not JSON (missing is taken as JSON).
* **401** no valid function key: enforced before this code runs — by the
  Functions host on Azure (``auth_level=FUNCTION``), by ``firestop serve`` locally.
* **503** (``Retry-After: 5``) for any internal or storage failure, so Azure
  Monitor retries (it retries 408/429/503/504 up to 5 times, ``action-groups.md``).
  Never a 500, never a 202 for an alert that was not recorded.

Every answer carries ``X-Firestop-Intake`` = the outcome (``started``,
``duplicate``, ``correlated``, ``resolved``, ``closed``, ``no_incident``,
``rejected``, ``unavailable``) for logs and load tests.
"""

from __future__ import annotations

import json
import logging

import azure.durable_functions as df
import azure.functions as func

from firestop.lifecycle import ORCHESTRATOR_NAME

bp = df.Blueprint()
log = logging.getLogger("firestop.intake")

_JSON_TYPES = ("application/json", "text/json")
_OUTCOME_HEADER = "X-Firestop-Intake"


def _json(status: int, body: dict, outcome: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body),
        status_code=status,
        mimetype="application/json",
        headers={_OUTCOME_HEADER: outcome, **(headers or {})},
    )


def _unavailable(reason: str) -> func.HttpResponse:
    return _json(
        503,
        {"error": "unavailable", "reason": reason, "fix": "Azure Monitor retries this delivery; nothing to do"},
        "unavailable",
        {"Retry-After": "5"},
    )


def _content_type_problem(header: str | None) -> str | None:
    """Why ``header`` is not a JSON content type we read (None: fine). Missing → JSON."""
    if not header or not header.strip():
        return None
    media, *params = [part.strip() for part in header.split(";")]
    media = media.lower()
    if media not in _JSON_TYPES and not (media.startswith("application/") and media.endswith("+json")):
        return f"{media or header!r} is not JSON"
    for param in params:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return f"charset {charset!r} is not UTF-8"
    return None


def _accepted(client, req: func.HttpRequest, outcome) -> func.HttpResponse:
    from firestop.intake import EVENT_RESOLVED, OutcomeKind

    links = client.get_client_response_links(req, outcome.instance_id)
    body = dict(links)
    if outcome.correlated_to is not None:
        body["correlatedTo"] = outcome.correlated_to
    if outcome.kind is OutcomeKind.RESOLVED:
        body["event"] = EVENT_RESOLVED
    headers = {"Location": links["statusQueryGetUri"], "Retry-After": "10"}
    return _json(202, body, outcome.kind.value, headers)


def _not_delivered(outcome) -> func.HttpResponse:
    if outcome.instance_id is not None:
        message = (f"incident {outcome.instance_id} has already finished ({outcome.runtime_status}); "
                   "the Resolved notification changes nothing and starts nothing")
    else:
        message = "no open incident for this alert; a Resolved notification never starts one"
    body = {"id": outcome.instance_id, "runtimeStatus": outcome.runtime_status, "message": message}
    return _json(200, body, outcome.kind.value)


async def _handle(req: func.HttpRequest, client) -> func.HttpResponse:
    from firestop.alerts import AlertPayloadError, parse_alert
    from firestop.azure.clients import get_client_factory
    from firestop.intake import CorrelationConfigError, CorrelationSettings, IntakeUnavailable, accept_alert
    from firestop.lifecycle.start import incident_input

    problem = _content_type_problem(req.headers.get("content-type"))
    if problem is not None:
        return _json(415, {"error": "content-type", "field": "content-type", "reason": problem,
                           "fix": "send the Common Alert Schema payload as application/json (UTF-8)",
                           "status": 415}, "rejected")
    try:
        alert = parse_alert(req.get_body())
    except AlertPayloadError as exc:
        return _json(exc.http_status, {"error": exc.field, **exc.as_dict()}, "rejected")
    try:
        settings = CorrelationSettings.from_env()
    except CorrelationConfigError as exc:
        log.error("alert %r not accepted: %r", alert.alert_id, str(exc))
        return _unavailable(f"app setting: {exc}")
    factory = get_client_factory()
    try:
        outcome = await accept_alert(
            client,
            alert,
            now=factory.clock.now(),
            settings=settings,
            orchestrator_name=ORCHESTRATOR_NAME,
            start_input=lambda a, now: incident_input(a, received_at=now, sandbox=factory.sandbox),
            cache_scope=str(id(factory)),  # a local environment (tests, serve) installs its own factory
        )
    except IntakeUnavailable as exc:
        log.warning("alert %r (%r) not accepted, answering 503: %r", alert.alert_id, alert.monitor_condition, str(exc))
        return _unavailable("the alert could not be recorded")
    log.info("alert %r (%s): %s %s", alert.alert_id, alert.monitor_condition, outcome.kind.value,
             outcome.instance_id or "")
    return _accepted(client, req, outcome) if outcome.accepted else _not_delivered(outcome)


@bp.route(route="alerts", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def post_alert(req: func.HttpRequest, client) -> func.HttpResponse:
    try:
        return await _handle(req, client)
    except Exception:  # noqa: BLE001 — Monitor retries on 503; a 500 would be a lost alert
        log.exception("internal failure in POST /api/alerts, answering 503")
        return _unavailable("internal error")

"""``POST /api/alerts``: the Azure Monitor action group webhook (Common Alert Schema),
and ``GET /api/alerts/{incident id}/status``: where the sender follows its incident.

``POST /api/alerts`` answers (JSON bodies; decisions in :mod:`firestop.intake`):

* **202** once the alert is durably recorded: a new incident started, or an
  event raised on an open one. Body ``{"id": <incident id>, "statusUri"}``,
  headers ``Location`` = ``statusUri`` and ``Retry-After: 10``. ``statusUri``
  is the status route below on the app's public origin with ``?token=<status
  token>`` (:func:`firestop.trust.seal.status_token`: sealed with the app's key,
  bound to this incident; never the function key): the sender polls it with the
  function key it already has. **No Durable
  management URL** (``statusQueryGetUri``, ``sendEventPostUri``, …) is ever
  handed out: they carry the Durable extension's system key, which raises
  events, starts orchestrators, terminates and purges (issue 11). A repeated
  delivery (same ``alertId`` and ``monitorCondition``) gets the same body and
  starts nothing (see :mod:`firestop.intake.accept` for how far "same" reaches
  across processes). A Fired alert that joined an open incident adds
  ``"correlatedTo": <id>``; a Resolved one that reached its incident adds
  ``"event": "alert_resolved"``.
* **200** for a Resolved alert with nothing open to reach: ``{"id",
  "runtimeStatus", "message"}`` (a Resolved never starts an incident).
* **200** for a Fired alert on the attacker being refused after a recent containment of its resource
  (:mod:`firestop.intake.aftermath`): ``{"id", "correlatedTo", "aftermath": true, "message"}`` — no new incident.
* **400** not JSON (``position`` = line/column/offset), not an object, or a
  non-common schema; **422** a common-schema field missing or invalid; body
  ``{"error": <field path>, "field", "reason", "fix", "status"}``.
* **413** body over 256 KB (262,144 bytes; ``action-groups.md`` limit).
* **415** a ``Content-Type`` that is not JSON (missing is taken as JSON).
* **401** no valid function key: enforced before this code runs — by the
  Functions host on Azure (``auth_level=FUNCTION``), by ``firestop serve`` locally.
* **503** (``Retry-After: 5``) for any internal or storage failure, or a missing
  app setting (``FIRESTOP_SEAL_KEY`` on Azure: the incident input is sealed,
  :mod:`firestop.trust.seal`), so Azure Monitor retries (it retries
  408/429/503/504 up to 5 times, ``action-groups.md``). Never a 500, never a
  202 for an alert that was not recorded.

Every answer carries ``X-Firestop-Intake`` = the outcome (``started``,
``duplicate``, ``correlated``, ``resolved``, ``closed``, ``no_incident``,
``rejected``, ``unavailable``) for logs and load tests.

``GET /api/alerts/{incident id}/status?token=<status token>`` (auth level FUNCTION: the key the sender already
has, **and** the token of the 202 that named this incident: the webhook key is for sending alerts, and incident ids
are predictable, so the key alone must not read an incident by its id — though a delivery that joins a running incident
(``correlated``) is answered with that incident's link and token, so a key holder who posts on the same rule and
resource still learns that it runs, review16 R16-05; responders read any incident at
``GET /api/incidents/{id}`` with their role) answers:

* **202** (``Retry-After: 10``, ``Location`` = itself) while the incident runs,
  **200** once it has finished — the HTTP async pattern, as Durable's own
  status URL. Body, and nothing else::

      {"id", "status": "running" | "awaiting_approval" | <record status>,
       "phase": "detect" | … | "done" | null, "runtimeStatus",
       "receivedAt": ISO 8601 | null, "containedAt": ISO 8601 | null}

* **400** not an instance ID (:func:`firestop.boundary.instance_id_problem`:
  empty, too long, ``.``/``..``, ``/``, ``#``, ``?``, control characters); **403** no token, or one not issued
  for this incident by this app (checked before the store is read, so it answers alike for ids that exist and ids
  that do not); **404** no such incident (also for instances that are not incidents); **401** no function key;
  **503** the durable store cannot be read or the seal key is missing.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import azure.durable_functions as df
import azure.functions as func

from firestop.telemetry.requests import note, observed

from firestop.lifecycle import ORCHESTRATOR_NAME

bp = df.Blueprint()
log = logging.getLogger("firestop.intake")

_JSON_TYPES = ("application/json", "text/json")

#: The modules a webhook calls into: imported at the first webhook, not when the function app is indexed (its cold
#: start), and kept here; an import statement on every call was 1.5-3 µs each (CPU, ``timeit``, load ~20), nine of
#: them per correlated alert in this module. Their functions are still looked up on the module at each call, so
#: what a module holds now (a test's monkeypatch included) is what is called.
_below: tuple[Any, ...] | None = None


def _modules() -> tuple[Any, ...]:
    """``(firestop.alerts, firestop.alerts.parse, firestop.azure.clients, firestop.functions.intake_call,
    firestop.intake, firestop.trust.seal, firestop.environ, firestop.functions.links)``, imported once."""
    global _below
    if _below is None:
        import firestop.alerts as alerts
        import firestop.alerts.parse as parse
        import firestop.azure.clients as clients
        import firestop.environ as environ
        import firestop.functions.intake_call as intake_call
        import firestop.functions.links as links
        import firestop.intake as intake
        import firestop.trust.seal as seal

        _below = (alerts, parse, clients, intake_call, intake, seal, environ, links)
    return _below
_OUTCOME_HEADER = "X-Firestop-Intake"


def _json(status: int, body: dict, outcome: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    note(outcome=outcome)  # on the request's log line (firestop.telemetry.requests)
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


def status_link(req: func.HttpRequest, incident_id: str) -> str:
    """The status route of ``incident_id`` on the app's public origin (:func:`firestop.functions.links.public_origin`,
    never the client's Host header on Azure) and the route prefix ``req`` came in on (no query, no key)."""
    return f"{_status_base(req.url)}{quote(incident_id, safe='')}/status"


#: (request URL, FIRESTOP_PUBLIC_URL, WEBSITE_HOSTNAME) -> the status links' base: every webhook of a storm comes in
#: on the same URL, and origin + prefix were a third of building the 202 (bench/intake.py hot profile).
_bases: dict[tuple[str, str | None, str | None], str] = {}


def _status_base(url: str) -> str:
    """``{public origin}{route prefix}alerts/`` for a request that came in on ``url`` (the environment is part of
    the cache key, so a changed FIRESTOP_PUBLIC_URL or WEBSITE_HOSTNAME takes effect at once)."""
    environ, links = (_below or _modules())[6:]
    environ_get = environ.environ_get
    key = (url, environ_get(links.PUBLIC_URL_ENV), environ_get(links.HOSTNAME_ENV))
    base = _bases.get(key)
    if base is None:
        public_origin = links.public_origin
        path = urlsplit(url).path.rstrip("/")
        prefix = path[: -len("alerts")] if path.lower().endswith("/alerts") else "/api/"
        base = f"{public_origin(url)}{prefix}alerts/"
        if len(_bases) >= 64:  # one entry per listening address in practice; bounded against varied URLs
            _bases.clear()
        _bases[key] = base
    return base


def _accepted(req: func.HttpRequest, outcome, key) -> func.HttpResponse:
    intake, seal = (_below or _modules())[4:6]
    link = f"{status_link(req, outcome.instance_id)}?token={seal.status_token(outcome.instance_id, key=key)}"
    body = {"id": outcome.instance_id, "statusUri": link}
    if outcome.correlated_to is not None:
        body["correlatedTo"] = outcome.correlated_to
    if outcome.part_of is not None:  # its own playbook runs here, as a part of that incident (same attack)
        body["partOf"] = outcome.part_of
    if outcome.follows is not None:  # new activity after that held incident: contained again here
        body["follows"] = outcome.follows
    if outcome.kind is intake.OutcomeKind.RESOLVED:
        body["event"] = intake.EVENT_RESOLVED
    headers = {"Location": link, "Retry-After": "10"}
    return _json(202, body, outcome.kind.value, headers)


def _not_delivered(outcome) -> func.HttpResponse:
    from firestop.intake import OutcomeKind

    if outcome.kind is OutcomeKind.AFTERMATH:  # the attacker refused after containment (firestop.intake.aftermath)
        body = {"id": outcome.instance_id, "correlatedTo": outcome.correlated_to, "aftermath": True,
                "message": f"no new incident: {outcome.reason}"}
        return _json(200, body, outcome.kind.value)
    if outcome.instance_id is not None:
        message = (f"incident {outcome.instance_id} has already finished ({outcome.runtime_status}); "
                   "the Resolved notification changes nothing and starts nothing")
    else:
        message = "no open incident for this alert; a Resolved notification never starts one"
    body = {"id": outcome.instance_id, "runtimeStatus": outcome.runtime_status, "message": message}
    return _json(200, body, outcome.kind.value)


async def _handle(req: func.HttpRequest, client) -> func.HttpResponse:
    alerts, parse, clients, intake_call, intake, seal = (_below or _modules())[:6]
    problem = _content_type_problem(req.headers.get("content-type"))
    if problem is not None:
        return _json(415, {"error": "content-type", "field": "content-type", "reason": problem,
                           "fix": "send the Common Alert Schema payload as application/json (UTF-8)",
                           "status": 415}, "rejected")
    try:
        alert = parse.parse_intake_alert(req.get_body())  # no raw context (the webhook never reads it), no pydantic model
    except alerts.AlertPayloadError as exc:
        return _json(exc.http_status, {"error": exc.field, **exc.as_dict()}, "rejected")
    try:
        settings = intake.CorrelationSettings.from_env()
    except intake.CorrelationConfigError as exc:
        log.error("alert %r not accepted: %r", alert.alert_id, str(exc))
        return _unavailable(f"app setting: {exc}")
    try:
        key = seal.load_seal_key()
    except seal.SealKeyError as exc:
        log.error("alert %r not accepted: %s", alert.alert_id, exc)
        return _unavailable(f"app setting: {exc}")
    factory = clients.get_client_factory()
    try:
        outcome = await intake_call.accept(client, alert, factory=factory, settings=settings, key=key)
    except intake.IntakeUnavailable as exc:
        log.warning("alert %r (%r) not accepted, answering 503: %r", alert.alert_id, alert.monitor_condition, str(exc))
        return _unavailable("the alert could not be recorded")
    note(incident_id=outcome.instance_id, alert_id=alert.alert_id)  # the request line says it (and the outcome)
    return _accepted(req, outcome, key) if outcome.accepted else _not_delivered(outcome)


@bp.route(route="alerts", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@observed
async def post_alert(req: func.HttpRequest, client) -> func.HttpResponse:
    try:
        return await _handle(req, client)
    except Exception:  # noqa: BLE001 — Monitor retries on 503; a 500 would be a lost alert
        log.exception("internal failure in POST /api/alerts, answering 503")
        return _unavailable("internal error")


def _status_answer(incident_id: str, status) -> func.HttpResponse:
    from firestop.lifecycle.view import incident_view

    runtime = getattr(status.runtime_status, "value", status.runtime_status)
    view = incident_view(incident_id, runtime, status.custom_status, status.output)
    inp = status.input_ if isinstance(status.input_, dict) else {}
    custom = status.custom_status if isinstance(status.custom_status, dict) else {}
    finished = runtime not in ("Pending", "Running")
    body = {
        "id": incident_id,
        "status": view.get("status"),
        "phase": custom.get("phase"),
        "runtimeStatus": runtime,
        "receivedAt": view.get("received_at") or inp.get("received_at"),
        "containedAt": view.get("contained_at"),
    }
    if finished:
        return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")
    return func.HttpResponse(json.dumps(body), status_code=202, mimetype="application/json", headers={"Retry-After": "10"})


@bp.route(route="alerts/{incident_id}/status", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@observed
async def alert_status(req: func.HttpRequest, client) -> func.HttpResponse:
    """Where an alert sender follows its incident (module docstring); grants nothing."""
    from firestop.boundary import instance_id_problem

    incident_id = req.route_params.get("incident_id", "")
    problem = instance_id_problem(incident_id)
    if problem is not None:
        return func.HttpResponse(json.dumps({"error": "incident_id", "reason": problem,
                                             "fix": "use the id of the 202 answer to POST /api/alerts"}),
                                 status_code=400, mimetype="application/json")
    seal = (_below or _modules())[5]
    try:
        key = seal.load_seal_key()
    except seal.SealKeyError as exc:
        log.error("status of %r not answered: %s", incident_id, exc)
        return _unavailable(f"app setting: {exc}")
    token = _token_of(req)
    ok, reason = seal.check_status_token(incident_id, token, key=key)
    if not ok:  # before the store is read: the answer is the same whether the incident exists or not
        return func.HttpResponse(json.dumps({
            "error": "token", "field": "token", "reason": reason,
            "fix": "poll the statusUri (or Location) of the 202 answer to POST /api/alerts as given, token included; "
                   "responders read any incident at GET /api/incidents/{id}", "status": 403}),
            status_code=403, mimetype="application/json")
    try:
        status = await client.get_status(incident_id, show_input=True)
    except Exception:  # noqa: BLE001 — the store is unreachable: the sender retries
        log.exception("status of %r could not be read", incident_id)
        return _unavailable("the incident status could not be read")
    if status is None or status.runtime_status is None or status.name != ORCHESTRATOR_NAME:
        return func.HttpResponse(json.dumps({"error": "incident_id", "reason": f"no incident {incident_id!r}",
                                             "fix": "use the id of the 202 answer to POST /api/alerts"}),
                                 status_code=404, mimetype="application/json")
    response = _status_answer(incident_id, status)
    if response.status_code == 202:
        from firestop.functions.links import public_origin

        # never the function key; the token the caller proved it holds
        response.headers["Location"] = f"{public_origin(req.url)}{urlsplit(req.url).path}?token={token}"
    return response


def _token_of(req: func.HttpRequest) -> str | None:
    """The ``token`` query parameter of ``req`` (its first value; None when absent)."""
    token = req.params.get("token") if req.params else None
    if token is None:
        values = parse_qs(urlsplit(req.url).query).get("token")
        token = values[0] if values else None
    return token

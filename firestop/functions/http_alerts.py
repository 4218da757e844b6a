"""``POST /api/alerts``: the Azure Monitor action group webhook (Common Alert Schema),
and ``GET /api/alerts/{delivery id}/status``: where a sender learns its delivery was taken.

Every caller here is authenticated by the webhook's function key alone, and that key is in every action group's
URL: the answer must not tell whether an incident is open on a resource (intake16; review16 R16-05, attack16
A16-03). So the answer to a delivery is the same whatever intake did with it.

``POST /api/alerts`` answers (JSON bodies; decisions in :mod:`firestop.intake`):

* **202** once the delivery is durably handled — a new incident started, an event raised on an open one, a repeat,
  a Resolved with nothing open to reach, a Fired on an attacker refused after a recent containment
  (:mod:`firestop.intake.aftermath`) alike. Body ``{"deliveryId", "statusUri"}`` and nothing else, header
  ``Location`` = ``statusUri``. ``deliveryId`` is :func:`firestop.trust.seal.delivery_id` (a digest of the
  alert's ``alertId`` and ``monitorCondition``: what was sent, nothing intake found); ``statusUri`` is the status
  route below on the app's public origin with ``?token=<delivery token>`` (:func:`firestop.trust.seal.delivery_token`:
  sealed with the app's key, bound to that delivery — never to an incident, never the function key). No incident id,
  no ``correlatedTo``, no outcome header. **No Durable management URL** is ever handed out (they carry the Durable
  extension's system key, issue 11). A repeated delivery (same ``alertId`` and ``monitorCondition``) gets the same
  body and starts nothing. Azure Monitor ignores the body. What intake did (``started``, ``duplicate``,
  ``correlated``, ``recorded``, ``resolved``, ``closed``, ``no_incident``, ``aftermath``) and the incident id go on
  the request's log line (:mod:`firestop.telemetry.requests`) for operators; responders read incidents at
  ``GET /api/incidents`` / ``GET /api/incidents/{id}`` (their role), in the console or with ``firestop incident``.
  A Fired Defender for Cloud alert in a relay's shape (REST 2022-01-01 or the workflow automation's trigger body)
  also leaves a sealed receipt of its id before the 202 (:mod:`firestop.records.defender_receipts`, defender18):
  what the audit sets against Defender's own alert list to prove the relay delivers. A receipt that cannot be kept
  is a 503 (the relay retries; the redelivery is a duplicate for intake).
* **400** not JSON (``position`` = line/column/offset), not an object, or a
  non-common schema; **422** a common-schema field missing or invalid; body
  ``{"error": <field path>, "field", "reason", "fix", "status"}`` (what was sent, not what is open).
* **413** body over 256 KB (262,144 bytes; ``action-groups.md`` limit).
* **415** a ``Content-Type`` that is not JSON (missing is taken as JSON).
* **401** no valid function key: enforced before this code runs — by the
  Functions host on Azure (``auth_level=FUNCTION``), by ``firestop serve`` locally.
* **503** (``Retry-After: 5``) for any internal or storage failure, or a missing
  app setting (``FIRESTOP_SEAL_KEY`` on Azure: the incident input is sealed,
  :mod:`firestop.trust.seal`), so Azure Monitor retries (it retries
  408/429/503/504 up to 5 times, ``action-groups.md``). Never a 500, never a
  202 for an alert that was not recorded.

``GET /api/alerts/{delivery id}/status?token=<delivery token>`` (auth level FUNCTION **and** the token of the 202
that took this delivery) answers **200** ``{"deliveryId", "status": "received", "message"}``: the delivery was taken
(a 202 is given only once it is). Nothing of the incident it reached — not its id, phase, runtime status or
containment — and no other delivery's progress; the store is not read. **400** not of a delivery id's form
(:func:`firestop.trust.seal.delivery_id_problem`; checked before the token — the incident ids of links handed out
before intake16 included); **403** no token, or one not issued for this delivery by this app; **401** no function key;
**503** the seal key is missing.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import azure.durable_functions as df
import azure.functions as func

from firestop.telemetry.requests import note, observed

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


def _json(status: int, body: dict, outcome: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    note(outcome=outcome)  # on the request's log line (firestop.telemetry.requests)
    return func.HttpResponse(
        json.dumps(body),
        status_code=status,
        mimetype="application/json",
        headers=headers or {},  # no outcome header (module docstring): the outcome goes on the log line
    )


def _seal_key_problem(exc: Exception) -> str:
    """A SealKeyError as the answer says it: the setting or file it names, never the home's path (A17-06)."""
    from firestop.settings import get_settings
    from firestop.storage.locations import logical_text

    return f"app setting: {logical_text(exc, get_settings())}"


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


def status_link(req: func.HttpRequest, delivery: str) -> str:
    """The status route of delivery ``delivery`` (:func:`firestop.trust.seal.delivery_id`: ``dlv-`` + hex, nothing
    to quote) on the app's public origin (:func:`firestop.functions.links.public_origin`, never the client's Host
    header on Azure) and the route prefix ``req`` came in on (no query, no key, no token)."""
    return f"{_status_base(req.url)}{delivery}/status"


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


def _taken(req: func.HttpRequest, alert, key) -> func.HttpResponse:
    """The one answer to a delivery intake handled, whatever it did (module docstring): 202, its delivery id and
    a status link sealed for that delivery. Computed from the alert and the key only: no store read."""
    seal = (_below or _modules())[5]
    delivery = seal.delivery_id(alert.alert_id, str(getattr(alert.monitor_condition, "value", alert.monitor_condition)))
    link = f"{status_link(req, delivery)}?token={seal.delivery_token(delivery, key=key)}"
    return func.HttpResponse(json.dumps({"deliveryId": delivery, "statusUri": link}), status_code=202,
                             mimetype="application/json", headers={"Location": link})


#: The schemas a Defender for Cloud relay posts (:data:`firestop.records.defender_receipts.RELAYED_SCHEMAS`, kept
#: here so a Monitor alert's path imports nothing more).
_RELAYED = frozenset({"defender:rest", "defender:export"})


def _fired(alert) -> bool:
    return str(getattr(alert.monitor_condition, "value", alert.monitor_condition)) == "Fired"


def _keep_receipt(alert, factory, key) -> None:
    """Keep that this Defender alert reached Firestop (:mod:`firestop.records.defender_receipts`: sealed,
    create-if-absent, at the clock's time) — what ``monitoring.alert-rules`` sets against Defender's own list."""
    from firestop.records import defender_receipts
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    defender_receipts.keep(records_store(get_settings()), alert.alert_id,
                           factory.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), key, alert_type=alert.rule_name or "")


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
        return _unavailable(_seal_key_problem(exc))
    factory = clients.get_client_factory()
    try:
        outcome = await intake_call.accept(client, alert, factory=factory, settings=settings, key=key)
    except intake.IntakeUnavailable as exc:
        log.warning("alert %r (%r) not accepted, answering 503: %r", alert.alert_id, alert.monitor_condition, str(exc))
        return _unavailable("the alert could not be recorded")
    if alert.schema_id in _RELAYED and _fired(alert):  # defender18: the audit's proof that the relay delivers
        try:
            _keep_receipt(alert, factory, key)
        except Exception as exc:  # noqa: BLE001 — the relay retries a 503; its redelivery is a duplicate for intake
            log.warning("alert %r accepted, its receipt not kept (%s), answering 503", alert.alert_id, type(exc).__name__)
            return _unavailable("the alert could not be recorded")
    # what intake did goes on the request's log line only (operators); the caller's answer does not depend on it
    note(outcome=outcome.kind.value, incident_id=outcome.instance_id, alert_id=alert.alert_id,
         correlated_to=outcome.correlated_to, part_of=outcome.part_of, follows=outcome.follows)
    return _taken(req, alert, key)


@bp.route(route="alerts", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@observed
async def post_alert(req: func.HttpRequest, client) -> func.HttpResponse:
    try:
        return await _handle(req, client)
    except Exception:  # noqa: BLE001 — Monitor retries on 503; a 500 would be a lost alert
        log.exception("internal failure in POST /api/alerts, answering 503")
        return _unavailable("internal error")


@bp.route(route="alerts/{delivery_id}/status", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@observed
def alert_status(req: func.HttpRequest) -> func.HttpResponse:
    """Whether a delivery was taken (module docstring): its token only; reads no store, grants nothing."""
    delivery = req.route_params.get("delivery_id", "")
    seal = (_below or _modules())[5]
    problem = seal.delivery_id_problem(delivery)
    if problem is not None:
        return func.HttpResponse(json.dumps({"error": "delivery_id", "field": "delivery_id", "reason": problem,
                                             "fix": "use the statusUri of the 202 answer to POST /api/alerts as given",
                                             "status": 400}),
                                 status_code=400, mimetype="application/json")
    try:
        key = seal.load_seal_key()
    except seal.SealKeyError as exc:
        log.error("status of delivery %r not answered: %s", delivery, exc)
        return _unavailable(_seal_key_problem(exc))
    ok, reason = seal.check_delivery_token(delivery, _token_of(req), key=key)
    if not ok:
        return func.HttpResponse(json.dumps({
            "error": "token", "field": "token", "reason": reason,
            "fix": "poll the statusUri (or Location) of the 202 answer to POST /api/alerts as given, token included; "
                   "responders read incidents at GET /api/incidents/{id}", "status": 403}),
            status_code=403, mimetype="application/json")
    return func.HttpResponse(json.dumps({
        "deliveryId": delivery, "status": "received",
        "message": "the delivery was taken and is handled by Firestop; responders follow incidents in the console"}),
        status_code=200, mimetype="application/json")


def _token_of(req: func.HttpRequest) -> str | None:
    """The ``token`` query parameter of ``req`` (its first value; None when absent)."""
    token = req.params.get("token") if req.params else None
    if token is None:
        values = parse_qs(urlsplit(req.url).query).get("token")
        token = values[0] if values else None
    return token

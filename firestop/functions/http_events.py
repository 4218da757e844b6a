"""``POST /api/events`` and ``OPTIONS /api/events``: Azure Event Grid webhook deliveries.

Authentication: the **function key** (``auth_level=FUNCTION``): the event subscription's webhook
endpoint is ``https://<app>/api/events?code=<function key>``, exactly as the action groups' alert
webhook. The ``azureActiveDirectory`` delivery (Event Grid presenting an Entra token of an app
registration) would need App Service authentication on this route and is not used, so the same key
and the same role (alert sender) cover every intake route. Nothing in a payload or a client-settable
header identifies anyone: the events only *describe* resources.

``OPTIONS`` (CloudEvents 1.0 abuse protection, ``http-webhook.md`` §4, used by Event Grid with the
CloudEvents schema): a ``WebHook-Request-Origin`` of ``eventgrid.azure.net`` is answered **200** with
``WebHook-Allowed-Origin`` = that origin and ``WebHook-Allowed-Rate: *``; any other origin **403**;
no origin **400**. ``WebHook-Request-Callback`` is never followed.

The key is a *host* key (``infra/azuredeploy.json``: the action group's ``actiongroup`` key opens every
FUNCTION-level route, this one included), and it sits in every action group's URL: so, as ``POST /api/alerts``
(intake16, :mod:`firestop.functions.http_alerts`), **the answer never tells what intake did** (events17). An accepted
event is ``{"index", "id"}`` — its place in the batch and the id the sender gave it — whether it started an incident,
joined an open one, was a repeat or was recorded onto a finished one: no incident id, no outcome, no status link.
(Event Grid reads only the status code of a webhook's answer — 200, 201, 202, 203 or 204 acknowledge the delivery,
anything else or no answer within 30 s is retried, 400/401/403/413 dead-lettered or dropped: "Event Grid message
delivery and retry", learn.microsoft.com/azure/event-grid/delivery-and-retry, and Learn's training unit "Configure
delivery and retry policies" for the list of success codes — so a per-event delivery id or status link, as the
alerts route hands out, would serve no sender and cost a seal per event: none is given.) What intake did goes on the
log for operators: one ``event_intake`` line per accepted event (``outcome``, ``incident_id``, ``alert_id``,
``correlated_to``, ``part_of``, ``follows``, ``detail`` = ``events[<index>] id=<id>``) and, on the request's line, the
same fields for a delivery of one accepted event (Event Grid's default: one event per delivery, "Event Grid message
delivery and retry", output batching), else ``outcome=batch`` with the count of each outcome. Whether an event is
accepted, ignored or rejected depends on that event (and a Graph alert it names, on Graph) — never on the store or on
what this instance took before: the 413 below counts every Graph event of the batch, fetched before or not.

``POST`` answers (JSON; :mod:`firestop.intake.eventgrid` reads the delivery):

* **200** ``{"validationResponse": code}`` for the subscription validation event (Event Grid schema; the
  ``Microsoft.EventGrid.SubscriptionValidationEvent`` handshake: ``data.validationCode`` echoed as
  ``validationResponse``, Event Grid system events reference ``SubscriptionValidationEventData`` /
  ``SubscriptionValidationResponse``; its ``validationUrl`` is never followed);
* **200** ``{"accepted": [{"index", "id"}], "ignored": [{"index", "id", "type"}]}``
  when every event was accepted or is not Firestop's (ignored types, a Compliant state, another secret):
  each accepted event went through the alert intake (dedupe + correlation, :mod:`firestop.intake.accept`),
  so a redelivered event (same id) is a duplicate and starts nothing — exactly once (the log says ``duplicate``);
* **400** ``{"error": "events[<i>].<field>", "index", "field", "reason", "fix", "accepted", "ignored",
  "rejected": [{"index", "field", "reason"}]}`` when some events are malformed: every *valid* event of the
  batch is still accepted (and listed), so nothing is lost; Event Grid does not retry a 400
  (``delivery-and-retry.md``: 400 is not retried), and the named event is the sender's to fix;
* a ``Microsoft.Graph.AlertCreated`` event is fetched by id (msgraph-sdk, ``GET /v1.0/security/alerts_v2/{id}``,
  application permission ``SecurityAlert.Read.All``) before intake. Graph's answer for that one alert affects that
  event only: a 404 or another 4xx naming the request (400, 405, 409, 410, 422 …) rejects it (``field``
  ``data.resourceData.id``, in the 400 above — the batch's other events are accepted as usual); a 401/403
  (Firestop's own sign-in or permission) records it by id only (unrouted, logged); a 408/429 or 5xx (transient:
  Microsoft Graph "throttling" guidance says retry) or a network failure is the 503 below, and the retried batch's
  accepted events are duplicates;
* Graph fetches are bounded per delivery (RT6-04: a 5,000-event batch was 5,000 sequential Graph calls, far past
  the 30 s Event Grid waits for an answer — it then retries the whole batch, which did it all again): more than
  :data:`MAX_GRAPH_FETCHES` ``Microsoft.Graph.AlertCreated`` events still to fetch in one delivery is **413**
  ``{"error": "$", "reason", "fix", "accepted", "ignored", "rejected", "not_fetched": [{"index", "id"}] (at most 100),
  "not_fetched_count"}``: **no** Graph alert is fetched, and every event that needs no fetch (the batch's other
  events) is accepted first — so the 413 loses only what it names. A Graph event this instance accepted before is
  named there too (events17: listing it as accepted told a key holder it had been delivered here); nothing is lost by
  it, its replay is a duplicate.
  Why 413 and not 503 (Learn, "Event Grid message delivery and retry", ``azure/event-grid/delivery-and-retry``): a
  webhook's 400/413/401/403 is not retried — the batch is dead-lettered when the subscription has a dead-letter
  destination, else dropped — while any other failure retries the *whole* delivery (a delivery is one request:
  Event Grid waits 30 s for its answer, then retries on a schedule of 10 s, 30 s, 1 min … up to 30 attempts or
  24 h). A 503 would bring the same over-large batch back up to 30 times, each one over the bound again: a retry loop
  that costs a dedupe pass of every event per attempt and ends in the same dead-letter a day later. The 413 ends it at
  once; the events accepted here stay accepted (intake dedupes by event id, so when the dead-lettered batch is
  replayed — in batches within the bound — they are ``duplicate`` and start nothing: exactly once); what is not
  fetched is in the dead-letter destination the fix names, with the subscription's ``maxEventsPerBatch``. Before,
  the 413 came before anything was accepted, and a batch without a dead-letter destination lost its other events too;
  once the fetches of a delivery have taken :data:`MAX_GRAPH_SECONDS` (below Event Grid's 30 s), the events not yet
  handled are answered **503** (``Retry-After: 5``, body ``{"accepted", "ignored", "rejected", "deferred":
  [{"index", "id"}]}``) so Event Grid redelivers the batch: the accepted events are duplicates then, and a Graph alert
  this instance already accepted is not fetched again (:data:`_FETCHED`, in-process, bounded) — never dropped;
* **400**/**413**/**415** for a delivery that is not JSON, too large (1 MB, 5000 events) or not JSON;
* **401** without the function key (the host); **503** (``Retry-After: 5``) when the store is down:
  Event Grid retries (events accepted before the outage stay accepted and are ``duplicate`` on retry).
"""

from __future__ import annotations

import json
import logging
import time

import azure.durable_functions as df
import azure.functions as func

from firestop.telemetry.logs import event as log_event
from firestop.telemetry.requests import note, observed

bp = df.Blueprint()
log = logging.getLogger("firestop.intake.eventgrid")
ALLOWED_ORIGINS = ("eventgrid.azure.net",)
#: Graph AlertCreated events one delivery may carry (each is one ``GET /security/alerts_v2/{id}``); more is 413.
MAX_GRAPH_FETCHES = 50
#: Wall seconds of Graph fetches per delivery; the rest is answered 503 for redelivery. Event Grid waits 30 s for an
#: answer, then counts the delivery failed and retries it ("Event Grid message delivery and retry").
MAX_GRAPH_SECONDS = 20.0
_clock = time.monotonic
#: Graph alerts this instance fetched and accepted (task hub scope + event alert id -> the incident id intake named, for
#: the log line), so a redelivered batch
#: (after a 503 for its deferred events) does not fetch them again: at most :data:`_FETCHED_MAX`, oldest dropped.
_FETCHED: dict[str, str | None] = {}
_FETCHED_MAX = 10_000


def _json(status: int, body: dict, headers: dict | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json", headers=headers or {})


def _options(req: func.HttpRequest) -> func.HttpResponse:
    origin = (req.headers.get("webhook-request-origin") or "").strip().lower()
    if not origin:
        return _json(400, {"error": "WebHook-Request-Origin", "reason": "missing",
                           "fix": "an abuse-protection preflight names its origin (CloudEvents http-webhook §4)"})
    if origin not in ALLOWED_ORIGINS:
        return _json(403, {"error": "WebHook-Request-Origin", "reason": f"origin {origin[:64]!r} is not Event Grid",
                           "fix": "only eventgrid.azure.net delivers here"})
    return func.HttpResponse(status_code=200, headers={"WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"})


async def _accept_one(client, alert, factory, settings, key):
    from firestop.functions.intake_call import accept

    return await accept(client, alert, factory=factory, settings=settings, key=key)


class _GraphAlertRefused(Exception):
    """Graph answered a 4xx that concerns this event's alert (404 or another non-transient one): the event alone
    is rejected. ``status``: Graph's HTTP status."""

    def __init__(self, graph_id: str, status: int) -> None:
        super().__init__(graph_id, status)
        self.status = status

    @property
    def reason(self) -> str:
        return ("no such Graph security alert" if self.status == 404
                else f"Microsoft Graph refused the fetch of this security alert (HTTP {self.status})")


#: Graph statuses that are Firestop's own standing permission, not the event's (403: ``SecurityAlert.Read.All`` not
#: granted): the alert is recorded by id only — retrying cannot help until someone grants it.
_GRAPH_NOT_PERMITTED = frozenset({403})
#: 4xx statuses that are transient: answered 503 so Event Grid retries the delivery. 401 is the app's token failing
#: (expired between issue and use, revoked, a continuous-access-evaluation claims challenge, a short Entra outage):
#: recording the alert by id only would leave a real alert uncontained with nothing retrying it (red team 6, F1).
_GRAPH_TRANSIENT_4XX = frozenset({401, 408, 429})


def _graph_alert(factory, alert) :
    """The alert a ``Microsoft.Graph.AlertCreated`` event names, fetched by id through msgraph-sdk
    (``GET /v1.0/security/alerts_v2/{id}``, :mod:`firestop.alerts.sources.graph`) and normalised; the event's own
    record-only alert when the fetch is refused to Firestop (403: ``SecurityAlert.Read.All`` not granted).
    Raises :class:`_GraphAlertRefused` for a 404 and any other non-transient 4xx (that event alone is rejected);
    anything else — 401 (the app's token), 408, 429, 5xx, the network, a body that is not JSON — propagates
    (answered 503, Event Grid retries).

    The answer is read as Graph's JSON (:func:`firestop.azure.graph.get_json`: the SDK's own request and errors)
    and handed to :func:`~firestop.alerts.sources.graph.graph_alert`, which reads that JSON. Deserialising it into
    msgraph's ``security.Alert`` model (``.get()``) cost 2.8 s of CPU for a process's first Graph alert, only for
    the model to be written back to the same JSON."""
    from firestop.alerts.sources.graph import graph_alert
    from firestop.azure.graph import get_json

    graph_id = alert.context["graphAlertId"]

    async def get(client):
        return await get_json(client.security.alerts_v2.by_alert_id(graph_id))

    try:
        body = factory.graph(get)
    except Exception as exc:  # noqa: BLE001 — msgraph raises ODataError with the status code
        status = getattr(exc, "response_status_code", None)
        if status in _GRAPH_NOT_PERMITTED:
            log.warning("Graph alert %r not readable (%s): recorded by id only", graph_id, status)
            return alert
        if isinstance(status, int) and 400 <= status < 500 and status not in _GRAPH_TRANSIENT_4XX:
            log.warning("Graph alert %r: Graph answered %s; that event is rejected", graph_id, status)
            raise _GraphAlertRefused(graph_id, status) from None
        raise
    return graph_alert(body)


def _log_intake(done: list[tuple]) -> None:
    """What intake did with each accepted event, for operators only (the answer does not say it, module docstring):
    one ``event_intake`` line per event (``outcome``, ``incident_id``, ``alert_id``, ``correlated_to``, ``part_of``,
    ``follows``, ``detail`` = ``events[<index>] id=<event id>``) on this module's logger, and on the request's line
    (:mod:`firestop.telemetry.requests`) the same fields when the delivery held one accepted event (Event Grid's
    default batch), else ``outcome=batch`` and the count of each outcome in ``detail``."""
    for index, event_id, alert_id, kind, incident, outcome in done:
        log_event(log, "event_intake", {
            "route": "post_events", "outcome": kind, "incident_id": incident, "alert_id": alert_id,
            "correlated_to": getattr(outcome, "correlated_to", None), "part_of": getattr(outcome, "part_of", None),
            "follows": getattr(outcome, "follows", None), "detail": f"events[{index}] id={event_id}"})
    if len(done) == 1:
        _, _, alert_id, kind, incident, outcome = done[0]
        note(outcome=kind, incident_id=incident, alert_id=alert_id, correlated_to=getattr(outcome, "correlated_to", None),
             part_of=getattr(outcome, "part_of", None), follows=getattr(outcome, "follows", None))
    elif done:
        counts: dict[str, int] = {}
        for entry in done:
            counts[entry[3]] = counts.get(entry[3], 0) + 1
        note(outcome="batch", detail=", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())))


async def _post(req: func.HttpRequest, client) -> func.HttpResponse:
    from firestop.alerts.errors import AlertPayloadError
    from firestop.alerts.sources.eventgrid import EventError, event_alert
    from firestop.azure.clients import get_client_factory
    from firestop.intake import CorrelationConfigError, CorrelationSettings, IntakeUnavailable
    from firestop.intake.eventgrid import DeliveryError, read_delivery
    from firestop.settings import get_settings
    from firestop.trust.seal import SealKeyError, load_seal_key

    try:
        delivery = read_delivery(req.get_body(), req.headers.get("content-type"))
    except DeliveryError as exc:
        return _json(exc.status, exc.as_dict())
    if delivery.validation_code is not None:
        log.info("Event Grid subscription validation answered")
        return _json(200, {"validationResponse": delivery.validation_code})
    try:
        settings = CorrelationSettings.from_env()
        key = load_seal_key()
    except (CorrelationConfigError, SealKeyError) as exc:
        log.error("events not accepted: %r", str(exc))
        return _json(503, {"error": "unavailable", "reason": "app setting", "fix": "Event Grid retries"}, {"Retry-After": "5"})
    factory = get_client_factory()
    secret_name = get_settings().key_secret_name
    accepted, ignored, rejected, deferred = [], [], [], []
    done: list[tuple] = []  # (index, event id, alert id, outcome, incident id, Outcome | None): for the log only
    parsed = []
    for index, event in enumerate(delivery.events):
        try:
            parsed.append((index, event, event_alert(event, cloud_events=delivery.cloud_events, secret_name=secret_name)))
        except EventError as exc:
            rejected.append({"index": index, "field": exc.field, "reason": exc.reason})
    bindings = getattr(client, "_orchestration_bindings", None)  # one memo per task hub and backend
    scope = f"{getattr(client, 'task_hub_name', '')}|{getattr(bindings, 'rpc_base_url', '')}|"
    # every Graph event of the delivery counts, fetched before or not: whether a batch is refused depends on the batch
    # alone, never on what this instance accepted earlier (events17: else a 413 or not told whether a Graph alert id
    # had been delivered)
    graph = sum(1 for _, _, alert in parsed if alert is not None and alert.context.get("graphAlertId"))
    over = graph > MAX_GRAPH_FETCHES  # 413: fetch none, accept what needs no fetch (module docstring)
    not_fetched: list[dict] = []
    started = _clock()
    for index, event, alert in parsed:
        event_id = str(event.get("id"))[:128]
        if alert is not None and alert.context.get("graphAlertId"):
            if over:  # before the memo: an over-large batch is answered alike whatever this instance accepted before
                not_fetched.append({"index": index, "id": event_id})
                continue
            if scope + alert.alert_id in _FETCHED:  # fetched and accepted by an earlier attempt of this delivery
                remembered = _FETCHED[scope + alert.alert_id]
                accepted.append({"index": index, "id": event_id})
                done.append((index, event_id, alert.alert_id, "duplicate", remembered, None))
                continue
            if _clock() - started >= MAX_GRAPH_SECONDS:
                deferred.append({"index": index, "id": event_id})
                continue
            event_key = scope + alert.alert_id
            try:
                alert = _graph_alert(factory, alert)
            except _GraphAlertRefused as exc:
                rejected.append({"index": index, "field": "data.resourceData.id", "reason": exc.reason})
                continue
            except AlertPayloadError as exc:
                rejected.append({"index": index, "field": f"(Graph alert).{exc.field}", "reason": exc.reason})
                continue
        else:
            event_key = None
        if alert is None:
            kind = event.get("type" if delivery.cloud_events else "eventType")
            ignored.append({"index": index, "id": event_id, "type": str(kind)[:128]})
            continue
        try:
            outcome = await _accept_one(client, alert, factory, settings, key)
        except IntakeUnavailable as exc:
            log.warning("event %r not accepted, answering 503: %r", event_id, str(exc))
            _log_intake(done)
            return _json(503, {"error": "unavailable", "reason": "the event could not be recorded",
                               "fix": "Event Grid retries; accepted events are duplicates on retry",
                               "accepted": accepted}, {"Retry-After": "5"})
        accepted.append({"index": index, "id": event_id})  # alike whatever intake did (module docstring)
        done.append((index, event_id, alert.alert_id, outcome.kind.value, outcome.instance_id, outcome))
        if event_key is not None:
            _FETCHED[event_key] = outcome.instance_id
            while len(_FETCHED) > _FETCHED_MAX:
                _FETCHED.pop(next(iter(_FETCHED)))
    rejected.sort(key=lambda r: r["index"])
    _log_intake(done)
    if over:
        log.warning("Event Grid delivery of %d events with %d Graph alerts to fetch: none fetched (413, at most %d); "
                    "%d other event(s) accepted", len(delivery.events), graph, MAX_GRAPH_FETCHES, len(accepted))
        return _json(413, {"error": "$", "field": "$", "status": 413,
                           "reason": f"{graph} Microsoft.Graph.AlertCreated events in one delivery (at most {MAX_GRAPH_FETCHES}: "
                                     "each is one Microsoft Graph fetch, and Event Grid waits 30 s for the answer); none was "
                                     "fetched, every other event of the batch was accepted",
                           "fix": f"set the Graph event subscription's maxEventsPerBatch to at most {MAX_GRAPH_FETCHES} and give "
                                  "it a dead-letter destination; replay this batch from there (what was accepted is a duplicate then)",
                           "accepted": accepted, "ignored": ignored, "rejected": rejected[:100],
                           "not_fetched": not_fetched[:100], "not_fetched_count": len(not_fetched)})
    log.info("Event Grid delivery: %d accepted, %d ignored, %d rejected, %d deferred", len(accepted), len(ignored),
             len(rejected), len(deferred))
    if deferred:
        log.warning("Graph fetches of this delivery took %d s or more: %d event(s) deferred, answering 503 for redelivery",
                    MAX_GRAPH_SECONDS, len(deferred))
        return _json(503, {"error": "unavailable", "reason": f"Graph alerts not fetched within {MAX_GRAPH_SECONDS:g} s",
                           "fix": "Event Grid retries; accepted events are duplicates on retry", "accepted": accepted,
                           "ignored": ignored, "rejected": rejected[:100], "deferred": deferred}, {"Retry-After": "5"})
    if rejected:
        first = rejected[0]
        return _json(400, {"error": f"events[{first['index']}].{first['field']}", "index": first["index"], "field": first["field"],
                           "reason": first["reason"], "fix": "fix the named event; every valid event of the batch was accepted",
                           "status": 400, "accepted": accepted, "ignored": ignored, "rejected": rejected[:100]})
    return _json(200, {"accepted": accepted, "ignored": ignored})


@bp.route(route="events", methods=["POST", "OPTIONS"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
@observed
async def post_events(req: func.HttpRequest, client) -> func.HttpResponse:
    try:
        if req.method.upper() == "OPTIONS":
            return _options(req)
        return await _post(req, client)
    except Exception:  # noqa: BLE001 — Event Grid retries on 503; a 500 would be retried too but says nothing
        log.exception("internal failure in /api/events, answering 503")
        return _json(503, {"error": "unavailable", "reason": "internal error", "fix": "Event Grid retries"}, {"Retry-After": "5"})

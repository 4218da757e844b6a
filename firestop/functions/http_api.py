"""The responders' HTTP API: people, authenticated by App Service authentication, with a role from :mod:`firestop.trust`.

Auth level ANONYMOUS for the Functions host: the function key is what alert senders hold (``POST /api/alerts``),
never a person's credential; a person calls with their Entra access token (``Authorization: Bearer``, the CLI's
remote mode :mod:`firestop.cli.remote`) or the sign-in cookie (the console), which App Service authentication
turns into ``X-MS-CLIENT-PRINCIPAL`` — and every route below checks the caller and its role itself.

| route | role | does |
|---|---|---|
| ``POST /api/runbooks/{name}`` | responder | body ``{"target", "params", "mode": "plan" (default) | "apply" | "run"}`` → the runbook's answer (:mod:`runbooks.dispatch`); 200, or 422 with the error for a failed run. ``run`` (the CLI's ``runbook run --app``) applies then verifies under one run id: ``{"ok" (verified), "apply", "verify" (null when the apply failed), "incident_id", "step_id", "run_id", "requested_by"}``, 422 when the apply failed. A Microsoft Graph runbook (``graph_permissions``) applied or run by a caller without the admin role: 403 unless ``target`` is an Azure OpenAI account on which the principal holds a role assignment (:mod:`runbooks.graph_scope`, RT18-02); a plan is answered with ``run_refused`` ``{"error", "reason", "fix"}`` and a note instead |
| ``GET /api/incidents`` | reader | one page of incident views (``?status=`` filter; ``?top=`` 1..500 rows, default 100; ``?continuation=`` the previous page's ``X-Firestop-Continuation`` header, present while more follow — 400 naming ``top``/``continuation`` otherwise; a page reads at most ``top`` filed records: :func:`page_views`), newest created first, of every page of the backend's listing up to its bound (:mod:`firestop.instance_listing`); header ``X-Firestop-More-Not-Shown: true`` when it stopped there; an incident whose filed record cannot be read is a row ``{"incident_id", "status": "unreadable", "unreadable": true, "reason", "created_at"}`` (kept whatever ``?status=`` asks: its status is unknown) and header ``X-Firestop-Unreadable-Records: <count>`` (:func:`listed_views`); 503 when the backend does not list |
| ``GET /api/incidents/{id}`` | reader | one incident view (:mod:`firestop.lifecycle.view`) |
| ``POST /api/incidents/{id}/approvals/{step}`` | approver | body ``{"decision": "approve"|"reject", "comment"?}`` (comment at most 1,000 characters) → 202 once sent to the waiting orchestration; 403 naming why, nothing sent, when the caller is not among the step's approvers (or the two-person rule) |
| ``POST /api/incidents/{id}/stop`` | responder | body ``{"reason"}`` (1–500 characters) → 202 ``{"incident_id", "stopping": true, "by"}`` once sent |

Every route declares the role above with ``@requires`` (:mod:`firestop.trust.route_roles`) and first calls
:func:`firestop.trust.authorize` with that declared role.
Errors are JSON ``{"error": <field>, "reason", "fix"}``: 400 bad body or
malformed principal, 401 no believable caller (no principal; on Azure without
App Service authentication, naming ``WEBSITE_AUTH_ENABLED``; locally a peer
that is not loopback), 403 the caller lacks the route's role (naming it), is
not among the step's approvers (or two-person rule), or asked for a runbook
that only an incident's own orchestration runs, 404 unknown incident or
runbook, 409 the incident is not waiting for that step (or, for a stop, has
already finished), 503 the app holds no usable seal key (``FIRESTOP_SEAL_KEY``).

Decisions and stops are sent **sealed** (:mod:`firestop.trust.seal`): the
decision ``{"incident_id", "step", "requested_at", "decision", "by", "groups",
"comment", "decision_id", "at"}`` (``by``/``groups`` from the authenticated
caller, never from the body), the stop ``{"incident_id", "by", "groups",
"reason", "stop_id", "at"}``. The orchestrator counts nothing without the
seal, so an event raised with the Durable system key does not approve or
stop anything. The orchestrator records a stop on the timeline with who and
why, runs no further step and files the record with status ``stopped``.

Runbook calls act for no incident: a manual run gets the id the CLI's
``runbook run`` uses (incident ``manual-<date>``, step ``api-run-<HHMMSS>-<hex>``,
:func:`runbooks.dispatch.manual_ids`), so it can never append to a real
incident's ledger or file its record; ``incident_id`` in the body is refused.
Runbooks marked ``incident_only`` (``records.file``, ``notify.webhook``,
``evidence.*``: they write an incident's record, notifications or evidence
ledger) are refused with 403. Runbook calls and decisions are logged with the
caller's object ID (``%r``); the ledger entry of a manual apply carries
``requested_by``; decisions land on the incident timeline.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, Callable

import azure.durable_functions as df
import azure.functions as func

from firestop.lifecycle.incident import MAX_STOP_REASON  # noqa: F401 — the longest stop reason kept (the CLI's bound too)
from firestop.telemetry.requests import observed

from firestop.trust import Role, TrustError, authorize, peer_address
from firestop.trust.route_roles import declared_role, requires

bp = df.Blueprint()
log = logging.getLogger("firestop.api")


#: Response header of ``GET /api/incidents`` when the backend held more instances than it lists
#: (:data:`firestop.instance_listing.MAX_PAGES` pages): "more not shown".
MORE_HEADER = "X-Firestop-More-Not-Shown"
#: Header of ``GET /api/incidents``: how many rows are incidents whose filed record cannot be read (:func:`listed_views`).
UNREADABLE_HEADER = "X-Firestop-Unreadable-Records"
#: Header of ``GET /api/incidents``: the token of the next page (send it back as ``?continuation=``); absent on the last.
CONTINUATION_HEADER = "X-Firestop-Continuation"
#: Rows of one ``GET /api/incidents`` page: ``?top=`` 1..MAX_TOP, default DEFAULT_TOP. A finished incident's row reads
#: its filed record (one records-store read each): a page reads at most ``top`` of them, whatever ``?status=`` asks.
DEFAULT_TOP = 100
MAX_TOP = 500
_MAX_CONTINUATION = 300


def _created(status: Any):
    from datetime import datetime, timezone

    when = getattr(status, "created_time", None)
    if not isinstance(when, datetime):
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _order_key(status: Any) -> tuple[str, str]:
    return (_created(status).isoformat(), str(status.instance_id))


def continuation_token(key: tuple[str, str]) -> str:
    """The opaque ``continuation`` of a page that ended at the incident with order key ``key`` (creation time ISO 8601,
    instance id): URL-safe base64 of its JSON."""
    import base64

    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def parse_continuation(token: str) -> tuple[str, str] | None:
    """The order key in ``token`` (:func:`continuation_token`), None when it is not one (the route answers 400)."""
    import base64
    import binascii

    if not token or len(token) > _MAX_CONTINUATION:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not (isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)):
        return None
    return key[0], key[1]


#: Runtime statuses whose view reads no record (it is the orchestration's custom status): :func:`page_views`.
_OPEN = ("Pending", "Running")


def page_views(statuses: list[Any], *, top: int, after: tuple[str, str] | None, wanted: str | None,
               view_of: Callable[[Any], dict[str, Any]]) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """(one page of incident views, newest created first, the order key to continue after or None on the last page).

    ``statuses``: the backend's listing (Durable statuses); ``after``: a continuation's key — only incidents older than
    it (creation time, then instance id) are looked at; ``wanted``: a ``?status=`` (an unreadable row stays whatever it
    asks, its status being unknown); ``view_of``: a status → its view (:func:`listed_views`, one record read for a
    finished incident). A page stops at ``top`` rows or ``top`` views made, so it reads at most ``top`` records; a
    status that cannot match ``wanted`` by its runtime status alone (an open incident for a finished status, or the
    reverse) costs no view. Every incident is on exactly one page: complete, however many there are."""
    from firestop.lifecycle.view import AWAITING_APPROVAL, UNREADABLE

    ordered = sorted(statuses, key=_order_key, reverse=True)
    if after is not None:
        ordered = [s for s in ordered if _order_key(s) < after]
    rows: list[dict[str, Any]] = []
    made = 0
    last: tuple[str, str] | None = None
    for status in ordered:
        if len(rows) >= top or made >= top:
            return rows, last
        last = _order_key(status)
        runtime = getattr(status.runtime_status, "value", status.runtime_status)
        if wanted is not None and (runtime in _OPEN) != (wanted in (AWAITING_APPROVAL, "running")):
            continue  # cannot match: an open incident is running or awaiting approval, a finished one never is
        view = view_of(status)
        made += 1
        if wanted is None or view.get("status") in (wanted, UNREADABLE):
            rows.append(view)
    return rows, None


def _json(status: int, body: Any) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, default=str), status_code=status, mimetype="application/json")


def _error(status: int, field: str, reason: str, fix: str, code: str | None = None) -> func.HttpResponse:
    """``{"error": <field>, "reason", "fix"}`` plus ``"code"`` when given (a refusal's kind, e.g. an undo's
    ``nothing_to_undo`` / ``busy`` / ``relied_on``, which remote mode maps to the local command's exit code)."""
    return _json(status, {"error": field, "reason": reason, "fix": fix, **({"code": code} if code else {})})


def records_unreadable(exc: Exception) -> func.HttpResponse:
    """503 for a records store that cannot be listed or a filed record that cannot be read (``StoreError`` of
    :func:`firestop.records.store.filed_record`): never the orchestration's older word shown as the incident's
    current one. The store's message (container, error code; no secret) is logged, not answered."""
    log.error("records store cannot be read: %r", str(exc))
    return _error(503, "records", "the app's records store cannot be read",
                  "retry; check the app's storage settings (python -m firestop doctor)")


def _body(req: func.HttpRequest) -> dict[str, Any] | func.HttpResponse:
    from firestop.boundary import BoundaryError, loads_bounded

    raw = req.get_body() or b"{}"
    try:
        body = loads_bounded(raw)  # size and depth bounded: 413/400, never a RecursionError
    except BoundaryError as exc:
        return _error(exc.status, exc.field, f"body is {exc.reason}" if exc.reason.startswith("not") else exc.reason, exc.fix)
    if not isinstance(body, dict):
        return _error(400, "$", "body is not a JSON object", "send a JSON object")
    return body


def _bad_incident_id(incident_id: str) -> func.HttpResponse | None:
    """400 for an id that is not a Durable instance id (:func:`firestop.boundary.instance_id_problem`), else None."""
    from firestop.boundary import instance_id_problem

    problem = instance_id_problem(incident_id)
    if problem is None:
        return None
    return _error(400, "incident_id", problem, "use an incident id from GET /api/incidents, e.g. inc-33906e911c7aff74")


def _caller(req: func.HttpRequest, action: str):
    """(principal, None) when the caller holds the route's declared role (``@requires``, :func:`firestop.trust.route_roles.declared_role`), else (None, the 400/401/403 answer)."""
    try:
        return authorize(req.headers, declared_role(), peer_address=peer_address(req.headers), action=action), None
    except TrustError as exc:
        return None, _json(exc.status, exc.body())


def _now() -> str:
    """Now (ISO 8601) on the clock the durable host and runbooks use (the sandbox's virtual clock locally)."""
    from firestop.azure.clients import get_client_factory

    return get_client_factory().clock.now().isoformat()


def _incident_caller(req: func.HttpRequest, action: str):
    """(caller, incident id, None) for a route on one incident when the caller holds the route's declared role (``@requires``, :func:`firestop.trust.route_roles.declared_role`) and the id is a
    plausible instance id; else (None, None, the 400/401/403 answer)."""
    caller, denied = _caller(req, action)
    if denied:
        return None, None, denied
    incident_id = req.route_params.get("incident_id", "")
    bad = _bad_incident_id(incident_id)
    return (None, None, bad) if bad else (caller, incident_id, None)


async def _incident_status(client, incident_id: str):
    """The Durable status of incident ``incident_id``, or the 404 answer when there is no such instance or it is
    not an incident (a step group's sub-orchestration or an entity has an instance id too)."""
    from firestop.lifecycle import ORCHESTRATOR_NAME

    status = await client.get_status(incident_id)
    if status is None or status.runtime_status is None or status.name != ORCHESTRATOR_NAME:
        return _error(404, "incident_id", f"no incident {incident_id!r}", "list incidents with GET /api/incidents")
    return status


def _sealed(seal: Any, event: dict[str, Any], what: str):
    """(sealed event, None), or (None, the 503 answer) when the app holds no seal key (logged with ``what``)."""
    from firestop.trust.seal import SealKeyError

    try:
        return seal(event), None
    except SealKeyError as exc:
        from firestop.settings import get_settings
        from firestop.storage.locations import logical_text

        log.error("%s not sent: %s", what, exc)  # (the log keeps the path; the answer names the file logically: A17-06)
        return None, _error(503, "FIRESTOP_SEAL_KEY", logical_text(exc, get_settings()),
                            "set the app setting FIRESTOP_SEAL_KEY (a Key Vault reference)")


def _status_view(status) -> dict[str, Any]:
    """The incident view of a Durable status (the filed record of a finished one). Raises StoreError when the
    records store cannot be read (:func:`records_unreadable` answers it)."""
    from firestop.lifecycle.view import incident_view, with_containment

    from firestop.records.store import filed_view
    from firestop.settings import get_settings

    from firestop.storage.locations import logical_files

    runtime = getattr(status.runtime_status, "value", status.runtime_status)
    incident = incident_view(status.instance_id, runtime, status.custom_status, status.output, status.created_time, status.last_updated_time)
    if runtime == "Completed" and isinstance(status.output, dict):
        # the filed record carries undos done afterwards; one ledger read and listing for it and its files (R16-06)
        settings = get_settings()
        filed = filed_view(settings, status.instance_id, status.output.get("record_files"))
        if filed is not None:  # as the CLI's view (firestop.cli.incidents.view), its files' logical locations: the
            # app never tells a caller its paths or its storage account (firestop.storage.locations)
            return with_containment({**filed[0], "record_files": logical_files(filed[1], settings)})
        incident = {**incident, "record_files": logical_files(incident.get("record_files"), settings)} if "record_files" in incident else incident
        return with_containment(incident)  # what holds now after an undo (README: the HTTP API)
    return incident


async def with_waiting_variants(client, view: dict[str, Any]) -> dict[str, Any]:
    """trust16: ``view`` (:func:`_status_view`) with its variants on the waiting card
    (:func:`firestop.lifecycle.view.with_variants`): while a responder is asked, the incident's tally entity is read
    (``read_entity_state``, one GET of the Durable entity; nothing is signalled, nothing in the incident's history).
    A read that fails leaves the view as it was (logged): the card is shown, without the variants."""
    if not view.get("pending_approval"):
        return view
    from firestop.lifecycle.tally import TALLY_ENTITY
    from firestop.lifecycle.view import with_variants

    try:
        answer = await client.read_entity_state(df.EntityId(TALLY_ENTITY, str(view.get("incident_id"))))
    except Exception as exc:  # noqa: BLE001 — the store unreachable: the card without its variants, not a 503
        log.warning("tally of %r not read for its card: %s", view.get("incident_id"), type(exc).__name__)
        return view
    state = getattr(answer, "entity_state", None)
    if isinstance(state, str):
        try:
            state = json.loads(state)
        except ValueError:
            return view
    return with_variants(view, state) if getattr(answer, "entity_exists", False) else view


#: What a list row says of an unreadable record (the store's own message — container, path, error code — is logged only).
UNREADABLE_REASON = "its filed record cannot be read from the app's records store"


def listed_views(statuses) -> list[dict[str, Any]]:
    """The incident views of ``statuses`` for a list *for display* (``GET /api/incidents``, the console's front page):
    one whose filed record cannot be read is :func:`firestop.lifecycle.view.unreadable_row` (logged with the store's
    message) instead of failing the whole list. Safety decisions never read this (an undo refuses on an unreadable
    record: :class:`firestop.lifecycle.undo.UndoUnchecked`)."""
    from firestop.lifecycle.view import unreadable_row
    from firestop.storage import StoreError

    views = []
    for status in statuses:
        try:
            views.append(_status_view(status))
        except StoreError as exc:
            log.error("records: the filed record of %r cannot be read, listed as unreadable: %r", status.instance_id, str(exc))
            views.append(unreadable_row(status.instance_id, status.created_time, UNREADABLE_REASON))
    return views


@bp.route(route="runbooks/{name}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.responder)
def run_runbook_http(req: func.HttpRequest) -> func.HttpResponse:
    from firestop.azure.clients import get_client_factory
    from runbooks import get_runbook, runbook_names
    from runbooks.dispatch import execute, manual_ids

    name = req.route_params.get("name", "")
    caller, denied = _caller(req, f"runbook {name}")
    if denied:
        return denied
    public = [n for n in runbook_names() if not type(get_runbook(n)).incident_only]
    if name not in runbook_names():
        return _error(404, "name", f"no runbook named {name!r}", f"use one of: {', '.join(public)}")
    if name not in public:
        log.warning("refused runbook %r for %r: incident-only", name, caller.object_id)
        return _error(403, "name", f"{name} is run only by an incident's own orchestration (it writes that incident's "
                      "record, notifications or evidence ledger); it is not callable through the API",
                      f"it runs as a playbook step of the incident; through the API use one of: {', '.join(public)}")
    body = _body(req)
    if isinstance(body, func.HttpResponse):
        return body
    unknown = sorted(set(body) - {"target", "params", "mode"})
    if "incident_id" in unknown:
        return _error(400, "incident_id", "a runbook call through the API acts for no incident: it gets its own id "
                      "(manual-<date>), so it cannot write into an incident's ledger or record",
                      "drop incident_id; an incident's own steps run from its orchestration")
    if unknown:
        return _error(400, unknown[0], f"unknown field {unknown[0]!r}", 'send {"target", "params", "mode"}')
    mode = body.get("mode", "plan")
    if mode not in ("plan", "apply", "run"):
        return _error(400, "mode", f"{mode!r} is not a mode", "use plan (dry-run, the default), apply, or run (apply then verify)")
    if not isinstance(body.get("params", {}), dict):
        return _error(400, "params", "params must be a JSON object", 'e.g. {"mode": "deny_by_default"}')
    scope = graph_scope_check(caller, name, body.get("target"), body.get("params") or {}, mode)
    if isinstance(scope, func.HttpResponse):
        return scope
    incident, step = manual_ids(get_client_factory().clock.now(), "api")
    log.info("runbook %r %s on %r requested by %r as %s/%s", name, mode, body.get("target"), caller.object_id, incident, step)
    request = {"runbook": name, "target": body.get("target"), "params": body.get("params") or {},
               "incident_id": incident, "step_id": step, "requested_by": caller.object_id}
    if mode == "run":  # the CLI's runbook run: apply, then verify by reading the target back, one run id
        applied = execute({**request, "action": "apply"})
        verify = execute({**request, "action": "verify", "applied": applied["result"]}) if applied.get("ok") else None
        answer = {"ok": bool(verify and verify.get("ok")), "apply": applied, "verify": verify, "step_id": step,
                  "run_id": f"{incident}/{step}"}
        answer.update(requested_by=caller.object_id, incident_id=incident)
        return _json(200 if applied.get("ok") else 422, answer)
    answer = execute({**request, "action": mode})
    if scope is not None:  # a plan a run would refuse: the dry-run stays available (it changes nothing) and says so
        answer["run_refused"] = {"error": scope.field, "reason": scope.reason, "fix": scope.fix}
        if isinstance(answer.get("result"), dict):
            from runbooks.graph_scope import PLAN_NOTE

            answer["result"].setdefault("notes", []).append(PLAN_NOTE + scope.message())
    answer["requested_by"] = caller.object_id
    answer["incident_id"] = incident
    return _json(200 if answer.get("ok") else 422, answer)


def graph_scope_check(caller, name: str, target: Any, params: dict[str, Any], mode: str):
    """RT18-02 (:mod:`runbooks.graph_scope`) for a person's manual run (or undo: ``mode`` ``undo``) of runbook ``name``:
    None (allowed, or not a Graph runbook); for ``plan`` the :class:`runbooks.graph_scope.GraphScopeRefusal` a run
    would get (the plan goes on); otherwise the 403 naming the rule and the fix, or 503 when ARM could not be read."""
    from firestop.azure.clients import get_client_factory
    from firestop.azure.errors import RunbookError
    from runbooks import get_runbook
    from runbooks.graph_scope import acts_through_graph, refusal

    runbook = type(get_runbook(name))
    if not acts_through_graph(runbook):
        return None
    try:
        refused = refusal(get_client_factory(), runbook, target if isinstance(target, str) else None, params,
                          admin=Role.admin.value in caller.roles)
    except RunbookError as exc:
        log.warning("runbook %r %s for %r: role assignments on %r unreadable: %r", name, mode, caller.object_id, target, exc.message)
        if mode == "plan":
            return None
        return _error(503, "target", f"the role assignments on the target could not be read ({exc.kind}), so whether "
                      f"{name} may act on this principal is unknown; nothing was done", "retry in a minute")
    if refused is None or mode == "plan":
        return refused
    log.warning("refused runbook %r %s for %r (not admin): %r", name, mode, caller.object_id, refused.reason)
    return _error(403, refused.field, refused.reason, refused.fix)


@bp.route(route="incidents", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.reader)
async def list_incidents_http(req: func.HttpRequest, client) -> func.HttpResponse:
    from firestop.alerts.alert import INCIDENT_ID_PREFIX
    from firestop.instance_listing import InstanceListingError, list_instances
    from firestop.lifecycle import ORCHESTRATOR_NAME

    caller, denied = _caller(req, "list incidents")
    if denied:
        return denied
    wanted = req.params.get("status")
    if wanted:
        from firestop.lifecycle.view import INCIDENT_STATUSES, status_refusal

        if wanted not in INCIDENT_STATUSES:  # as incident list --status: a typo is 400, never an empty list
            why, fix = status_refusal(wanted[:80]).rsplit("; use ", 1)  # the fixed suffix: the value may hold "; use " (R17-01)
            return _error(400, "status", why, f"use {fix}, or leave status out for every incident")
    from firestop.lifecycle.view import UNREADABLE

    raw_top = req.params.get("top")
    if raw_top is None:
        top = DEFAULT_TOP
    elif not (raw_top.isascii() and raw_top.isdigit() and len(raw_top) <= 4 and 1 <= int(raw_top) <= MAX_TOP):
        return _error(400, "top", f"{raw_top[:20]!r} is not a number of incidents from 1 to {MAX_TOP}",
                      f"leave top out for {DEFAULT_TOP}, or give 1..{MAX_TOP}")
    else:
        top = int(raw_top)
    after = None
    if req.params.get("continuation") is not None:
        after = parse_continuation(req.params["continuation"])
        if after is None:
            return _error(400, "continuation", "not a continuation token this app gave",
                          f"send back the {CONTINUATION_HEADER} header of the previous page, or leave continuation out")
    try:  # every page up to the bound (the SDK's get_status_all reads one page: RT7)
        # incidents only: the extension lists entity instances too (@name@key, one per resource and incident, for
        # good: see firestop.instance_listing), which would fill the page bound and hide incidents
        listing = await list_instances(client, instance_id_prefix=INCIDENT_ID_PREFIX)
    except InstanceListingError as exc:
        return _error(503, "backend", f"the Durable backend did not list instances ({exc.status})",
                      "retry in a few seconds")
    views, last = page_views([s for s in listing.statuses if s.name == ORCHESTRATOR_NAME], top=top, after=after,
                             wanted=wanted or None, view_of=lambda status: listed_views([status])[0])
    response = _json(200, views)
    if last is not None:
        response.headers[CONTINUATION_HEADER] = continuation_token(last)
    if not listing.complete:  # the body stays a list; the header says more were not shown
        response.headers[MORE_HEADER] = "true"
    unreadable = sum(1 for v in views if v.get("status") == UNREADABLE)
    if unreadable:
        response.headers[UNREADABLE_HEADER] = str(unreadable)
    return response


@bp.route(route="incidents/{incident_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.reader)
async def get_incident_http(req: func.HttpRequest, client) -> func.HttpResponse:
    caller, incident_id, denied = _incident_caller(req, "show incident")
    if denied:
        return denied
    from firestop.storage import StoreError

    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return status
    try:
        view = _status_view(status)
    except StoreError as exc:
        return records_unreadable(exc)
    return _json(200, await with_waiting_variants(client, view))


@bp.route(route="incidents/{incident_id}/approvals/{step}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.approver)
async def decide_http(req: func.HttpRequest, client) -> func.HttpResponse:
    caller, incident_id, denied = _incident_caller(req, "decide approval")
    if denied:
        return denied
    step = req.route_params.get("step", "")
    body = _body(req)
    if isinstance(body, func.HttpResponse):
        return body
    status, answer = await send_decision(client, caller, incident_id, step, body.get("decision"), body.get("comment"))
    return _json(status, answer)


async def send_decision(client, caller, incident_id: str, step: str, decision: Any, comment: Any) -> tuple[int, dict[str, Any]]:
    """Judge and send ``caller``'s decision on ``incident_id``/``step`` (the approvals route's and the console's):
    ``(202, {"incident_id", "step", "decision", "by"})``, or ``(400|403|404|409|503, {"error", "reason", "fix"})``.

    The caller is judged against the pending approval the orchestration publishes in its custom status
    (``pending_approval``: its ``approvers``, ``two_person``, ``requested_by``) with the orchestrator's own
    :func:`~firestop.lifecycle.approvals.judge`; a refused decision is answered 403 naming why and nothing is raised
    (so it costs the orchestration's history nothing). Only a decision that counts is sealed and raised, to the
    name in ``pending_approval["event"]``."""
    from firestop.lifecycle.approvals import comment_problem, decision_event, judge
    from firestop.playbooks.models import Approval
    from firestop.trust.seal import seal_decision

    def error(status: int, field: str, reason: str, fix: str) -> tuple[int, dict[str, Any]]:
        return status, {"error": field, "reason": reason, "fix": fix}

    if decision not in ("approve", "reject"):
        return error(400, "decision", f"{decision!r} is not a decision", "send approve or reject")
    problem = comment_problem(comment)
    if problem:
        return error(400, "comment", problem, "shorten the comment (link a document for the details)")
    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return status.status_code, json.loads(status.get_body())
    pending = (status.custom_status or {}).get("pending_approval") if isinstance(status.custom_status, dict) else None
    if not pending or pending.get("step") != step:
        waiting = pending.get("step") if pending else None
        return error(409, "step", f"incident {incident_id} is not waiting for approval of {step!r}" + (f" (it waits for {waiting!r})" if waiting else ""),
                     "see pending_approval in GET /api/incidents/{id}")
    data = decision_event(incident_id, pending, decision=decision, by=caller.object_id, groups=list(caller.groups),
                          comment=comment, at=_now(),
                          decision_id=uuid.uuid4().hex)  # tells a new decision from the SDK replaying a buffered one
    verdict, reason, _ = judge(Approval(mode="required", approvers=pending.get("approvers") or [], two_person=bool(pending.get("two_person"))),
                               data, requested_by=pending.get("requested_by") or "")
    if verdict == "refused":
        # Not sent: each event raised grows the orchestration's history, which every episode replays (red team 8,
        # approvals9: 200 refusals, the last 150 cost 3.65 s of CPU). The log line is the refusal's trace; the
        # orchestrator still judges whatever reaches it (this read of pending_approval may be stale).
        log.warning("refused decision on %r/%r by %r, not sent: %r", incident_id, step, caller.object_id, reason)
        return error(403, "approvers", reason, "ask one of the step's approvers")
    sealed, unavailable = _sealed(seal_decision, data, f"decision on {incident_id!r}/{step!r}")
    if unavailable:
        return unavailable.status_code, json.loads(unavailable.get_body())
    await client.raise_event(incident_id, pending["event"], sealed)
    log.info("%s of %r/%r by %r", decision, incident_id, step, caller.object_id)
    return 202, {"incident_id": incident_id, "step": step, "decision": decision, "by": caller.object_id}


@bp.route(route="incidents/{incident_id}/stop", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def stop_http(req: func.HttpRequest, client) -> func.HttpResponse:
    """Stop an incident: a responder action, sealed and recorded by the orchestrator (module docstring)."""
    caller, incident_id, denied = _incident_caller(req, "stop incident")
    if denied:
        return denied
    body = _body(req)
    if isinstance(body, func.HttpResponse):
        return body
    status, answer = await send_stop(client, caller, incident_id, body.get("reason"))
    return _json(status, answer)


async def send_stop(client, caller, incident_id: str, reason: Any) -> tuple[int, dict[str, Any]]:
    """Judge and send ``caller``'s stop of ``incident_id`` (the stop route's and the console's): ``(202, {"incident_id",
    "stopping": True, "by"})``, or ``(400|404|409|503, {"error", "reason", "fix"})`` — 400 a reason that is not a
    non-empty string of at most :data:`MAX_STOP_REASON` characters, 409 an incident that has already finished."""
    from firestop.lifecycle.incident import EVENT_STOP
    from firestop.trust.seal import seal_stop

    def answer(response: func.HttpResponse) -> tuple[int, dict[str, Any]]:
        return response.status_code, json.loads(response.get_body())

    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_STOP_REASON:
        return answer(_error(400, "reason", f"reason must be a non-empty string of at most {MAX_STOP_REASON} characters",
                             'say why, e.g. {"reason": "false positive: planned key rotation"}'))
    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return answer(status)
    runtime = getattr(status.runtime_status, "value", status.runtime_status)
    if runtime not in ("Pending", "Running"):
        return answer(_error(409, "incident_id", f"incident {incident_id} has already finished ({runtime})", "nothing to stop"))
    event = {"incident_id": incident_id, "by": caller.object_id, "groups": list(caller.groups), "reason": reason.strip(),
             "stop_id": uuid.uuid4().hex, "at": _now()}
    sealed, unavailable = _sealed(seal_stop, event, f"stop of {incident_id!r}")
    if unavailable:
        return answer(unavailable)
    await client.raise_event(incident_id, EVENT_STOP, sealed)
    log.info("stop of %r requested by %r: %r", incident_id, caller.object_id, event["reason"])
    return 202, {"incident_id": incident_id, "stopping": True, "by": caller.object_id}

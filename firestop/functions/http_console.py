"""The web console's routes (auth level ANONYMOUS: people, not alert senders — identity from App Service authentication).

| route | role | answers |
|---|---|---|
| ``GET /api/console`` | reader | 200 HTML: approvals waiting for a decision, every incident (status, MTTC; an incident whose record cannot be read as a row saying so, and a notice naming how many), the latest audit |
| ``GET /api/console/incidents/{id}`` | reader | 200 HTML: status, metrics, the pending approval (changes, blast radius, who may decide, Approve/Reject for an approver among the step's approvers), the timeline so far (reloads every 5 s while running), Stop for a responder while it runs or waits, undo preview (Undo for a responder; Release on each step that changed nothing); 400 malformed id, 404 unknown |
| ``POST /api/console/incidents/{id}/approvals/{step}`` | approver | form ``decision=approve|reject``, ``comment``, ``csrf`` → 303 to the incident page once sent; 400/403/404/409/503 HTML with the reason (as ``POST /api/incidents/{id}/approvals/{step}``) |
| ``GET /api/console/incidents/{id}/undo[?step=]`` | responder | 200 HTML: the Undo button's confirmation — what the undo would restore and the POST form below (one click never undoes; no script needed); with ``step`` (the Release button) that step's release confirmation; 400 malformed step; 409 nothing to undo / that step is not releasable |
| ``POST /api/console/incidents/{id}/undo`` | responder | form ``csrf``, ``confirm=undo`` (set by the confirmation page) → 303 to the incident page once undone (every reversible action that changed something); with ``step`` and ``confirm=release`` (the release's confirmation page) that step alone through :func:`firestop.lifecycle.undo.undo_selection`, as ``POST /api/incidents/{id}/undo`` — a step that changed nothing is released (nothing restored, no Azure call) → 303 ``?done=release``, also when it was released already; 400 malformed step, or not confirmed (``confirm`` missing or not the one its page sets: nothing done); 409 nothing to undo / busy / relied on |
| ``GET /api/console/incidents/{id}/stop`` | responder | 200 HTML: the Stop button's confirmation — what a stop does, a required reason and the POST form below; 409 finished already |
| ``POST /api/console/incidents/{id}/stop`` | responder | form ``reason``, ``csrf`` → 303 to the incident page once the stop is sent (``?done=stop``); 400/404/409/503 HTML with the reason (as ``POST /api/incidents/{id}/stop``) |
| ``GET /api/console/tabletop`` | reader | 200 HTML: the newest tabletop scorecards |
| ``GET /api/console/tabletop/{run}`` | reader | 200 HTML: one scorecard (expectations, approvals waited on, pages); 404 unknown run |

Every route declares its role above with ``@requires`` (:mod:`firestop.trust.route_roles`) and calls
:func:`firestop.trust.authorize` with it first (401/400/403 as HTML with the reason). POSTs then
pass :func:`firestop.console.csrf.check_post` (403 otherwise) and read a form body of at most
:data:`MAX_FORM_BYTES` (413). Every answer carries :data:`firestop.console.pages.SECURITY_HEADERS` (a strict
Content-Security-Policy: no script, no framing). The route is ANONYMOUS for the Functions host: on Azure
App Service authentication must be enabled (``WEBSITE_AUTH_ENABLED``, else every call is 401) and, for a
browser, set to redirect unauthenticated requests to the sign-in page.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

import azure.durable_functions as df
import azure.functions as func

from firestop.telemetry.requests import observed

from firestop.console import pages
from firestop.console.csrf import FIELD as CSRF_FIELD, CsrfError, check_post, issue
from firestop.functions.http_api import (MAX_STOP_REASON, _bad_incident_id, _incident_status, _status_view, listed_views,
                                         with_waiting_variants,
                                         send_decision, send_stop)
from firestop.functions.http_responders import MAX_STEP_CHARS  # a Release form's step is bounded as the API's
from firestop.lifecycle.cli_hints import decide_command, stop_command, unconfirmed_hint, undo_command
from firestop.storage.base import StoreError
from firestop.trust import Role, TrustError, authorize, peer_address
from firestop.trust.route_roles import declared_role, requires

bp = df.Blueprint()
log = logging.getLogger("firestop.console")

#: Largest form body read (a comment is at most 1,000 characters).
MAX_FORM_BYTES = 8 * 1024
#: Incidents listed on the front page (newest first), and findings of the latest audit.
MAX_LISTED = 200
MAX_FINDINGS = 50


def _html(status: int, text: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(text, status_code=status, mimetype="text/html", charset="utf-8",
                             headers={**pages.SECURITY_HEADERS, **(headers or {})})


def _wants_json(req: func.HttpRequest) -> bool:
    accept = (req.headers.get("Accept") or "").lower()
    return "application/json" in accept and "text/html" not in accept


def _records_unreadable(req: func.HttpRequest, exc: Exception, caller: Any) -> func.HttpResponse:
    """503 page for a records store that cannot be read (:func:`firestop.functions.http_api.records_unreadable`)."""
    log.error("records store cannot be read: %r", str(exc))
    return _refusal(req, 503, "Records unreadable", "the app's records store cannot be read",
                    "retry; check the app's storage settings (python -m firestop doctor)", caller, field="records")


def _refusal(req: func.HttpRequest, status: int, title: str, reason: str, fix: str = "", caller: Any = None,
             field: str = "") -> func.HttpResponse:
    """An HTML page saying why; JSON ``{"error", "reason", "fix"}`` (the API's shape) when the client asked
    for JSON only (``Accept: application/json``), as scripts and the attack suite do."""
    if _wants_json(req):
        return func.HttpResponse(json.dumps({"error": field or title.lower(), "reason": reason, "fix": fix}), status_code=status,
                                 mimetype="application/json", headers=dict(pages.SECURITY_HEADERS))
    return _html(status, pages.message_page(title, reason, fix=fix, caller=caller))


def _caller(req: func.HttpRequest, action: str):
    """(principal, None) when the caller holds the route's declared role (``@requires``, :func:`firestop.trust.route_roles.declared_role`), else (None, the HTML refusal)."""
    try:
        return authorize(req.headers, declared_role(), peer_address=peer_address(req.headers), action=f"console: {action}"), None
    except TrustError as exc:
        return None, _refusal(req, exc.status, "Not allowed" if exc.status == 403 else "Sign in", exc.reason, exc.fix, field=exc.field)


def _seal_key():
    from firestop.trust.seal import SealKeyError, load_seal_key

    try:
        return load_seal_key()
    except SealKeyError as exc:
        log.error("console has no seal key: %s", exc)
        return None


def _origin(req: func.HttpRequest) -> str:
    from firestop.functions.links import public_origin

    return public_origin(req.url)


def _cli_place(req: func.HttpRequest, status) -> dict[str, Any]:
    """Where the CLI finds this console's incident (:mod:`firestop.lifecycle.cli_hints`): on Azure the app itself
    (``--app`` + its public origin: a laptop's store does not hold it); under ``firestop serve`` this machine's
    store, the incident's own input saying whether it ran on the sandbox tenant."""
    from firestop.trust import on_azure

    if on_azure():
        return {"app_origin": _origin(req)}
    inp = getattr(status, "input_", None)
    sandbox = inp.get("sandbox") if isinstance(inp, dict) else None
    return {"sandbox": sandbox if isinstance(sandbox, bool) else None}


def _form(req: func.HttpRequest) -> dict[str, str] | func.HttpResponse:
    raw = req.get_body() or b""
    if len(raw) > MAX_FORM_BYTES:
        return _refusal(req, 413, "Too large", f"the form is {len(raw)} bytes; at most {MAX_FORM_BYTES} are read")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=10, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return _refusal(req, 400, "Bad form", "the form is not UTF-8 application/x-www-form-urlencoded")
    return {k: v[-1] for k, v in fields.items()}


def _checked_post(req: func.HttpRequest, action: str):
    """(caller, form, None) for a POST from this app's own page by a caller holding the route's declared role; else (.., refusal)."""
    caller, denied = _caller(req, action)
    if denied:
        return None, None, denied
    form = _form(req)
    if isinstance(form, func.HttpResponse):
        return None, None, form
    key = _seal_key()
    if key is None:
        return None, None, _refusal(req, 503, "Unavailable", "the app holds no usable seal key", "set FIRESTOP_SEAL_KEY", caller)
    try:
        check_post(req.headers, form.get(CSRF_FIELD), key=key, object_id=caller.object_id, origin=_origin(req))
    except CsrfError as exc:
        log.warning("console: refused %r by %r: cross-site check failed: %r", action, caller.object_id, str(exc))
        return None, None, _refusal(req, 403, "Refused", f"this request did not come from the console's own page: {exc}",
                                    "open the incident in the console and submit from there", caller)
    return caller, form, None


def _incident_post(req: func.HttpRequest, action: str):
    """:func:`_checked_post` for a POST on one incident's page: (caller, form, incident id, None), else (.., refusal);
    400 when the route's ``incident_id`` is not an incident id."""
    caller, form, denied = _checked_post(req, action)
    if denied:
        return None, None, "", denied
    incident_id = req.route_params.get("incident_id", "")
    if _bad_incident_id(incident_id):
        return None, None, "", _refusal(req, 400, "Bad incident id", f"{incident_id[:80]!r} is not an incident id", caller=caller)
    return caller, form, incident_id, None


def _may_decide(caller: Any, approval: dict[str, Any]) -> tuple[bool, str]:
    if "approver" not in caller.roles and "admin" not in caller.roles:
        return False, "You do not hold the approver role: one of the approvers listed above must decide."
    approvers = set(approval.get("approvers") or [])  # none named: anyone with the approver role (judge() agrees)
    if approvers and caller.object_id not in approvers and not approvers & set(caller.groups):
        return False, "You hold the approver role but are not among this step's approvers."
    if approval.get("two_person") and approval.get("requested_by") == caller.object_id:
        return False, "Two-person rule: you requested this step, someone else must approve it."
    return True, ""


def _undo_preview(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Actions an undo would touch, newest first (finished incidents only): applied, changed something, not yet undone
    (``release`` False), and the steps that changed nothing an undo would release (``release`` True:
    :func:`firestop.lifecycle.undo.releasable`, the rule ``incident undo --step`` follows)."""
    from firestop.lifecycle.undo import releasable
    from runbooks import get_runbook, runbook_names

    if view.get("timeline") is None:
        return []
    known = set(runbook_names())
    shown = []
    for a in reversed(view.get("actions") or []):
        if a.get("ok") and a.get("changed") and not a.get("undone"):
            shown.append({**a, "release": False,
                          "reversible": a.get("runbook") in known and bool(type(get_runbook(a["runbook"])).reversible)})
        elif releasable(a):
            shown.append({**a, "release": True, "reversible": True})
    return shown


def _latest_audit() -> dict[str, Any] | None:
    """The newest stored audit (:func:`firestop.audit.store.latest`) as the console shows it, None when there is none:
    ``{"audit_id", "at", "scope", "counts", "new_drift", "fixed", "findings": [{"title", "severity", "resource_name",
    "detail", "fix"}]}`` (at most :data:`MAX_FINDINGS` findings)."""
    from firestop.audit import store
    from firestop.settings import get_settings

    try:
        # Blob Storage on Azure, FIRESTOP_HOME/records locally; names first, junk skipped unread (trust16)
        audit, skipped = store.latest_view(store.records_store(get_settings()))
    except Exception:  # noqa: BLE001 — the front page shows incidents whatever the audit store does
        log.exception("console: the latest audit could not be read")
        return None
    if audit is None:
        return {"skipped": skipped} if skipped else None
    findings = audit.findings
    return {"skipped": skipped, "audit_id": audit.audit_id, "at": audit.at.isoformat(), "scope": list(audit.scope), "counts": audit.counts(),
            "new_drift": len(audit.drift.new), "fixed": len(audit.drift.fixed), "total_findings": len(findings),
            "findings": [{"title": r.title, "severity": getattr(r.severity, "value", r.severity), "resource_name": r.resource_name,
                          "detail": r.detail, "fix": r.fix} for r in findings[:MAX_FINDINGS]]}


@bp.route(route="console", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.reader)
async def console_home(req: func.HttpRequest, client) -> func.HttpResponse:
    from firestop.alerts.alert import INCIDENT_ID_PREFIX
    from firestop.instance_listing import InstanceListingError, list_instances
    from firestop.lifecycle import ORCHESTRATOR_NAME

    caller, denied = _caller(req, "list incidents")
    if denied:
        return denied
    try:  # every page up to the bound (the SDK's get_status_all reads one page: RT7)
        # incidents only: the extension lists entity instances too (@name@key, one per resource and incident, for
        # good: see firestop.instance_listing), which would fill the page bound and hide incidents
        listing = await list_instances(client, instance_id_prefix=INCIDENT_ID_PREFIX)
    except InstanceListingError:
        return _refusal(req, 503, "Backend unavailable", "the Durable backend did not list incidents; retry shortly",
                        caller=caller)
    incidents = [s for s in listing.statuses if s.name == ORCHESTRATOR_NAME]
    shown, waiting = front_page(incidents, MAX_LISTED)
    views = listed_views(shown)  # unreadable records named, not fatal
    views.sort(key=lambda v: v.get("received_at") or v.get("created_at") or "", reverse=True)
    more = not listing.complete or len(incidents) > MAX_LISTED
    return _html(200, pages.incidents_page(views, caller=caller, audit=_latest_audit(), more=more,
                                           waiting=[v for v in listed_views(waiting) if v.get("pending_approval")]))


def front_page(statuses: list[Any], limit: int) -> tuple[list[Any], list[Any]]:
    """(the newest ``limit`` incident statuses by creation time — the rows, whose finished ones cost a records-store
    read each —, every open one — Pending/Running, whose view reads no record — for "Waiting for a decision").

    RT10-02: the rows were every listed incident's view (up to 5,000 filed records read per page load) cut to the newest
    ``limit`` afterwards, and the approvals were looked for among those rows only, so ``limit`` newer incidents (an
    alert flood) pushed an incident waiting for its approver off the page."""
    from datetime import datetime, timezone

    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def created(status: Any) -> datetime:
        when = getattr(status, "created_time", None)
        if not isinstance(when, datetime):
            return oldest
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

    newest = sorted(statuses, key=created, reverse=True)[:max(limit, 0)]
    open_ = [s for s in statuses if getattr(s.runtime_status, "value", s.runtime_status) in ("Pending", "Running")]
    return newest, open_


@bp.route(route="console/incidents/{incident_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.reader)
async def console_incident(req: func.HttpRequest, client) -> func.HttpResponse:
    caller, denied = _caller(req, "show incident")
    if denied:
        return denied
    incident_id = req.route_params.get("incident_id", "")
    if _bad_incident_id(incident_id):
        return _refusal(req, 400, "Bad incident id", f"{incident_id[:80]!r} is not an incident id", caller=caller)
    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return _refusal(req, 404, "Not found", f"no incident {incident_id!r}", caller=caller)
    try:
        view = _status_view(status)
    except StoreError as exc:
        return _records_unreadable(req, exc, caller)
    view = await with_waiting_variants(client, view)
    key = _seal_key()
    token = issue(key, caller.object_id) if key is not None else None
    where = _cli_place(req, status)
    approval_html = ""
    if view.get("pending_approval"):
        may, why_not = _may_decide(caller, view["pending_approval"])
        approval_html = pages.approval_card(incident_id, view["pending_approval"], may_decide=may, why_not=why_not, token=token,
                                            cli_hint=decide_command(incident_id, view["pending_approval"].get("step") or "",
                                                                    approvers=view["pending_approval"].get("approvers") or [], **where),
                                            check_hint=unconfirmed_hint(view))
    may_undo = "responder" in caller.roles or "admin" in caller.roles
    undo_html = pages.undo_card(incident_id, _undo_preview(view), may_undo=may_undo, token=token,
                                cli_hint=undo_command(incident_id, **where))
    stop_html = (pages.stop_card(incident_id, may_stop=may_undo, cli_hint=stop_command(incident_id, **where))
                 if view.get("status") in _STOPPABLE else "")
    flash = {"approve": "Approved: the step runs now.", "reject": "Rejected: the step will not run.",
             "stop": "Stop sent: the incident stops at its next checkpoint (see the timeline).",
             "undo": "Undo done: see the timeline.",
             "release": "Released: nothing was restored; this incident no longer relies on that state (see the timeline)."
             }.get(req.params.get("done", ""))
    return _html(200, pages.incident_page(view, caller=caller, approval_html=approval_html, undo_html=undo_html, flash=flash,
                                          stop_html=stop_html))


#: Incident views' statuses a stop applies to (the orchestration still runs: Pending or Running).
_STOPPABLE = ("running", "awaiting_approval")


async def _confirm_view(req: func.HttpRequest, client, action: str):
    """(caller, incident id, view, seal key, None) for a confirmation page (GET) on one incident, else (.., refusal)."""
    caller, denied = _caller(req, action)
    if denied:
        return None, None, None, None, denied
    incident_id = req.route_params.get("incident_id", "")
    if _bad_incident_id(incident_id):
        return None, None, None, None, _refusal(req, 400, "Bad incident id", f"{incident_id[:80]!r} is not an incident id", caller=caller)
    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return None, None, None, None, _refusal(req, 404, "Not found", f"no incident {incident_id!r}", caller=caller)
    try:
        view = _status_view(status)
    except StoreError as exc:
        return None, None, None, None, _records_unreadable(req, exc, caller)
    key = _seal_key()
    if key is None:
        return None, None, None, None, _refusal(req, 503, "Unavailable", "the app holds no usable seal key", "set FIRESTOP_SEAL_KEY", caller)
    return caller, incident_id, view, key, None


def _record_refused(req: func.HttpRequest, incident_id: str, view: dict, caller) -> func.HttpResponse | None:
    """The 409 page when the POST would refuse the record the page offers to undo from
    (:func:`firestop.lifecycle.undo.still_newest`: not the newest filed revision, or not sealed by this app's ring — a
    record sealed under a dropped key), else None: the confirmation page never offers what the undo refuses
    (newuser18: it asked "Yes, undo containment", and the POST then answered 409)."""
    from firestop.lifecycle.undo import UndoReliedOn, UndoStale, still_newest
    from firestop.lifecycle.view import record_of
    from firestop.settings import get_settings

    record = record_of(view)
    try:
        still_newest(get_settings(), incident_id, record, list(record.get("actions") or []))
    except UndoReliedOn as exc:
        return _refusal(req, 409, "Cannot be undone", str(exc), getattr(exc, "fix", None) or "reload the incident", caller)
    except UndoStale as exc:
        return _refusal(req, 409, "Nothing to undo", str(exc), "reload the incident and undo what is left", caller)
    return None


@bp.route(route="console/incidents/{incident_id}/undo", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def console_undo_confirm(req: func.HttpRequest, client) -> func.HttpResponse:
    """The Undo button's confirmation page (module table); 409 when nothing is left to undo."""
    caller, incident_id, view, key, denied = await _confirm_view(req, client, "confirm undo")
    if denied:
        return denied
    preview = _undo_preview(view)
    refused = _record_refused(req, incident_id, view, caller)
    if refused is not None:
        return refused
    step = req.params.get("step")
    if step is not None:  # the Release button's confirmation
        if len(step) > MAX_STEP_CHARS or not step.isprintable():
            return _refusal(req, 400, "Bad step", f"step must be a step id of at most {MAX_STEP_CHARS} printable characters",
                            "use the Release button of the incident's page", caller, field="step")
        row = next((a for a in preview if a["release"] and a.get("step_id") == step), None)
        if row is None:
            return _refusal(req, 409, "Nothing to release", f"incident {incident_id} has no step {step!r} left to release",
                            "reload the incident", caller, field="step")
        return _html(200, pages.release_confirm_page(incident_id, row, caller=caller, token=issue(key, caller.object_id)))
    if not any(a["reversible"] and not a["release"] for a in preview):
        return _refusal(req, 409, "Nothing to undo", f"incident {incident_id} has nothing left that can be undone", caller=caller)
    return _html(200, pages.undo_confirm_page(incident_id, preview, caller=caller, token=issue(key, caller.object_id)))


@bp.route(route="console/incidents/{incident_id}/stop", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def console_stop_confirm(req: func.HttpRequest, client) -> func.HttpResponse:
    """The Stop button's confirmation page (module table); 409 when the incident has already finished."""
    caller, incident_id, view, key, denied = await _confirm_view(req, client, "confirm stop")
    if denied:
        return denied
    if view.get("status") not in _STOPPABLE:
        return _refusal(req, 409, "Finished", f"incident {incident_id} has already finished ({view.get('status')})", "nothing to stop",
                        caller, field="incident_id")
    return _html(200, pages.stop_confirm_page(view, caller=caller, token=issue(key, caller.object_id), max_reason=MAX_STOP_REASON))


@bp.route(route="console/incidents/{incident_id}/stop", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def console_stop(req: func.HttpRequest, client) -> func.HttpResponse:
    """Send the confirmation page's stop (:func:`firestop.functions.http_api.send_stop`) → 303 to the incident page."""
    caller, form, incident_id, denied = _incident_post(req, "stop incident")
    if denied:
        return denied
    status, answer = await send_stop(client, caller, incident_id, form.get("reason"))
    if status != 202:
        return _refusal(req, status, "Not stopped", answer.get("reason", ""), answer.get("fix", ""), caller, field=answer.get("error", ""))
    log.info("console: stop of %r by %r", incident_id, caller.object_id)
    return _html(303, "", {"Location": f"{pages.link('incidents', incident_id)}?done=stop"})


@bp.route(route="console/incidents/{incident_id}/approvals/{step}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.approver)
async def console_decide(req: func.HttpRequest, client) -> func.HttpResponse:
    caller, form, incident_id, denied = _incident_post(req, "decide approval")
    if denied:
        return denied
    step = req.route_params.get("step", "")
    decision = form.get("decision")
    status, answer = await send_decision(client, caller, incident_id, step, decision, form.get("comment") or None)
    if status != 202:
        return _refusal(req, status, "Not sent", answer.get("reason", ""), answer.get("fix", ""), caller)
    log.info("console: %s of %r/%r by %r", decision, incident_id, step, caller.object_id)
    return _html(303, "", {"Location": f"{pages.link('incidents', incident_id)}?done={decision}"})


#: Polls (0.1 s of wall time each) an undo waits for a resource's containment lease before answering 409.
_UNDO_LEASE_POLLS = 100


@bp.route(route="console/incidents/{incident_id}/undo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def console_undo(req: func.HttpRequest, client) -> func.HttpResponse:
    caller, form, incident_id, denied = _incident_post(req, "undo")
    if denied:
        return denied
    step = form.get("step") or None
    if step is not None and (len(step) > MAX_STEP_CHARS or not step.isprintable()):
        return _refusal(req, 400, "Bad step", f"step must be a step id of at most {MAX_STEP_CHARS} printable characters",
                        "use the Release button of the incident's page", caller, field="step")
    expected = "release" if step is not None else "undo"
    if form.get("confirm") != expected:  # the confirmation page sets it: a form posted from anywhere else did not ask
        what = "release" if step is not None else "undo"
        return _refusal(req, 400, "Not confirmed", f"the {what} was not confirmed, so nothing was done",
                        f"confirm it on its page: the incident's {'Release' if step is not None else 'Undo containment'} "
                        f"button, then Yes (it sends confirm={expected})", caller, field="confirm")
    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return _refusal(req, 404, "Not found", f"no incident {incident_id!r}", caller=caller)
    try:
        view = _status_view(status)
    except StoreError as exc:
        return _records_unreadable(req, exc, caller)
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.locks import ClientLeasePort
    from firestop.lifecycle.undo import (AlreadyReleased, UndoBusy, UndoRefused, UndoReliedOn, UndoStale, undo_selection,
                                         undo_under_lease)

    from firestop.lifecycle.view import record_of

    record = record_of(view)  # exactly what was filed: the revision names it by its hash
    if step is not None:  # one step (the Release button): the API's choice, releases included
        try:
            record, chosen = undo_selection(incident_id, getattr(status.runtime_status, "value", status.runtime_status),
                                            status.output, record, step=step)
        except AlreadyReleased:  # a second click: done already
            return _html(303, "", {"Location": f"{pages.link('incidents', incident_id)}?done=release"})
        except UndoRefused as exc:
            return _refusal(req, 409, "Nothing to undo", str(exc), caller=caller)
        chosen = list(reversed(chosen))
    else:
        actions = [a for a in _undo_preview(view) if a["reversible"] and not a["release"]]
        if not actions:
            return _refusal(req, 409, "Nothing to undo", f"incident {incident_id} has nothing left that can be undone", caller=caller)
        originals = {(a.get("step_id"), a.get("target")) for a in actions}
        chosen = [a for a in record.get("actions") or [] if (a.get("step_id"), a.get("target")) in originals]
    try:  # inside the resources' containment lease: never interleaved with an incident's containment
        result = await undo_under_lease(ClientLeasePort(client, get_client_factory().clock), None, incident_id, record,
                                        list(reversed(chosen)), by=caller.object_id, max_polls=_UNDO_LEASE_POLLS)
    except UndoBusy as exc:
        return _refusal(req, 409, "Busy", str(exc), "retry once the incident's containment has finished", caller)
    except UndoReliedOn as exc:
        return _refusal(req, 409, "Relied on", str(exc), getattr(exc, "fix", f"undo {exc.later} first"), caller)
    except UndoStale as exc:  # another undo filed a revision since this page's request read the record (RT8-03)
        return _refusal(req, 409, "Nothing to undo", str(exc), "reload the incident and undo what is left", caller)
    log.info("console: undo of %r (step %r) by %r: %r", incident_id, step, caller.object_id,
             [(u["step_id"], u["ok"]) for u in result["undone"]])
    done = "release" if result["undone"] and all(u.get("released") for u in result["undone"]) else "undo"
    return _html(303, "", {"Location": f"{pages.link('incidents', incident_id)}?done={done}"})


@bp.route(route="console/tabletop", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.reader)
def console_tabletop(req: func.HttpRequest) -> func.HttpResponse:
    from firestop.console.scorecards import latest
    from firestop.settings import get_settings

    caller, denied = _caller(req, "list scorecards")
    if denied:
        return denied
    return _html(200, pages.tabletop_page(latest(get_settings().home), caller=caller))


@bp.route(route="console/tabletop/{run_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.reader)
def console_scorecard(req: func.HttpRequest) -> func.HttpResponse:
    from firestop.console.scorecards import one
    from firestop.settings import get_settings

    caller, denied = _caller(req, "show scorecard")
    if denied:
        return denied
    card = one(get_settings().home, req.route_params.get("run_id", ""))
    if card is None:
        return _refusal(req, 404, "Not found", "no such tabletop run", "pick one from the Tabletop page", caller)
    return _html(200, pages.scorecard_page(card, caller=caller))

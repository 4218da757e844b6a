"""The responders' routes behind the CLI's remote mode (:mod:`firestop.cli.remote`) that are not incidents' reads
and decisions (:mod:`firestop.functions.http_api`) or audits (:mod:`firestop.functions.audit`): undo with its
preview, undo of a manual runbook run, and the ledger check.

Auth level ANONYMOUS for the Functions host, as every people route: the caller is App Service authentication's
(``X-MS-CLIENT-PRINCIPAL``; locally ``firestop serve``'s loopback/``--auth-jwks`` rules) and every route declares its role
with ``@requires`` (:mod:`firestop.trust.route_roles`) and calls :func:`firestop.trust.authorize` with it first. Errors are JSON ``{"error": <field>, "reason", "fix"}``
(an undo's 409 adds ``"code"``: ``nothing_to_undo``, ``busy`` or ``relied_on``, see :data:`NOTHING_TO_UNDO`);
an undo refusal's ``reason`` is the message the local command prints (it names the CLI's ``ID`` / ``--step`` /
``RUN_ID``), so remote mode prints the same line.

| route | role | answers |
|---|---|---|
| ``GET /api/incidents/{id}/undo[?step=]`` | responder | 200 the preview ``{"incident_id", "actions": [{"step_id", "runbook", "target", "before", "release"}] (newest first; ``release``: the step changed nothing, so its undo only releases the state it found in place), "stays": [{"step_id", "runbook", "why"}] (changes no undo restores), "others": [{"step_id", "runbook", "why"}] (with ``step``: the incident's other steps, not part of this undo, ``why`` how to undo or release each or why it cannot be; else empty)}``; 409 ``code: relied_on`` as the POST (checked before a responder is asked to confirm; the POST checks again inside the lease); 200 ``{"already_released": <step>, "detail", "undone": [], "actions": []}`` when that step was released already; 400 malformed id or step; 404 no such incident; 409 ``code: nothing_to_undo`` not finished / nothing (left) to undo / that step cannot be undone |
| ``POST /api/incidents/{id}/undo`` | responder | body ``{"step"?}`` → 200 ``{"incident_id", "undone": [{"step_id", "runbook", "ok", "detail", "released"?}]}`` (:func:`firestop.lifecycle.undo.undo_under_lease`: inside the resources' ``resource_lock`` lease, recorded with the caller as ``by``; a step that changed nothing is released — ``released: true``, nothing restored, no Azure call — and 200 ``already_released`` when it was already); 400/404/409 as the preview; 409 ``code: busy`` when a resource's containment lease stays held 10 s, ``code: relied_on`` when a later incident relies on the state it would restore or an incident still open (awaiting approval, running) targets a resource it restores, ``code: nothing_to_undo`` when another undo filed a revision of the record after this request read it (:class:`firestop.lifecycle.undo.UndoStale`: nothing undone) |
| ``GET /api/runbook-runs/{day}/{step}`` | responder | 200 ``{"run_id", "runbook", "target", "before", "release"}`` of the manual run ``<day>/<step>`` (``manual-<YYYY-MM-DD>/<via>-run-<HHMMSS>-<hex>``; ``release``: the run changed nothing, so its undo only releases the state it found in place); 200 ``{"run_id", "already_released": true, "detail"}`` when it was released already; 400 malformed run id; 409 ``code: nothing_to_undo`` (unknown run, failed, already undone, no undo, an evidence run that changed nothing) |
| ``POST /api/runbook-runs/{day}/{step}/undo`` | responder | 200 ``{"run_id", "undo": <the runbook's answer>, "requested_by"}`` — a run that changed nothing is released (:func:`firestop.lifecycle.undo.release_manual`: ``undo.released`` true, nothing restored, no Azure call, recorded on the run's ledger with the caller), and 200 ``already_released`` as the preview when it was already; 422 with the same body when the undo failed; 400/409 as the preview; 409 (no ``code``: exit 2 as locally) when an incident received after the run relies on its change (:func:`firestop.lifecycle.undo.manual_reliance`) or an incident still open (awaiting approval, running) targets it; runs inside the target's ``resource_lock`` lease (:func:`firestop.lifecycle.undo.manual_undo_under_lease`): 409 ``code: busy`` when a containment holds it 10 s |
| ``GET /api/ledgers/{id}`` | reader | 200 ``{"incident_id", "ok", "verdict", "entries", "verified", "sealed", "head", "problems", "location"}`` (``location``: the ledger's store and name, ``FIRESTOP_HOME/ledger/<id>.jsonl`` or ``<container>/<id>.jsonl``, never a path or URL: :mod:`firestop.storage.locations`) (:meth:`runbooks.ledger.Ledger.verify` with the evidence files; a broken chain is still 200, ``ok`` false); 400 malformed id; 404 no ledger; 503 the ledger store cannot be read |

Bounds: ids are Durable instance ids (:func:`firestop.boundary.instance_id_problem`); ``step`` at most
:data:`MAX_STEP_CHARS` printable characters; bodies through :func:`firestop.boundary.loads_bounded`.
Undos are logged with the caller's object ID (``%r``).
"""

from __future__ import annotations

import logging
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from firestop.functions.http_api import _body, _error, _incident_caller, _incident_status, _json
from firestop.telemetry.requests import observed
from firestop.trust import Role, TrustError, authorize, peer_address
from firestop.trust.route_roles import declared_role, requires

bp = df.Blueprint()
log = logging.getLogger("firestop.api")

#: ``code`` of an undo's 409 (``{"error": <field>, "reason", "fix", "code"}``): nothing (left) to undo as asked —
#: the local command's exit 2 — or a refusal a responder must resolve (another containment holds the resource; a
#: later incident relies on the state) — its exit 3. :mod:`firestop.cli.remote` maps them the same way.
NOTHING_TO_UNDO, BUSY, RELIED_ON = "nothing_to_undo", "busy", "relied_on"

#: Longest step id accepted (playbook step ids are short names).
MAX_STEP_CHARS = 200


def _step(value: Any) -> str | None | func.HttpResponse:
    """The ``step`` asked for (None: every reversible step), or the 400 answer."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_STEP_CHARS or not value.isprintable():
        return _error(400, "step", f"step must be a step id of at most {MAX_STEP_CHARS} printable characters",
                      "use a step id from the incident's actions (GET /api/incidents/{id})")
    return value


async def _selection(client, incident_id: str, step: str | None):
    """(record, actions newest first) to undo, or the 404/409 answer (:func:`firestop.lifecycle.undo.undo_selection`)."""
    from firestop.lifecycle.undo import AlreadyReleased, UndoRefused, undo_selection
    from firestop.functions.http_api import records_unreadable
    from firestop.records.store import filed_record
    from firestop.settings import get_settings
    from firestop.storage import StoreError

    status = await _incident_status(client, incident_id)
    if isinstance(status, func.HttpResponse):
        return status
    runtime = getattr(status.runtime_status, "value", status.runtime_status)
    try:
        filed = filed_record(get_settings(), incident_id) if runtime == "Completed" else None
    except StoreError as exc:  # never the orchestration's older word: an undo done since would be undone again
        return records_unreadable(exc)
    try:
        return undo_selection(incident_id, runtime, status.output, filed, step=step)
    except AlreadyReleased as exc:  # a retried release: done already (idempotent), nothing to do
        return _json(200, {"incident_id": incident_id, "undone": [], "actions": [], "stays": [],
                           "already_released": exc.step, "detail": str(exc)})
    except UndoRefused as exc:
        return _error(409, exc.field, str(exc), "", code=NOTHING_TO_UNDO)


async def _undo_choice(client, incident_id: str, raw_step: Any):
    """``(step, record, actions)`` an undo (or its preview) of ``incident_id`` would act on, or the 4xx answer
    naming the field (``step`` checked by :func:`_step`, the selection by :func:`_selection`)."""
    step = _step(raw_step)
    if isinstance(step, func.HttpResponse):
        return step
    chosen = await _selection(client, incident_id, step)
    if isinstance(chosen, func.HttpResponse):
        return chosen
    return (step, *chosen)


@bp.route(route="incidents/{incident_id}/undo", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def undo_preview_http(req: func.HttpRequest, client) -> func.HttpResponse:
    """What an undo would restore and what stays (module docstring)."""
    from firestop.lifecycle.undo import not_undoable, outside_step

    caller, incident_id, denied = _incident_caller(req, "preview undo")
    if denied:
        return denied
    chosen = await _undo_choice(client, incident_id, req.params.get("step"))
    if isinstance(chosen, func.HttpResponse):
        return chosen
    step, record, actions = chosen
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.locks import ClientLeasePort
    from firestop.lifecycle.undo import UndoReliedOn, UndoStale, check_reliance, still_newest
    from firestop.settings import get_settings

    try:  # refused before the CLI asks to confirm (advisory: the POST's checks inside the lease decide) — the record
        # check too: a record sealed under a dropped key was previewed, then refused by the POST (newuser18)
        still_newest(get_settings(), incident_id, record, actions)
        await check_reliance(ClientLeasePort(client, get_client_factory().clock), get_settings(), incident_id, record, actions)
    except UndoReliedOn as exc:
        return _error(409, "step", str(exc), getattr(exc, "fix", f"undo {exc.later} first"), code=RELIED_ON)
    except UndoStale as exc:  # a revision filed since the record was read, as the POST answers it
        return _error(409, exc.field, str(exc), exc.fix, code=NOTHING_TO_UNDO)
    return _json(200, {"incident_id": incident_id,
                       "actions": [{"step_id": a.get("step_id"), "runbook": a.get("runbook"), "target": a.get("target"),
                                    "before": a.get("before") or {}, "release": not a.get("changed")} for a in actions],
                       "stays": not_undoable(record),
                       "others": outside_step(incident_id, record, step) if step is not None else []})


#: Polls (0.1 s of wall time each) an undo waits for a resource's containment lease before answering 409.
UNDO_LEASE_POLLS = 100


@bp.route(route="incidents/{incident_id}/undo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def undo_http(req: func.HttpRequest, client) -> func.HttpResponse:
    """Undo the incident's reversible steps (or one), recorded as the caller's (module docstring)."""
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.locks import ClientLeasePort
    from firestop.lifecycle.undo import UndoBusy, UndoReliedOn, UndoStale, undo_under_lease

    caller, incident_id, denied = _incident_caller(req, "undo")
    if denied:
        return denied
    body = _body(req)
    if isinstance(body, func.HttpResponse):
        return body
    unknown = sorted(set(body) - {"step"})
    if unknown:
        return _error(400, unknown[0], f"unknown field {unknown[0]!r}", 'send {} or {"step": "<step id>"}')
    chosen = await _undo_choice(client, incident_id, body.get("step"))
    if isinstance(chosen, func.HttpResponse):
        return chosen
    step, record, actions = chosen
    try:  # inside the resources' containment lease: never interleaved with an incident's containment
        result = await undo_under_lease(ClientLeasePort(client, get_client_factory().clock), None, incident_id, record,
                                        actions, by=caller.object_id, max_polls=UNDO_LEASE_POLLS)
    except UndoBusy as exc:
        return _error(409, "incident_id", str(exc), "retry once the incident's containment has finished", code=BUSY)
    except UndoReliedOn as exc:  # a later incident's filed record, or one still open (UndoOpenIncident)
        return _error(409, "step", str(exc), getattr(exc, "fix", f"undo {exc.later} first"), code=RELIED_ON)
    except UndoStale as exc:  # another undo filed a revision since this one read the record (RT8-03)
        return _error(409, exc.field, str(exc), exc.fix, code=NOTHING_TO_UNDO)
    log.info("undo of %r (step %r) by %r: %r", incident_id, step, caller.object_id,
             [(u["step_id"], u["ok"]) for u in result["undone"]])
    return _json(200, result)


def _holding(req: func.HttpRequest, action: str):
    """(caller, None) when the caller holds the route's declared role (``@requires``, :func:`firestop.trust.route_roles.declared_role`), else (None, the 401/403 answer)."""
    try:
        return authorize(req.headers, declared_role(), peer_address=peer_address(req.headers), action=action), None
    except TrustError as exc:
        return None, _json(exc.status, exc.body())


def _manual_run(req: func.HttpRequest):
    """The manual run named by the route (:func:`runbooks.manual_runs.find_manual_run`), or the 400/409 answer (200
    ``already_released`` for a run released already: a retried release is done)."""
    from firestop.settings import get_settings
    from runbooks.manual_runs import RUN_ID_PATTERN, ManualAlreadyReleased, ManualUndoRefused, find_manual_run

    run_id = f"{req.route_params.get('day', '')}/{req.route_params.get('step', '')}"
    if not RUN_ID_PATTERN.fullmatch(run_id):
        return _error(400, "run_id", f"RUN_ID: {run_id[:80]!r} is not a manual run id",
                      "give it as runbook run printed it: manual-<YYYY-MM-DD>/<via>-run-<HHMMSS>-<hex>")
    try:
        return find_manual_run(get_settings(), run_id)
    except ManualAlreadyReleased as exc:
        return _json(200, {"run_id": exc.run_id, "already_released": True, "detail": str(exc)})
    except ManualUndoRefused as exc:
        return _error(409, "run_id", str(exc), "", code=NOTHING_TO_UNDO)


@bp.route(route="runbook-runs/{day}/{step}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.responder)
def manual_run_http(req: func.HttpRequest) -> func.HttpResponse:
    """What undoing a manual run would restore (module docstring)."""
    _, denied = _holding(req, "preview runbook undo")
    if denied:
        return denied
    run = _manual_run(req)
    if isinstance(run, func.HttpResponse):
        return run
    return _json(200, {"run_id": run.run_id, "runbook": run.runbook, "target": run.target,
                       "before": run.applied.get("before") or {}, "release": not run.changed})


@bp.route(route="runbook-runs/{day}/{step}/undo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def manual_run_undo_http(req: func.HttpRequest, client) -> func.HttpResponse:
    """Undo a manual run: the runbook's undo with what its apply recorded, as the caller (module docstring)."""
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.locks import ClientLeasePort
    from firestop.lifecycle.undo import UndoBusy, UndoReliedOn, manual_undo_under_lease
    from firestop.settings import get_settings
    from runbooks.dispatch import execute
    from runbooks.manual_runs import ManualAlreadyReleased, ManualUndoRefused

    caller, denied = _holding(req, "runbook undo")
    if denied:
        return denied
    run = _manual_run(req)
    if isinstance(run, func.HttpResponse):
        return run
    from firestop.functions.http_api import graph_scope_check

    refused = graph_scope_check(caller, run.runbook, run.target, run.params, "undo")  # RT18-02: the run's rule
    if refused is not None:
        return refused

    def undo() -> dict:
        return execute({"runbook": run.runbook, "action": "undo", "target": run.target, "params": run.params,
                        "incident_id": run.incident_id, "step_id": run.step_id, "applied": run.applied,
                        "requested_by": caller.object_id})

    try:  # inside the target's containment lease: never interleaved with an incident's containment (RT6-02)
        answer = await manual_undo_under_lease(ClientLeasePort(client, get_client_factory().clock), get_settings(), run, undo,
                                               max_polls=UNDO_LEASE_POLLS, by=caller.object_id)
    except UndoBusy as exc:
        return _error(409, "run_id", str(exc), "retry once the incident's containment has finished", code=BUSY)
    except UndoReliedOn as exc:
        return _error(409, "run_id", str(exc), getattr(exc, "fix", f"undo {exc.later} first"))  # no code: exit 2 as locally
    except ManualAlreadyReleased as exc:  # released by another request while this one waited for the lease: done
        return _json(200, {"run_id": exc.run_id, "already_released": True, "detail": str(exc)})
    except ManualUndoRefused as exc:  # undone by another request while this one waited for the lease (RT8-03)
        return _error(409, "run_id", str(exc), "", code=NOTHING_TO_UNDO)
    log.info("runbook undo of %r by %r: ok=%r", f"{run.incident_id}/{run.step_id}", caller.object_id, answer.get("ok"))
    return _json(200 if answer.get("ok") else 422, {"run_id": f"{run.incident_id}/{run.step_id}", "undo": answer,
                                                    "requested_by": caller.object_id})


@bp.route(route="ledgers/{incident_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.reader)
def ledger_verify_http(req: func.HttpRequest) -> func.HttpResponse:
    """Check an incident's (or a manual day's) hash-chained ledger and its evidence files (module docstring)."""
    from firestop.evidence import EvidenceStore
    from firestop.settings import get_settings
    from firestop.storage import StoreError
    from firestop.storage.locations import logical_location
    from runbooks.ledger import Ledger

    _, incident_id, denied = _incident_caller(req, "verify ledger")
    if denied:
        return denied
    settings = get_settings()
    ledger = Ledger.of(settings)
    try:
        if not ledger.exists(incident_id):
            return _error(404, "incident_id", f"INCIDENT: no ledger for {incident_id!r} in the app's ledger store",
                          "check the incident ID (incident list)")
        check = ledger.verify(incident_id, evidence=EvidenceStore.of(settings).reader(incident_id))
    except StoreError as exc:
        log.error("ledger %r cannot be read: %s", incident_id, exc)
        return _error(503, "ledger", "the app's ledger store cannot be read", "retry; check the app's storage settings")
    return _json(200, {"incident_id": incident_id, "ok": check.ok, "verdict": check.verdict, "entries": check.entries,
                       "verified": check.verified, "sealed": check.sealed, "head": check.head,
                       "problems": check.problems,
                       # logical (store and name): a deployed app never tells its paths or storage account (cli17)
                       "location": logical_location(ledger.location(incident_id), settings)})

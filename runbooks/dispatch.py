"""Run one runbook action from a JSON request: the body of the Durable activity.

Request (JSON object, the activity input)::

    {"runbook": "keys.rotate", "action": "plan"|"apply"|"verify"|"undo",
     "target": "<ARM resource ID>" | null, "params": {...},
     "incident_id": "...", "step_id": "...", "alert": {AlertFacts},
     "applied": {Applied} (verify/undo only),
     "requested_by": "<object id>" (a person's manual run, or a responder's undo of an incident's step)}

Answer (JSON object, the activity output)::

    {"ok": bool, "runbook", "action", "target", "step_id",
     "result": {Plan|Applied|Verification} | null,
     "error": {"kind", "message", "permission", "retry_after", "retryable"} | null,
     "started_at", "finished_at" (ISO 8601 UTC on the clients' clock), "redacted": bool}

Never raises for a runbook's failure: Azure errors are mapped
(:mod:`firestop.azure.errors`) so the orchestrator can decide. Any secret value
a runbook registered (``ctx.register_secret``) is scrubbed from the answer.

Who a request acts for: an incident's orchestration sends its own
``incident_id``; a person's manual run (the responders' API, ``runbook run``)
acts for no incident and gets :func:`manual_ids` — ``manual-<YYYY-MM-DD>``
(UTC date on the clients' clock) and a step id unique to the run. A request
with ``requested_by`` (a person, from the API) must carry a manual id: it is
refused (``invalid``) when it names any other incident, so a manual run can
never write into an incident's ledger, evidence or record — except an ``undo``,
which a responder decides after the incident (:mod:`firestop.lifecycle.undo`).

Ledger: every ``apply``/``undo`` of a mutating runbook (``Runbook.mutating``)
is appended to the incident's hash-chained ledger (:mod:`runbooks.ledger`) as
an ``action`` entry made from the scrubbed answer (ok, error, changed, summary,
before, after, times). A successful answer's ``result.artifacts.ledger`` then
holds ``{"seq", "hash"}`` of that entry, or ``{"error"}`` if it could not be
written (the action itself still counts: it happened). The entry's data
carries ``requested_by`` for a person's manual run and a responder's undo. A
manual run's successful apply first gets a line in its target's index
(:func:`runbooks.manual_runs.index_manual_run`); when that cannot be written
the entry is not written either (``{"error"}``), so an undo reading the index
never misses a run the ledger holds.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from firestop.azure.clients import ClientFactory, get_client_factory
from firestop.azure.errors import RunbookError, map_azure_error
from firestop.empty import new_dict
from firestop.settings import Settings, get_settings
from runbooks.base import AlertFacts, Applied, RunContext
from runbooks.registry import UnknownRunbook, get_runbook

log = logging.getLogger("firestop.runbooks")

REDACTED = "[redacted]"
MANUAL_PREFIX = "manual-"


def manual_ids(now: datetime, via: str) -> tuple[str, str]:
    """``(incident_id, step_id)`` of a person's manual run at ``now`` through ``via`` (``cli`` | ``api``):
    ``manual-<YYYY-MM-DD>`` and ``<via>-run-<HHMMSS>-<4 hex>`` — one step id per run, so a second run the
    same day acts again instead of finding the first run's idempotency marker."""
    return f"{MANUAL_PREFIX}{now.date().isoformat()}", f"{via}-run-{now:%H%M%S}-{secrets.token_hex(2)}"


class RunbookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runbook: str
    action: Literal["plan", "apply", "verify", "undo"]
    target: str | None = None
    params: dict[str, Any] = Field(default_factory=new_dict)
    incident_id: str = "manual"
    step_id: str = "manual"
    alert: AlertFacts = Field(default_factory=AlertFacts)
    applied: dict[str, Any] | None = None
    requested_by: str | None = None

    @model_validator(mode="after")
    def _manual_runs_act_for_no_incident(self) -> "RunbookRequest":
        if self.requested_by is not None and not self.incident_id.startswith(MANUAL_PREFIX) and self.action != "undo":
            raise ValueError(f"incident_id: a person's manual run acts for no incident (it gets {MANUAL_PREFIX}<date>); "
                             f"{self.incident_id!r} is refused")
        return self


def _validation_message(exc: ValidationError, prefix: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{prefix}{loc}: {err.get('msg')}" if loc else f"{prefix.rstrip('.')}: {err.get('msg')}")
    return "; ".join(parts)


def _scrub(answer: dict[str, Any], secrets: frozenset[str]) -> dict[str, Any]:
    if not secrets:
        return answer
    text = json.dumps(answer)
    hit = False
    for value in secrets:
        if value in text:
            hit = True
            text = text.replace(value, REDACTED)
    if not hit:
        return answer
    log.error("runbook %r returned a secret value; it was scrubbed", answer.get("runbook"))
    scrubbed = json.loads(text)
    scrubbed["redacted"] = True
    return scrubbed


def execute(
    request: dict[str, Any],
    *,
    clients: ClientFactory | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run ``request`` (see module doc) and answer with a JSON-able dict."""
    clients = clients or get_client_factory()
    settings = settings or get_settings()
    started = clients.clock.now()
    base = {
        "ok": False,
        "runbook": request.get("runbook") if isinstance(request, dict) else None,
        "action": request.get("action") if isinstance(request, dict) else None,
        "target": request.get("target") if isinstance(request, dict) else None,
        "step_id": request.get("step_id") if isinstance(request, dict) else None,
        "result": None,
        "error": None,
        "started_at": started.isoformat(),
        "finished_at": None,
        "redacted": False,
    }
    ctx: RunContext | None = None
    req: RunbookRequest | None = None
    runbook = None
    try:
        req = RunbookRequest.model_validate(request)
        runbook = get_runbook(req.runbook)
        try:
            params = runbook.parse_params(req.params)
        except ValidationError as exc:
            raise RunbookError("invalid", _validation_message(exc, "params.")) from None
        if runbook.target_type is not None and not req.target:
            raise RunbookError("invalid", f"target: {runbook.name} needs a target resource ID of type {runbook.target_type}")
        ctx = RunContext(
            clients=clients, settings=settings, incident_id=req.incident_id, step_id=req.step_id, alert=req.alert
        )
        if req.action == "plan":
            result = runbook.plan(ctx, req.target, params)
        elif req.action == "apply":
            result = runbook.apply(ctx, req.target, params)
        else:
            if req.applied is None:
                raise RunbookError("invalid", f"applied: {req.action} needs the result of the earlier apply")
            applied = Applied.model_validate(req.applied)
            if req.action == "verify":
                result = runbook.verify(ctx, req.target, params, applied)
            else:
                result = runbook.undo(ctx, req.target, params, applied)
        base["ok"] = True
        base["result"] = result.model_dump(mode="json")
        if req.action == "verify":
            base["ok"] = bool(result.ok)
    except UnknownRunbook as exc:
        base["error"] = RunbookError("invalid", str(exc)).to_dict()
    except ValidationError as exc:
        base["error"] = RunbookError("invalid", _validation_message(exc, "")).to_dict()
    except RunbookError as exc:
        base["error"] = exc.to_dict()
    except Exception as exc:  # noqa: BLE001 — every failure becomes an answer the orchestrator reads
        mapped = map_azure_error(exc)
        if mapped.kind == "failed" and mapped.message.startswith("unexpected"):
            log.exception("runbook %r crashed", base["runbook"])
        base["error"] = mapped.to_dict()
    base["finished_at"] = clients.clock.now().isoformat()
    answer = _scrub(base, ctx.secrets if ctx else frozenset())
    if runbook is not None and req is not None and req.action in ("apply", "undo") and type(runbook).mutating:
        _ledger_action(answer, req, settings, ctx.secrets if ctx else frozenset())
    return answer


def _seal_key_or_none(settings: Settings) -> Any:
    """The app's seal key for the manual-run epoch (:func:`runbooks.manual_runs.index_manual_run`), None when there is
    no usable one (the epoch is then written unsealed and not believed: ledgers are read whole)."""
    from firestop.trust.seal import SealKeyError, load_seal_key

    try:
        return load_seal_key(getattr(settings, "home", None))
    except SealKeyError:
        return None


def _ledger_action(answer: dict[str, Any], req: RunbookRequest, settings: Settings,
                   secrets: frozenset[str] = frozenset()) -> None:
    """Append the (scrubbed) answer of an apply/undo to the incident's ledger; note the entry in the answer."""
    from runbooks.ledger import Ledger

    result = answer.get("result") if isinstance(answer.get("result"), dict) else {}
    data = {
        "ok": answer["ok"],
        "changed": result.get("changed"),
        "summary": result.get("summary"),
        "before": result.get("before"),
        "after": result.get("after"),
        "error": answer.get("error"),
        "started_at": answer.get("started_at"),
        "finished_at": answer.get("finished_at"),
        "redacted": answer.get("redacted"),
    }
    if req.requested_by is not None:
        data["requested_by"] = req.requested_by
    if req.incident_id.startswith(MANUAL_PREFIX) and type(get_runbook(req.runbook)).reversible:
        # a manual run is undone from its ledger entry alone (runbook undo); the ledger is write-once, so the
        # params go through the same redaction as everything people read (registered secrets, credential shapes)
        from runbooks.redact import redact_json

        data["params"] = redact_json(req.params, secrets)
        # ... and so do its artifacts: what an undo needs beyond before/after (network.block_ips: the names of the
        # rules it created, the only ones its undo deletes; deployment.content_filter: the blocklist items it added)
        data["artifacts"] = redact_json(result.get("artifacts") or {}, secrets)
    ledger = Ledger.of(settings)
    if req.incident_id.startswith(MANUAL_PREFIX) and req.action == "apply" and answer["ok"] and req.target:
        # the per-target index line goes first: a ledger entry never exists without it (runbooks.manual_runs)
        from runbooks.manual_runs import index_manual_run

        try:
            index_manual_run(ledger.store, req.incident_id, req.step_id, req.runbook, req.target, answer.get("finished_at") or "",
                             _seal_key_or_none(settings))
        except (OSError, ValueError) as exc:
            log.error("manual-run index append failed for %r: %r", req.runbook, str(exc))
            if isinstance(answer.get("result"), dict):
                answer["result"].setdefault("artifacts", {})["ledger"] = {
                    "error": f"ledger not written: the index of manual runs on the target could not be written ({exc})"}
            return
    try:
        entry = ledger.append(
            req.incident_id, kind="action", runbook=req.runbook, action=req.action, step_id=req.step_id,
            target=req.target, at=answer.get("finished_at") or "", data=data,
        )
        note: dict[str, Any] = {"seq": entry["seq"], "hash": entry["hash"]}
    except (OSError, ValueError) as exc:
        log.error("ledger append failed for %r %r: %r", req.runbook, req.action, str(exc))
        note = {"error": f"ledger not written: {exc}"}
    if answer["ok"] and isinstance(answer.get("result"), dict):
        answer["result"].setdefault("artifacts", {})["ledger"] = note

"""The incident orchestrator: detect → analyze → contain → resolve → learn.

Input (JSON object, see :class:`IncidentInput`)::

    {"incident_id": str, "alert": <firestop.alerts.Alert as JSON>,
     "received_at": ISO 8601 UTC, "sandbox": bool, "exercise": bool}

Output: the post-incident record (``IncidentDoc.to_record()``) plus
``"record_files"``. Status ``contained`` (every containment step applied and
verified), ``needs_responder`` (something failed or did not verify — the
record lists what holds and what does not) or ``no_playbook``.

Custom status while running: ``{"incident_id", "phase", "step", "playbook"}``.

Everything here is deterministic: time is ``context.current_utc_datetime``,
waits are durable timers, and work happens in the activities
``select_playbook`` and ``run_runbook`` (:mod:`runbooks.dispatch`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generator

from pydantic import BaseModel, ConfigDict, Field

from firestop.lifecycle.outcome import CONTAINED, NEEDS_RESPONDER, NO_PLAYBOOK
from firestop.lifecycle.timeline import IncidentDoc, parse_time
from firestop.playbooks.models import Parallel, Playbook, Step

ORCHESTRATOR_NAME = "incident_orchestrator"
ACTIVITY_SELECT_PLAYBOOK = "select_playbook"
ACTIVITY_RUN_RUNBOOK = "run_runbook"


class IncidentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: str
    alert: dict[str, Any]
    received_at: str
    sandbox: bool = False
    exercise: bool = False
    playbook: dict[str, Any] | None = Field(default=None, description="pin a playbook instead of selecting one")


def _alert_facts(alert: dict[str, Any]) -> dict[str, Any]:
    indicators = alert.get("indicators") or {}
    return {
        "alert_id": alert.get("alert_id"),
        "rule_name": alert.get("rule_name"),
        "fired_at": alert.get("fired_at"),
        "window_start": alert.get("window_start"),
        "window_end": alert.get("window_end"),
        "caller_ips": list(indicators.get("caller_ips") or []),
    }


def _targets_for(step: Step, alert: dict[str, Any]) -> list[str | None]:
    from runbooks import get_runbook

    wanted = get_runbook(step.runbook).target_type
    if wanted is None:
        return [None]
    ids = [t for t in alert.get("target_ids") or [] if _type_key(t) == wanted]
    return ids


def _type_key(resource_id: str) -> str:
    parts = [p for p in resource_id.split("/") if p]
    lower = [p.lower() for p in parts]
    if "providers" not in lower:
        return ""
    i = len(lower) - 1 - lower[::-1].index("providers")
    rest = lower[i + 1 :]
    if len(rest) < 3:
        return ""
    types = [rest[0]] + [rest[j] for j in range(1, len(rest), 2)]
    return "/".join([types[0], *types[1:]])


class _Run:
    """One (step, target) pair through its attempts."""

    def __init__(self, step: Step, target: str | None) -> None:
        self.step = step
        self.target = target
        self.attempts = 0
        self.answer: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.answer and self.answer.get("ok"))

    @property
    def retryable(self) -> bool:
        err = (self.answer or {}).get("error") or {}
        return bool(err.get("retryable")) and self.attempts < self.step.retry.max_attempts


def run_incident(context) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator body (a generator for ``df.Orchestrator``); returns the record."""
    inp = IncidentInput.model_validate(context.get_input())
    alert = inp.alert
    facts = _alert_facts(alert)
    doc = IncidentDoc(
        incident_id=inp.incident_id,
        alert=alert,
        received_at=parse_time(inp.received_at),
        sandbox=inp.sandbox,
        exercise=inp.exercise,
    )

    def status(phase: str, step: str | None = None) -> None:
        context.set_custom_status(
            {
                "incident_id": inp.incident_id,
                "phase": phase,
                "step": step,
                "playbook": (doc.playbook or {}).get("name"),
            }
        )

    def request(step: Step, target: str | None, action: str, **extra: Any) -> dict[str, Any]:
        return {
            "runbook": step.runbook,
            "action": action,
            "target": target,
            "params": dict(step.with_),
            "incident_id": inp.incident_id,
            "step_id": step.id,
            "alert": facts,
            **extra,
        }

    # detect ------------------------------------------------------------------
    status("detect")
    fired = parse_time(alert.get("fired_at"))
    if fired is not None:
        doc.event("detect", "alert fired", "ok", fired, detail=str(alert.get("rule_name") or ""))
    doc.event(
        "detect",
        "alert received",
        "ok",
        doc.received_at,
        target=(alert.get("target_ids") or [None])[0],
        detail=f"{alert.get('monitoring_service')} {alert.get('monitor_condition')}, severity {alert.get('severity')}",
    )

    # analyze -----------------------------------------------------------------
    status("analyze", "select playbook")
    started = context.current_utc_datetime
    if inp.playbook is not None:
        selection = {"playbook": inp.playbook, "reason": "playbook given by the caller"}
    else:
        selection = yield context.call_activity(ACTIVITY_SELECT_PLAYBOOK, {"alert": alert})
    now = context.current_utc_datetime
    if not selection.get("playbook"):
        doc.status = NO_PLAYBOOK
        doc.reason = selection.get("reason") or "no playbook matched"
        doc.event("analyze", "select playbook", "no playbook", now, detail=doc.reason, started_at=started)
        return (yield from _learn(context, doc, status, request))
    playbook = Playbook.model_validate(selection["playbook"])
    doc.playbook = {"name": playbook.name, "version": playbook.version}
    doc.event("analyze", "select playbook", "ok", now, detail=selection.get("reason") or playbook.name, started_at=started)

    # contain -----------------------------------------------------------------
    runs: list[_Run] = []
    failed = False
    for item in playbook.contain:
        steps = item.parallel if isinstance(item, Parallel) else [item]
        group: list[_Run] = []
        for step in steps:
            targets = _targets_for(step, alert)
            if not targets:
                run = _Run(step, None)
                run.answer = {
                    "ok": False,
                    "runbook": step.runbook,
                    "error": {"kind": "invalid", "message": "the alert names no target this runbook acts on", "retryable": False},
                }
                doc.record_action(step.id, None, run.answer)
                doc.event("contain", step.id, "skipped", context.current_utc_datetime, runbook=step.runbook, detail=run.answer["error"]["message"])
                runs.append(run)
                failed = True
                continue
            group.extend(_Run(step, t) for t in targets)
        status("contain", ", ".join(r.step.id for r in group))
        yield from _run_group(context, group, doc, request)
        runs.extend(group)
        if any(not r.ok for r in group):
            failed = True
            break  # later containment steps may depend on this one: stop and hand over
    if not failed:
        doc.contained_at = context.current_utc_datetime

    # resolve: verify every applied step ------------------------------------------
    status("resolve", "verify")
    applied = [r for r in runs if r.ok]
    started = context.current_utc_datetime
    if applied:
        answers = yield context.task_all(
            [
                context.call_activity(ACTIVITY_RUN_RUNBOOK, request(r.step, r.target, "verify", applied=r.answer["result"]))
                for r in applied
            ]
        )
        now = context.current_utc_datetime
        for run, answer in zip(applied, answers):
            doc.record_verification(run.step.id, run.target, answer)
            checks = (answer.get("result") or {}).get("checks") or []
            detail = "; ".join(f"{'✔' if c.get('ok') else '✘'} {c.get('name')}" for c in checks) or (
                (answer.get("error") or {}).get("message") or ""
            )
            doc.event("resolve", f"verify {run.step.id}", "verified" if answer.get("ok") else "not verified", now,
                      target=run.target, runbook=run.step.runbook, detail=detail, started_at=started)
    doc.resolved_at = context.current_utc_datetime

    for run in runs:
        entry = doc.actions[doc.action_key(run.step.id, run.target)]
        label = f"{run.step.id} ({run.step.runbook})"
        if run.ok and entry.get("verified"):
            doc.holds.append(f"{label}: {entry.get('summary')}")
        elif run.ok:
            doc.does_not_hold.append(f"{label}: applied but did not verify")
        else:
            doc.does_not_hold.append(f"{label}: {(run.answer or {}).get('error', {}).get('message')}")
    not_run = [s.id for s in playbook.steps("contain") if not any(r.step.id == s.id for r in runs)]
    doc.does_not_hold.extend(f"{sid}: not run (an earlier step failed)" for sid in not_run)
    if failed or doc.does_not_hold:
        doc.status = NEEDS_RESPONDER
        doc.contained_at = None
        doc.reason = "containment incomplete: a responder must act on what does not hold"
    else:
        doc.status = CONTAINED
        doc.reason = f"{len(runs)} containment step(s) applied and verified"
    return (yield from _learn(context, doc, status, request))


def _run_group(context, group: list[_Run], doc: IncidentDoc, request) -> Generator[Any, Any, None]:
    """Run a group of (step, target) pairs in parallel, retrying retryable failures after a durable timer."""
    pending = list(group)
    while pending:
        started = context.current_utc_datetime
        for run in pending:
            run.attempts += 1
        answers = yield context.task_all(
            [context.call_activity(ACTIVITY_RUN_RUNBOOK, request(r.step, r.target, "apply")) for r in pending]
        )
        now = context.current_utc_datetime
        for run, answer in zip(pending, answers):
            run.answer = answer
            doc.record_action(run.step.id, run.target, answer)
            # the activity's own start/end (deterministic: they are part of its recorded result)
            step_started = parse_time(answer.get("started_at")) or started
            step_ended = parse_time(answer.get("finished_at")) or now
            if answer.get("ok"):
                outcome, detail = "done", (answer.get("result") or {}).get("summary", "")
            else:
                err = answer.get("error") or {}
                outcome = "retrying" if run.retryable else "failed"
                detail = f"{err.get('kind')}: {err.get('message')} (attempt {run.attempts}/{run.step.retry.max_attempts})"
            doc.event("contain", run.step.id, outcome, step_ended, target=run.target, runbook=run.step.runbook,
                      detail=detail, started_at=step_started)
        pending = [r for r in pending if not r.ok and r.retryable]
        if pending:
            wait = max(
                max(r.step.retry.interval(r.attempts), float((r.answer.get("error") or {}).get("retry_after") or 0))
                for r in pending
            )
            yield context.create_timer(context.current_utc_datetime + timedelta(seconds=wait))


def _learn(context, doc: IncidentDoc, status, request) -> Generator[Any, Any, dict[str, Any]]:
    status("learn", "file record")
    doc.closed_at = context.current_utc_datetime
    doc.event("learn", "file record", "ok", doc.closed_at, runbook="records.file", detail=f"status {doc.status}")
    record = doc.to_record()
    filing = Step(id="file-record", runbook="records.file", **{"with": {"record": record}})
    answer = yield context.call_activity(ACTIVITY_RUN_RUNBOOK, request(filing, None, "apply"))
    files = ((answer.get("result") or {}).get("artifacts") or {}) if answer.get("ok") else {}
    out = dict(record)
    out["record_files"] = files
    if not answer.get("ok"):
        out["record_error"] = (answer.get("error") or {}).get("message")
    status("done")
    return out

"""The step-group sub-orchestrator: run a group of runbook calls in parallel, with retries and timeouts.

Keeping each group in its own sub-orchestration keeps the incident's own
history short (replay cost stays low) however many retries a group needs.

Input (JSON object)::

    {"incident_id": str, "runs": [{"request": <runbooks.dispatch request>,
      "retry": {Retry}, "timeout_seconds": float | null}],
     "seal": str}

``seal``: the parent incident orchestrator had it made (``seal_input``) for
this very instance ID. The first thing the group does is have ``verify_seal``
check it; a group started any other way (someone with the Durable system key
starting ``incident_step_group`` directly, or reusing a sealed input for
another instance) runs nothing and returns ``{"refused": true, "reason",
"runs": []}`` (the activity logs a WARNING).

Output::

    {"runs": [{"answer": <runbooks.dispatch answer>, "attempts": int,
      "events": [{"outcome": "done"|"skipped"|"retrying"|"failed"|"timed out", "detail": str,
                  "started_at": ISO, "finished_at": ISO}]}]}

Retryable failures (throttled, conflict, transient) wait on a durable timer:
max(the step's backoff interval, the service's Retry-After), then only the
failed calls run again. A timeout abandons waiting for the call (the activity
itself may still finish; runbooks are idempotent) and fails the run with kind
``timeout``.

Containment on one resource is serialised across incidents: before each
attempt round the group takes (or renews) a lease on every resource its
mutating ``apply`` calls target and gives them back when its last round is
over (:mod:`firestop.lifecycle.locks`: an entity per resource). A group that
had to wait for another incident's group adds a ``queued`` event to each of
those runs (``{"outcome": "queued", "detail": "waited N s for ..."}``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generator

from firestop.lifecycle.locks import hold, release
from firestop.lifecycle.sealing import PURPOSE_STEP_GROUP, verify
from firestop.playbooks.models import Retry

GROUP_ORCHESTRATOR = "incident_step_group"
ACTIVITY_RUN_RUNBOOK = "run_runbook"


def skip_reason(answer: dict[str, Any] | None) -> str | None:
    """Why an ``ok`` apply answer did nothing by configuration (``result.artifacts.skipped``: e.g. notify.webhook
    without ``FIRESTOP_NOTIFY_WEBHOOK_URL``), else ``None``. Such a step is *skipped*: not done, not failed."""
    if not answer or not answer.get("ok") or not isinstance(answer.get("result"), dict):
        return None
    artifacts = answer["result"].get("artifacts")
    reason = artifacts.get("skipped") if isinstance(artifacts, dict) else None
    return str(reason)[:300] if reason else None


def _retryable(run: dict[str, Any]) -> bool:
    err = (run["answer"] or {}).get("error") or {}
    return bool(err.get("retryable")) and run["attempts"] < run["retry"].max_attempts


def _about(spec: Any) -> str:
    """What a step-group input asks for, for the WARNING logged when its seal is refused."""
    runs = spec.get("runs") if isinstance(spec, dict) else None
    asked = [(r.get("request") or {}) for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []
    return "step group: " + ", ".join(f"{a.get('runbook')!r} {a.get('action')!r} on {a.get('target')!r}"
                                      for a in asked[:3] if isinstance(a, dict))


def _locked_targets(runs: list[dict[str, Any]]) -> list[str]:
    """Targets of the runs whose runbook changes its target (``apply`` of a mutating runbook)."""
    from runbooks import get_runbook

    targets = []
    for run in runs:
        request = run["request"]
        try:
            mutating = type(get_runbook(request["runbook"])).mutating
        except Exception:  # noqa: BLE001 - an unknown runbook fails in its activity, not here
            mutating = True
        if request.get("action") == "apply" and mutating and isinstance(request.get("target"), str) and request["target"]:
            targets.append(request["target"])
    return targets


def run_group(context) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator body of :data:`GROUP_ORCHESTRATOR`."""
    spec = context.get_input()
    check = yield from verify(context, PURPOSE_STEP_GROUP, context.instance_id, spec, _about(spec))
    if not check.get("ok"):
        return {"refused": True, "reason": f"step group input refused, nothing was run: {check.get('reason')}", "runs": []}
    runs = [
        {
            "request": r["request"],
            # sealed (checked above): a playbook step's Retry as the incident dumped it, built as given
            "retry": Retry.model_construct(**(r.get("retry") or {})),
            "timeout": r.get("timeout_seconds"),
            "answer": None,
            "attempts": 0,
            "events": [],
        }
        for r in spec["runs"]
    ]
    pending = list(runs)
    locked = _locked_targets(runs)
    while pending:
        if locked:  # take, or renew, the lease on each resource this group changes
            waited = yield from hold(context, locked, context.instance_id)
            if waited:
                for run in pending:
                    if run["request"].get("target") in locked:
                        run["events"].append({
                            "outcome": "queued",
                            "detail": f"waited {waited:g} s for another incident's containment on this resource",
                            "started_at": (context.current_utc_datetime - timedelta(seconds=waited)).isoformat(),
                            "finished_at": context.current_utc_datetime.isoformat(),
                        })
        start = context.current_utc_datetime
        tasks, timers = [], []
        for run in pending:
            run["attempts"] += 1
            call = context.call_activity(ACTIVITY_RUN_RUNBOOK, run["request"])
            if run["timeout"]:
                timer = context.create_timer(start + timedelta(seconds=float(run["timeout"])))
                timers.append((run, call, timer))
                tasks.append(context.task_any([call, timer]))
            else:
                timers.append((run, call, None))
                tasks.append(call)
        yield context.task_all(tasks)
        now = context.current_utc_datetime
        for run, call, timer in timers:
            if timer is not None and not call.is_completed:
                run["answer"] = {
                    "ok": False,
                    "runbook": run["request"]["runbook"],
                    "action": run["request"]["action"],
                    "target": run["request"]["target"],
                    "step_id": run["request"]["step_id"],
                    "result": None,
                    "error": {"kind": "timeout", "message": f"no answer within {run['timeout']:g} s", "retryable": False},
                    "started_at": start.isoformat(),
                    "finished_at": now.isoformat(),
                }
                run["attempts"] = run["retry"].max_attempts  # a timed-out call is not retried
            else:
                if timer is not None:
                    timer.cancel()
                run["answer"] = call.result
            answer = run["answer"]
            skipped = skip_reason(answer)
            if skipped is not None:  # the runbook had nothing to do by configuration (notify.webhook without a URL)
                outcome, detail = "skipped", skipped
            elif answer.get("ok"):
                outcome, detail = "done", (answer.get("result") or {}).get("summary", "")
            else:
                err = answer.get("error") or {}
                outcome = "timed out" if err.get("kind") == "timeout" else ("retrying" if _retryable(run) else "failed")
                final_early = outcome == "failed" and run["attempts"] < run["retry"].max_attempts  # not a transient error
                detail = f"{err.get('kind')}: {err.get('message')} " + (
                    f"(not retried: {err.get('kind')} is not transient)" if final_early
                    else f"(attempt {run['attempts']}/{run['retry'].max_attempts})")
            run["events"].append(
                {
                    "outcome": outcome,
                    "detail": detail,
                    "started_at": answer.get("started_at") or start.isoformat(),
                    "finished_at": answer.get("finished_at") or now.isoformat(),
                }
            )
        pending = [r for r in pending if not (r["answer"] or {}).get("ok") and _retryable(r)]
        if pending:
            wait = max(
                max(r["retry"].interval(r["attempts"]), float(((r["answer"] or {}).get("error") or {}).get("retry_after") or 0))
                for r in pending
            )
            yield context.create_timer(context.current_utc_datetime + timedelta(seconds=wait))
    if locked:
        yield from release(context, locked, context.instance_id)
    return {"runs": [{"answer": r["answer"], "attempts": r["attempts"], "events": r["events"]} for r in runs]}

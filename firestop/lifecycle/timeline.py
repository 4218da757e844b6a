"""The incident document the orchestrator builds as it goes (pure data; JSON-able)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


#: What a running incident shows of its timeline. It rides in the custom status, which Azure's Durable
#: backends cap at 16 KB of UTF-16 JSON (8,192 characters) together with the pending approval: the newest
#: entries are kept while they fit in SO_FAR_BUDGET_CHARS of JSON.
SO_FAR_ENTRIES = 25
SO_FAR_DETAIL_CHARS = 160
SO_FAR_BUDGET_CHARS = 4000


def timeline_so_far(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What already ran while an incident waits (e.g. for an approval), oldest first: at most
    :data:`SO_FAR_ENTRIES` of the newest entries, details cut to :data:`SO_FAR_DETAIL_CHARS` characters, together
    at most :data:`SO_FAR_BUDGET_CHARS` characters of JSON (the custom status limit, see above)."""
    import json

    keep = ("phase", "step", "runbook", "target", "outcome", "offset_s")
    out: list[dict[str, Any]] = []
    used = 0
    for entry in reversed(timeline[-SO_FAR_ENTRIES:]):
        detail = str(entry.get("detail") or "")
        item = {**{k: entry.get(k) for k in keep},
                "detail": detail if len(detail) <= SO_FAR_DETAIL_CHARS else detail[: SO_FAR_DETAIL_CHARS - 1] + "…"}
        used += len(json.dumps(item, default=str))
        if used > SO_FAR_BUDGET_CHARS:
            break
        out.append(item)
    out.reverse()
    return out


def _undo_params(runbook: Any, params: dict[str, Any] | None) -> dict[str, Any]:
    """The params an after-the-fact undo needs: a reversible runbook's inputs, with any registered secret redacted."""
    if not params or not isinstance(runbook, str):
        return {}
    from runbooks import get_runbook
    from runbooks.redact import redact_json

    try:
        reversible = type(get_runbook(runbook)).reversible
    except (KeyError, LookupError):
        return {}
    return redact_json(params) if reversible else {}


#: The timeline outcome of lines on the incident's ledger that are not entries (:attr:`IncidentDoc.ledger_head`).
LEDGER_UNREADABLE = "unreadable ledger lines"
#: The timeline outcome of entries on the incident's ledger without the app's seal (:attr:`IncidentDoc.ledger_head`).
LEDGER_UNSEALED = "unsealed ledger entries"


class IncidentDoc:
    """Accumulates timeline entries and actions; ``to_record()`` gives the post-incident record."""

    def __init__(self, *, incident_id: str, alert: dict[str, Any], received_at: datetime, sandbox: bool, exercise: bool) -> None:
        self.incident_id = incident_id
        self.alert = alert
        self.received_at = received_at
        self.sandbox = sandbox
        self.exercise = exercise
        self.status: str | None = None
        self.reason: str = ""
        self.playbook: dict[str, Any] | None = None
        self.timeline: list[dict[str, Any]] = []
        self.actions: dict[str, dict[str, Any]] = {}
        self.evidence: list[dict[str, Any]] = []
        self.contained_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.holds: list[str] = []
        self.does_not_hold: list[str] = []
        #: evidence steps that failed: "<step> (<runbook>)[ on <name>]: <why>" — containment went on without them
        self.evidence_gaps: list[str] = []
        self.record_files: dict[str, Any] = {}
        self.facts: dict[str, Any] = {}
        self.plan: list[dict[str, Any]] = []
        self.approvals: list[dict[str, Any]] = []
        #: who was paged, when and how: {"kind", "step", "paged", "at", "sent", "channel", "detail"} (lifecycle.incident._page)
        self.pages: list[dict[str, Any]] = []
        self.correlated: list[dict[str, Any]] = []  # the newest alerts that joined (a sample)
        self.correlated_count = 0  # how many joined
        #: of them, counted without the duplicate check (the tally past MAX_TRACKED): a redelivery may count twice
        self.correlated_unchecked = 0
        #: deliveries that would have joined this incident, each checked on its own (variants14: their reports to the
        #: tally, the first firestop.lifecycle.tally.MAX_VARIANTS_NAMED) and how many reported
        self.variants: list[dict[str, Any]] = []
        self.variant_count = 0
        #: the incidents other routes' playbooks run in as parts of this one (same attack), as the tally kept them:
        #: {"incident_id", "alert_id", "rule_name"} (a part after close is added by firestop.functions.intake_call)
        self.parts: list[dict[str, Any]] = []
        #: the incident this one is a part of (another playbook's run on the same attack: firestop.intake.accept)
        self.part_of: str | None = None
        #: the held incident of the same route this one reports new activity after (firestop.intake.coverage)
        self.follows: str | None = None
        self.gaps: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.acknowledged_at: datetime | None = None
        self.activity: dict[str, Any] | None = None
        self._ledger_head: dict[str, Any] | None = None
        self.severity: int | None = alert.get("severity")
        self.rolled_back_after: str | None = None
        self.stopped: dict[str, Any] | None = None  # {"by", "reason", "at"} when a responder stopped the incident
        #: the "alert genuine" decision on an alert not confirmed at its source (firestop.lifecycle.incident.
        #: _genuine_judged: {"decision", "by", "at", "comment", "not_confirmed"}), None when it was confirmed
        self.alert_genuine: dict[str, Any] | None = None
        #: called with each new timeline entry and its ``caller`` (not part of the record: the orchestrator's
        #: decision log, :mod:`firestop.lifecycle.observe`)
        self.on_event: Any = None

    @property
    def ledger_head(self) -> dict[str, Any] | None:
        """The incident's ledger head before the record is filed (``{"entries", "head"}``, plus ``"unreadable"`` and
        ``"problems"`` when lines that are not entries were skipped, ``"unsealed"`` when entries carry no seal of the
        app: :func:`firestop.functions.activities.ledger_head`)."""
        return self._ledger_head

    @ledger_head.setter
    def ledger_head(self, value: dict[str, Any] | None) -> None:
        """Set it; skipped unreadable lines (a blob writer's junk, or a torn line) also go on the timeline
        (``learn`` / ``ledger`` / :data:`LEDGER_UNREADABLE`), at the time of the newest entry."""
        self._ledger_head = value
        unsealed = value.get("unsealed") if isinstance(value, dict) else None
        if isinstance(unsealed, int) and not isinstance(unsealed, bool) and unsealed > 0:  # (absent in older results)
            at = parse_time(self.timeline[-1]["at"]) if self.timeline else self.received_at
            whole = unsealed == value.get("entries")
            self.event("learn", "ledger", LEDGER_UNSEALED, at or self.received_at,
                       detail=f"{'all ' if whole else ''}{unsealed} of {value.get('entries')} entries on the incident's "
                              "ledger carry no seal of this app (written before it had its seal key, or under another "
                              f"key): Firestop believes {'none of them' if whole else 'only the others'} (undo, "
                              f"reliance); check it with: ledger verify {self.incident_id}")
        count = value.get("unreadable") if isinstance(value, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            return
        at = parse_time(self.timeline[-1]["at"]) if self.timeline else self.received_at
        named = "; ".join(str(p) for p in (value.get("problems") or [])[:3])
        self.event("learn", "ledger", LEDGER_UNREADABLE, at or self.received_at,
                   detail=f"{count} line(s) on the incident's ledger are not entries (planted or torn): skipped, "
                          f"never believed; check it with: ledger verify {self.incident_id}" + (f" ({named})" if named else ""))

    def event(
        self,
        phase: str,
        step: str,
        outcome: str,
        at: datetime,
        *,
        target: str | None = None,
        runbook: str | None = None,
        detail: str = "",
        started_at: datetime | None = None,
        caller: str | None = None,
    ) -> None:
        """Append a timeline entry. ``caller`` (who decided or stopped) goes to :attr:`on_event` only."""
        self.timeline.append(
            {
                "phase": phase,
                "step": step,
                "runbook": runbook,
                "target": target,
                "outcome": outcome,
                "detail": detail,
                "at": at.isoformat(),
                "offset_s": seconds_between(self.received_at, at),
                "duration_s": seconds_between(started_at, at) if started_at else None,
            }
        )
        if self.on_event is not None:
            self.on_event(self.timeline[-1], caller)

    def action_key(self, step_id: str, target: str | None) -> str:
        return f"{step_id}@{target or '-'}"

    def record_action(self, step_id: str, target: str | None, answer: dict[str, Any],
                      params: dict[str, Any] | None = None) -> None:
        """``params``: the step's resolved inputs, kept (for reversible runbooks only, secrets redacted) so that
        ``incident undo`` can run the runbook's undo after the orchestration ended."""
        result = answer.get("result") or {}
        entry = {
            "step_id": step_id,
            "runbook": answer.get("runbook"),
            "target": target,
            "params": _undo_params(answer.get("runbook"), params),
            "ok": bool(answer.get("ok")),
            "changed": result.get("changed"),
            "summary": result.get("summary") or (answer.get("error") or {}).get("message"),
            "before": result.get("before") or {},
            "after": result.get("after") or {},
            "artifacts": result.get("artifacts") or {},
            "error": answer.get("error"),
            "verified": None,
            "undone": False,
            "checks": [],
        }
        self.actions[self.action_key(step_id, target)] = entry
        evidence = entry["artifacts"].get("evidence")
        if evidence:
            self.evidence.append(evidence)

    def record_verification(self, step_id: str, target: str | None, answer: dict[str, Any]) -> None:
        entry = self.actions[self.action_key(step_id, target)]
        result = answer.get("result") or {}
        entry["verified"] = bool(answer.get("ok"))
        entry["checks"] = result.get("checks") or []
        if not answer.get("ok") and answer.get("error"):
            entry["checks"] = [{"name": "verify", "ok": False, "detail": answer["error"].get("message")}]

    def metrics(self) -> dict[str, float | None]:
        fired = parse_time(self.alert.get("fired_at"))
        mttd = seconds_between(fired, self.received_at)
        return {
            "mttd_s": mttd if mttd is None or mttd >= 0 else None,  # a negative MTTD is clock skew, not a measure
            "mtta_s": seconds_between(self.received_at, self.acknowledged_at),
            "mttc_s": seconds_between(self.received_at, self.contained_at),
            "mttr_s": seconds_between(self.received_at, self.resolved_at),
        }

    def to_record(self) -> dict[str, Any]:
        alert = self.alert
        return {
            "incident_id": self.incident_id,
            "status": self.status,
            "reason": self.reason,
            "sandbox": self.sandbox,
            "exercise": self.exercise,
            "alert": {
                k: alert.get(k)
                for k in (
                    "alert_id",
                    "rule_name",
                    "rule_id",
                    "severity",
                    "monitoring_service",
                    "signal_type",
                    "monitor_condition",
                    "fired_at",
                    "target_ids",
                    "resource_type",
                    "indicators",
                )
            },
            "playbook": self.playbook,
            "received_at": self.received_at.isoformat(),
            "contained_at": self.contained_at.isoformat() if self.contained_at else None,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "metrics": self.metrics(),
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "plan": self.plan,
            "severity": self.severity,
            "recent_activity": self.activity,
            "ledger_head": self.ledger_head,
            "approvals": self.approvals,
            "pages": self.pages,
            "stopped": self.stopped,
            "alert_genuine": self.alert_genuine,
            "correlated_alerts": self.correlated,
            "correlated_count": self.correlated_count,
            "correlated_count_unchecked": self.correlated_unchecked,
            "variants": self.variants,
            "variant_count": self.variant_count,
            "part_of": self.part_of,
            **({"parts": self.parts} if self.parts else {}),
            "follows": self.follows,
            "target_facts": self.facts,
            "checklist_gaps": self.gaps,
            "notes": self.notes,
            "holds": self.holds,
            "does_not_hold": self.does_not_hold,
            "evidence_gaps": self.evidence_gaps,
            "timeline": self.timeline,
            "actions": list(self.actions.values()),
            "evidence": self.evidence,
        }

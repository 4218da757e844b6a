"""The incident orchestrator: detect → analyze → contain → resolve → learn.

Input (JSON object, see :class:`IncidentInput`)::

    {"incident_id": str, "alert": <firestop.alerts.Alert as JSON>,
     "received_at": ISO 8601 UTC, "sandbox": bool, "exercise": bool,
     "requested_by": str (who opened the incident; "azure-monitor" for alerts),
     "playbook": <Playbook JSON> | null (pin one instead of selecting),
     "seal": str (see firestop.trust.seal: intake or the authenticated API sealed this input)}

The first thing it does is have the ``verify_seal`` activity check the seal
(bound to this instance ID, :mod:`firestop.lifecycle.sealing`). An unsealed or
altered input — someone with the Durable system key starting the orchestrator
with a pinned playbook or a ``requested_by`` of their choosing — ends the
orchestration at once with status ``refused`` (output: a record with the
reason; the activity logs a WARNING); no runbook runs, no record is filed.

Output: the post-incident record (``IncidentDoc.to_record()``) plus
``"record_files"``. Status ``contained`` (every containment step applied and
verified), ``resolved`` (every step held, but each only kept evidence or wrote back to the signal's
source: blocked at source, nothing to contain; ``contained_at`` stays null), ``needs_responder`` (something failed, was rejected, timed out or
did not verify — the record lists what holds and what does not),
``no_playbook``, ``stopped`` (a responder stopped it) or ``refused`` (above).

Custom status while running::

    {"incident_id", "phase", "step", "playbook",
     "pending_approval": {"step", "runbook", "target", "event", "why", "changes", "changes_left_out", "blast_radius",
                          "held_steps": {"<step> (<runbook>)": [str]} | null (alert.genuine only: what each held step acts on),
                          "reason_code": str | null (alert.genuine only: firestop.source_reasons.Reason),
                          "notes": [str], "plan_error": {"kind", "message"} | null (firestop.lifecycle.approvals.plan_preview),
                          "approvers", "two_person", "requested_at", "expires_at", "escalated",
                          "refused_decisions": int} | null,
     "received_at", "metrics": {"mttd_s", "mtta_s", "mttc_s", "mttr_s"} (seconds or null, as the record's),
     "source_check": "ok" | "not confirmed" | null (the "confirm alert at source" outcome once it answered, kept
                     whatever the timeline below drops: intake reads it, firestop.intake.accept.confirm_outcome),
     "timeline": [the newest timeline entries that fit SO_FAR_BUDGET_CHARS, details cut at
                                 SO_FAR_DETAIL_CHARS (firestop.lifecycle.timeline.timeline_so_far)] — what already ran, while it waits}

(Durable Functions keeps custom status small — "The custom status payload is limited to 16 KB of
UTF-16 JSON text", Custom orchestration status in Durable Functions,
https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-custom-orchestration-status —
hence the bounded timeline.) ``blast_radius`` is the plan's ``result.blast_radius`` when the runbook's
plan gives one, else None.

External events it understands: ``approval:<step id>`` (see
:mod:`firestop.lifecycle.approvals`; a decision counts only when sealed by the
responders' API for this incident, step and request), ``stop`` (sealed
``{"incident_id", "by", "groups", "reason", "stop_id", "at"}`` from
``POST /api/incidents/{id}/stop``: recorded on the timeline with who and why;
no further step runs — checked before every step group, while waiting for
an approval and once more after it, before the group runs —, what was applied is verified, the record is filed with status
``stopped``; an unsealed stop is recorded as refused and ignored),
``alert_correlated`` (batches of joined alerts, as intake raised them before the
tally entity, :mod:`firestop.lifecycle.tally`: counted into ``correlated_count``,
the newest sampled into ``correlated_alerts``, together with the tally's) and
``alert_resolved`` (recorded on the timeline).

Everything here is deterministic: time is ``context.current_utc_datetime``,
waits are durable timers, work happens in activities (``verify_seal``,
``seal_input``, ``select_playbook``, ``describe_targets``, ``run_runbook``, and ``confirm_alert_at_source`` when
the input carries ``source_check`` (tried again after durable timers while it *could not check*, with
``check_again``: :func:`_check_again`, variants14; a variant past ``unchecked_cap`` of its first incident's
unchecked ones is not tried again and ends, cap15): not confirmed, nothing acts until a responder decides the alert genuine —
:func:`genuine_gate` with ``responder_flow`` 2, an approval per contain and resolve step in older inputs)
and in the step-group sub-orchestrator (its input sealed for the child
instance ID the parent chooses, ``<incident id>:group-<n>``).
"""

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
import json
from datetime import timedelta
from typing import Any, Generator

from pydantic import BaseModel, ConfigDict, Field

from firestop.empty import new_dict
from firestop.alerts.indicators import MAX_INDICATORS
from firestop.lifecycle.approvals import (AUTOMATION, KEPT_REFUSALS, MAX_PLAN_TEXT, TAIL_REFUSALS, RefusalRecord, decode,
                                          event_name, judge, needs_approval, plan_preview)
from firestop.lifecycle import observe
from firestop.lifecycle.checklist import checklist_gaps
# GENUINE_STEP: the pseudo-step of the "alert genuine" decision (pending_approval["step"], approval:alert.genuine, the
# record's approvals; a playbook step id cannot hold a dot, firestop.playbooks.models.NAME_PATTERN: never a step's)
from firestop.lifecycle.cli_hints import APP_PLACEHOLDER, CONFIRM_STEP, GENUINE_STEP, decide_command
from firestop.lifecycle.group import ACTIVITY_RUN_RUNBOOK, GROUP_ORCHESTRATOR, skip_reason
from firestop.lifecycle import tally
from firestop.lifecycle.outcome import CONTAINED, NEEDS_RESPONDER, NO_PLAYBOOK, REFUSED, RESOLVED, STOPPED
from firestop.lifecycle.sealing import (
    ACTIVITY_SEAL_INPUT,
    ACTIVITY_VERIFY_SEAL,
    PURPOSE_APPROVAL,
    PURPOSE_INCIDENT,
    PURPOSE_STEP_GROUP,
    PURPOSE_STOP,
    binding_of_decision,
    verify,
    verify_request,
)
from firestop.lifecycle.timeline import IncidentDoc, parse_time, timeline_so_far
from firestop.playbooks.expressions import condition, render
from firestop.playbooks.loader import playbook_from_json
from firestop.playbooks.models import Approval, Parallel, Playbook, Step, UndoStep
from firestop.resource_id import type_key
from firestop.seal_contract import digest
from firestop.lifecycle.start import UNCHECKED_VARIANTS_WAITING  # noqa: F401 (re-exported)
from firestop.source_reasons import UNCHECKED_NOT_WAITING, Reason, could_not_check
from firestop.times import instant  # the page's "Decide by": 2026-11-29 04:18:08.1 UTC, as every command writes a time

ORCHESTRATOR_NAME = "incident_orchestrator"
ACTIVITY_SELECT_PLAYBOOK = "select_playbook"
ACTIVITY_DESCRIBE_TARGETS = "describe_targets"
#: ``{"alert": alert JSON, "source": "azure-monitor"|"defender"|"sentinel", "source_ref"?}`` → ``{"confirmed": bool,
#: "why": str}``: the alert read from its source (Alerts Management, :mod:`firestop.azure.alerts_management`; Defender
#: for Cloud or Sentinel, :mod:`firestop.azure.security_source`); scheduled beside ``select_playbook``.
ACTIVITY_CONFIRM_ALERT = "confirm_alert_at_source"
ACTIVITY_SUMMARIZE_ACTIVITY = "summarize_activity"
ACTIVITY_LEDGER_HEAD = "ledger_head"
#: ``{"incident_id", "alerts": [summary, …]}`` → ``{"recorded", "duplicate", "failed"}``: late alerts onto the filed record.
ACTIVITY_RECORD_LATE = "record_late_alerts"
#: Reads of the tally's late alerts after the record is filed (each read after the previous one's alerts were
#: recorded; the reads stop once one finds no alert more).
LATE_SWEEPS = 3
EVENT_CORRELATED = "alert_correlated"
EVENT_RESOLVED = "alert_resolved"
EVENT_STOP = "stop"
#: While the approval gate cannot wait on the stop event (a refused stop buffered by the SDK answers every wait on it:
#: :func:`_fresh_stop_wait`), it wakes this often (seconds) to look for a newer stop.
STOP_POLL_SECONDS = 60
#: Longest stop reason a responder may give (it lands on the timeline and in the record): the API and the CLI refuse longer.
MAX_STOP_REASON = 500
#: Joined alerts named in the record (the rest are counted: ``correlated_count``).
SAMPLE_SIZE = 20
#: Verification reads at least this many times while they meet transient errors (see ``_verify``).
VERIFY_ATTEMPTS = 4


#: ``responder_flow`` of an input whose unconfirmed alert waits for one decision (:func:`genuine_gate`), not one per step.
GENUINE_FLOW = 2
#: ``{"incident_id", "received_at"}`` (this incident run, its check "not confirmed") -> ``{"started": int, "found":
#: int, "left": int}``: starts (start-if-absent) the variant of each alert kept as a pending join of the run while its
#: check had not answered (firestop.records.pending_joins; joins14). Raises when the store or the Durable client fails,
#: or while this run's outcome is not visible in the incident's status yet (listing14: the retry runs it again).
ACTIVITY_START_PENDING_JOINS = "start_pending_joins"
#: Attempts at :data:`ACTIVITY_START_PENDING_JOINS` (the first retry after 5 s, doubling): a store or client outage.
PENDING_JOIN_ATTEMPTS = 5
#: Most variants one run starts (firestop.records.pending_joins.MAX_STARTS, repeated: the lifecycle imports no store)
MAX_PENDING_STARTS = 2000
#: Tries of the source check when it *could not check* for a passing reason (variants14:
#: :attr:`firestop.source_reasons.Reason.TRANSIENT` — throttled, a 5xx, a timeout, left after the SDK's own retries
#: inside each try): the first, then one after each of :data:`CHECK_WAITS` (durable timers, never sleeps).
CHECK_ATTEMPTS = 4
#: Seconds waited before each further try (doubling from 60): the last try starts at most 420 s (7 min) after the
#: first answered. A forger who gets the app throttled (each distinct forged content costs an Alerts Management read)
#: delays the genuine variant's containment by that much at most, then it waits for a responder on its own decision.
CHECK_WAITS = (60, 120, 240)
#: (cap15: :data:`firestop.lifecycle.start.UNCHECKED_VARIANTS_WAITING`, the cap intake writes into a variant's input)
#: The outcome a variant past :data:`UNCHECKED_VARIANTS_WAITING` reports to the first incident's tally (its record)
CAPPED_OUTCOME = UNCHECKED_NOT_WAITING
#: The timeline step of each further try's wait (not :data:`CONFIRM_STEP`: intake reads the check's outcome there,
#: and while it tries again the check has not answered — :func:`firestop.intake.accept.confirm_outcome`)
CHECK_AGAIN_STEP = "check at source again"
#: The outcome of :data:`CONFIRM_STEP` when every try could not check (not "not confirmed": the source said nothing)
COULD_NOT_CHECK = "could not check"
#: Longest "why not confirmed" kept from the confirm activity with :data:`GENUINE_FLOW` (characters; the activity's
#: texts are far shorter — the bound is for a source that answers with a long message).
GENUINE_WHY_CHARS = 1000


class IncidentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: str
    alert: dict[str, Any]
    received_at: str
    sandbox: bool = False
    exercise: bool = False
    requested_by: str = AUTOMATION
    #: indicator lists cut to MAX_INDICATORS: {name: original length, or MAX_INDICATORS + 1 for "more than"}
    indicators_truncated: dict[str, int] = Field(default_factory=new_dict)
    playbook: dict[str, Any] | None = Field(default=None, description="pin a playbook instead of selecting one")
    part_of: str | None = Field(default=None, max_length=128,
                                description="intake: the attack's incident this one is a part of (its own playbook, same attack)")
    follows: str | None = Field(default=None, max_length=128,
                                description="intake: the held incident of the same route this alert reports new activity after")
    source_check: str | None = Field(default=None, max_length=32,
                                     description="intake: read the alert from this source before any automatic step "
                                                 "('azure-monitor', 'defender', 'sentinel'); absent in inputs older "
                                                 "than the check: no read, so in-flight orchestrations replay unchanged")
    source_ref: str | None = Field(default=None, max_length=1024,
                                   description="intake: the delivered ARM id of the Defender alert or Sentinel incident "
                                               "(shape checked, firestop.alerts.source_refs); absent: not confirmed. "
                                               "An Activity Log alert's (azure-monitor): its event's correlationId, "
                                               "eventDataId, eventTimestamp as JSON (checked when read, verify13)")
    responder_flow: int | None = Field(default=None, ge=1, le=GENUINE_FLOW,
                                       description="intake, with source_check: how an alert not confirmed at its "
                                                   "source waits for a responder — 2 (GENUINE_FLOW): one 'alert "
                                                   "genuine' decision; absent (older inputs): an approval per step, "
                                                   "so they replay as they ran")
    drift_unverified: int | None = Field(default=None, ge=1, le=10**6,
                                         description="intake: an audit's drift alert whose previous audit could not be "
                                                     "verified (N documents Firestop did not seal stood in its place, "
                                                     "A13-08): every failing finding counted as new, so nothing acts "
                                                     "until a responder decides (genuine_gate). Absent in older inputs")
    variant_of: str | None = Field(default=None, max_length=128,
                                   description="intake, with source_check: the incident not confirmed at its source "
                                               "this delivery would have joined (it got its own: "
                                               "firestop.intake.accept._variant); not confirmed either, this one "
                                               "ends after its check, and the responder decides in that one. Absent "
                                               "in older inputs: they replay as they ran")
    check_again: bool = Field(default=False, description="intake, with source_check: a check that could not check for "
                              "a passing reason (Reason.TRANSIENT) is tried again (CHECK_ATTEMPTS, durable timers) and, "
                              "still unchecked, waits on this incident's own decision — a variant too (variants14). "
                              "Absent in older inputs: they replay as they ran")
    variant_reports: bool = Field(default=False, description="intake, with variant_of: this variant reports how its "
                                  "check ended to variant_of's tally (tally.report_variant: named in that incident's "
                                  "record, its alert counted once; variant_of ended and it not confirmed: it asks a "
                                  "responder itself, variants14). Absent in older inputs: they replay as they ran")
    unchecked_cap: int | None = Field(default=None, ge=1, le=1000, description="intake, with variant_reports (cap15): "
                                      "a variant whose first check could not check asks its place among such "
                                      "variants of variant_of (tally.unchecked_place); past this many it is not "
                                      "tried again and ends needs_responder at once, named in variant_of's record "
                                      "(UNCHECKED_VARIANTS_WAITING). Absent in older inputs: they replay as they ran")
    pending_joins: bool = Field(default=False, description="intake, with source_check: alerts that join this incident "
                                "while its check runs are kept as pending joins; not confirmed, this incident starts "
                                "their variants (ACTIVITY_START_PENDING_JOINS, joins14). Absent in older inputs: they "
                                "replay as they ran")
    refuse_failed_plans: bool = Field(default=False, description="a step whose plan before its approval fails in a "
                                      "way approving cannot change (PLAN_REFUSED_KINDS) fails then, without asking "
                                      "a responder (cli13). Absent in older inputs: they replay as they ran")
    seal: str | None = Field(default=None, description="firestop.trust.seal over the rest, bound to the instance ID")


#: Longest resource name :func:`target_name` keeps (characters; an Azure OpenAI account's name is at most 64).
TARGET_NAME_CHARS = 128


#: Most characters of the delivered rule name the custom status carries (A13-06: ``essentials.alertRule`` is any length
#: in a posted payload, and Azure caps the whole status at 8,192 characters — "16 KB of UTF-16 JSON text",
#: learn.microsoft.com durable-task-custom-orchestration-status — past which setting it fails the orchestration); the
#: record keeps the name whole.
STATUS_RULE_NAME_CHARS = 200


def status_rule_name(rule_name: Any) -> str | None:
    """``rule_name`` cut at :data:`STATUS_RULE_NAME_CHARS` characters (ending ``…``), None when there is none. Pure."""
    if rule_name is None:
        return None
    name = str(rule_name)
    return name if len(name) <= STATUS_RULE_NAME_CHARS else name[:STATUS_RULE_NAME_CHARS - 1] + "…"


def target_name(target_ids: Any) -> str | None:
    """The last segment of the first of ``target_ids`` (a resource ID's name), cut at :data:`TARGET_NAME_CHARS`
    characters (ending ``…``); None when there is none. Pure; text, never escaped here."""
    first = target_ids[0] if isinstance(target_ids, list) and target_ids else None
    name = str(first).rstrip("/").rsplit("/", 1)[-1] if first else ""
    if not name:
        return None
    return name if len(name) <= TARGET_NAME_CHARS else name[:TARGET_NAME_CHARS - 1] + "…"


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
    return [t for t in alert.get("target_ids") or [] if type_key(t) == wanted]


class _Run:
    """One (step, target) pair: what it was asked to do and how it ended."""

    def __init__(self, step: Step | UndoStep, target: str | None, params: dict[str, Any] | None = None, phase: str = "contain") -> None:
        self.step = step
        self.target = target
        self.params = params or {}
        self.phase = phase
        self.answer: dict[str, Any] | None = None
        self.undone = False

    @property
    def runbook(self) -> str:
        return getattr(self.step, "runbook", "") or ""

    @property
    def ok(self) -> bool:
        return bool(self.answer and self.answer.get("ok"))

    def fail(self, kind: str, message: str) -> dict[str, Any]:
        self.answer = {"ok": False, "runbook": self.runbook, "result": None,
                       "error": {"kind": kind, "message": message, "retryable": False}}
        return self.answer


class _Incident:
    """State of one orchestration run (rebuilt identically on every replay)."""

    def __init__(self, context, inp: IncidentInput) -> None:
        self.context = context
        self.inp = inp
        self.alert = inp.alert
        self.facts = _alert_facts(inp.alert)
        self.doc = IncidentDoc(
            incident_id=inp.incident_id,
            alert=inp.alert,
            received_at=parse_time(inp.received_at),
            sandbox=inp.sandbox,
            exercise=inp.exercise,
        )
        self.doc.on_event = lambda entry, caller: observe.decision(context, inp.incident_id, entry, caller)
        self.targets: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, dict[str, Any]] = {}
        self.applied: list[_Run] = []  # ok runs, in order
        self.failures: list[_Run] = []
        self.pending_approval: dict[str, Any] | None = None
        self.page: list[str] = []  # who the playbook pages (Playbook.page)
        self.pages = 0  # pages sent: names the next page step
        self.phase = "detect"
        self.step_label: str | None = None
        self.groups = 0  # step groups started: names the next child instance
        self.stop_wait = None  # the pending wait for the stop event (armed at the start)
        self.last_stop: dict[str, Any] | None = None  # the stop payload handled last (SDK replays, see _stop_requested)
        self.stop: dict[str, Any] | None = None  # a verified stop: {"by", "reason", "at"}
        #: why the alert was not confirmed at its source (every contain/resolve step then waits for a responder)
        self.unconfirmed: str | None = None
        #: and why as a code (firestop.source_reasons.Reason), None from a check that gave none (older histories)
        self.unconfirmed_code: str | None = None
        #: GENUINE_FLOW: the responder's decision on the unconfirmed alert — None (not asked yet), "approve"
        #: (genuine: steps run as for a confirmed alert), "reject", "timeout" or "stopped" (no acting step runs)
        self.genuine: str | None = None
        #: who decided the alert genuine, {"by", "groups"} (set by the gate; RT15-01: a later step whose approvers
        #: would refuse its author still asks them)
        self.genuine_by: dict[str, Any] | None = None
        #: what approving the genuine decision lets act (_held_steps), shown on its card and kept in the record
        self.held_steps: dict[str, list[str]] | None = None
        #: the source check's timeline outcome ("ok", "not confirmed") once it answered: the custom status's
        #: "source_check" (listing14: the timeline there keeps the newest lines only, and may drop the check's)
        self.checked: str | None = None
        #: bounds14: pending joins of this run that could not be read (deleted, overwritten) or were refused: > 0 ends
        #: the incident needs_responder whatever else happened (those alerts were never checked on their own)
        self.unread_joins = 0
        #: cap15: the card note of a variant waiting unchecked within ``unchecked_cap`` (that more may exist), or None
        self.unchecked_note: str | None = None
        #: whether :func:`_drain_events` ran (read and closed the tally); else :func:`_learn` closes it last, on the
        #: paths that end early (no_playbook, a variant not confirmed, a capped variant): every end closes it (trust16)
        self.drained = False

    # -- helpers ---------------------------------------------------------------
    @property
    def now(self):
        return self.context.current_utc_datetime

    def status(self, phase: str | None = None, step: str | None = None) -> None:
        if phase is not None:
            self.phase, self.step_label = phase, step
        self.context.set_custom_status(
            {
                "incident_id": self.inp.incident_id,
                "phase": self.phase,
                "step": self.step_label,
                "playbook": (self.doc.playbook or {}).get("name"),
                "rule_name": status_rule_name(self.alert.get("rule_name")),  # A13-06: bounded as target_name is
                # what the alert is on, as a finished record's alert.target_ids[0] names it (the list's "<rule> on
                # <name>"): the name only, bounded — the custom status is capped (Azure: 8,192 characters)
                "target_name": target_name(self.alert.get("target_ids")),
                "pending_approval": self.pending_approval,
                "received_at": self.doc.received_at.isoformat(),
                "metrics": self.doc.metrics(),  # MTTD is known from the start; the others once they happen
                "source_check": self.checked,
                "timeline": timeline_so_far(self.doc.timeline),
            }
        )

    def scope(self, target: str | None) -> dict[str, Any]:
        facts = self.targets.get(target or "", {})
        return {
            "alert": self.alert,
            "incident": {"id": self.inp.incident_id, "severity": self.alert.get("severity")},
            "target": {"id": target, "tags": facts.get("tags", {}), **{k: v for k, v in facts.items() if k != "tags"}},
            "steps": self.steps,
        }

    def request(self, run: _Run, action: str, **extra: Any) -> dict[str, Any]:
        step = run.step
        runbook = run.runbook
        return {
            "runbook": runbook,
            "action": action,
            "target": run.target,
            "params": run.params,
            "incident_id": self.inp.incident_id,
            "step_id": step.id,
            "alert": self.facts,
            **extra,
        }

    def remember(self, run: _Run) -> None:
        result = (run.answer or {}).get("result") or {}
        self.steps[run.step.id] = {
            "ok": run.ok,
            "changed": result.get("changed"),
            "before": result.get("before") or {},
            "after": result.get("after") or {},
            "artifacts": result.get("artifacts") or {},
            "error": (run.answer or {}).get("error"),
            "verified": False,  # True once verified (early, when a later step reads it: see _verify)
        }


def _about_input(raw: Any) -> str:
    """What an incident input claims, for the WARNING logged when its seal is refused."""
    if not isinstance(raw, dict):
        return f"incident input of type {type(raw).__name__}"
    pinned = raw.get("playbook")
    name = pinned.get("name") if isinstance(pinned, dict) else pinned
    alert = raw.get("alert") if isinstance(raw.get("alert"), dict) else {}
    return (f"incident input: requested_by={raw.get('requested_by')!r}, pinned playbook={name!r}, "
            f"targets={(alert.get('target_ids') or [])[:3]!r}")


def _refused(context, what: str, reason: str) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator code (``yield from``): the output of an orchestration whose input was refused — a record saying so,
    nothing else run — after closing this instance's tally (one ``call_entity``, trust16): a variant that reports to it
    later hears that nothing waits here, and asks a responder itself (variants14 item 2)."""
    yield from tally.summary(context, context.instance_id, None)
    now = context.current_utc_datetime
    doc = IncidentDoc(incident_id=context.instance_id, alert={}, received_at=now, sandbox=False, exercise=False)
    doc.on_event = lambda entry, caller: observe.decision(context, context.instance_id, entry, caller)
    doc.status = REFUSED
    doc.reason = f"{what} refused, nothing was run: {reason}"
    doc.event("detect", "verify seal", "refused", now, detail=doc.reason)
    doc.closed_at = now
    context.set_custom_status({"incident_id": context.instance_id, "phase": "refused", "step": None, "playbook": None,
                               "pending_approval": None})
    record = {**doc.to_record(), "record_files": {}}
    observe.outcome(context, record)
    return record


def _start_pending_joins(inc: _Incident) -> Generator[Any, Any, None]:
    """joins14: this run's check said "not confirmed" (its verdict kept before the activity answered). Each alert that
    joined it while the check ran was kept as a pending join (intake, before it read the verdict); start their
    variants, each checked on its own (:data:`ACTIVITY_START_PENDING_JOINS`, start-if-absent: one intake started after
    reading this verdict is found). A note says how many; the activity failing after
    :data:`PENDING_JOIN_ATTEMPTS` is a note naming what a responder must look at (the incident goes on)."""
    context, doc = inc.context, inc.doc
    request = {"incident_id": context.instance_id, "received_at": str(inc.inp.received_at)}
    import azure.durable_functions as df  # (as locks and tally: the SDK's retry shape)

    retry = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=PENDING_JOIN_ATTEMPTS)
    try:
        answer = yield context.call_activity_with_retry(ACTIVITY_START_PENDING_JOINS, retry, request)
    except Exception:  # noqa: BLE001 - the alerts that joined are this incident's; a responder decides here
        doc.notes.append("alerts that joined this incident while its source check ran were not started on their own "
                         f"({ACTIVITY_START_PENDING_JOINS} failed): the responder decides them here")
        return
    answer = answer if isinstance(answer, dict) else {}
    started, found, left = (int(answer.get(k) or 0) for k in ("started", "found", "left"))
    refused = int(answer.get("refused") or 0)  # (R12-01; older histories' answers have none: 0, notes as they were)
    if refused:
        doc.notes.append(f"{refused} pending join(s) in the records store were not sealed for the variant they name "
                         "with the app's current seal key (planted by a storage writer? or kept before a seal key "
                         "rotation, RT20-01): not started")
    if "unreadable" in answer:  # bounds14 (answers recorded before it have no key: status and pages as they were)
        unread = int(answer.get("unreadable") or 0) + refused
        if unread:
            # alerts that joined while the check ran and that nobody will check on their own: the responder is asked
            inc.unread_joins = unread
            doc.notes.append(f"{unread} pending join(s) could not be read (deleted or overwritten in the records "
                             "store, or not sealed for the variant they name): alerts that joined this incident while "
                             "its source check ran were not all checked on their own; a responder looks at the alerts "
                             "listed as joined here (incident show) and handles each at its source")
    if started or found or left:  # (a note, not a timeline line: the custom status keeps the newest lines only,
        # and intake reads this run's check outcome there)
        doc.notes.append(f"alerts that joined this incident while its source check ran are each checked on their "
                         f"own: {started} variant(s) started, {found} already running or done"
                         + (f", {left} not started (bound {MAX_PENDING_STARTS}): the responder decides them here"
                            if left else ""))
    rederived = int(answer.get("rederived") or 0)  # (joins18; older histories' answers have none: notes as they were)
    if rederived:
        doc.notes.append(f"{rederived} of the variant(s) started were kept before a seal key rotation: each started "
                         "with an input re-derived from its alert alone (sealed with the current key, checked at its "
                         "source on its own, nothing pinned in the kept input carried over)")


def _after_ended(inc: _Incident, why: str, asked: str | None, results: list[Any]) -> None:
    """variants14 item 2: this variant, not confirmed, was delivered after the incident it would have joined
    (``variant_of``) had ended — its tally closed: a responder rejected it, or it ran out — so nobody waits there. The
    first such variant (``asked`` None: the tally recorded this one) asks a responder as every ``needs_responder``
    outcome does — the selected playbook's ``page`` (:func:`_learn` pages them) — with what to do in its reason; later
    ones name it (one page per ended incident, however many forged contents follow). ``results``: the analyze
    activities' answers left (the playbook selection first, when none was pinned)."""
    doc, of = inc.doc, inc.inp.variant_of
    if asked is None:
        selection = inc.inp.playbook and {"playbook": inc.inp.playbook} or (results[0] if results else {})
        chosen = selection.get("playbook") if isinstance(selection, dict) else None
        page = chosen.get("page") if isinstance(chosen, dict) else None
        inc.page = [str(p)[:128] for p in page if isinstance(p, str)][:50] if isinstance(page, list) else []
        doc.reason = (f"alert not confirmed at its source ({inc.inp.source_check}: {why}); its first delivery's "
                      f"incident {of} has ended, so nothing waits for a responder there: decide this one. Look the "
                      f"alert up at its source (its id: {inc.alert.get('alert_id')}); if it is there with what this "
                      "delivery says, contain it by hand or handle the delivery again (alert handle FILE --rerun); if "
                      "not, this is another forged delivery: the alerts webhook key is out — rotate it (every action "
                      "group receiver URL carries it)")
        doc.notes.append(f"delivered after incident {of} ended: the first such delivery not confirmed — a responder "
                         "is asked here" + (f" (paged: {', '.join(inc.page)})" if inc.page else
                                            " (the playbook pages nobody: listed as needs_responder)"))
    else:
        doc.reason = (f"alert not confirmed at its source ({inc.inp.source_check}: {why}); its first delivery's "
                      f"incident {of} has ended, and incident {asked} asked a responder about the deliveries that "
                      f"differ from it since: decide there; this one is named in incident {of}'s tally too. Look the "
                      "alert up at its source: if it is there with what this delivery says, contain it by hand or "
                      "handle the delivery again (alert handle FILE --rerun)")


def _check_again(inc: _Incident, request: dict[str, Any],
                 checked: dict[str, Any]) -> Generator[Any, Any, dict[str, Any]]:
    """variants14: the check's answer ``checked``, or — while it *could not check* for a passing reason
    (:func:`firestop.source_reasons.could_not_check`) — the answer of a further try after each of :data:`CHECK_WAITS`
    (a durable timer, then :data:`ACTIVITY_CONFIRM_ALERT` again with ``attempt`` n of :data:`CHECK_ATTEMPTS`; the
    activity keeps the run's verdict only from its last try or a real answer). Each wait is a
    :data:`CHECK_AGAIN_STEP` timeline line. Only for inputs with ``check_again`` (older ones replay as they ran). A
    stop during a wait is handled at the next checkpoint (at most the wait's length later)."""
    attempt = 1
    while could_not_check(checked.get("code")) and attempt < CHECK_ATTEMPTS:
        wait = CHECK_WAITS[attempt - 1]
        why = str(checked.get("why") or "")
        inc.doc.event("detect", CHECK_AGAIN_STEP, "waiting", inc.now,
                      detail=f"{inc.inp.source_check}: could not check ({why[:300]}): try {attempt + 1} of "
                             f"{CHECK_ATTEMPTS} in {wait} s")
        inc.status("analyze", CHECK_AGAIN_STEP)  # (incident list / the console: what it waits for)
        yield inc.context.create_timer(inc.now + timedelta(seconds=wait))
        attempt += 1
        answer = yield inc.context.call_activity(ACTIVITY_CONFIRM_ALERT, {**request, "attempt": attempt})
        checked = answer if isinstance(answer, dict) else {}
    return checked


def run_incident(context) -> Generator[Any, Any, dict[str, Any]]:
    """Orchestrator body (a generator for ``df.Orchestrator``); returns the record."""
    raw = context.get_input()
    # First action: the seal. The stop wait is armed alongside (a stop may come at any time from now on).
    stop_wait = context.wait_for_external_event(EVENT_STOP)
    check_call = context.call_activity(ACTIVITY_VERIFY_SEAL, verify_request(PURPOSE_INCIDENT, context.instance_id, raw, _about_input(raw)))
    first = yield context.task_any([check_call, stop_wait])
    if first is not check_call:
        yield check_call  # a stop came first: it is handled at the first checkpoint
    check = check_call.result if isinstance(check_call.result, dict) else {}
    if not check.get("ok"):
        return (yield from _refused(context, "incident input", str(check.get("reason") or "not verified")))
    inc = _Incident(context, IncidentInput.model_validate(raw))
    inc.stop_wait = stop_wait
    doc, alert = inc.doc, inc.alert
    doc.part_of = inc.inp.part_of
    doc.follows = inc.inp.follows
    fired_at = parse_time(alert.get("fired_at"))
    if fired_at is not None and fired_at > doc.received_at:
        doc.notes.append(f"the alert says it fired at {fired_at.isoformat()}, after it was received: clock skew? "
                         "Evidence windows end at the receive time.")
        for key in ("fired_at", "window_end"):
            value = parse_time(inc.facts.get(key))
            if value is not None and value > doc.received_at:
                inc.facts[key] = doc.received_at.isoformat()
        start = parse_time(inc.facts.get("window_start"))
        if start is not None and start >= doc.received_at:
            inc.facts["window_start"] = None

    # detect --------------------------------------------------------------------
    inc.status("detect")
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

    # analyze -------------------------------------------------------------------
    inc.status("analyze", "select playbook")
    started = inc.now
    tasks = []
    if inc.inp.playbook is None:
        tasks.append(context.call_activity(ACTIVITY_SELECT_PLAYBOOK, {"alert": alert}))
    if alert.get("target_ids"):
        tasks.append(context.call_activity(ACTIVITY_DESCRIBE_TARGETS, {"target_ids": list(alert["target_ids"])}))
    if inc.inp.source_check:  # (last: the other results are popped from the front; alongside them, no added wait)
        request = {"alert": alert, "source": inc.inp.source_check, "incident_id": context.instance_id,
                   "received_at": inc.inp.received_at}
        if inc.inp.check_again:  # (the activity keeps the run's verdict from the last try only: variants14)
            request.update(attempt=1, attempts=CHECK_ATTEMPTS)
        if inc.inp.source_ref:
            request["source_ref"] = inc.inp.source_ref
        tasks.append(context.call_activity(ACTIVITY_CONFIRM_ALERT, request))
    results = (yield context.task_all(tasks)) if tasks else []
    if inc.inp.source_check:
        checked = results.pop()
        checked = checked if isinstance(checked, dict) else {}
        place = 0  # cap15: this variant's place among variant_of's unchecked ones (0: not asked)
        if (inc.inp.unchecked_cap and inc.inp.variant_of and inc.inp.variant_reports and inc.inp.check_again
                and could_not_check(checked.get("code"))):
            place = yield from tally.unchecked_place(context, inc.inp.variant_of, context.instance_id)
        capped = place > (inc.inp.unchecked_cap or 0) > 0
        if inc.inp.check_again and not capped:  # (past the cap: one check, not CHECK_ATTEMPTS — the reads)
            checked = yield from _check_again(inc, request, checked)
        confirmed = checked.get("confirmed") is True
        # every try could not check (variants14; older inputs: "not confirmed", as they ran)
        unchecked = inc.inp.check_again and not confirmed and could_not_check(checked.get("code"))
        flow = inc.inp.responder_flow == GENUINE_FLOW
        why = str(checked.get("why") or "no answer from the check")
        why = (why if len(why) <= GENUINE_WHY_CHARS else why[:GENUINE_WHY_CHARS - 1] + "…") if flow else why[:300]
        if capped:
            why = (f"could not check ({why}); not tried again: {place - 1} deliveries differing from incident "
                   f"{inc.inp.variant_of}'s could not be checked before this one, and at most "
                   f"{inc.inp.unchecked_cap} wait on their own decision")
        elif unchecked:
            why = f"could not check after {CHECK_ATTEMPTS} tries over {sum(CHECK_WAITS)} s: {why}"
        inc.checked = "ok" if confirmed else COULD_NOT_CHECK if unchecked else "not confirmed"
        doc.event("detect", CONFIRM_STEP, inc.checked, inc.now, detail=f"{inc.inp.source_check}: {why}")
        reported = None
        if inc.inp.variant_of and inc.inp.variant_reports:
            # variants14 item 3: the incident it would have joined names it in its record, and stops counting its
            # alert (a pending join, joins14: one alert, one incident); item 2: that incident ended already (its
            # tally read), nobody waits there: the first such variant not confirmed asks a responder itself
            label = CAPPED_OUTCOME if capped and unchecked else inc.checked
            reported = yield from tally.report_variant(context, inc.inp.variant_of, {
                "variant": context.instance_id, "alert_id": alert.get("alert_id"), "outcome": label,
                "why": why[:tally.VARIANT_WHY_CHARS],
                "asks": not confirmed and (not unchecked or capped)})  # (cap15: a capped one waits nowhere either)
        if capped and unchecked:
            # cap15: past the cap a variant that could not check does not wait on its own decision (the forger who
            # provokes the throttling would open one per distinct content): it ends, named in variant_of's record,
            # which says how many more could not be checked; its own record keeps its content for a rerun
            inc.unconfirmed = why
            doc.status = NEEDS_RESPONDER
            doc.reason = (f"alert could not be checked at its source ({inc.inp.source_check}), delivered after "
                          f"incident {inc.inp.variant_of} (not confirmed) with differing content; "
                          f"{inc.inp.unchecked_cap} such deliveries already wait on their own decision, so nothing "
                          f"waits or runs here (it is #{place}, named in incident {inc.inp.variant_of}'s record). "
                          "Look the alert up at its source: if it is there with what this delivery says, contain it "
                          "by hand or handle the delivery again (alert handle FILE --rerun); not there: the webhook "
                          "key is out, rotate it")
            if reported is not None and reported["closed"]:  # nothing waits there either: one asks (variants14)
                _after_ended(inc, why, reported["asked"], results)
            return (yield from _learn(inc, None))
        if unchecked and inc.inp.variant_of:
            if place:  # cap15: the record and this variant's card say that more may exist
                inc.unchecked_note = (f"delivery #{place} of those differing from incident {inc.inp.variant_of}'s "
                                      f"that could not be checked; at most {inc.inp.unchecked_cap} wait on their own "
                                      "decision: more may exist, named in that incident's record")
                doc.notes.append(f"{inc.unchecked_note} (later ones end at once; look them up at the source)")
            # variants14: the source said nothing (throttled, a 5xx, a timeout — a forger can provoke throttling), so
            # this delivery is not judged by the incident it would have joined: approving there acts on *that*
            # content. It waits for a responder here, on its own decision (its own content and held steps)
            doc.notes.append(f"this delivery differs from incident {inc.inp.variant_of}'s and its source could not "
                             f"be checked: a responder decides it here (step {GENUINE_STEP}), on its own content, "
                             f"not in {inc.inp.variant_of}")
        elif not confirmed and inc.inp.variant_of:
            # variants13: a delivery that would have joined an incident not confirmed at its source got this one so
            # that it is checked on its own; not confirmed either, it waits for nobody — the responder decides in
            # that incident — so a forger's N differing deliveries make one waiting incident, not N
            inc.unconfirmed = why
            doc.status = NEEDS_RESPONDER
            # newuser12: it said "… was open …: a responder decides there" also when that incident had ended (a
            # responder had rejected it): nothing waited there. Intake makes a variant either way; say both cases
            doc.reason = (f"alert not confirmed at its source ({inc.inp.source_check}: {why}), delivered after "
                          f"incident {inc.inp.variant_of} (not confirmed either) on this alert or resource: nothing runs "
                          f"here; while {inc.inp.variant_of} waits, a responder decides there (step {GENUINE_STEP}); "
                          "once it has ended nothing waits: look this alert up at its source and, if it is there, "
                          "handle it again (alert handle FILE --rerun) or contain it by hand")
            if reported is not None and reported["closed"]:
                _after_ended(inc, why, reported["asked"], results)
            return (yield from _learn(inc, None))
        if not confirmed and inc.inp.pending_joins:
            # R12-06: the outcome is published (this custom status) before the pending joins are listed: intake,
            # reading no verdict, reads it here instead. Not committed before the list activity's message on Azure's
            # Storage backend (messages first, the Instances row last): the activity lists only once it reads the
            # outcome in this status (listing14, firestop.functions.activities.start_pending_joins)
            inc.status()
            yield from _start_pending_joins(inc)
        if not confirmed:
            inc.unconfirmed = why
            # the activity's reason code (firestop.source_reasons), None in results recorded before it gave one
            inc.unconfirmed_code = checked.get("code") if isinstance(checked.get("code"), str) else None
            doc.notes.append(f"alert not confirmed at its source: {why}. No automatic containment: a responder "
                             f"decides once whether the alert is genuine (step {GENUINE_STEP}); evidence is "
                             "kept meanwhile" if flow else
                             f"alert not confirmed at its source ({why}): no automatic containment, every step "
                             "waits for a responder's approval")
    if inc.inp.drift_unverified and inc.unconfirmed is None:
        # A13-08: the audit could not verify its previous audit (RT17-03's fail-closed drift): this finding counts as new
        # without being known to be, and may be a resource open on purpose — ask, as for an alert not confirmed
        n = inc.inp.drift_unverified
        inc.unconfirmed = (f"the previous audit could not be verified: {n} unreadable document{'s' if n != 1 else ''} "
                           "(not sealed by this app) stood where it was looked for, so every failing finding counted "
                           "as new")
        inc.unconfirmed_code = Reason.DRIFT_UNVERIFIED.value
        doc.notes.append(f"drift not verified: {inc.unconfirmed}. No automatic change: a responder decides once whether "
                         f"the finding is unwanted (step {GENUINE_STEP}); evidence is kept meanwhile")
    selection = {"playbook": inc.inp.playbook, "reason": "playbook given by the caller"} if inc.inp.playbook else results.pop(0)
    inc.targets = (results.pop(0) if results else {}) or {}
    doc.facts = inc.targets
    doc.notes.extend(f"playbook skipped: {p}" for p in selection.get("playbook_errors") or [])
    doc.notes.extend(f"alert named {n if n > MAX_INDICATORS + 1 else f'more than {MAX_INDICATORS}'} {k}; "
                     f"the first {len(alert.get('indicators', {}).get(k) or [])} were used"
                     for k, n in inc.inp.indicators_truncated.items())
    now = inc.now
    if not selection.get("playbook"):
        doc.status = NO_PLAYBOOK
        doc.reason = selection.get("reason") or "no playbook matched"
        doc.event("analyze", "select playbook", "no playbook", now, detail=doc.reason, started_at=started)
        return (yield from _learn(inc, None))
    playbook = playbook_from_json(selection["playbook"])  # a shipped playbook is not validated again
    doc.playbook = {"name": playbook.name, "version": playbook.version}
    inc.page = list(playbook.page)
    severities = [s for s in (alert.get("severity"), playbook.severity) if s is not None]
    doc.severity = min(severities) if severities else None  # Sev0 is the most severe
    doc.event("analyze", "select playbook", "ok", now, detail=selection.get("reason") or playbook.name, started_at=started)
    doc.plan = [
        {"phase": phase, "step": s.id, "runbook": getattr(s, "runbook", None) or f"undo {s.undo}",
         "approval": (s.approval.mode if s.approval else "auto")}
        for phase in ("analyze", "contain", "resolve", "learn")
        for s in playbook.steps(phase)
    ]
    yield from _phase(inc, playbook, "analyze", counts=False)

    # contain -------------------------------------------------------------------
    stopped = yield from _phase(inc, playbook, "contain", counts=True)
    inc.contain_ended = inc.now
    if not stopped and not inc.failures and inc.stop is None:
        doc.contained_at = inc.now

    # resolve: verify, then the playbook's resolve steps ---------------------------
    inc.status("resolve", "verify")
    yield from _verify(inc)
    if not stopped and inc.stop is None:
        yield from _phase(inc, playbook, "resolve", counts=True)
    elif inc.stop is not None:
        _not_run(inc, playbook, "resolve", 0, "the incident was stopped")
    doc.resolved_at = inc.now
    yield from _drain_events(inc)
    yield from _stop_requested(inc)  # a stop that came after the last step still counts: it is recorded
    _judge(inc, playbook, stopped)
    return (yield from _learn(inc, playbook))


def _phase(inc: _Incident, playbook: Playbook, phase: str, *, counts: bool) -> Generator[Any, Any, bool]:
    """Run a phase's groups in order. Returns True when a failure stopped it (abort/rollback)."""
    for index, item in enumerate(getattr(playbook, phase)):
        members = item.parallel if isinstance(item, Parallel) else [item]
        if (yield from _stop_requested(inc)):
            _not_run(inc, playbook, phase, index, "the incident was stopped")
            return True
        inc.status(phase, ", ".join(m.id for m in members))
        runs: list[_Run] = []
        for member in members:
            runs.extend(_expand(inc, member, phase))
        gated: list[_Run] = []
        waited = False  # an approval gate ran: the orchestrator waited since the group's stop checkpoint above
        # GENUINE_FLOW: an unconfirmed alert waits for one decision, asked before the first step that acts; evidence
        # steps never wait on it (those of this group with no approval of their own run first, alone)
        per_alert = counts and inc.unconfirmed is not None and inc.inp.responder_flow == GENUINE_FLOW
        if per_alert and inc.genuine is None and any(r.answer is None and not _collects_evidence(r.step) for r in runs):
            first = [r for r in runs if r.answer is None and _collects_evidence(r.step)
                     and not needs_approval(r.step.approval, inc.scope(r.target))[0]]
            if first:
                yield from _execute(inc, first, phase)
        for run in runs:
            if run.answer is not None:  # skipped or invalid already
                continue
            if inc.stop is not None:
                break
            if not counts and _held_back(inc, run, phase):
                continue
            required, why = needs_approval(run.step.approval, inc.scope(run.target))
            gate = run.step.approval
            if per_alert:
                if not _collects_evidence(run.step):
                    if inc.genuine is None:
                        waited = True
                        inc.genuine = yield from genuine_gate(inc, run, playbook)
                    if inc.genuine == "stopped":
                        break
                    if inc.genuine != "approve":
                        _not_genuine(inc, run)
                        continue
                    beyond = _beyond_genuine(inc, run)
                    if beyond is not None:  # RT15-01: its own approvers decide, as in the per-step flow
                        required, why, gate = True, beyond, unconfirmed_gate(run.step.approval)
            elif counts and inc.unconfirmed is not None and not required:
                required, why = True, f"alert not confirmed at its source ({inc.unconfirmed}): a responder decides"
            if counts and inc.unconfirmed is not None and not per_alert:
                gate = unconfirmed_gate(gate)
            if required:
                waited = True
                verdict = yield from _approval_gate(inc, run, why, gate)
                if verdict != "approve":
                    continue
            gated.append(run)
        # Stopped while waiting for an approval — or a stop delivered with the approval, in the same episode: the gate
        # took the decision first, the stop wait completed beside it (RT12-02). Either way nothing of this group runs.
        if inc.stop is not None or (waited and gated and (yield from _stop_requested(inc))):
            for run in runs:
                if run.answer is None:
                    run.answer = {"ok": True, "skipped": True}
                    inc.doc.event(phase, run.step.id, "not run", inc.now, target=run.target, detail="the incident was stopped")
            _not_run(inc, playbook, phase, index, "the incident was stopped")
            return True
        undo_runs = [r for r in gated if isinstance(r.step, UndoStep)]
        step_runs = [r for r in gated if not isinstance(r.step, UndoStep)]
        for run in undo_runs:
            yield from _undo(inc, run, phase)
        if step_runs:
            yield from _execute(inc, step_runs, phase)
        stop = False
        stopped_by: list[_Run] = []
        for run in runs:
            if run.answer is None or run.answer.get("skipped"):
                continue
            inc.remember(run)
            if run.ok:
                if counts and not isinstance(run.step, UndoStep):
                    inc.applied.append(run)
                continue
            if counts and _collects_evidence(run.step):
                _evidence_gap(inc, run, phase)
                continue  # evidence that cannot be taken never stops containment
            if counts:
                inc.failures.append(run)
            else:
                inc.doc.notes.append(f"{phase} step {run.step.id} failed: {(run.answer.get('error') or {}).get('message')}")
            policy = run.step.on_failure
            if policy == "rollback":
                yield from _rollback(inc, run)
                stop = True
                stopped_by.append(run)
            elif policy == "abort" and counts:
                stop = True
                stopped_by.append(run)
        if stop:
            _not_run(inc, playbook, phase, index + 1, _why_later_not_run(inc, stopped_by))
            return True
        if counts:
            wanted = _referenced_later(playbook, phase, index)
            early = [r for r in runs if r.ok and not (r.answer or {}).get("skipped") and r.step.id in wanted
                     and not isinstance(r.step, UndoStep)]
            if early:  # a later step decides on these: verify them now (escalation when the narrow action does not hold)
                yield from _verify(inc, early)
    return False


def _why_later_not_run(inc: _Incident, stopped_by: list[_Run]) -> str:
    """Why the later groups of a phase do not run, for ``does_not_hold``: "an earlier step failed", unless every step
    that stopped the phase was held back by the ``alert.genuine`` decision (:func:`_not_genuine`) — then that decision,
    not a failure (newuser12: a rejected alert read "revoke-principal: not run (an earlier step failed)")."""
    if stopped_by and all(getattr(r, "not_genuine", False) for r in stopped_by):
        if inc.genuine == "timeout":
            return f"no responder decided in time whether the alert is genuine, step {GENUINE_STEP}"
        return f"the alert was not accepted as genuine, step {GENUINE_STEP}"
    return "an earlier step failed"


def _evidence_gap(inc: _Incident, run: _Run, phase: str) -> None:
    """Record a failed evidence step as a gap (record and timeline); the phase goes on."""
    name = (run.target or "").rstrip("/").rsplit("/", 1)[-1]
    why = ((run.answer or {}).get("error") or {}).get("message") or "failed"
    inc.doc.evidence_gaps.append(f"{run.step.id} ({run.step.runbook})" + (f" on {name}" if name else "") + f": {why}")
    inc.doc.event(phase, run.step.id, "evidence gap", inc.now, target=run.target, runbook=run.step.runbook,
                  detail="evidence not taken; containment goes on")


def _not_run(inc: _Incident, playbook: Playbook, phase: str, start: int, why: str) -> None:
    """Record the groups of ``phase`` from index ``start`` on as not run."""
    for later in getattr(playbook, phase)[start:]:
        for member in later.parallel if isinstance(later, Parallel) else [later]:
            inc.doc.does_not_hold.append(f"{member.id}: not run ({why})")


def _stop_requested(inc: _Incident) -> Generator[Any, Any, bool]:
    """True once a verified stop arrived. A checkpoint: costs nothing in history unless a stop came.

    A stop must carry the seal of ``POST /api/incidents/{id}/stop`` for this
    incident (checked by the ``verify_seal`` activity); anything else is
    recorded on the timeline as refused and the wait is armed again. The
    Durable Python SDK (1.7) hands a buffered event to every later wait on its
    name (see :func:`_drain_events`): the same payload again is that, not a new stop.
    """
    if inc.stop is not None:
        return True
    wait = inc.stop_wait
    if wait is None or not wait.is_completed:
        return False
    context, doc = inc.context, inc.doc
    payload = decode(wait.result)
    if payload == inc.last_stop:
        yield from _rearm_stop(inc)
        return False
    inc.last_stop = payload
    by, reason = payload.get("by"), payload.get("reason")
    problem = None
    if payload.get("incident_id") != context.instance_id:
        problem = f"it names incident {payload.get('incident_id')!r}"
    else:
        check = yield from verify(context, PURPOSE_STOP, context.instance_id, payload, f"stop claiming by={by!r}")
        if not check.get("ok"):
            problem = str(check.get("reason"))
    now = inc.now
    if problem is not None:
        doc.event(inc.phase, "stop", "stop refused", now,
                  detail=f"not from the authenticated API ({problem}); claimed by {by!r}; ignored")
        yield from _rearm_stop(inc)
        return False
    inc.stop = {"by": by, "reason": reason, "at": now.isoformat()}
    doc.stopped = dict(inc.stop)
    doc.event(inc.phase, "stop", "stopped", now, detail=f"stopped by {by}: {reason}", caller=by)
    if doc.acknowledged_at is None:
        doc.acknowledged_at = now
    return True


def _fresh_stop_wait(inc: _Incident) -> Generator[Any, Any, Any]:
    """The stop wait for the approval gate's next wait, or None when every wait on the stop event would answer at once
    with a stop already handled.

    A stop raised while no wait on it is open (two at once: the second arrives while the first's seal is checked) is
    kept by the SDK (1.7) as a deferred completion it never clears and hands to every later wait on the name (see
    :func:`_drain_events`). After such a stop was refused, a wait on the name wins as soon as it is armed, with that
    same stop: in the gate's loop that was a loop with no wait in it (the orchestrator failed, "maximum recursion
    depth exceeded"). A wait holding a stop already handled is re-armed once (a new wait takes the newest buffered
    stop, so a stop raised since is read now) and left out if it holds the same stop again; a later stop then comes
    as a new buffered one, which no open wait takes: the gate wakes every :data:`STOP_POLL_SECONDS` while it has no
    stop wait and re-arms, so that stop is read within a minute."""
    wait = inc.stop_wait
    if wait is not None and wait.is_completed and decode(wait.result) == inc.last_stop:
        yield from _rearm_stop(inc)
        wait = inc.stop_wait
        if wait.is_completed and decode(wait.result) == inc.last_stop:
            return None
    return wait


def _rearm_stop(inc: _Incident) -> Generator[Any, Any, None]:
    """Listen for the next stop (a zero timer puts the new wait in the SDK's open tasks)."""
    inc.stop_wait = inc.context.wait_for_external_event(EVENT_STOP)
    timer = inc.context.create_timer(inc.now)
    winner = yield inc.context.task_any([inc.stop_wait, timer])
    if winner is not timer:
        timer.cancel()


#: What a write-back to the alert's source says in place of a delivered value Firestop has not confirmed.
NOT_CONFIRMED = "(not confirmed at its source)"


def _withheld(value: Any) -> Any:
    """``value`` (the alert JSON) with every delivered text replaced by :data:`NOT_CONFIRMED` (a non-empty list by
    the marker itself): numbers, booleans and nulls stay, so ``when`` tests and counts read the same shapes."""
    if isinstance(value, dict):
        return {k: _withheld(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return NOT_CONFIRMED if value else []
    return NOT_CONFIRMED if isinstance(value, str) else value


def _write_back_scope(inc: _Incident, step: Step, scope: dict[str, Any]) -> dict[str, Any]:
    """The scope a step's ``with`` is rendered in. A write-back to the alert's source (``write_back`` runbooks: the
    Sentinel comment, the Defender alert's resolution) while the alert is not confirmed at its source and not decided
    genuine sees the alert withheld (:func:`_withheld`: its ``target_ids`` kept — Firestop acts on and finds the
    incidents from them, shape-checked at intake): anyone holding the webhook key could otherwise write their own
    words (links, images, instructions) into the SOC's incident in Firestop's name, before anyone looked (leftovers12
    item 2). Every other step, and every step of a confirmed alert, sees the alert as delivered."""
    if inc.unconfirmed is None or inc.genuine == "approve" or not isinstance(step, Step) or not _kind(step).write_back:
        return scope
    alert = _withheld(scope.get("alert") or {})
    alert["target_ids"] = list((scope.get("alert") or {}).get("target_ids") or [])
    return {**scope, "alert": alert}


def _expand(inc: _Incident, member: Step | UndoStep, phase: str) -> list[_Run]:
    """The runs of one step: one per target of its runbook's type, with `when` and `with` evaluated."""
    doc = inc.doc
    if isinstance(member, UndoStep):
        originals = [r for r in inc.applied if r.step.id == member.undo]  # one per target the step acted on
        if not originals:
            run = _Run(member, None, phase=phase)
            run.answer = {"ok": True, "skipped": True}
            doc.event(phase, member.id, "skipped", inc.now, detail=f"step {member.undo} did not apply anything to undo")
            return [run]
        undo_runs = []
        for original in originals:
            run = _Run(member, original.target, phase=phase)
            run.original = original  # type: ignore[attr-defined]
            if member.when and condition(member.when, inc.scope(run.target)) is not True:
                run.answer = {"ok": True, "skipped": True}
                doc.event(phase, member.id, "skipped", inc.now, target=run.target, detail=f"when: {member.when}")
            undo_runs.append(run)
        return undo_runs
    if member.target is not None:
        chosen = render(member.target, inc.scope(None))
        targets = [chosen] if isinstance(chosen, str) and chosen else []
        missing = f"the step's target {member.target!r} gave no resource ID"
    else:
        targets = _targets_for(member, inc.alert)
        missing = "the alert names no target this runbook acts on"
    if not targets and member.when and condition(member.when, inc.scope(None)) is False:
        # the step does not apply to this alert (e.g. a narrow step whose indicator is absent): skipped, not failed
        run = _Run(member, None, phase=phase)
        run.answer = {"ok": True, "skipped": True}
        doc.event(phase, member.id, "skipped", inc.now, runbook=member.runbook, detail=f"when: {member.when}")
        return [run]
    if not targets:
        run = _Run(member, None, phase=phase)
        run.fail("invalid", missing)
        doc.record_action(member.id, None, run.answer)
        doc.event(phase, member.id, "failed", inc.now, runbook=member.runbook, detail=run.answer["error"]["message"])
        return [run]
    runs = []
    for target in targets:
        scope = inc.scope(target)
        run = _Run(member, target, render(dict(member.with_), _write_back_scope(inc, member, scope)), phase=phase)
        if member.when and condition(member.when, scope) is not True:
            run.answer = {"ok": True, "skipped": True}
            doc.event(phase, member.id, "skipped", inc.now, target=target, runbook=member.runbook, detail=f"when: {member.when}")
        runs.append(run)
    return runs


def _page(inc: _Incident, phase: str, kind: str, step_id: str | None, target: str | None, paged: list[str],
          title: str, message: str) -> Generator[Any, Any, bool]:
    """Page ``paged`` through ``notify.webhook`` (the channel of ``FIRESTOP_NOTIFY_WEBHOOK_URL``) with the console
    link and the CLI command; record it in ``doc.pages`` (``{"kind", "step", "paged", "at", "sent", "detail"}``)
    and on the timeline. ``kind``: ``approval``, ``reminder``, ``escalation`` or ``needs_responder``. True if sent."""
    doc, iid = inc.doc, inc.inp.incident_id
    inc.pages += 1
    command = (decide_command(iid, step_id or "", app_origin=APP_PLACEHOLDER) if kind in ("approval", "reminder", "escalation")
               else f"python -m firestop incident show {iid} --app {APP_PLACEHOLDER}")
    pager = _Run(Step.internal(f"page-{inc.pages}-{kind.replace('_', '-')}"[:63], "notify.webhook", {
        "title": title, "message": f"{message} Paged: {', '.join(paged)}. CLI: {command}",
        "link": f"/api/console/incidents/{iid}"}), None, phase=phase)
    pager.params = dict(pager.step.with_)
    sent = yield inc.context.call_activity(ACTIVITY_RUN_RUNBOOK, inc.request(pager, "apply"))
    skipped = skip_reason(sent)
    ok = bool(sent.get("ok")) and skipped is None
    detail = "sent" if ok else f"not sent: {skipped or (sent.get('error') or {}).get('message')}"
    doc.pages.append({"kind": kind, "step": step_id, "paged": list(paged), "at": inc.now.isoformat(), "sent": ok,
                      "channel": ((sent.get("result") or {}).get("artifacts") or {}).get("host") if ok else None, "detail": detail})
    doc.event(phase, step_id or "page", "paged", inc.now, target=target, runbook="notify.webhook",
              detail=f"{kind}: {', '.join(paged)} — {detail}")
    return ok


def unconfirmed_gate(approval: Approval | None) -> Approval:
    """The approval a step needs when its alert was not confirmed at its source: the step's own approvers, timeout
    and pages, but always required and never ``on_timeout: proceed`` (no decision: the step does not run)."""
    if approval is None:
        return Approval(mode="required")
    fields = approval.model_dump(by_alias=False)
    fields.update(mode="required", condition=None, on_timeout="abort" if approval.on_timeout == "proceed" else approval.on_timeout)
    return Approval.model_validate(fields)


class _GenuineStep:
    """The pseudo-step of the "alert genuine" decision (:func:`genuine_gate`): what :func:`_approval_gate` reads of a
    step — its id, no runbook, no approval of its own."""

    id = GENUINE_STEP
    runbook = ""
    approval = None
    #: what ``pending_approval["runbook"]`` says in place of a runbook
    label = "no runbook: a decision on the alert"


def genuine_gate(inc: _Incident, run: _Run, playbook: Playbook) -> Generator[Any, Any, str]:
    """:data:`GENUINE_FLOW`: the one decision a responder takes on an alert not confirmed at its source, asked before
    the first contain or resolve step that acts (``run``): "this alert is genuine". Returns ``approve``, ``reject``,
    ``timeout`` or ``stopped``.

    The decision is an approval of the pseudo-step :data:`GENUINE_STEP` through the same gate as a step's
    (:func:`_approval_gate`): raised as ``approval:alert.genuine``, counted only when sealed by the responders' API
    for this incident, step and request (PURPOSE_APPROVAL), by a holder of the approver role among ``run``'s step's
    approvers (:func:`unconfirmed_gate`: its approvers, two-person rule, timeout and pages; never ``proceed`` on
    timeout), kept in the record's ``approvals`` and on the timeline like any decision. Approved: every later step
    runs as for a confirmed alert, its own approval gate still asked (``needs_approval``). Rejected, timed out or
    stopped: no step that acts runs (:func:`_not_genuine`). Evidence steps never wait on it (:func:`_phase`)."""
    acting = [m.id for phase in ("contain", "resolve") for item in getattr(playbook, phase)
              for m in (item.parallel if isinstance(item, Parallel) else [item]) if not _collects_evidence(m)]
    names = ", ".join(acting)
    names = names if len(names) <= 150 else names[:149] + "…"
    inc.held_steps = _held_steps(inc, playbook)
    preview = {"changes": [], "changes_left_out": 0, "blast_radius": None, "plan_error": None,
               "held_steps": inc.held_steps, "reason_code": inc.unconfirmed_code,
               "notes": [f"approve: the steps run as for a confirmed alert ({names}); a step with its own approval "
                         "still asks"[:MAX_PLAN_TEXT], "reject: no step that acts runs; the evidence is kept"]
               + ([inc.unchecked_note[:MAX_PLAN_TEXT]] if inc.unchecked_note else [])}
    why = (f"alert not confirmed at its source: {inc.unconfirmed}. Is this alert genuine? One decision for the "
           f"incident: approve and its steps run as for a confirmed alert; reject and none runs")
    pseudo = _Run(_GenuineStep(), (inc.alert.get("target_ids") or [None])[0], phase=run.phase)  # type: ignore[arg-type]
    verdict = yield from _approval_gate(inc, pseudo, why, unconfirmed_gate(run.step.approval), preview=preview)
    if verdict == "approve":  # (the gate set inc.genuine_by)
        decided = next((a for a in reversed(inc.doc.approvals) if a.get("step") == GENUINE_STEP
                        and a.get("verdict") == "approve"), {})
        inc.doc.notes.append(f"alert decided genuine by {decided.get('by')} at {decided.get('at')}: the steps ran as "
                             "for a confirmed alert")
    return verdict


def _held_steps(inc: _Incident, playbook: Playbook) -> dict[str, list[str]]:
    """What approving the "alert genuine" decision lets act (leftovers12 item 3: the card listed step names only):
    ``{"<step> (<runbook>)": ["on <resource id>", "<param>: <value>", …]}`` for every contain/resolve step that is not
    evidence and every learn step :func:`_held_back` holds until the decision (RT16-04: closing the Sentinel incident,
    resolving the Defender alert — the card named neither), its targets and parameters as they would be rendered now (the delivered IPs, principals, deployments it
    would act on; ``only when: …`` for a conditional step; a value that needs an earlier step's result reads as not
    known yet). Bounded (:func:`bound_held`: :data:`HELD_STEPS_CHARS` of JSON in all, the rest counted); text, never
    escaped here (each view escapes it). Pure."""
    held: dict[str, list[str]] = {}
    for phase in ("contain", "resolve", "learn"):
        for item in getattr(playbook, phase):
            for step in item.parallel if isinstance(item, Parallel) else [item]:
                if not isinstance(step, Step) or _collects_evidence(step):
                    continue
                if phase == "learn" and not _kind(step).mutating:
                    continue  # RT16-04: of the learn phase, what _held_back holds until this decision (write-backs)
                items: list[str] = []
                try:
                    if step.target is not None:
                        chosen = render(step.target, inc.scope(None))
                        targets: list[str | None] = [chosen] if isinstance(chosen, str) and chosen else []
                    else:
                        targets = _targets_for(step, inc.alert)
                    for target in targets:
                        items.append(f"on {target}" if target else "on no resource (the runbook takes none)")
                        for name, value in render(dict(step.with_), inc.scope(target)).items():
                            if value not in (None, "", [], {}):
                                items.append(f"{name}: {json.dumps(value, ensure_ascii=False, default=str)}")
                    if not targets:
                        items.append("no target: the alert names none of the resource type it acts on")
                except Exception as exc:  # noqa: BLE001 — an expression on a later step's result: known when it runs
                    items.append(f"targets known only when it runs ({type(exc).__name__})")
                if step.when:
                    items.append(f"only when: {step.when}")
                held[f"{step.id} ({step.runbook})"] = items
    return bound_held(held)


#: Most characters of JSON :func:`_held_steps` puts in the custom status (which Azure caps at 8,192 characters with
#: the timeline so far's SO_FAR_BUDGET_CHARS, the why's GENUINE_WHY_CHARS and the notes beside it).
HELD_STEPS_CHARS = 1200
#: Longest item (or step label) :func:`bound_held` keeps (characters), and how many steps and items a step it lists.
HELD_ITEM_CHARS = 160
HELD_STEPS = 8
HELD_ITEMS = 10


def cut_held_item(text: Any) -> str:
    """``text`` in at most :data:`HELD_ITEM_CHARS` characters, saying how much was left out (cli13: a card item ended
    ``…`` and the approver could not tell whether 3 IPs or 300 followed): a parameter whose value is a JSON list keeps
    the values that fit — ``ips: ["203.0.113.7", "203.0.113.8", …] (+48 more)`` —, anything else its start and
    ``… (+N more characters)``. Pure; text, never escaped here."""
    text = str(text)
    if len(text) <= HELD_ITEM_CHARS:
        return text
    name, colon, rest = text.partition(": ")
    values = None
    if colon and rest.startswith("["):
        try:
            values = json.loads(rest)
        except (ValueError, RecursionError):
            values = None
    if isinstance(values, list):
        shown: list[str] = []
        for value in values:
            more = [*shown, json.dumps(value, ensure_ascii=False, default=str)]
            if len(f"{name}: [{', '.join(more)}, …] (+{len(values) - len(more)} more)") > HELD_ITEM_CHARS:
                break
            shown = more
        listed = f"{name}: [{', '.join([*shown, '…'])}] (+{len(values) - len(shown)} more)"
        if len(listed) <= HELD_ITEM_CHARS:
            return listed
    keep = HELD_ITEM_CHARS
    for _ in range(3):  # the count's digits take room from what is kept: settles in two rounds
        suffix = f"… (+{len(text) - keep} more characters)"
        keep = HELD_ITEM_CHARS - len(suffix)
    return text[:keep] + f"… (+{len(text) - keep} more characters)"


def bound_held(held: dict[str, list[str]]) -> dict[str, list[str]]:
    """``held`` cut to at most :data:`HELD_STEPS_CHARS` characters of JSON: each label and item cut at
    :data:`HELD_ITEM_CHARS` (:func:`cut_held_item`: saying how much it left out), at most :data:`HELD_STEPS` steps of :data:`HELD_ITEMS` items. Every kept step's
    label first, then their items in order while they fit (RT16-04: one step's long parameters — a comment's message —
    no longer push a later step, such as closing the Sentinel incident, off the card); a list that lost items ends
    ``… and N more (left out)``, steps left out are counted under ``… and N more step(s)``. Pure."""
    cut = cut_held_item
    def size(value: Any) -> int:
        return len(json.dumps(value, ensure_ascii=False))

    mark, steps_mark = 30, 40  # room for one list's "… and N more (left out)" (~28 characters) and the steps' (~31)
    steps = list(held.items())
    out: dict[str, list[str]] = {}
    for number, (label, _) in enumerate(steps):
        key = cut(label)
        if number >= HELD_STEPS or key in out or size({**out, key: []}) + steps_mark + mark * (len(out) + 1) > HELD_STEPS_CHARS:
            break
        out[key] = []
    labels = list(out)
    for index, key in enumerate(labels):
        items = list(steps[index][1])
        later = len(labels) - index  # lists whose "left out" marker may still be needed (this one's too)
        for item in items[:HELD_ITEMS]:
            text = cut(item)
            if size(out) + size(text) + 2 + steps_mark + mark * later > HELD_STEPS_CHARS:
                break
            out[key].append(text)
        if len(out[key]) < len(items):
            out[key].append(f"… and {len(items) - len(out[key])} more (left out)")
    if len(labels) < len(steps):
        out[f"… and {len(steps) - len(labels)} more step(s)"] = []
    return out


def _held_back(inc: _Incident, run: _Run, phase: str) -> bool:
    """RT15-04: True (and ``run`` recorded as not run) for a learn step that changes something outside Firestop — a
    mutating runbook that is not evidence: closing the Sentinel incident, resolving the Defender alert, commenting
    there — while the alert is not confirmed at its source and not decided genuine (:data:`GENUINE_FLOW`). Evidence
    runs without waiting on the decision, so "the evidence was kept" no longer tells a forged delivery from a
    contained attack: without this, a delivery rejected as forged closed the real Sentinel incident it named."""
    if phase != "learn" or inc.unconfirmed is None or inc.inp.responder_flow != GENUINE_FLOW or inc.genuine == "approve":
        return False
    if not isinstance(run.step, Step) or _collects_evidence(run.step) or not _kind(run.step).mutating:
        return False  # evidence runs without waiting; notifications to the team still go out
    run.answer = {"ok": True, "skipped": True}
    inc.doc.event(phase, run.step.id, "not run", inc.now, target=run.target, runbook=run.runbook or None,
                  detail=f"not run: the alert was not confirmed at its source and nobody decided it genuine (step "
                         f"{GENUINE_STEP}); nothing is written back to its source")
    return True


def _beyond_genuine(inc: _Incident, run: _Run) -> str | None:
    """RT15-01: why the "alert genuine" decision does not stand for ``run``'s own approvers, else None. The decision
    is asked with the first acting step's approvers (:func:`genuine_gate`); a later step whose approvers or
    two-person rule (:func:`unconfirmed_gate` of its approval, judged by :func:`judge` as its own gate would) refuse
    that decision's author still asks its own approvers, as each step did in the per-step flow."""
    decided = inc.genuine_by or {}
    data = {"by": decided.get("by"), "groups": decided.get("groups") or [], "decision": "approve"}
    verdict, reason, _ = judge(unconfirmed_gate(run.step.approval), data, requested_by=inc.inp.requested_by)
    if verdict != "refused":
        return None
    return (f"alert not confirmed at its source ({inc.unconfirmed}); it was decided genuine, but that decision does "
            f"not stand for this step ({reason}): one of its own approvers decides")


def _not_genuine(inc: _Incident, run: _Run) -> None:
    """``run`` does not run: the alert was not confirmed and the responder's decision (:func:`genuine_gate`) was not
    to approve it. Recorded as a failed action (kind ``rejected`` or ``timeout``), on the timeline as not run."""
    kind = "timeout" if inc.genuine == "timeout" else "rejected"
    why = ("no responder decided in time whether the alert is genuine" if kind == "timeout"
           else "a responder did not accept the alert as genuine")
    run.fail(kind, f"not run: the alert was not confirmed at its source and {why} (step {GENUINE_STEP})")
    run.not_genuine = True  # type: ignore[attr-defined]  # _judge: nothing was contained on purpose
    inc.doc.record_action(run.step.id, run.target, run.answer, params=run.params)
    inc.doc.event(run.phase, run.step.id, "not run", inc.now, target=run.target, runbook=run.runbook or None,
                  detail=run.answer["error"]["message"])


def _kind(step: Step) -> type:
    """The runbook class of ``step`` (its ``mutating``, ``collects_evidence``, ``write_back`` … flags)."""
    from runbooks import get_runbook

    return type(get_runbook(step.runbook))


def _collects_evidence(step: Step | UndoStep) -> bool:
    """True for a step whose runbook only keeps evidence (``evidence.*``: reads the resource, writes Firestop's own
    evidence store)."""
    return isinstance(step, Step) and _kind(step).collects_evidence


#: Kinds of plan error (firestop.azure.errors) an approval cannot change: the step is refused before anyone is asked
#: (IncidentInput.refuse_failed_plans). Retryable kinds and ``failed`` (anything else) still ask, the plan's error shown.
PLAN_REFUSED_KINDS = frozenset({"invalid", "not_found", "forbidden"})


def _approval_gate(inc: _Incident, run: _Run, why: str, approval: Approval | None = None, *,
                   preview: dict[str, Any] | None = None) -> Generator[Any, Any, str]:
    """Wait for a decision on ``run`` (external event raced with a durable timer). Returns
    ``approve``, ``reject``, ``timeout`` or ``stopped``; a non-approved run gets a failed answer. ``refused``: its plan
    failed with one of :data:`PLAN_REFUSED_KINDS` (and the input says ``refuse_failed_plans``): nobody is asked.

    Refused decisions (not sealed by the API for this request, or from someone the step does not allow) are bounded
    per request — the senders already refuse them at the edge (:mod:`firestop.lifecycle.approvals`), so what
    arrives here came from a stale read or the Durable system key:

    * history: the first :data:`~firestop.lifecycle.approvals.KEPT_REFUSALS` have their seal checked
      (``verify_seal``: TaskScheduled + TaskCompleted, in an episode of its own). After them a decision that
      :func:`~firestop.lifecycle.approvals.judge` refuses, or that answers another incident, step or request, is
      refused without the activity, in the episode that delivered it: the gate adds one event to the history for it
      (the TimerCreated of its next wait) besides its own ``EventRaised`` and the OrchestratorStarted/Completed pair
      the host writes around every episode — 4 events where it was 8. The timer cannot be kept across waits: the
      extension replays the SDK's action list in order, and a WhenAny awaits only the children it schedules itself
      (see :mod:`firestop.runtime.replay`), so a wait without its own timer would never see the deadline. Only a
      decision naming one of the step's approvers still has its seal checked — a forgery of that kind needs the
      Durable system key.
    * record: :class:`~firestop.lifecycle.approvals.RefusalRecord` — at most ``KEPT_REFUSALS + 1 + TAIL_REFUSALS``
      refused entries in ``approvals`` and ``KEPT_REFUSALS + 1`` timeline entries (the last: "refusals counted");
      ``pending_approval.refused_decisions`` counts them all.
    Decisions of the listed approvers are always read (RT8-02: the gate moves to a fresh event name instead of
    going deaf), so a flood of refusals never keeps them from deciding."""
    context, doc, step = inc.context, inc.doc, run.step
    approval = approval or step.approval
    decision_only = isinstance(step, _GenuineStep)  # no runbook: nothing planned, no action recorded
    label = step.label if decision_only else run.runbook or f"undo {step.undo}"
    if preview is None and isinstance(step, UndoStep):
        preview = {"changes": [{"field": "undo", "before": None, "after": f"restore the state from before step {step.undo}"}],
                   "changes_left_out": 0, "blast_radius": None, "notes": [], "plan_error": None}
    elif preview is None:
        # what the approver sees: the plan's changes and blast radius, and its notes and error (plan_preview) — a
        # failed plan must not read as "no changes". It does not refuse the approval (unlike runbook run, which stops
        # at a failed plan): the approver decides, told that approving runs the step without a preview.
        plan = yield context.call_activity(ACTIVITY_RUN_RUNBOOK, inc.request(run, "plan"))
        preview = plan_preview(plan)
        failed_plan = preview["plan_error"] or {}
        if inc.inp.refuse_failed_plans and failed_plan.get("kind") in PLAN_REFUSED_KINDS:
            # cli13 (new user 12): rotate-keys on an account sharing another's consumers' secret waited for approval,
            # "the plan could not be computed: … (invalid)", then failed with that error once approved. Known bad
            # before anyone is asked: refused now (a failed step, as if it had run), the responder told what to fix.
            kind = failed_plan["kind"]
            said = ((plan.get("error") if isinstance(plan, dict) else None) or {}).get("message")  # whole: it ends with the fix
            message = (f"refused before asking for approval — its plan failed ({kind}: {said or failed_plan.get('message')}); "
                       "approving would only run it into the same error: fix that, then handle the alert again (--rerun)")
            run.fail(kind, message)
            doc.record_action(step.id, run.target, run.answer, params=run.params)
            doc.event(run.phase, step.id, "failed", inc.now, target=run.target, runbook=run.runbook, detail=message)
            return "refused"
    requested_at = inc.now
    deadline = requested_at + timedelta(seconds=approval.timeout_seconds)
    escalated = False
    refused: dict[str, Any] | None = None
    refusals = RefusalRecord(doc.approvals)
    generation = 1  # of the event name listened on (approvals.event_name: a buffered refusal moves the gate off a name)
    name = event_name(step.id)
    doc.event(run.phase, step.id, "awaiting approval", requested_at, target=run.target, runbook=run.runbook or None, detail=why)
    paged = list(approval.page) or list(inc.page)
    remind = approval.remind_every_seconds if paged else None
    next_reminder = requested_at + timedelta(seconds=remind) if remind else None
    reminders = 0
    if paged:
        yield from _page(inc, run.phase, "approval", step.id, run.target, paged,
                         f"Approval needed: {step.id} ({label}) — incident {inc.inp.incident_id}",
                         f"{why}. Decide by {instant(deadline)} or the step will not run.")
    while True:
        inc.pending_approval = {
            "step": step.id,
            "runbook": label,
            "target": run.target,
            "event": name,
            "why": why,
            "changes": preview["changes"],
            "blast_radius": preview["blast_radius"],
            "notes": preview["notes"],  # the plan's notes: at most MAX_PLAN_NOTES, each at most MAX_PLAN_TEXT characters
            "plan_error": preview["plan_error"],  # {"kind", "message"} when the plan failed, else None
            # the alert.genuine decision: what each held step acts on (_held_steps); None for a step's own approval
            "held_steps": preview.get("held_steps"),
            # alert.genuine: why not confirmed, as a code (firestop.source_reasons; the "Check first" advice's choice)
            "reason_code": preview.get("reason_code"),
            "approvers": list(approval.approvers),
            "two_person": approval.two_person,
            "requested_by": inc.inp.requested_by,
            "requested_at": requested_at.isoformat(),
            "expires_at": deadline.isoformat(),
            "escalated": escalated,
            "refused_decisions": refusals.count,  # decisions that did not count (not from the API, not an approver, …)
        }
        inc.status()
        wake = min(deadline, next_reminder) if next_reminder is not None else deadline
        stop_wait = (yield from _fresh_stop_wait(inc)) if inc.stop is None and inc.stop_wait is not None else None
        poll = None
        if stop_wait is None and inc.stop is None and inc.stop_wait is not None:  # deaf to stops: look again soon
            poll = inc.now + timedelta(seconds=STOP_POLL_SECONDS)
            wake = min(wake, poll)
        timer = context.create_timer(wake)
        decision = context.wait_for_external_event(name)
        waits = [timer, decision]
        if stop_wait is not None:
            waits.append(stop_wait)
        winner = yield context.task_any(waits)
        now = inc.now
        if stop_wait is not None and winner is stop_wait:
            timer.cancel()
            if (yield from _stop_requested(inc)):
                inc.pending_approval = None
                inc.status()
                run.fail("stopped", f"not approved: the incident was stopped ({(inc.stop or {}).get('reason')})")
                if not decision_only:
                    doc.record_action(step.id, run.target, run.answer, params=run.params)
                return "stopped"
            continue
        if winner is not timer:
            timer.cancel()
            payload = decode(decision.result)
            if refused is not None and payload == refused:
                # The SDK (1.7) hands a buffered event to every later wait on its name (see _drain_events): the same
                # refused decision again is that replay, not a new one. Listen on a fresh name (published in
                # pending_approval["event"], where every sender reads it), so the approvers can still decide (RT8-02).
                # Never a loop: a name moves only when an event is read, and a fresh name holds no buffered one; no
                # cap either — a cap would hand the attacker the deafness back after as many pairs of refusals.
                generation += 1
                name = event_name(step.id, generation)
                continue
            full = refusals.keeps_in_full
            early = None if full else _refused_as_sent(inc, approval, step.id, requested_at, payload)
            if early is not None:  # refused whatever its seal says: no seal check, no history beyond its EventRaised
                verdict, by, problem, reason = "refused", None, early, early
            else:
                problem = yield from _unsealed_decision(inc, step.id, requested_at, payload)
                if problem is not None:
                    verdict, by = "refused", None
                    reason = f"not from the authenticated API ({problem}); claimed by {payload.get('by')!r}"
                else:
                    verdict, reason, by = judge(approval, payload, requested_by=inc.inp.requested_by)
            entry = {"step": step.id, "verdict": verdict, "by": by, "reason": reason, "at": now.isoformat(),
                     "comment": payload.get("comment") if problem is None else None}
            if verdict == "refused":
                refused = payload
                refusals.add(entry)
                if full:
                    doc.event(run.phase, step.id, "decision refused", now, target=run.target, detail=reason)
                elif refusals.count == KEPT_REFUSALS + 1:
                    doc.event(run.phase, step.id, "refusals counted", now, target=run.target,
                              detail=f"{KEPT_REFUSALS} refused decisions on this request: further ones are counted "
                                     f"(pending_approval.refused_decisions), the newest {TAIL_REFUSALS} kept in the record; "
                                     f"this one: {reason}")
                continue
            doc.approvals.append(entry)
            if decision_only and verdict == "approve":  # who decided the alert genuine (RT15-01: _beyond_genuine)
                groups = payload.get("groups") if isinstance(payload.get("groups"), list) else []
                inc.genuine_by = {"by": by, "groups": [g for g in groups if isinstance(g, str)]}
            if doc.acknowledged_at is None:
                doc.acknowledged_at = now
            inc.pending_approval = None
            inc.status()
            doc.event(run.phase, step.id, "approved" if verdict == "approve" else "rejected", now, target=run.target,
                      detail=reason, started_at=requested_at, caller=by)
            if verdict == "reject":
                run.fail("rejected", f"approval rejected: {reason}")
                if not decision_only:
                    doc.record_action(step.id, run.target, run.answer, params=run.params)
            return verdict
        if now < deadline and poll is not None and wake == poll and wake != next_reminder:  # only to look for a stop
            continue
        if now < deadline and next_reminder is not None and wake == next_reminder:  # a reminder, not the deadline
            reminders += 1
            next_reminder = now + timedelta(seconds=remind)
            yield from _page(inc, run.phase, "reminder", step.id, run.target, paged,
                             f"Reminder {reminders}: approval still needed: {step.id} — incident {inc.inp.incident_id}",
                             f"No decision yet on {step.id} ({why}). Decide by {instant(deadline)}.")
            continue
        if approval.on_timeout == "escalate" and not escalated:
            escalated = True
            deadline = now + timedelta(seconds=approval.timeout_seconds)
            page = _Run(Step.internal(f"escalate-{step.id}".replace(".", "-")[:63], "notify.webhook", {
                "title": f"Approval needed: {step.id} ({label}) — incident {inc.inp.incident_id}",
                "message": f"No decision in {approval.timeout_seconds:g} s; escalated. Decide by {instant(deadline)} "
                           f"or the step will not run (fail closed). {why}",
            }), None, phase=run.phase)
            page.params = dict(page.step.with_)
            sent = yield context.call_activity(ACTIVITY_RUN_RUNBOOK, inc.request(page, "apply"))
            told = "team notified" if sent.get("ok") else f"notification not sent: {(sent.get('error') or {}).get('message')}"
            doc.pages.append({"kind": "escalation", "step": step.id, "paged": paged or ["the team channel"], "at": inc.now.isoformat(),
                              "sent": bool(sent.get("ok")), "channel": None, "detail": told})
            doc.event(run.phase, step.id, "escalated", inc.now, target=run.target,
                      detail=f"no decision in {approval.timeout_seconds:g} s; {told}; waiting until {instant(deadline)}")
            continue
        inc.pending_approval = None
        inc.status()
        if approval.on_timeout == "proceed":
            doc.event(run.phase, step.id, "approval timed out", now, target=run.target, detail="on_timeout: proceed")
            return "approve"
        doc.event(run.phase, step.id, "approval timed out", now, target=run.target, detail="not approved in time; not acting (fail closed)")
        run.fail("timeout", f"approval not given within {approval.timeout_seconds:g} s")
        if not decision_only:
            doc.record_action(step.id, run.target, run.answer, params=run.params)
        return "timeout"


def _refused_as_sent(inc: _Incident, approval, step_id: str, requested_at, payload: dict[str, Any]) -> str | None:
    """Why a decision is refused whatever its seal says (None: only the seal can tell), without an activity.

    It answers another incident, step or request, or :func:`~firestop.lifecycle.approvals.judge` refuses the
    identity it claims (not among the step's approvers, two-person rule, no identity, no verb). The claimed identity
    is named in the reason, never trusted: ``by`` stays None. The reason is cut to :data:`REFUSAL_REASON_CHARS`
    (the unsealed fields are anyone's)."""
    iid = inc.context.instance_id
    if payload.get("incident_id") != iid or payload.get("step") != step_id:
        why = f"it is for incident {payload.get('incident_id')!r} step {payload.get('step')!r} (seal not checked)"
    elif payload.get("requested_at") != requested_at.isoformat():
        why = (f"it answers the request of {payload.get('requested_at')!r}, not the one of {requested_at.isoformat()} "
               "(seal not checked)")
    else:
        verdict, reason, _ = judge(approval, payload, requested_by=inc.inp.requested_by)
        if verdict != "refused":
            return None
        why = f"{reason}; claimed by {payload.get('by')!r} (seal not checked: refused whatever it says)"
    return why if len(why) <= REFUSAL_REASON_CHARS else why[:REFUSAL_REASON_CHARS - 1] + "…"


#: Longest reason kept for a decision refused without its seal checked (characters).
REFUSAL_REASON_CHARS = 300


def _unsealed_decision(inc: _Incident, step_id: str, requested_at, payload: dict[str, Any]) -> Generator[Any, Any, str | None]:
    """Why a decision does not count as coming from the responders' API (None: it does).

    It must name this incident, this step and this very request (``requested_at``,
    so a decision captured from history cannot answer a later request), and carry
    the API's seal for them (the ``verify_seal`` activity)."""
    iid = inc.context.instance_id
    if payload.get("incident_id") != iid or payload.get("step") != step_id:
        return f"it is for incident {payload.get('incident_id')!r} step {payload.get('step')!r}"
    if payload.get("requested_at") != requested_at.isoformat():
        return f"it answers the request of {payload.get('requested_at')!r}, not the one of {requested_at.isoformat()}"
    check = yield from verify(inc.context, PURPOSE_APPROVAL, binding_of_decision(iid, step_id), payload,
                              f"decision {payload.get('decision')!r} claiming by={payload.get('by')!r}")
    return None if check.get("ok") else str(check.get("reason"))


def _execute(inc: _Incident, runs: list[_Run], phase: str) -> Generator[Any, Any, None]:
    """Apply ``runs`` together in the step-group sub-orchestration and record what happened."""
    spec = {
        "incident_id": inc.inp.incident_id,
        "runs": [
            # dict(retry): its fields by name, as model_dump() gives them (numbers only), without building a serializer
            {"request": inc.request(r, "apply"), "retry": dict(r.step.retry), "timeout_seconds": r.step.timeout_seconds}
            for r in runs
        ],
    }
    inc.groups += 1
    child = f"{inc.context.instance_id}:group-{inc.groups}"
    sealed = yield inc.context.call_activity(ACTIVITY_SEAL_INPUT, {"purpose": PURPOSE_STEP_GROUP, "binding": child,
                                                                   "digest": digest(spec)})
    result = None
    if sealed.get("seal"):
        result = yield inc.context.call_sub_orchestrator(GROUP_ORCHESTRATOR, {**spec, "seal": sealed["seal"]},
                                                         instance_id=child)
    if not result or result.get("refused") or len(result.get("runs") or []) != len(runs):
        why = (result or {}).get("reason") or sealed.get("reason") or "the step group did not run"
        for run in runs:
            run.fail("refused", f"step group not run: {why}")
            observe.runbook_answer(inc.context, run.runbook, "apply", run.answer)
            inc.doc.record_action(run.step.id, run.target, run.answer, params=run.params)
            inc.doc.event(phase, run.step.id, "failed", inc.now, target=run.target, runbook=run.runbook, detail=run.answer["error"]["message"])
        return
    for run, outcome in zip(runs, result["runs"]):
        run.answer = outcome["answer"]
        observe.runbook_answer(inc.context, run.runbook, "apply", run.answer)
        inc.doc.record_action(run.step.id, run.target, run.answer, params=run.params)
        if skip_reason(run.answer) is not None:  # nothing to do by configuration: skipped (not applied, not failed)
            run.answer = {**run.answer, "skipped": True}
        for event in outcome["events"]:
            inc.doc.event(phase, run.step.id, event["outcome"], parse_time(event["finished_at"]), target=run.target,
                          runbook=run.runbook, detail=event["detail"], started_at=parse_time(event["started_at"]))


def _undo(inc: _Incident, run: _Run, phase: str, *, label: str | None = None) -> Generator[Any, Any, None]:
    original: _Run = run.original if isinstance(run.step, UndoStep) else run  # type: ignore[attr-defined]
    request = inc.request(original, "undo", applied=original.answer["result"])
    request["step_id"] = original.step.id
    started = inc.now
    answer = yield inc.context.call_activity(ACTIVITY_RUN_RUNBOOK, request)
    observe.runbook_answer(inc.context, original.runbook, "undo", answer)
    if run is not original:
        run.answer = answer
    if answer.get("ok"):
        original.undone = True
        inc.doc.actions[inc.doc.action_key(original.step.id, original.target)]["undone"] = True
    detail = (answer.get("result") or {}).get("summary") if answer.get("ok") else (answer.get("error") or {}).get("message")
    inc.doc.event(phase, label or run.step.id, "undone" if answer.get("ok") else "undo failed", parse_time(answer.get("finished_at")) or inc.now,
                  target=original.target, runbook=original.runbook, detail=detail or "", started_at=started)


def _rollback(inc: _Incident, failed: _Run) -> Generator[Any, Any, None]:
    """Undo the completed containment steps, newest first (only those that changed something and can be undone)."""
    from runbooks import get_runbook

    inc.status(failed.phase, f"rollback after {failed.step.id}")
    for run in reversed(inc.applied):
        if run.undone or isinstance(run.step, UndoStep):
            continue
        runbook = type(get_runbook(run.runbook))
        if not (runbook.mutating and runbook.reversible and (run.answer.get("result") or {}).get("changed")):
            continue
        yield from _undo(inc, run, failed.phase, label=f"rollback {run.step.id}")
    inc.doc.rolled_back_after = failed.step.id


def _referenced_later(playbook: Playbook, phase: str, index: int) -> set[str]:
    """Step ids that steps after group ``index`` of ``phase`` read (``steps.<id>...``)."""
    refs: set[str] = set()
    phases = ["analyze", "contain", "resolve", "learn"]
    for name in phases[phases.index(phase):]:
        items = getattr(playbook, name)[index + 1:] if name == phase else getattr(playbook, name)
        for item in items:
            for member in item.parallel if isinstance(item, Parallel) else [item]:
                refs |= member.referenced_steps()
    return refs


def _verify(inc: _Incident, only: list[_Run] | None = None) -> Generator[Any, Any, None]:
    """Verify the applied runs (``only``: these, now — for later steps that read ``steps.<id>.verified``).

    Each step's outcome goes into ``steps.<id>.verified`` (True only when every target verified);
    a run verified early is not verified again at the end."""
    early = inc.__dict__.setdefault("verified_early", set())
    runs = list(only) if only is not None else [r for r in inc.applied if not r.undone and id(r) not in early]
    if only is not None:
        early.update(id(r) for r in runs)
    if not runs:
        return
    started = inc.now
    answers = yield inc.context.task_all(
        [inc.context.call_activity(ACTIVITY_RUN_RUNBOOK, inc.request(r, "verify", applied=r.answer["result"])) for r in runs]
    )
    answers = list(answers)
    # A verification that met a transient error (429, 409/412, 5xx, unreachable) proves nothing either way:
    # read back again after the step's retry interval (or the service's Retry-After), up to the step's
    # max_attempts (at least VERIFY_ATTEMPTS), before declaring the step unverified.
    attempt = 1
    while True:
        again = [i for i, a in enumerate(answers) if not a.get("ok") and ((a.get("error") or {}).get("retryable"))
                 and attempt < max(VERIFY_ATTEMPTS, runs[i].step.retry.max_attempts if isinstance(runs[i].step, Step) else 1)]
        if not again:
            break
        wait = max(max((runs[i].step.retry.interval(attempt) if isinstance(runs[i].step, Step) else 5.0),
                       float((answers[i].get("error") or {}).get("retry_after") or 0)) for i in again)
        yield inc.context.create_timer(inc.now + timedelta(seconds=wait))
        attempt += 1
        fresh = yield inc.context.task_all(
            [inc.context.call_activity(ACTIVITY_RUN_RUNBOOK, inc.request(runs[i], "verify", applied=runs[i].answer["result"])) for i in again]
        )
        for i, answer in zip(again, fresh):
            answers[i] = answer
    outcome: dict[str, bool] = {}
    for run, answer in zip(runs, answers):
        outcome[run.step.id] = outcome.get(run.step.id, True) and bool(answer.get("ok"))
    for step_id, ok in outcome.items():
        if step_id in inc.steps:
            inc.steps[step_id]["verified"] = ok
    for run, answer in zip(runs, answers):
        observe.runbook_answer(inc.context, run.runbook, "verify", answer)
        inc.doc.record_verification(run.step.id, run.target, answer)
        checks = (answer.get("result") or {}).get("checks") or []
        detail = "; ".join(f"{'✔' if c.get('ok') else '✘'} {c.get('name')}" for c in checks) or (
            (answer.get("error") or {}).get("message") or ""
        )
        inc.doc.event("resolve", f"verify {run.step.id}", "verified" if answer.get("ok") else "not verified",
                      parse_time(answer.get("finished_at")) or inc.now, target=run.target, runbook=run.runbook,
                      detail=detail, started_at=started)


def _joined(inc: _Incident) -> tuple[int, list[dict[str, Any]]]:
    """Alerts that joined this incident so far: (how many, the newest SAMPLE_SIZE of them).

    Read from the incident's own history (``context.histories``, the
    ``EventRaised`` entries named ``alert_correlated``) rather than by waiting
    on the event once per alert: intake batches joined alerts (one event per
    batch, see :mod:`firestop.intake.events`) and the SDK (1.7) hands a wait on
    an already-buffered name only the newest event. Only events with a
    timestamp at or before ``current_utc_datetime`` count, so every replay of
    this point sees the same ones. Deliveries of the alert that started the
    incident are not counted.
    """
    from azure.durable_functions.models.history import HistoryEventType

    now = inc.now
    starter = inc.alert.get("alert_id")
    count = 0
    newest: dict[str, dict[str, Any]] = {}
    for event in getattr(inc.context, "histories", None) or ():
        if event.event_type != HistoryEventType.EVENT_RAISED or getattr(event, "Name", None) != EVENT_CORRELATED:
            continue
        try:
            if event.timestamp > now:
                continue
        except TypeError:
            continue
        data = getattr(event, "Input", None)
        for _ in range(2):  # history holds the event's JSON text; raised through the SDK client it is JSON text again
            if isinstance(data, str):
                try:
                    data = json.loads(data)
                except ValueError:
                    data = None
        data = data if isinstance(data, dict) else {}
        if isinstance(data.get("alert"), dict):  # one alert per event (earlier intake versions)
            alerts, n = [{**data["alert"], "received_at": data.get("received_at")}], 1
        else:
            alerts = [a for a in data.get("alerts") or [] if isinstance(a, dict)]
            n = data.get("count") if isinstance(data.get("count"), int) and data.get("count") > 0 else len(alerts)
        ids = data.get("alert_ids") if isinstance(data.get("alert_ids"), list) else [a.get("alert_id") for a in alerts]
        count += max(n - ids.count(starter), 0)
        for a in alerts:
            if a.get("alert_id") != starter:
                newest.pop(str(a.get("alert_id")), None)
                newest[str(a.get("alert_id"))] = {"alert_id": a.get("alert_id"), "rule_name": a.get("rule_name"),
                                                  "target_ids": (a.get("target_ids") or [])[:1],
                                                  "received_at": a.get("received_at"),
                                                  # the incident its own playbook runs in (another route, same attack)
                                                  **({"part": str(a["part"])[:128]} if a.get("part") else {}),
                                                  **({"links": [str(x)[:256] for x in a["links"][:10]]}
                                                     if isinstance(a.get("links"), list) and a["links"] else {})}
    return count, list(newest.values())[-SAMPLE_SIZE:]


def _drain_events(inc: _Incident) -> Generator[Any, Any, None]:
    """Record the alerts that joined this incident while it ran, and a Resolved notification.

    Joined alerts are read from the incident's tally entity (:func:`firestop.lifecycle.tally.summary`: one
    ``call_entity``, which also closes the tally) plus any ``alert_correlated`` events in the history
    (:func:`_joined`). ``alert_resolved``
    is waited on once: the Durable Python SDK (1.7) buffers an event raised before
    its wait as a *deferred* completion that it never clears and keeps only the
    newest one, so a second wait on a buffered name would get the same event
    again, forever.
    """
    context = inc.context
    inc.drained = True
    count, sample = _joined(inc)
    tallied = yield from tally.summary(context, context.instance_id, inc.alert.get("alert_id"))
    if tallied["count"]:
        count += tallied["count"]
        # counted without the duplicate check (past the tally's MAX_TRACKED distinct alerts): a redelivery of one of
        # them counts again, so the record says how many of the count are not exact
        inc.doc.correlated_unchecked = tallied["untracked"]
        parts = [a for a in tallied.get("parts") or [] if isinstance(a, dict)]
        tallied_alerts = [a for a in tallied["alerts"] if a.get("part") is None]
        ids = {a.get("alert_id") for a in tallied_alerts + parts}

        def entry(a: dict[str, Any]) -> dict[str, Any]:
            return {"alert_id": a.get("alert_id"), "rule_name": a.get("rule_name"), "target_ids": (a.get("target_ids") or [])[:1],
                    "received_at": a.get("received_at"),
                    **({"part": str(a["part"])[:128]} if a.get("part") else {}),  # never pushed out by a storm
                    **({"links": [str(x)[:256] for x in a["links"][:10]]}
                       if isinstance(a.get("links"), list) and a["links"] else {})}

        plain = [a for a in sample if a.get("alert_id") not in ids] + [entry(a) for a in tallied_alerts]
        kept = [entry(a) for a in parts][:SAMPLE_SIZE]
        sample = kept + plain[-(SAMPLE_SIZE - len(kept)):] if len(kept) < SAMPLE_SIZE else kept
        inc.doc.parts = [{"incident_id": str(a["part"])[:128], "alert_id": a.get("alert_id"), "rule_name": a.get("rule_name")}
                         for a in parts]
    if tallied.get("variant_count"):  # variants14 item 3: deliveries checked on their own instead of joining
        _variants_reported(inc, tallied["variants"], tallied["variant_count"])
    if count:
        inc.doc.correlated = sample
        inc.doc.correlated_count = count
        last = sample[-1] if sample else {}
        newest = f"; newest {last.get('rule_name')} ({last.get('alert_id')})" if last.get("alert_id") else ""
        inc.doc.event("detect", "alerts joined", "ok", inc.now, target=(last.get("target_ids") or [None])[0],
                      detail=f"{count} alert(s) joined this incident{newest}")
    waiting = context.wait_for_external_event(EVENT_RESOLVED)
    timer = context.create_timer(inc.now)
    winner = yield context.task_any([waiting, timer])
    if winner is timer:
        return
    timer.cancel()
    data = decode(winner.result)
    inc.doc.event("detect", "alert resolved", "ok", inc.now, detail=f"monitorCondition Resolved at {data.get('resolved_at')}")


#: Variants named on the timeline line of :func:`_variants_reported` (the record names up to
#: :data:`firestop.lifecycle.tally.MAX_VARIANTS_NAMED`; the rest are counted).
VARIANTS_ON_TIMELINE = 5


def _variants_reported(inc: _Incident, variants: list[dict[str, Any]], count: int) -> None:
    """variants14 item 3: the variants of this incident — deliveries that would have joined it, each checked on its
    own (:mod:`firestop.intake.accept` ``_variant``) — as they reported to its tally: the record's ``variants`` (the
    first :data:`~firestop.lifecycle.tally.MAX_VARIANTS_NAMED`, ``{"variant", "alert_id", "outcome", "why"}``) and
    ``variant_count``, and a timeline line naming the first :data:`VARIANTS_ON_TIMELINE` that ended unconfirmed (the
    rest counted). Their alerts are not in this incident's joined count (one alert, one incident: the tally took
    them out)."""
    doc = inc.doc
    doc.variants, doc.variant_count = variants, count
    unconfirmed = [v for v in variants if v.get("outcome") != "ok"]
    named = ", ".join(str(v.get("variant")) for v in unconfirmed[:VARIANTS_ON_TIMELINE])
    more = count - len(variants)  # reported past the record's bound: their outcome is not kept
    shown = min(len(unconfirmed), VARIANTS_ON_TIMELINE)
    detail = (f"{count} delivery(ies) differing from this incident's were each checked on their own (their alerts "
              f"are not counted here): {len(variants) - len(unconfirmed)} confirmed, {len(unconfirmed)} not"
              + (f" ({named}" + (f" and {len(unconfirmed) - shown} more" if len(unconfirmed) > shown else "") + ")"
                 if unconfirmed else "")
              + (f"; {more} more not named (the record names the first {len(variants)})" if more > 0 else ""))
    capped = sum(1 for v in variants if v.get("outcome") == CAPPED_OUTCOME)
    if capped:  # cap15: past the cap they did not wait on their own decision: a responder looks them up here
        detail += (f". {capped} more deliveries could not be checked" + (" (and maybe some of the ones not named)"
                                                                          if more > 0 else "")
                   + ": look them up at the source; alert handle FILE --rerun")
    doc.event("detect", "deliveries checked on their own", "ok" if not unconfirmed else "not confirmed", inc.now,
              detail=detail)


def _judge(inc: _Incident, playbook: Playbook, stopped: bool) -> None:
    doc = inc.doc
    targets: dict[str, set] = {}
    for run in [*inc.applied, *inc.failures]:
        targets.setdefault(run.step.id, set()).add(run.target)

    def labelled(run: _Run) -> str:
        """``step (runbook)``, plus ``on <resource name>`` when the step ran on several targets."""
        name = (run.target or "").rstrip("/").rsplit("/", 1)[-1]
        several = len(targets.get(run.step.id, ())) > 1 and name
        return f"{run.step.id} ({run.runbook or 'undo'})" + (f" on {name}" if several else "")

    def held(run: _Run) -> bool:
        return not run.undone and bool(doc.actions[doc.action_key(run.step.id, run.target)].get("verified"))

    def escalated_past(run: _Run) -> str | None:
        """The step that read this one and then held (a narrow action superseded by its escalation), if any."""
        for later in inc.applied:
            if later is not run and run.step.id in later.step.referenced_steps() and held(later):
                return later.step.id
        return None

    for run in inc.applied:
        entry = doc.actions[doc.action_key(run.step.id, run.target)]
        label = labelled(run)
        if run.undone:
            doc.does_not_hold.append(f"{label}: rolled back")
        elif entry.get("verified"):
            doc.holds.append(f"{label}: {entry.get('summary')}")
        elif escalated_past(run):
            doc.notes.append(f"{label}: applied but did not verify; escalated to {escalated_past(run)}, which holds")
        else:
            doc.does_not_hold.append(f"{label}: applied but did not verify")
    for run in inc.failures:
        why = (run.answer or {}).get("error", {}).get("message")
        if escalated_past(run):
            doc.notes.append(f"{labelled(run)}: {why}; escalated to {escalated_past(run)}, which holds")
        else:
            doc.does_not_hold.append(f"{labelled(run)}: {why}")
    judged = _genuine_judged(inc)
    if inc.stop is not None:
        doc.status = STOPPED
        doc.reason = f"stopped by {inc.stop.get('by')}: {inc.stop.get('reason')}"
    elif (judged is not None and not any(not _collects_evidence(r.step) for r in inc.applied)
          and all(getattr(r, "not_genuine", False) for r in inc.failures)):
        # the responder judged the alert not genuine (or nobody decided): nothing was contained on purpose, which
        # "containment incomplete" read as a failure to act on (new user 11)
        doc.status = NEEDS_RESPONDER
        doc.contained_at = None
        doc.reason = judged
    elif stopped or doc.does_not_hold:
        doc.status = NEEDS_RESPONDER
        doc.contained_at = None
        doc.reason = "containment incomplete: a responder must act on what does not hold"
        if doc.rolled_back_after:
            doc.reason = f"{doc.rolled_back_after} failed; completed containment steps were rolled back"
    elif inc.unconfirmed is not None and inc.inp.responder_flow == GENUINE_FLOW and inc.genuine is None:
        # GENUINE_FLOW: evidence ran without waiting and no step came to act, so nobody was asked; never "resolved"
        # ("blocked at source") or "contained" on a delivery nobody confirmed
        doc.status = NEEDS_RESPONDER
        doc.contained_at = None
        doc.reason = (f"alert not confirmed at its source ({inc.inp.source_check}) and no step acted: evidence kept; "
                      "a responder looks it up at its source and decides what to do")
    elif inc.applied and all(_only_keeps_or_writes_back(run) for run in inc.applied):
        # nothing was cut off because nothing needed to be (the source blocked the attack): never "contained"
        doc.status = RESOLVED
        doc.contained_at = None
        doc.reason = ("blocked at source, nothing to contain: evidence kept and the sources written back "
                      f"({len(inc.applied)} step(s) applied and verified; no step changed the protected resource)")
    else:
        doc.status = CONTAINED
        doc.reason = f"{len(inc.applied)} containment step(s) applied and verified"
        if doc.contained_at is None:  # a narrow step failed, and its escalation holds
            doc.contained_at = getattr(inc, "contain_ended", None) or inc.now


def _genuine_judged(inc: _Incident) -> str | None:
    """:data:`GENUINE_FLOW`: set the record's ``alert_genuine`` (the decision a script reads) and return the outcome's
    reason when the alert was judged not genuine or nobody decided in time — who, what was contained (nothing), why
    it was not confirmed, what to do next; None otherwise (approved, not asked, another flow). ``alert_genuine``::

        {"decision": "approve" | "reject" | "timeout" | "stopped" | null (not asked: no step came to act),
         "by": object id | null, "at": ISO 8601 | null, "comment": str | null, "not_confirmed": why (as the timeline's),
         "reason_code": firestop.source_reasons.Reason | null (a check that gave none),
         "held_steps": {"<step> (<runbook>)": [what it acts on]} | null (what the card showed, _held_steps)}
    """
    if inc.unconfirmed is None or inc.inp.responder_flow != GENUINE_FLOW:
        return None
    decided = next((a for a in reversed(inc.doc.approvals) if a.get("step") == GENUINE_STEP
                    and a.get("verdict") in ("approve", "reject")), {})
    inc.doc.alert_genuine = {"decision": inc.genuine, "by": decided.get("by"), "at": decided.get("at"),
                             "comment": decided.get("comment"), "not_confirmed": inc.unconfirmed,
                             "reason_code": inc.unconfirmed_code,
                             "held_steps": inc.held_steps}
    if inc.genuine == "reject":
        comment = str(decided.get("comment") or "")
        comment = comment if len(comment) <= 200 else comment[:199] + "…"  # whole in alert_genuine and approvals
        who = f"judged not genuine by {decided.get('by')}" + (f" ({comment!r})" if comment else "")
        what = ("nothing was contained: no step that acts ran and nothing was written back to the source (evidence "
                "kept)")
        nxt = ("next: if it is forged, someone holds the alerts webhook key — rotate the Function App's function key "
               "and the action group's webhook URL; if it was genuine after all, handle the alert again and approve "
               f"{GENUINE_STEP} (alert handle FILE --rerun), or contain it by hand")
    elif inc.genuine == "timeout":
        who = "nobody decided in time whether the alert is genuine"
        what = "nothing was contained: no step that acts ran (evidence kept)"
        nxt = ("next: look the alert up at its source; if it is there, handle the alert again and approve "
               f"{GENUINE_STEP} (alert handle FILE --rerun), or contain it by hand")
    else:
        return None
    return f"{who}: {what}; not confirmed at its source ({inc.inp.source_check}: {inc.unconfirmed}); {nxt}"


def _only_keeps_or_writes_back(run: _Run) -> bool:
    """True when the run's runbook only keeps evidence or writes back to the signal's source (never cuts anything off)."""
    if isinstance(run.step, UndoStep):
        return False
    kind = _kind(run.step)
    return bool(kind.collects_evidence or kind.write_back)


def _learn(inc: _Incident, playbook: Playbook | None) -> Generator[Any, Any, dict[str, Any]]:
    doc = inc.doc
    if playbook is not None and inc.stop is None:
        yield from _phase(inc, playbook, "learn", counts=False)
    inc.status("learn", "summarize")
    tasks = [inc.context.call_activity(ACTIVITY_LEDGER_HEAD, {"incident_id": inc.inp.incident_id})]
    if any(e.get("collected_by") == "evidence.snapshot_logs" for e in doc.evidence):
        tasks.append(inc.context.call_activity(
            ACTIVITY_SUMMARIZE_ACTIVITY, {"incident_id": inc.inp.incident_id, "evidence": doc.evidence}
        ))
    results = yield inc.context.task_all(tasks)
    if inc.unread_joins and doc.status != STOPPED:
        # bounds14: whatever this incident did, alerts that joined it were left unchecked — a responder is asked
        unread = (f"{inc.unread_joins} pending join(s) could not be read: alerts that joined this incident while its "
                  "source check ran were not all checked on their own (see the notes)")
        doc.reason = f"{doc.reason}; {unread}" if doc.status == NEEDS_RESPONDER and doc.reason else unread
        doc.status = NEEDS_RESPONDER
    if doc.status == NEEDS_RESPONDER and inc.page:
        yield from _page(inc, "learn", "needs_responder", None, None, list(inc.page),
                         f"Responder needed — incident {inc.inp.incident_id}", f"{doc.reason}.")
    doc.ledger_head = results[0]
    if len(results) > 1:
        doc.activity = results[1]
    inc.status("learn", "file record")
    doc.gaps = checklist_gaps(doc.facts or {}, list(doc.actions.values()), doc.evidence)
    doc.closed_at = inc.now
    doc.event("learn", "file record", "ok", doc.closed_at, runbook="records.file", detail=f"status {doc.status}")
    record = doc.to_record()
    filing = _Run(Step.internal("file-record", "records.file", {"record": record}), None, {"record": record}, phase="learn")
    answer = yield inc.context.call_activity(ACTIVITY_RUN_RUNBOOK, inc.request(filing, "apply"))
    files = ((answer.get("result") or {}).get("artifacts") or {}) if answer.get("ok") else {}
    out = dict(record)
    out["record_files"] = files
    if not answer.get("ok"):
        out["record_error"] = (answer.get("error") or {}).get("message")
        out["timeline"] = [*out["timeline"][:-1], {**out["timeline"][-1], "outcome": "failed", "detail": f"record not filed: {out['record_error']}"}]
    else:
        yield from _record_late(inc)
    if not inc.drained:
        # trust16: an incident that ended early (no_playbook, a variant not confirmed or capped) never read its tally,
        # so it stayed open: a later variant of it heard "a responder decides there" where nothing waited, and
        # nobody was asked. Closed here, on every end path — the last call of the run, so an orchestration in flight
        # when this code was deployed replays its history unchanged and only adds the call at its end
        yield from tally.summary(inc.context, inc.context.instance_id, inc.alert.get("alert_id"))
    inc.pending_approval = None
    inc.status("done", None)
    observe.outcome(inc.context, out)
    return out


def _record_late(inc: _Incident) -> Generator[Any, Any, None]:
    """Put the alerts tallied after the tally was closed (:func:`_drain_events`) onto the filed record: read the
    tally's late alerts (:func:`firestop.lifecycle.tally.late`) and, when there are any, record them through the
    after-close path (:data:`ACTIVITY_RECORD_LATE`: a revision each, deduplicated by alert key, so a read that
    names an alert again records nothing twice); read again until a read finds no more (at most
    :data:`LATE_SWEEPS`). Their 202 named this incident; before, they were counted in the tally and in no record.
    What this cannot see: an alert whose signal the tally runs after the last read, in the moment before the
    orchestration is marked finished (an intake reading the status after that answers through the after-close
    path itself)."""
    seen = 0
    for _ in range(LATE_SWEEPS):
        late = yield from tally.late(inc.context, inc.context.instance_id)
        if late["late"] <= seen:
            return
        seen = late["late"]
        own = inc.alert.get("alert_id")
        alerts = [a for a in late["alerts"] if a.get("alert_id") != own]
        if alerts:
            yield inc.context.call_activity(ACTIVITY_RECORD_LATE, {"incident_id": inc.inp.incident_id, "alerts": alerts})

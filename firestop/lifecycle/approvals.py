"""Approval gates (pure): when a step needs a human, and whether a decision counts.

The orchestrator waits for the external event ``approval:<step id>`` raced
against a durable timer (the Durable Functions human-interaction pattern).
Event data (JSON object, or JSON text as the SDK client delivers it), built by
:func:`decision_event` and sealed (:mod:`firestop.trust.seal`, purpose
``approval``, bound to ``<incident id>/<step id>``) by whoever authenticated
the caller — ``POST /api/incidents/{id}/approvals/{step}``, the CLI, the
tabletop responder::

    {"incident_id", "step", "requested_at": <the request answered, ISO 8601>,
     "decision": "approve" | "reject", "by": "<Entra object ID>",
     "groups": ["<group object ID>", ...], "comment": "...",
     "decision_id": "<unique per decision>", "at": ISO 8601, "seal": str}

The orchestrator counts a decision only when it names this incident, step and
request and its seal verifies (the ``verify_seal`` activity); anything else —
an event raised with the Durable system key naming any approver — is
recorded as refused ("not from the authenticated API") and ignored.
``decision_id`` lets the orchestrator tell a new decision from the Durable
Python SDK handing it the same buffered event again.

Refused decisions are judged at the edge first: every sender (the API and the console through
``send_decision``, the CLI locally and with ``--app``, the tabletop responder) reads ``pending_approval`` from the
orchestration's custom status, judges the caller with :func:`judge` and raises nothing when it refuses (the API
answers 403 naming why). What still reaches the orchestrator (a sender's stale read, the Durable system key) is
bounded per approval request: :data:`KEPT_REFUSALS` refused decisions are kept in full, later ones are counted
(:class:`RefusalRecord`), and each costs the orchestration's history its own ``EventRaised`` only (red team 8,
approvals9).
"""

from __future__ import annotations

import json
from typing import Any

from firestop.playbooks.expressions import condition
from firestop.playbooks.models import Approval

AUTOMATION = "azure-monitor"


def event_name(step_id: str, generation: int = 1) -> str:
    """The external event that carries a decision for ``step_id``: ``approval:<step id>``, then
    ``approval:<step id>:<generation>`` once the gate had to move off a name (a step id never holds ``:``).

    Why a gate moves: the Durable Python SDK (1.7) hands an event raised while nothing waited on its name to every
    later wait on that name, forever. Two refused decisions raised together (an approver not listed on the step,
    twice) left the second one buffered: every wait after it got that refusal again, so the gate stopped listening and
    the listed approvers' decisions were never read — the step timed out unapproved (red team 8, RT8-02). The gate
    now moves to a fresh name instead, published in ``pending_approval["event"]``, where every sender (the API, the
    console, the CLI, the tabletop responder) reads the name it raises."""
    return f"approval:{step_id}" if generation <= 1 else f"approval:{step_id}:{generation}"


def needs_approval(approval: Approval | None, scope: dict[str, Any]) -> tuple[bool, str]:
    """(required, why). ``required_if`` whose condition cannot be decided is required (fail closed)."""
    if approval is None or approval.mode == "auto":
        return False, "no approval needed"
    if approval.mode == "required":
        return True, "the playbook requires approval"
    verdict = condition(approval.condition or "false", scope)
    if verdict is None:
        return True, f"approval required: {approval.condition!r} cannot be decided (missing data), failing closed"
    if verdict:
        return True, f"approval required: {approval.condition}"
    return False, f"no approval needed: {approval.condition} does not hold"


#: Notes of a plan carried into ``pending_approval["notes"]`` (the rest counted in one last note), and the longest
#: note or plan error message kept (characters; longer ones end in "…"). A runbook's notes and error messages may
#: quote what Azure answered, so they are bounded here and escaped where they land (console, CLI). Together at most
#: about 1,400 characters of the custom status (16 KB of UTF-16 JSON: see firestop.lifecycle.incident), beside the
#: timeline's SO_FAR_BUDGET_CHARS.
MAX_PLAN_NOTES = 5
MAX_PLAN_TEXT = 200
#: Changes of a plan carried into ``pending_approval["changes"]``: at most this many, and together at most
#: :data:`MAX_PLAN_CHANGES_CHARS` characters of JSON (each change's ``field``/``before``/``after`` cut to
#: :data:`MAX_PLAN_TEXT` characters first); how many were left out is ``changes_left_out``. A runbook may plan hundreds
#: (an NSG's rules) and the custom status holds 16 KB of UTF-16 JSON with the timeline and the notes (above).
MAX_PLAN_CHANGES = 20
MAX_PLAN_CHANGES_CHARS = 2400


def _bounded(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_PLAN_TEXT else text[:MAX_PLAN_TEXT - 1] + "…"


def plan_preview(plan: dict[str, Any]) -> dict[str, Any]:
    """What an approver is shown of a runbook's plan answer (``{"ok", "result" | "error"}``, :mod:`runbooks.dispatch`):
    ``{"changes": [...], "changes_left_out": int, "blast_radius": {what: [str]} | None (bounded), "notes": [str],
    "plan_error": {"kind", "message"} | None}`` (``changes``: bounded, :func:`_bounded_changes`).

    A failed plan keeps no changes and gives ``plan_error`` (kind and message, each at most :data:`MAX_PLAN_TEXT`
    characters): the approval page then says the plan could not be computed, never "no changes". ``notes``: the
    plan's notes (a failed plan has none), at most :data:`MAX_PLAN_NOTES`, each at most :data:`MAX_PLAN_TEXT`
    characters, with "… N more notes" for the rest. Pure: the text is bounded, not escaped (each view escapes it)."""
    plan = plan if isinstance(plan, dict) else {}
    result = plan.get("result") if isinstance(plan.get("result"), dict) else {}
    if not plan.get("ok"):
        error = plan.get("error") if isinstance(plan.get("error"), dict) else {}
        return {"changes": [], "changes_left_out": 0, "blast_radius": None, "notes": [],
                "plan_error": {"kind": _bounded(error.get("kind") or "error"),
                               "message": _bounded(error.get("message") or "the runbook gave no reason")}}
    raw = result.get("notes") if isinstance(result.get("notes"), list) else []
    notes = [_bounded(n) for n in raw[:MAX_PLAN_NOTES]]
    if len(raw) > MAX_PLAN_NOTES:
        notes.append(f"… {len(raw) - MAX_PLAN_NOTES} more notes")
    changes, left_out = _bounded_changes(result.get("changes"))
    return {"changes": changes, "changes_left_out": left_out, "blast_radius": _bounded_radius(result.get("blast_radius")),
            "notes": notes, "plan_error": None}


def _bounded_radius(value: Any) -> dict[str, list[str]] | None:
    """The plan's blast radius bounded as :class:`runbooks.base.Plan` bounds it (:func:`runbooks.base.bound_blast_radius`:
    a list that lost items ends with "… and N more (left out)"); None when there is none."""
    from runbooks.base import bound_blast_radius

    if value is None:
        return None
    return bound_blast_radius(value)[0]


def _bounded_change(change: Any) -> Any:
    """One planned change with each of ``field``, ``before``, ``after`` whose JSON is longer than :data:`MAX_PLAN_TEXT`
    characters replaced by its cut JSON text (a change that is not a dict: its cut text)."""
    if not isinstance(change, dict):
        return _bounded(change)
    out = {}
    for key, value in change.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        out[key] = value if len(text) <= MAX_PLAN_TEXT else _bounded(text)
    return out


def _bounded_changes(raw: Any) -> tuple[list[Any], int]:
    """(the changes kept, how many were left out) of a plan's ``changes``: the first ones, each bounded, while at most
    :data:`MAX_PLAN_CHANGES` of them fit in :data:`MAX_PLAN_CHANGES_CHARS` characters of JSON."""
    raw = raw if isinstance(raw, list) else []
    kept: list[Any] = []
    used = 0
    for change in raw[:MAX_PLAN_CHANGES]:
        bounded = _bounded_change(change)
        used += len(json.dumps(bounded, default=str))
        if used > MAX_PLAN_CHANGES_CHARS:
            break
        kept.append(bounded)
    return kept, len(raw) - len(kept)


def decode(data: Any) -> dict[str, Any]:
    """Event data as a dict (the SDK client delivers JSON text; in-process raises deliver the value)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}


def judge(approval: Approval, data: Any, *, requested_by: str) -> tuple[str, str, str | None]:
    """(verdict, reason, by): verdict ``approve``, ``reject``, or ``refused`` (the decision does not count)."""
    decision = decode(data)
    by = decision.get("by")
    verb = decision.get("decision")
    if not isinstance(by, str) or not by:
        return "refused", "decision without an identity (by)", None
    if verb not in ("approve", "reject"):
        return "refused", f"decision must be approve or reject, not {verb!r}", by
    groups = {g for g in decision.get("groups") or [] if isinstance(g, str)}
    allowed = set(approval.approvers)
    if allowed and by not in allowed and not (groups & allowed):
        return "refused", f"{by} is not among the approvers of this step", by
    if approval.two_person and verb == "approve" and by == requested_by:
        return "refused", f"two-person rule: {by} requested this incident and cannot also approve it", by
    comment = decision.get("comment")
    reason = f"{verb}{'d' if verb.endswith('e') else 'ed'} by {by}" + (f": {comment}" if isinstance(comment, str) and comment else "")
    return verb, reason, by


#: Refused decisions per approval request kept in full: each on the timeline and in the record's ``approvals``, its
#: seal checked (the ``verify_seal`` activity: two history events) so that ``by`` names who really sent it.
KEPT_REFUSALS = 10
#: Beyond :data:`KEPT_REFUSALS`, the newest refused decisions kept in the record (``by`` None: their seal is not
#: checked, the claimed identity is in the reason); the ones before them are only counted.
TAIL_REFUSALS = 3


class RefusalRecord:
    """The refused decisions of one approval request, bounded, as they land in the record's ``approvals``.

    ``add(entry)`` appends ``entry`` (``{"step", "verdict": "refused", "by", "reason", "at", "comment"}``) to
    ``approvals`` (the record's list, shared with other steps' entries: only entries this object appended are
    touched). The first :data:`KEPT_REFUSALS` stay; after them the newest :data:`TAIL_REFUSALS` stay, and the ones
    pushed out of that tail become one summary entry in their place::

        {"step", "verdict": "refused", "by": None, "count": <decisions summarised>, "at": <the first one's at>,
         "last_at": <the last one's at>, "comment": None, "reason": "<count> further refused decision(s) ..."}

    So one request holds at most ``KEPT_REFUSALS + 1 + TAIL_REFUSALS`` refused entries, whatever is sent;
    :attr:`count` is the total refused (what ``pending_approval.refused_decisions`` shows). Pure and deterministic
    (the orchestrator rebuilds it on every replay)."""

    def __init__(self, approvals: list[dict[str, Any]]) -> None:
        self.approvals = approvals
        self.count = 0
        self.tail: list[dict[str, Any]] = []
        self.summary: dict[str, Any] | None = None

    @property
    def keeps_in_full(self) -> bool:
        """True while the next refused decision is still kept in full (seal checked, on the timeline)."""
        return self.count < KEPT_REFUSALS

    def add(self, entry: dict[str, Any]) -> None:
        full = self.keeps_in_full
        self.count += 1
        self.approvals.append(entry)
        if full:
            return
        self.tail.append(entry)
        if len(self.tail) <= TAIL_REFUSALS:
            return
        oldest = self.tail.pop(0)
        at = next(i for i in range(len(self.approvals) - 1, -1, -1) if self.approvals[i] is oldest)
        if self.summary is None:
            self.summary = {"step": oldest.get("step"), "verdict": "refused", "by": None, "count": 0,
                            "at": oldest.get("at"), "last_at": None, "comment": None, "reason": ""}
            self.approvals[at] = self.summary
        else:
            del self.approvals[at]
        self.summary["count"] += 1
        self.summary["last_at"] = oldest.get("at")
        self.summary["reason"] = (f"{self.summary['count']} further refused decision(s), counted, not kept one by one "
                                  f"(from {self.summary['at']} to {self.summary['last_at']}): after {KEPT_REFUSALS} "
                                  f"refusals only the newest {TAIL_REFUSALS} are kept")


#: Longest approval comment kept (characters): it lands on the timeline, in the sealed decision and in the record.
MAX_COMMENT = 1000


def comment_problem(comment: object) -> str | None:
    """Why ``comment`` cannot go with a decision (None: it can — absent, or a string of at most :data:`MAX_COMMENT`
    characters)."""
    if comment is None:
        return None
    if not isinstance(comment, str):
        return f"comment must be a string of at most {MAX_COMMENT:,} characters, not {type(comment).__name__}"
    if len(comment) > MAX_COMMENT:
        return f"comment is {len(comment):,} characters; at most {MAX_COMMENT:,} are kept"
    return None


def decision_event(incident_id: str, pending: dict[str, Any], *, decision: str, by: str, groups: list[str] | tuple[str, ...] = (),
                   comment: str | None = None, decision_id: str, at: str) -> dict[str, Any]:
    """The (unsealed) event data of a decision on ``pending`` (the orchestrator's ``pending_approval``)."""
    return {"incident_id": incident_id, "step": pending.get("step"), "requested_at": pending.get("requested_at"),
            "decision": decision, "by": by, "groups": list(groups), "comment": comment,
            "decision_id": decision_id, "at": at}

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

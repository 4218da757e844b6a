"""Orchestrator side of sealed inputs (pure): which activity checks a seal, with what.

The seal itself — key, MAC, who seals what — is :mod:`firestop.trust.seal`.
Orchestrator code never sees the key: it computes the document's digest
(:func:`firestop.seal_contract.digest`, deterministic) and asks an activity:

* ``verify_seal`` ``{"purpose", "binding", "digest", "seal", "about"}`` →
  ``{"ok": bool, "reason": str}``. ``about`` (≤ 300 characters) says what
  was checked, for the WARNING the activity logs on a refusal.
* ``seal_input`` ``{"purpose", "binding", "digest"}`` → ``{"seal": str}``
  or ``{"seal": None, "reason": str}`` when the app holds no usable key.

Cost in history: one activity (TaskScheduled + TaskCompleted, ~300 bytes)
per seal or verification — at the start of every incident and step group,
per step group in the parent (to seal it), per decision or stop received.
"""

from __future__ import annotations

from typing import Any, Generator

from firestop.seal_contract import SEAL_FIELD, Purpose, binding_of_decision, digest

ACTIVITY_VERIFY_SEAL = "verify_seal"
ACTIVITY_SEAL_INPUT = "seal_input"

PURPOSE_INCIDENT = Purpose.INCIDENT.value
PURPOSE_STEP_GROUP = Purpose.STEP_GROUP.value
PURPOSE_APPROVAL = Purpose.APPROVAL.value
PURPOSE_STOP = Purpose.STOP.value

MAX_ABOUT = 300


def verify_request(purpose: str, binding: str, document: Any, about: str) -> dict[str, Any]:
    """The ``verify_seal`` activity input for ``document`` (its ``"seal"`` field, if any)."""
    seal = document.get(SEAL_FIELD) if isinstance(document, dict) else None
    try:
        found = digest(document)
    except (TypeError, ValueError):
        found = "not-json"
    return {"purpose": purpose, "binding": binding, "digest": found,
            "seal": seal if isinstance(seal, str) else (None if seal is None else repr(seal)[:100]),
            "about": about[:MAX_ABOUT]}


def verify(context, purpose: str, binding: str, document: Any, about: str) -> Generator[Any, Any, dict[str, Any]]:
    """Check ``document``'s seal through the activity; returns ``{"ok", "reason"}``."""
    result = yield context.call_activity(ACTIVITY_VERIFY_SEAL, verify_request(purpose, binding, document, about))
    return result if isinstance(result, dict) else {"ok": False, "reason": "no answer from verify_seal"}


__all__ = ["ACTIVITY_SEAL_INPUT", "ACTIVITY_VERIFY_SEAL", "PURPOSE_APPROVAL", "PURPOSE_INCIDENT", "PURPOSE_STEP_GROUP",
           "PURPOSE_STOP", "binding_of_decision", "verify", "verify_request"]

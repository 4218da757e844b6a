"""Incident outcomes and the CLI exit codes they map to."""

from __future__ import annotations

CONTAINED = "contained"
NEEDS_RESPONDER = "needs_responder"
NO_PLAYBOOK = "no_playbook"
#: A responder stopped the incident (POST /api/incidents/{id}/stop); what ran is in the record.
STOPPED = "stopped"
#: The orchestration's input was not sealed by intake or the authenticated API: nothing ran.
REFUSED = "refused"

#: Exit codes users rely on: 0 contained, 3 needs a responder (also: stopped), 4 no playbook matched; refused → 1.
EXIT_CODES: dict[str, int] = {CONTAINED: 0, NEEDS_RESPONDER: 3, NO_PLAYBOOK: 4, STOPPED: 3, REFUSED: 3}  # refused: an unsealed input ran nothing; worth a look


def exit_code_for(status: str | None) -> int:
    """Exit code for an incident status; 1 (internal error) for anything unknown."""
    return EXIT_CODES.get(status or "", 1)

"""Incident outcomes and the CLI exit codes they map to."""

from __future__ import annotations

CONTAINED = "contained"
#: Every containment step that held only kept evidence or wrote back to the sources (a Sentinel comment or
#: close, a Defender alert resolved): the attack was blocked at its source (e.g. Prompt Shields refused the
#: jailbreak), nothing was cut off because nothing needed to be. Done (exit 0), but never called "contained".
RESOLVED = "resolved"
NEEDS_RESPONDER = "needs_responder"
NO_PLAYBOOK = "no_playbook"
#: A responder stopped the incident (POST /api/incidents/{id}/stop); what ran is in the record.
STOPPED = "stopped"
#: The orchestration's input was not sealed by intake or the authenticated API: nothing ran.
REFUSED = "refused"

#: Exit codes users rely on: 0 contained or resolved (done), 3 needs a responder (also: stopped), 4 no playbook matched.
EXIT_CODES: dict[str, int] = {CONTAINED: 0, RESOLVED: 0, NEEDS_RESPONDER: 3, NO_PLAYBOOK: 4, STOPPED: 3, REFUSED: 3}  # refused: an unsealed input ran nothing; worth a look


def exit_code_for(status: str | None) -> int:
    """Exit code for an incident status; 1 (internal error) for anything unknown."""
    return EXIT_CODES.get(status or "", 1)

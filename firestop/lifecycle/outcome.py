"""Incident outcomes and the CLI exit codes they map to."""

from __future__ import annotations

CONTAINED = "contained"
NEEDS_RESPONDER = "needs_responder"
NO_PLAYBOOK = "no_playbook"

#: Exit codes users rely on: 0 contained, 3 needs a responder, 4 no playbook matched.
EXIT_CODES: dict[str, int] = {CONTAINED: 0, NEEDS_RESPONDER: 3, NO_PLAYBOOK: 4}


def exit_code_for(status: str | None) -> int:
    """Exit code for an incident status; 1 (internal error) for anything unknown."""
    return EXIT_CODES.get(status or "", 1)

"""What an incident's timeline says each step did: ``{step: [outcome, …]}`` (RT19-01, RT19-02)."""

from __future__ import annotations

from tests.source_check_steps import timeline_of


def step_outcomes(env, incident: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in timeline_of(env, incident):
        out.setdefault(str(entry.get("step")), []).append(str(entry.get("outcome")))
    return out

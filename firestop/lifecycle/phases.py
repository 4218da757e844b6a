"""An incident's parts, named as its record's phases: detect → analyze → contain → resolve → learn (pure).

Every timeline entry carries the phase it belongs to (``phase``). :func:`phase_summary` groups a timeline by phase,
in the response plan's order, so the ``.md`` record (:func:`firestop.records.render.render_markdown`) and the console
(:func:`firestop.console.pages.incident_page`) name each part the same way::

    [{"phase": "contain", "title": "Contain", "covers": "runbooks acted on the target",
      "steps": ["snapshot-logs", "rotate-keys", "lock-network"], "outcomes": {"done": 3},
      "from_s": 3.2, "to_s": 21.2, "entries": 3}, ...]

``from_s``/``to_s``: seconds from receipt (the entries' ``offset_s``; None when none has one). A phase with no entry
yet is listed with ``entries: 0`` (not reached); a phase name the plan does not know (a record from elsewhere) follows
the five, as given — the text is not escaped here (each surface escapes it where it lands).
"""

from __future__ import annotations

from typing import Any

#: The response plan's phases, in order, and what each covers.
PHASES: tuple[tuple[str, str], ...] = (
    ("detect", "the alert fired and reached Firestop"),
    ("analyze", "the playbook was chosen; the tenant and the evidence were read"),
    ("contain", "runbooks acted on the target"),
    ("resolve", "each action was verified"),
    ("learn", "the record was filed"),
)
#: At most this many steps named per phase (the rest counted).
MAX_STEPS = 12


def phase_summary(timeline: Any) -> list[dict[str, Any]]:
    """The timeline (``[{"phase", "step", "outcome", "offset_s", ...}]``) by phase, in the plan's order (module doc)."""
    entries = [e for e in timeline if isinstance(e, dict)] if isinstance(timeline, list) else []
    known = [name for name, _ in PHASES]
    others = []
    for e in entries:
        name = str(e.get("phase") or "")
        if name and name not in known and name not in others:
            others.append(name)
    covers = dict(PHASES)
    out = []
    for name in known + others[:10]:
        mine = [e for e in entries if str(e.get("phase") or "") == name]
        steps: list[str] = []
        outcomes: dict[str, int] = {}
        for e in mine:
            step = str(e.get("step") or "")
            if step and step not in steps:
                steps.append(step)
            outcome = str(e.get("outcome") or "")
            if outcome:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        times = [e["offset_s"] for e in mine if isinstance(e.get("offset_s"), (int, float)) and not isinstance(e.get("offset_s"), bool)]
        out.append({"phase": name, "title": name[:1].upper() + name[1:], "covers": covers.get(name, ""),
                    "steps": steps[:MAX_STEPS], "steps_left_out": max(0, len(steps) - MAX_STEPS), "outcomes": outcomes,
                    "from_s": min(times) if times else None, "to_s": max(times) if times else None, "entries": len(mine)})
    return out


def steps_text(part: dict[str, Any]) -> str:
    """``snapshot-logs, rotate-keys (+2 more)`` or ``not reached``/``—``."""
    if not part.get("entries"):
        return "not reached"
    said = ", ".join(part.get("steps") or []) or "—"
    return said + (f" (+{part['steps_left_out']} more)" if part.get("steps_left_out") else "")


def outcomes_text(part: dict[str, Any]) -> str:
    """``done 3, verified 2`` (each outcome and how many entries had it)."""
    return ", ".join(f"{k} {v}" for k, v in (part.get("outcomes") or {}).items()) or "—"

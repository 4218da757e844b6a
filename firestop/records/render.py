"""Render a post-incident record (the JSON document the orchestrator builds) as Markdown. Pure.

Every value in a record may come from outside (alert fields, resource ids,
responders' comments, Azure's messages): each goes through the helper of
:mod:`firestop.markup` for where it lands — :func:`~firestop.markup.md_cell`
in table cells and inline text, :func:`~firestop.markup.md_code` in code
spans — so no value can add HTML, a link, an image, a heading or a table
column to the record.
"""

from __future__ import annotations

from typing import Any

from firestop.markup import md_cell, md_code
from firestop.source_reasons import UNCHECKED_NOT_WAITING as CAPPED_OUTCOME
from firestop.times import instant, offset, seconds as _fmt_seconds


_cell = md_cell


def render_markdown(record: dict[str, Any]) -> str:
    """Markdown for a record: summary, metrics, timeline, actions (before/after), evidence."""
    alert = record.get("alert") or {}
    playbook = record.get("playbook") or {}
    metrics = record.get("metrics") or {}
    lines = [
        f"# Incident {_cell(record.get('incident_id'))} — {_cell(record.get('status'))}",
        "",
        f"- Alert rule: {_cell(alert.get('rule_name'))} (severity {_cell(alert.get('severity'))}, {_cell(alert.get('monitoring_service'))})",
        f"- Alert ID: {md_code(alert.get('alert_id'))}",
        f"- Targets: {', '.join(md_code(t) for t in alert.get('target_ids') or []) or '—'}",
        f"- Playbook: {_cell(playbook.get('name'))} (version {_cell(playbook.get('version'))})",
        f"- Fired: {_cell(instant(alert.get('fired_at')))}; received: {_cell(instant(record.get('received_at')))}; "
        f"contained: {_cell(instant(record.get('contained_at')))}; closed: {_cell(instant(record.get('closed_at')))}",
        f"- Environment: {'sandbox (simulated tenant)' if record.get('sandbox') else 'Azure'}"
        + (" — tabletop exercise" if record.get("exercise") else ""),
        "",
        "## Metrics",
        "",
        "| MTTD | MTTA | MTTC | MTTR |",
        "|---|---|---|---|",
        f"| {_fmt_seconds(metrics.get('mttd_s'))} | {_fmt_seconds(metrics.get('mtta_s'))} | "
        f"{_fmt_seconds(metrics.get('mttc_s'))} | {_fmt_seconds(metrics.get('mttr_s'))} |",
        "",
    ]
    if record.get("reason"):
        lines[1:1] = ["", f"**{_cell(record.get('reason'))}**"]
    activity = record.get("recent_activity") or {}
    if activity.get("callers") or activity.get("key_operations"):
        lines += ["## Recent activity (from the log evidence)", "", "| caller IP | requests | key-authenticated | statuses |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(c.get('ip'))} | {_cell(c.get('requests'))} | {_cell(c.get('key_auth'))} | "
            + _cell(", ".join(f"{k}: {v}" for k, v in sorted((c.get("statuses") or {}).items()))) + " |"
            for c in activity.get("callers") or []
        ]
        for op in activity.get("key_operations") or []:
            lines.append(f"- key operation {_cell(op.get('operation'))} at {_cell(instant(op.get('time')))} from {_cell(op.get('ip'))} by {_cell(op.get('principal'))}")
        lines.append("")
    if record.get("approvals"):
        lines += ["## Approvals", "", "| step | verdict | by | at | reason |", "|---|---|---|---|---|"]
        lines += [
            f"| {_cell(a.get('step'))} | {_cell(a.get('verdict'))} | {_cell(a.get('by'))} | {_cell(instant(a.get('at')))} | {_cell(a.get('reason'))} |"
            for a in record["approvals"]
        ]
        lines.append("")
    if record.get("checklist_gaps"):
        lines += ["## Security checklist gaps (found before containment: fix them for good)", ""]
        lines += [f"- {_cell(g.get('gap'))} on {md_code(_short(g.get('target')))} — {_cell(g.get('advice'))}" for g in record["checklist_gaps"]]
        lines.append("")
    if record.get("correlated_alerts"):
        lines += ["## Alerts that joined this incident", ""]
        count = record.get("correlated_count")
        if isinstance(count, int) and count > len(record["correlated_alerts"]):
            lines += [f"{count} alerts joined; the newest {len(record['correlated_alerts'])}:", ""]
        unchecked = record.get("correlated_count_unchecked")
        if isinstance(unchecked, int) and not isinstance(unchecked, bool) and unchecked > 0:
            # the tally past its bound (firestop.lifecycle.tally.MAX_TRACKED): said as firestop.lifecycle.view.joined_counts
            joined = f"{count} alerts joined, at most {unchecked} too many" if isinstance(count, int) else "Alerts joined"
            lines += [f"**{joined}: {unchecked} of them were counted without the duplicate check (a redelivery may be "
                      "counted twice)**", ""]
        lines += [f"- {_cell(a.get('rule_name'))} ({md_code(a.get('alert_id'))})" for a in record["correlated_alerts"]]
        lines.append("")
    if record.get("variants"):  # variants14: deliveries that would have joined it, each checked on its own
        lines += ["## Deliveries checked on their own (differing from this incident's)", ""]
        count = record.get("variant_count")
        if isinstance(count, int) and not isinstance(count, bool) and count > len(record["variants"]):
            lines += [f"{count} reported; the first {len(record['variants'])}:", ""]
        lines += [f"- {md_code(v.get('variant'))} ({md_code(v.get('alert_id'))}): {_cell(v.get('outcome'))} — "
                  f"{_cell(v.get('why'))}" for v in record["variants"] if isinstance(v, dict)]
        capped = sum(1 for v in record["variants"] if isinstance(v, dict) and v.get("outcome") == CAPPED_OUTCOME)
        if capped:  # cap15: past the cap they did not wait on their own decision
            lines += ["", f"**{capped} more deliveries could not be checked: look them up at the source; "
                      "`alert handle FILE --rerun`**"]
        lines.append("")
    if record.get("holds") or record.get("does_not_hold"):
        lines += ["## Containment", ""]
        lines += [f"- holds: {_cell(h)}" for h in record.get("holds") or []]
        lines += [f"- **does not hold**: {_cell(h)}" for h in record.get("does_not_hold") or []]
        lines.append("")
    if record.get("evidence_gaps"):
        lines += ["## Evidence gaps (containment went on without them)", ""]
        lines += [f"- {_cell(g)}" for g in record["evidence_gaps"]]
        lines.append("")
    from firestop.lifecycle.phases import outcomes_text, phase_summary, steps_text

    # the incident's parts named as the response plan's phases (cli17), each escaped where it lands
    lines += ["## Phases: detect → analyze → contain → resolve → learn", "",
              "| phase | from | to | covers | steps | outcomes |", "|---|---|---|---|---|---|"]
    lines += [f"| {_cell(p['title'])} | {_cell(offset(p['from_s']))} | {_cell(offset(p['to_s']))} | {_cell(p['covers'] or '—')} | "
              f"{_cell(steps_text(p))} | {_cell(outcomes_text(p))} |" for p in phase_summary(record.get("timeline"))]
    lines.append("")
    lines += ["## Timeline", "", "| offset | phase | step | target | outcome | detail |", "|---|---|---|---|---|---|"]
    for entry in _in_time_order(record.get("timeline") or []):
        lines.append(
            f"| {_offset(entry.get('offset_s'))} | {_cell(entry.get('phase'))} | {_cell(entry.get('step'))} | "
            f"{_cell(_short(entry.get('target')))} | {_cell(entry.get('outcome'))} | {_cell(entry.get('detail'))} |"
        )
    lines += ["", "## Actions", ""]
    for action in record.get("actions") or []:
        lines.append(f"### {_cell(action.get('step_id'))} — {_cell(action.get('runbook'))}")
        lines.append("")
        lines.append(f"- target: {md_code(action.get('target'))}")
        lines.append(f"- outcome: {_cell(action.get('summary'))}")
        lines.append(f"- verified: {_cell(action.get('verified'))}")
        for check in action.get("checks") or []:
            lines.append(f"  - {'✔' if check.get('ok') else '✘'} {_cell(check.get('name'))}: {_cell(check.get('detail'))}")
        for label in ("before", "after"):
            state = action.get(label) or {}
            if state:
                lines.append(f"- {label}: " + ", ".join(f"{md_code(k)} = {_cell(v)}" for k, v in state.items()))
        lines.append("")
    lines += ["## Evidence", "", "| file | rows | bytes | SHA-256 | collected at |", "|---|---|---|---|---|"]
    for item in record.get("evidence") or []:
        lines.append(
            f"| {_cell(item.get('path'))} | {_cell(item.get('rows'))} | {_cell(item.get('size_bytes'))} | "
            f"{md_code(item.get('sha256'))} | {_cell(instant(item.get('collected_at')))} |"
        )
    lines.append("")
    text = "\n".join(lines)
    return text.encode("utf-8", "replace").decode("utf-8")  # unpaired surrogates from a payload cannot be written as UTF-8


def _in_time_order(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``timeline`` by ``offset_s`` (seconds from receipt; an entry without one counts as 0), ties in recorded order —
    as ``incident show`` and the console list it. The record keeps the orchestrator's order (each step group's entries
    together: the leaked-key record has ``rotate-keys`` at +5.0 s before ``snapshot-logs`` at +3.2 s)."""
    return sorted(timeline, key=lambda e: e.get("offset_s") if isinstance(e.get("offset_s"), (int, float)) else 0)


def _offset(value: Any) -> str:
    """``+21.2 s`` (:func:`firestop.times.offset`); an entry without an offset is at receipt, ``+0.0 s``."""
    return offset(0 if value is None else value)


def _short(resource_id: Any) -> str | None:
    if not resource_id:
        return None
    return str(resource_id).rstrip("/").rsplit("/", 1)[-1]

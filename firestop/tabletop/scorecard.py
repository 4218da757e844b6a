"""The exercise scorecard: JSON (for scripts and trends) and Markdown (for the debrief).

All times are simulated (the sandbox's virtual clock), ISO 8601 UTC; durations
are seconds. Shape of :func:`build_scorecard`'s result::

    {"scenario": {"name", "description", "file"}, "run_id", "run_dir", "exercise": true, "sandbox": true,
     "started_at", "finished_at", "wall_seconds",
     "result": "met" | "missed", "met": int, "missed": int,
     "metrics": {"mttd_s", "mtta_s", "mttc_s", "mttr_s"},          # the first alert's incident
     "incidents": [{"incident_id", "alerts": [index], "status", "reason", "playbook",
                    "metrics", "exercise", "record_files"}],
     "alerts": [{"index", "at", "delivered_at", "delivered_offset_s", "rule_name",
                 "monitor_condition", "incident_id", "outcome"}],
     "expectations": [{"alert", "incident_id", "check", "expected", "actual", "met", "evidence",
                       "unit"?: "s"}],                              # "s": expected is a limit, actual a duration
     "approvals": [{"incident_id", "step", "requested_at", "requested_offset_s", "expires_at", "approvers",
                    "two_person", "outcome", "decided_at", "waited_s", "answers": [delivery log]}],
     "faults": {"armed": [...], "fired": [{"operation", "kind", "status", "at", "offset_s", "source",
                                           "incident_id", "step", "absorbed": true | false | null}],
                "absorbed": int, "not_absorbed": int, "outside_steps": int},
     "permissions_missing": [{"action", "data_action", "operation", "count", "first_at", "paths"}],
     "checklist": {"gaps": [{"incident_id", "target", "gap", "advice"}],
                   "coverage": [{"item", "status": "gap" | "no gap found", "targets"}]},
     "pages": [{"incident_id", "kind": "approval" | "reminder" | "escalation" | "needs_responder", "step", "paged",
                "at", "offset_s", "sent", "channel", "detail"}],        # who was paged, when (the records' pages)
     "notifications": [{"at", "text"}],                             # what notify.webhook posted (to the run's sink)
     "notes": [str],                                                # the runner's and the records' notes
     "detection": null | {...}}                                     # attack-driven runs: firestop.tabletop.detection.summarize

The Markdown writes every time one way (:mod:`firestop.times`): durations ``21.2 s``, offsets from
the start ``+164.0 s``, instants ``2026-11-29 04:03:21.2 UTC``; the JSON keeps numbers (seconds) and ISO 8601.

An expectation is *met* when the evidence shows it; "missed" carries the
evidence that it was not. A scorecard is ``met`` only when every expectation is.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from firestop.times import instant as _fmt_at, offset as _fmt_offset, seconds as _fmt_s
from firestop.private import private_dirs, write_private_text

#: Timeline outcomes that mean a runbook was actually called for a step (group sub-orchestrator).
RAN_OUTCOMES = ("done", "retrying", "failed", "timed out")
#: Timeline outcomes that end an approval wait.
DECISION_OUTCOMES = ("approved", "rejected", "approval timed out")

#: The security checklist items of :mod:`firestop.lifecycle.checklist`, each with the words its gap text carries.
CHECKLIST_ITEMS = (
    ("network isolation (private endpoints or deny-by-default ACLs)", "public network access"),
    ("Microsoft Entra ID instead of API keys", "local (api key) authentication"),
    ("consumers read the key from Key Vault", "key vault secret"),
    ("diagnostic logs reach Log Analytics", "diagnostic logs"),
)


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _secs(a: str | None, b: str | None) -> float | None:
    ta, tb = _t(a), _t(b)
    return None if ta is None or tb is None else round((tb - ta).total_seconds(), 3)





# ------------------------------------------------------------------------------ expectations
def _actions(record: dict[str, Any], step: str) -> list[dict[str, Any]]:
    return [a for a in record.get("actions") or [] if a.get("step_id") == step]


def _ran_events(record: dict[str, Any], step: str) -> list[dict[str, Any]]:
    return [e for e in record.get("timeline") or []
            if e.get("step") == step and e.get("outcome") in RAN_OUTCOMES and e.get("duration_s") is not None]


def _action_text(a: dict[str, Any]) -> str:
    state = "ok" if a.get("ok") else f"failed ({(a.get('error') or {}).get('kind')})"
    verified = {True: ", verified", False: ", NOT verified", None: ""}[a.get("verified")]
    checks = "; ".join(f"{'✔' if c.get('ok') else '✘'} {c.get('name')}" for c in a.get("checks") or [])
    return f"{a.get('step_id')} ({a.get('runbook')}): {state}{verified} — {a.get('summary') or ''}" + (f" [{checks}]" if checks else "")


def _expectation_rows(run, exp, record: dict[str, Any], incident_id: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(check: str, expected: Any, actual: Any, met: bool, evidence: str, unit: str | None = None) -> None:
        rows.append({"alert": exp.alert, "incident_id": incident_id, "check": check, "expected": expected,
                     "actual": actual, "met": bool(met), "evidence": evidence, **({"unit": unit} if unit else {})})

    status = record.get("status")
    if exp.status is not None:
        row("status", exp.status, status, status == exp.status,
            f"record {incident_id}: status {status}" + (f" — {record.get('reason')}" if record.get("reason") else ""))
    if exp.playbook is not None:
        name = (record.get("playbook") or {}).get("name")
        detail = next((e.get("detail") for e in record.get("timeline") or [] if e.get("step") == "select playbook"), "")
        row("playbook", exp.playbook, name, name == exp.playbook, f"playbook {name or 'none'}" + (f" ({detail})" if detail else ""))
    if exp.contained_within is not None:
        mttc = (record.get("metrics") or {}).get("mttc_s")
        met = mttc is not None and mttc <= exp.contained_within
        evidence = (f"contained at {_fmt_at(record.get('contained_at'))}, MTTC {_fmt_s(mttc)} after receipt at {_fmt_at(record.get('received_at'))}"
                    if mttc is not None else f"not contained (status {status})")
        row("contained_within", exp.contained_within, mttc, met, evidence, unit="s")
    for step in exp.steps_ran:
        events = _ran_events(record, step)
        text = "; ".join(f"{e['outcome']} at {_fmt_offset(e.get('offset_s'))} after receipt: {e.get('detail')}" for e in events)
        row(f"step {step} ran", True, bool(events), bool(events), text or f"no runbook call for step {step} on the timeline")
    for step in exp.steps_succeeded:
        acts = _actions(record, step)
        ok = bool(acts) and all(a.get("ok") and a.get("verified") is not False for a in acts)
        row(f"step {step} succeeded", True, ok, ok,
            " | ".join(_action_text(a) for a in acts) or f"no action recorded for step {step}")
    for step in exp.steps_not_run:
        events = _ran_events(record, step)
        other = [e for e in record.get("timeline") or [] if e.get("step") == step]
        # the incident's own offsets (from its alert's receipt), where the scorecard's other tables count from T0
        text = "; ".join(f"{e['outcome']} at {_fmt_offset(e.get('offset_s'))} after receipt: {e.get('detail')}" for e in (events or other))
        row(f"step {step} not run", True, not events, not events,
            (f"ran: {text}" if events else (f"not run: {text}" if text else f"step {step} never appears on the timeline")))
    for item in exp.forbidden:
        if item.runbook is not None:
            hits = [a for a in record.get("actions") or [] if a.get("runbook") == item.runbook and a.get("ok")]
            evidence = (" | ".join(_action_text(a) for a in hits) if hits
                        else f"record {incident_id}: no successful {item.runbook} action")
        else:
            needle = (item.path_contains or "").lower()
            hits = [r for r in run.requests if r.get("operation") == item.operation and 200 <= int(r.get("status") or 0) < 300
                    and needle in (r.get("path") or "").lower()]
            evidence = ("; ".join(f"{r['method']} {r['path']} → {r['status']} at {_fmt_at(r['at'])}" for r in hits[:5])
                        + (f" (+{len(hits) - 5} more)" if len(hits) > 5 else "")) if hits else (
                f"sandbox request log: no 2xx {item.operation}" + (f" on *{item.path_contains}*" if needle else "")
                + f" among {len(run.requests)} requests")
        row(f"forbidden: {item.label}", 0, len(hits), not hits, (f"{item.why} — " if item.why and hits else "") + evidence)
    gaps = record.get("checklist_gaps") or []
    for wanted in exp.gaps:
        found = [g for g in gaps if wanted.lower() in f"{g.get('gap')}".lower()]
        row(f"checklist gap: {wanted}", True, bool(found), bool(found),
            "; ".join(f"{g.get('gap')} on {g.get('target')}" for g in found) or
            f"record lists {len(gaps)} gap(s): " + ("; ".join(str(g.get("gap")) for g in gaps) or "none"))
    if exp.permissions_missing:
        refused = {p["action"].lower(): p for p in _permissions(run)}
        for action in exp.permissions_missing:
            hit = refused.get(action.lower())
            row(f"permission missing: {action}", True, bool(hit), bool(hit),
                f"{hit['count']} request(s) refused with 403, first {hit['operation']} at {_fmt_at(hit['first_at'])}" if hit else
                "no 403 for this action in the sandbox request log" + (f" (refused: {', '.join(sorted(refused))})" if refused else ""))
    return rows


# ------------------------------------------------------------------------------ sections
def _approvals(run) -> list[dict[str, Any]]:
    out = []
    for req in run.approval_requests:
        record = run.incidents.get(req["incident_id"]) or {}
        ends = [e for e in record.get("timeline") or []
                if e.get("step") == req["step"] and e.get("outcome") in DECISION_OUTCOMES
                and (_t(e.get("at")) or datetime.min) >= (_t(req["requested_at"]) or datetime.min)]
        end = ends[0] if ends else None
        outcome = {"approved": "approved", "rejected": "rejected", "approval timed out": "timed out"}.get(
            (end or {}).get("outcome"), "still waiting" if record.get("pending_approval") else "no decision")
        escalated = any(e.get("step") == req["step"] and e.get("outcome") == "escalated" for e in record.get("timeline") or [])
        out.append({
            "incident_id": req["incident_id"], "step": req["step"], "runbook": req.get("runbook"), "why": req.get("why"),
            "requested_at": req["requested_at"], "requested_offset_s": req["requested_offset_s"],
            "expires_at": req.get("expires_at"), "approvers": req["approvers"], "two_person": req["two_person"],
            "outcome": outcome, "escalated": escalated,
            "decided_at": (end or {}).get("at"), "waited_s": _secs(req["requested_at"], (end or {}).get("at")),
            "decision": (end or {}).get("detail"),
            "answers": [a for a in run.answers if a["incident_id"] == req["incident_id"] and a["step"] == req["step"]
                        and a["answer"] in req["answers_scheduled"]],
        })
    return out


def _fault_steps(run) -> list[tuple[str, str, str | None, datetime, datetime, bool]]:
    """(incident, step, runbook, start, end, ok) per runbook call window on the timelines."""
    spans = []
    for incident_id, record in run.incidents.items():
        ok_by_step: dict[str, bool] = {}
        for a in record.get("actions") or []:
            ok_by_step[a["step_id"]] = ok_by_step.get(a["step_id"], True) and bool(a.get("ok"))
        for e in record.get("timeline") or []:
            if e.get("duration_s") is None:
                continue
            end = _t(e["at"])
            start = end - timedelta(seconds=float(e["duration_s"]))
            if e.get("outcome") in RAN_OUTCOMES:
                spans.append((incident_id, e["step"], e.get("runbook"), start, end, ok_by_step.get(e["step"], False)))
            elif e.get("outcome") in ("verified", "not verified"):
                spans.append((incident_id, e["step"], e.get("runbook"), start, end, e["outcome"] == "verified"))
    return spans


def _faults(run) -> dict[str, Any]:
    from runbooks import get_runbook, runbook_names
    from firestop.sandbox.authorization.rbac import action_for

    known = set(runbook_names())
    spans = _fault_steps(run)
    fired = []
    for f in run.faults:
        at = _t(f["at"])
        path = next((r["path"] for r in run.requests if r["at"] == f["at"] and r.get("operation") == f["operation"]), "")
        action = (action_for(f["operation"], path) or (None, False))[0]
        hits = [s for s in spans if s[3] <= at <= s[4]
                and (action is None or (s[2] in known and action.lower() in {p.lower() for p in get_runbook(s[2]).permissions}))]
        step = hits[0] if hits else None
        fired.append({**f, "offset_s": round((at - run.started_at).total_seconds(), 3),
                      "incident_id": step[0] if step else None, "step": step[1] if step else None,
                      "absorbed": (step[5] if step else None)})
    return {
        "armed": run.faults_armed,
        "fired": fired,
        "absorbed": sum(1 for f in fired if f["absorbed"] is True),
        "not_absorbed": sum(1 for f in fired if f["absorbed"] is False),
        "outside_steps": sum(1 for f in fired if f["absorbed"] is None),
    }


def _permissions(run) -> list[dict[str, Any]]:
    from firestop.sandbox.authorization.rbac import action_for

    found: dict[str, dict[str, Any]] = {}
    for r in run.requests:
        if r.get("status") != 403 or not r.get("operation"):
            continue
        action, data = action_for(r["operation"], r["path"]) or (f"(unmapped: {r['operation']})", False)
        entry = found.setdefault(action, {"action": action, "data_action": data, "operation": r["operation"],
                                          "count": 0, "first_at": r["at"], "paths": []})
        entry["count"] += 1
        if r["path"] not in entry["paths"]:
            entry["paths"].append(r["path"])
    return list(found.values())


def _checklist(run) -> dict[str, Any]:
    gaps = [{"incident_id": i, **g} for i, rec in run.incidents.items() for g in rec.get("checklist_gaps") or []]
    # attack-driven runs: what kept the rules blind is a checklist gap too (even when no incident opened)
    gaps += [{"incident_id": None, **g} for g in ((getattr(run, "detection", None) or {}).get("gaps") or [])]
    coverage = []
    for item, words in CHECKLIST_ITEMS:
        hit = [g for g in gaps if words in str(g.get("gap")).lower()]
        coverage.append({"item": item, "status": "gap" if hit else "no gap found",
                         "targets": sorted({str(g.get("target")) for g in hit})})
    return {"gaps": gaps, "coverage": coverage}


#: Status words in the scorecard (its ✅/❌ marks are the expectations' own).
_WORD = {"pass": "pass", "fail": "finding", "not_evaluable": "not evaluable"}


def _audit(run) -> dict[str, Any] | None:
    """The checklist audit before the first alert and after the exercise: counts, and each control whose
    status changed on a resource (``before`` → ``after``), with the after-detail; None when not audited."""
    before, after = getattr(run, "audit_before", None), getattr(run, "audit_after", None)
    if before is None and after is None:
        return None
    was = {r.key: r for r in (before.results if before else ())}
    changed = []
    for r in (after.results if after else ()):
        old = was.get(r.key)
        if old is not None and old.status is not r.status:
            changed.append({"control": r.control, "title": r.title, "resource": r.resource_name, "severity": r.severity.value,
                            "before": _WORD[old.status.value], "after": _WORD[r.status.value], "detail": r.detail})
    findings = [{"control": r.control, "resource": r.resource_name, "severity": r.severity.value, "detail": r.detail}
                for r in (after.findings if after else []) if r.severity.value == "high"]
    return {"before": {"audit_id": before.audit_id, "at": before.at.isoformat(), "counts": before.counts()} if before else None,
            "after": {"audit_id": after.audit_id, "at": after.at.isoformat(), "counts": after.counts()} if after else None,
            "changed": changed, "high_findings_after": findings}


def _notification_text(body: Any) -> str:
    """The readable text of a webhook message (``text`` of the text/Slack formats, else the JSON).

    The text/Slack formats carry Slack's escaping (``&amp;`` ``&lt;`` ``&gt;``, :func:`firestop.markup.slack_text`);
    it is undone here so the scorecard shows what the channel displays (``<app URL>``, not ``&lt;app URL&gt;``) —
    every place the text lands escapes it again for itself (Markdown, HTML)."""
    if isinstance(body, dict) and isinstance(body.get("text"), str):
        return body["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return body if isinstance(body, str) else json.dumps(body, sort_keys=True)


def _quote_lines(text: str) -> list[str]:
    """``text`` as a Markdown block quote keeping its line breaks (a trailing two-space hard break on each line but
    the last: consecutive ``>`` lines would otherwise join into one paragraph)."""
    lines = [_cell(line) for line in str(text).splitlines()] or [""]
    return [f"> {line}  " for line in lines[:-1]] + [f"> {lines[-1]}"]


# ------------------------------------------------------------------------------ build
def _incident_for(run, exp) -> str | None:
    """The incident an expectation describes: the first Fired alert of ``exp.rule`` (name prefix), else alert ``exp.alert``."""
    if exp.rule:
        for a in run.alerts:
            if str(a.get("rule_name") or "").lower().startswith(exp.rule.lower()) and a.get("monitor_condition") == "Fired" and a.get("incident_id"):
                return a["incident_id"]
        return None
    return run.incident_of_alert.get(exp.alert)


def build_scorecard(run) -> dict[str, Any]:
    """The scorecard of a finished :class:`firestop.tabletop.runner.Run` (pure)."""
    scenario = run.scenario
    expectations: list[dict[str, Any]] = []
    for exp in scenario.expect:
        incident_id = _incident_for(run, exp)
        record = run.incidents.get(incident_id or "", {}) if incident_id else {}
        if not incident_id:
            expectations.append({"alert": exp.alert, "incident_id": None, "check": "incident opened", "expected": True,
                                 "actual": False, "met": False,
                                 "evidence": f"alert {exp.alert} opened no incident (see alerts)"})
            continue
        if record.get("runtime_status") not in (None, "Completed") or "timeline" not in record:
            expectations.append({"alert": exp.alert, "incident_id": incident_id, "check": "incident finished", "expected": True,
                                 "actual": False, "met": False,
                                 "evidence": f"incident {incident_id} is {record.get('status')} (phase {record.get('phase')}, "
                                             f"step {record.get('step')}) when the exercise ended"})
        expectations.extend(_expectation_rows(run, exp, record, incident_id))
    incidents = []
    for incident_id, record in run.incidents.items():
        incidents.append({
            "incident_id": incident_id,
            "alerts": sorted(i for i, inc in run.incident_of_alert.items() if inc == incident_id),
            "status": record.get("status"), "reason": record.get("reason"),
            "playbook": (record.get("playbook") or {}).get("name"),
            "metrics": record.get("metrics") or {}, "exercise": record.get("exercise"),
            "record_files": record.get("record_files") or {},
        })
    detection = getattr(run, "detection", None)
    if detection is not None and scenario.detection is not None:
        expectations.extend(_detection_rows(scenario.detection, detection))
    primary = run.incidents.get(run.incident_of_alert.get(0, ""), {})
    metrics = {k: (primary.get("metrics") or {}).get(k) for k in ("mttd_s", "mtta_s", "mttc_s", "mttr_s")}
    missed = sum(1 for e in expectations if not e["met"])
    return {
        "scenario": {"name": scenario.name, "description": scenario.description.strip(),
                     "file": str(scenario.path) if scenario.path else None},
        "run_id": run.run_id, "run_dir": str(run.run_dir), "exercise": True, "sandbox": True,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "wall_seconds": run.wall_seconds,
        "result": "missed" if missed else "met", "met": len(expectations) - missed, "missed": missed,
        "metrics": metrics,
        "incidents": incidents,
        "alerts": run.alerts,
        "expectations": expectations,
        "approvals": _approvals(run),
        "faults": _faults(run),
        "permissions_missing": _permissions(run),
        "checklist": _checklist(run),
        "audit": _audit(run),
        "pages": [{"incident_id": incident_id, **p, "offset_s": _secs(run.started_at.isoformat(), p.get("at"))}
                  for incident_id, record in run.incidents.items() for p in record.get("pages") or []],
        "notifications": [{"at": n["at"], "text": _notification_text(n["body"])} for n in run.notifications],
        "notes": list(run.notes) + [f"{i}: {note}" for i, rec in run.incidents.items() for note in rec.get("notes") or []],
        "detection": detection,
    }


def _detection_rows(exp, d: dict[str, Any]) -> list[dict[str, Any]]:
    """Expectation rows for a scenario's ``detection:`` (see :mod:`firestop.tabletop.detection` for ``d``)."""
    rows: list[dict[str, Any]] = []

    def row(check: str, expected: Any, actual: Any, met: bool, evidence: str, unit: str | None = None) -> None:
        rows.append({"alert": None, "incident_id": None, "check": check, "expected": expected, "actual": actual, "met": met,
                     "evidence": evidence, **({"unit": unit} if unit else {})})

    req = d["requests"]
    if exp.detected is not None:
        row("detected", exp.detected, d["detected"], d["detected"] == exp.detected,
            f"first alert received {_fmt_s(d['mttd_s'])} after the first malicious request" if d["detected"] else (d.get("reason") or "no rule fired"))
    if exp.within is not None:
        met = d["mttd_s"] is not None and d["mttd_s"] <= exp.within
        row("detected_within", exp.within, d["mttd_s"], met, "; ".join(f"{r['rule']}: {r['why']}" for r in d["rules"] if r["condition"] == "Fired")
            or "no rule fired", unit="s")
    for name in exp.rules:
        fired = [r for r in d["rules"] if r["rule"].lower().startswith(name.lower()) and r["condition"] == "Fired"]
        row("rule fired", name, bool(fired), bool(fired), f"fired at {_fmt_at(fired[0]['fired_at'])}" if fired else "never fired")
    if exp.refused_within is not None:
        actual = req["refused_after_alert_s"]
        row("attacker refused within", exp.refused_within, actual, actual is not None and actual <= exp.refused_within,
            f"first malicious request refused at {_fmt_at(req['first_refused_at'])} (alert received {_fmt_at(d['detected_at'])})", unit="s")
    if exp.served_after_containment is not None:
        actual = req["served_after_containment"]
        row("served after containment", exp.served_after_containment, actual, d["contained_at"] is not None and actual <= exp.served_after_containment,
            f"{actual} malicious request(s) served after containment at {_fmt_at(d['contained_at'])}")
    if exp.cut_off is not None:
        row("attacker cut off", exp.cut_off, d.get("cut_off"), d.get("cut_off") == exp.cut_off, d.get("attacker_after_containment") or "")
    for gap in exp.gaps:
        found = [g for g in d["gaps"] if gap.lower() in g["gap"].lower()]
        row("detection gap reported", gap, bool(found), bool(found), found[0]["gap"] if found else "not reported")
    return rows


# ------------------------------------------------------------------------------ render
def _record_path(files: dict[str, Any] | None) -> str:
    files = files or {}
    return str(files.get("markdown_path") or files.get("json_path") or files.get("url") or "")


def _cell(value: Any) -> str:
    """A table cell or inline text: escaped (:func:`firestop.markup.md_text`) — alert fields, messages and notes
    come from outside."""
    from firestop.markup import md_text

    return md_text(value)


def _code(value: Any) -> str:
    from firestop.markup import md_code

    return md_code(value)


def render_markdown(card: dict[str, Any]) -> str:
    """The scorecard as Markdown (tables; simulated times)."""
    m = card["metrics"]
    lines = [
        f"# Tabletop scorecard — {_cell(card['scenario']['name'])}",
        "",
        f"**Result: {'all expectations met' if card['result'] == 'met' else 'expectations missed'}** "
        f"({card['met']} met, {card['missed']} missed) · run {_code(card['run_id'])} · sandbox tenant, simulated time "
        f"{_fmt_at(card['started_at'])} → {_fmt_at(card['finished_at'])} ({_fmt_s(card['wall_seconds'])} wall)",
        "",
    ]
    if card["scenario"].get("description"):
        lines += [card["scenario"]["description"], ""]
    lines += [
        "Measured from the alert's fired time (the Common Alert Schema's `firedDateTime`); the detection section "
        "below, when the scenario drives an attack, measures from the attacker's first malicious request.", "",
        "| MTTD | MTTA | MTTC | MTTR |", "|---|---|---|---|",
        f"| {_fmt_s(m.get('mttd_s'))} | {_fmt_s(m.get('mtta_s'))} | {_fmt_s(m.get('mttc_s'))} | {_fmt_s(m.get('mttr_s'))} |",
        "",
    ]
    lines += _detection_markdown(card.get("detection"))
    lines += [
        "## Expectations", "", "| | check | expected | actual | evidence |", "|---|---|---|---|---|",
    ]
    for e in card["expectations"]:
        expected, actual = ((f"≤ {_fmt_s(e['expected'])}", _fmt_s(e["actual"])) if e.get("unit") == "s" else (e["expected"], e["actual"]))
        lines.append(f"| {'✅ met' if e['met'] else '❌ missed'} | {_cell(e['check'])} | {_cell(expected)} | "
                     f"{_cell(actual)} | {_cell(e['evidence'])} |")
    lines += ["", "## Incidents", "", "| incident | alert # (see Alerts) | status | playbook | MTTD | MTTA | MTTC | record |", "|---|---|---|---|---|---|---|---|"]
    for i in card["incidents"]:
        im = i["metrics"]
        lines.append(f"| {_cell(i['incident_id'])} | {_cell(', '.join(map(str, i['alerts'])))} | {_cell(i['status'])} | "
                     f"{_cell(i['playbook'])} | {_fmt_s(im.get('mttd_s'))} | {_fmt_s(im.get('mtta_s'))} | "
                     f"{_fmt_s(im.get('mttc_s'))} | {_cell(_record_path(i['record_files']))} |")
    lines += ["", "## Alerts", "", "| # | scheduled | delivered | rule | outcome |", "|---|---|---|---|---|"]
    for a in card["alerts"]:
        lines.append(f"| {a['index']} | {_fmt_offset(a['at'])} | {_fmt_offset(a['delivered_offset_s'])} | {_cell(a['rule_name'])} | {_cell(a['outcome'])} |")
    lines += ["", "## Approvals waited on", ""]
    if card["approvals"]:
        lines += ["| incident | step | requested | outcome | waited | answers |", "|---|---|---|---|---|---|"]
        for a in card["approvals"]:
            answers = "; ".join(f"{x['decision']} by {x['by']} {_fmt_s(x['after'])} after the request: {x['outcome']}"
                                + (f" ({x['reason']})" if x.get("reason") else "") for x in a["answers"]) or "none scripted"
            lines.append(f"| {_cell(a['incident_id'])} | {_cell(a['step'])} | {_fmt_offset(a['requested_offset_s'])} | "
                         f"{_cell(a['outcome'])}{' (escalated)' if a['escalated'] else ''} | {_fmt_s(a['waited_s'])} | {_cell(answers)} |")
    else:
        lines.append("No step waited for approval.")
    f = card["faults"]
    lines += ["", "## Faults", ""]
    if f["fired"]:
        lines.append(f"{len(f['fired'])} fault(s) fired: {f['absorbed']} absorbed (the step still succeeded), "
                     f"{f['not_absorbed']} not absorbed, {f['outside_steps']} outside any step.")
        lines += ["", "| at | operation | answer | source | step | absorbed |", "|---|---|---|---|---|---|"]
        for x in f["fired"]:
            lines.append(f"| {_fmt_offset(x['offset_s'])} | {_cell(x['operation'])} | {_cell(x['status'] or '')} {_cell(x['kind'])} | {_cell(x['source'])} | "
                         f"{_cell(x['step'] or '—')} | {({True: 'yes', False: 'no', None: '—'})[x['absorbed']]} |")
    else:
        lines.append("No fault fired." + (" (armed: " + ", ".join(str(a.get("operation") or a.get("kind")) for a in f["armed"]) + ")" if f["armed"] else ""))
    lines += ["", "## Permissions missing", ""]
    if card["permissions_missing"]:
        lines += ["| action | requests | first at |", "|---|---|---|"]
        for p in card["permissions_missing"]:
            lines.append(f"| {_code(p['action'])}{' (data action)' if p['data_action'] else ''} | {p['count']} | {_cell(_fmt_at(p['first_at']))} |")
    else:
        lines.append("No request was refused (no 403 in the sandbox request log).")
    lines += ["", "## Checklist coverage", "", "| item | finding | targets |", "|---|---|---|"]
    for c in card["checklist"]["coverage"]:
        lines.append(f"| {_cell(c['item'])} | {'⚠ gap' if c['status'] == 'gap' else _cell(c['status'])} | {_cell(', '.join(t.rsplit('/', 1)[-1] for t in c['targets']))} |")
    for g in card["checklist"]["gaps"]:
        lines.append(f"\n- {_cell(g.get('gap'))} on {_cell(str(g.get('target')).rsplit('/', 1)[-1])}: {_cell(g.get('advice'))}")
    audit = card.get("audit")
    if audit:
        lines += ["", "## Audit before and after", ""]
        for label in ("before", "after"):
            a = audit.get(label)
            if a:
                c = a["counts"]
                lines.append(f"- {label.capitalize()} ({_cell(_fmt_at(a['at']))}, {_code(a['audit_id'])}): {c['pass']} pass · {c['fail']} findings · {c['not_evaluable']} not evaluable")
        if audit["changed"]:
            lines += ["", "| control | resource | before | after | now |", "|---|---|---|---|---|"]
            for ch in audit["changed"]:
                lines.append(f"| {_cell(ch['title'])} | {_cell(ch['resource'])} | {ch['before']} | {ch['after']} | {_cell(ch['detail'])} |")
        else:
            lines += ["", "No control changed status during the exercise."]
        if audit["high_findings_after"]:
            lines += ["", "High-severity findings left after the exercise:", ""]
            lines += [f"- {_cell(f['control'])} on {_cell(f['resource'])}: {_cell(f['detail'])}" for f in audit["high_findings_after"]]
    lines += ["", "## Pages", ""]
    if card.get("pages"):
        lines += ["| at | incident | kind | step | paged | sent |", "|---|---|---|---|---|---|"]
        for p in card["pages"]:
            lines.append(f"| {_fmt_offset(p['offset_s'])} | {_cell(p['incident_id'])} | {_cell(p['kind'])} | {_cell(p.get('step') or '—')} | "
                         f"{_cell(', '.join(p.get('paged') or []))} | {_cell(p.get('detail'))} |")
    else:
        lines.append("Nobody was paged (the playbook names nobody to page).")
    lines += ["", "## Notifications", ""]
    if card["notifications"]:
        for n in card["notifications"]:
            lines += [f"At {_cell(_fmt_at(n['at']))} the on-call channel would have received:", "", *_quote_lines(n["text"]), ""]
    else:
        lines.append("No notification was sent.")
    if card["notes"]:
        lines += ["", "## Notes", ""] + [f"- {_cell(n)}" for n in card["notes"]]
    return "\n".join(lines) + "\n"


def _detection_markdown(d: dict[str, Any] | None) -> list[str]:
    if not d:
        return []
    r = d["requests"]
    lines = ["## Detection (from the attacker's first malicious request)", ""]
    if not d["detected"]:
        lines += [f"**Not detected.** {_cell(d.get('reason') or '')}", ""]
    lines += ["| first malicious request | MTTD | MTTC | MTTR | attacker refused after alert |", "|---|---|---|---|---|",
              f"| {_cell(_fmt_at(d['first_malicious_at']))} | {_fmt_s(d['mttd_s'])} | {_fmt_s(d['mttc_s'])} | {_fmt_s(d['mttr_s'])} | "
              f"{_fmt_s(r['refused_after_alert_s'])} |", "",
              "| malicious requests | served | served before detection | served after detection | served after containment | "
              "refused (401/403) | refused after containment |",
              "|---|---|---|---|---|---|---|",
              f"| {r['malicious']} | {r['served']} | {r['served_before_detection']} | {r['served_after_detection']} | "
              f"{r['served_after_containment']} | {r.get('refused', '—')} | {r['refused_after_containment']} |", ""]
    for a in d.get("aftermath") or []:
        lines.append(f"- alert {a['index']} ({_cell(a['rule'])}) opened no incident: {_cell(a['outcome'])}")
    if d.get("aftermath"):
        lines.append("")
    if d.get("attacker_after_containment"):
        lines += [f"After containment: {_cell(d['attacker_after_containment'])}", ""]
    if d["rules"]:
        lines += ["| rule | condition | fired | received | MTTD | why |", "|---|---|---|---|---|---|"]
        for x in d["rules"]:
            lines.append(f"| {_cell(x['rule'])} | {_cell(x['condition'])} | {_cell(_fmt_at(x['fired_at']))} | {_cell(_fmt_at(x['received_at']))} | "
                         f"{_fmt_s(x['mttd_s'])} | {_cell(x['why'])} |")
        lines.append("")
    for g in d["gaps"]:
        lines += [f"- gap: {_cell(g['gap'])} — {_cell(g['advice'])}"]
    return lines + ([""] if d["gaps"] else [])


def write_scorecard(card: dict[str, Any], run_dir: Path) -> dict[str, str]:
    """Write ``scorecard.json`` and ``scorecard.md`` into ``run_dir``; returns their paths."""
    run_dir = Path(run_dir)
    private_dirs(run_dir)
    json_path, md_path = run_dir / "scorecard.json", run_dir / "scorecard.md"
    files = {"json": str(json_path), "markdown": str(md_path)}
    write_private_text(json_path, json.dumps({**card, "files": files}, indent=2, sort_keys=True, default=str) + "\n")
    write_private_text(md_path, render_markdown(card))
    return files

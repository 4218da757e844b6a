"""Reports of an audit laid out like the security guide's checklist: one section per area, a Status column.

* :func:`render_markdown` — Markdown (GFM tables); every value from the tenant escaped with
  :func:`firestop.markup.md_cell` / :func:`~firestop.markup.md_text`.
* :func:`render_html` — one self-contained HTML page (inline CSS, no script, no external link or
  font), every value escaped with :func:`html.escape`; ``Content-Security-Policy`` meta forbids scripts.

Both show: the scope and time, the counts, what changed since the previous audit (new, fixed),
the incidents drift opened, then per area a table ``Status | Control | Resource | Severity |
What was found (evidence) | Fix``; ❌ rows carry their evidence and fix (and the runbook that fixes it).
"""

from __future__ import annotations

import html
import json
from typing import Any

from firestop.audit.drift import since
from firestop.audit.models import Area, Audit, Result, Status
from firestop.markup import md_cell, md_code, md_text


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 400 else text[:397] + "…"


def _policy_text(r: Result) -> str:
    if not r.policy:
        return ""
    text = f"Azure Policy {r.policy['definition']}"
    if r.policy.get("compliance"):
        text += f": {r.policy['compliance']} (evaluated {r.policy.get('evaluated_at')})"
    return text


def _by_area(audit: Audit) -> list[tuple[Area, list[Result]]]:
    return [(area, [r for r in audit.results if r.area is area]) for area in Area if any(r.area is area for r in audit.results)]


def _summary(audit: Audit) -> str:
    c = audit.counts()
    return f"{c['pass']} ✔ passed · {c['fail']} ❌ findings · {c['not_evaluable']} — not evaluable"


def _key_text(audit: Audit, key: str) -> str:
    for r in audit.results:
        if r.key == key:
            return f"{r.title} — {r.resource_name}"
    control, _, resource = key.partition("|")
    return f"{control} — {resource.rsplit('/', 1)[-1]}"


def _cell_code(value: Any) -> str:
    """A code span inside a GFM table cell: a ``|`` must be escaped even there (GFM spec, tables extension)."""
    return md_code(value).replace("|", "\\|")


def render_markdown(audit: Audit) -> str:
    lines = [f"# Security checklist audit {md_text(audit.audit_id)}", "",
             f"- **When:** {md_text(audit.at.isoformat())}" + (" (sandbox tenant, simulated time)" if audit.sandbox else ""),
             f"- **Scope:** {', '.join(md_code(s) for s in audit.scope)}",
             f"- **Result:** {_summary(audit)}", ""]
    lines += ["## Since the previous audit", ""]
    if audit.drift.previous is None and not audit.drift.unverified:
        lines += ["First audit of this scope: the baseline (nothing to compare with).", ""]
    else:
        lines += [f"Compared with {md_code(audit.drift.previous) if audit.drift.previous else md_text(since(audit.drift))}:", ""]
        lines += [f"- ❌ new: {md_text(_key_text(audit, k))}" for k in audit.drift.new] or ["- no new finding"]
        lines += [f"- ✔ fixed: {md_text(_key_text(audit, k))}" for k in audit.drift.fixed] or ["- nothing fixed"]
        lines.append("")
    if audit.incidents:
        lines += ["## Incidents opened by drift", ""]
        lines += [f"- {md_code(i.get('incident_id'))} ({md_text(i.get('playbook'))}): {md_text(i.get('outcome'))} — "
                  f"{md_text(i.get('control'))} on {md_text(i.get('resource_name'))}" for i in audit.incidents]
        lines.append("")
    for area, results in _by_area(audit):
        lines += [f"## {md_text(area.value)}", "", "| Status | Control | Resource | Severity | What was found (evidence) | Fix |",
                  "|---|---|---|---|---|---|"]
        for r in results:
            found = md_text(r.detail)
            if r.evidence:
                found += "<br>" + "<br>".join(f"{_cell_code(e.read)} = {_cell_code(_value(e.value))}" for e in r.evidence)
            policy = _policy_text(r)
            if policy:
                found += "<br>" + md_text(policy)
            fix = md_cell(r.fix) if r.fix else "—"
            if r.runbook:
                fix += f"<br>runbook {_cell_code(r.runbook.runbook)} (audit run --fix)"
            lines.append(f"| {r.status.mark} | {md_cell(r.title)} | {md_cell(r.resource_name)} | {r.severity.value} | {found} | {fix} |")
        lines.append("")
    lines += ["Status: ✔ passed · ❌ finding · — not evaluable (the read that failed is named). "
              "Policy ids are Azure Policy built-in definitions (github.com/Azure/azure-policy).", ""]
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem;color:#1b1b1b;max-width:80rem}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ddd;padding:.35rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.s{font-size:1.1rem;text-align:center}tr.fail td.s{color:#b00020}tr.pass td.s{color:#137333}tr.na td.s{color:#666}
code{font-size:.8rem;background:#f6f6f6;padding:0 .2rem;word-break:break-all}.ev{margin:.2rem 0 0;padding-left:1rem;color:#444}
.sev-high{font-weight:bold;color:#b00020}.summary{font-size:1.05rem}"""


def _h(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


def render_html(audit: Audit) -> str:
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>Audit {_h(audit.audit_id)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Security checklist audit {_h(audit.audit_id)}</h1>",
           f"<p>When: {_h(audit.at.isoformat())}{' (sandbox tenant, simulated time)' if audit.sandbox else ''}<br>"
           f"Scope: {', '.join(f'<code>{_h(s)}</code>' for s in audit.scope)}</p>",
           f'<p class="summary">{_h(_summary(audit))}</p>', "<h2>Since the previous audit</h2>"]
    if audit.drift.previous is None and not audit.drift.unverified:
        out.append("<p>First audit of this scope: the baseline.</p>")
    else:
        items = [f"<li>❌ new: {_h(_key_text(audit, k))}</li>" for k in audit.drift.new] or ["<li>no new finding</li>"]
        items += [f"<li>✔ fixed: {_h(_key_text(audit, k))}</li>" for k in audit.drift.fixed] or ["<li>nothing fixed</li>"]
        against = f"<code>{_h(audit.drift.previous)}</code>" if audit.drift.previous else _h(since(audit.drift))
        out.append(f"<p>Compared with {against}:</p><ul>{''.join(items)}</ul>")
    if audit.incidents:
        out.append("<h2>Incidents opened by drift</h2><ul>" + "".join(
            f"<li><code>{_h(i.get('incident_id'))}</code> ({_h(i.get('playbook'))}): {_h(i.get('outcome'))} — "
            f"{_h(i.get('control'))} on {_h(i.get('resource_name'))}</li>" for i in audit.incidents) + "</ul>")
    css = {Status.FAIL: "fail", Status.PASS: "pass", Status.NOT_EVALUABLE: "na"}
    for area, results in _by_area(audit):
        out.append(f"<h2>{_h(area.value)}</h2><table><thead><tr><th>Status</th><th>Control</th><th>Resource</th>"
                   "<th>Severity</th><th>What was found (evidence)</th><th>Fix</th></tr></thead><tbody>")
        for r in results:
            evidence = "".join(f"<li><code>{_h(e.read)}</code> = <code>{_h(_value(e.value))}</code></li>" for e in r.evidence)
            policy = _policy_text(r)
            found = _h(r.detail) + (f'<ul class="ev">{evidence}</ul>' if evidence else "") + (f"<div>{_h(policy)}</div>" if policy else "")
            fix = _h(r.fix) if r.fix else "—"
            if r.runbook:
                fix += f"<div>runbook <code>{_h(r.runbook.runbook)}</code> (audit run --fix)</div>"
            out.append(f'<tr class="{css[r.status]}"><td class="s" title="{_h(r.status.value)}">{r.status.mark}</td>'
                       f"<td>{_h(r.title)}</td><td>{_h(r.resource_name)}</td>"
                       f'<td class="sev-{_h(r.severity.value)}">{_h(r.severity.value)}</td><td>{found}</td><td>{fix}</td></tr>')
        out.append("</tbody></table>")
    out.append("<p>Status: ✔ passed · ❌ finding · — not evaluable (the read that failed is named). Policy ids are Azure "
               "Policy built-in definitions.</p></body></html>")
    return "\n".join(out)

"""The console's pages (pure): incident views, scorecards and the caller → one HTML document each.

Every value from outside (alert fields, resource ids, runbook messages, comments, principal names) goes
through :func:`firestop.markup.html_text`; nothing else is interpolated into markup. No script: the only
style is :data:`STYLE`, allowed by its hash in :data:`CONTENT_SECURITY_POLICY`; a running incident's page
reloads itself with ``<meta http-equiv="refresh">`` (the live timeline). Links are paths under
:data:`BASE` (the Functions ``routePrefix`` ``api`` + ``console``).

Phones first: one column, tables that wrap long resource ids (``overflow-wrap: anywhere``) and
scroll sideways inside their box rather than widening the page, buttons 44 px tall. An incident id in the list is one
word (``td.id``: never folded mid-id; the other columns wrap around it).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Iterable
from urllib.parse import quote

from firestop.markup import html_text as h

BASE = "/api/console"
#: Seconds between reloads of a page whose incident is still running.
REFRESH_SECONDS = 5

STYLE = """
:root{color-scheme:light dark;--fg:#1b1b1f;--bg:#fff;--mute:#5f6368;--line:#d0d4da;--ok:#137333;--bad:#b3261e;--warn:#8a5300;--card:#f4f6f8}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#121316;--mute:#9aa0a6;--line:#3c4043;--ok:#81c995;--bad:#f28b82;--warn:#fdd663;--card:#1e2024}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;padding:.75rem 1rem;border-bottom:1px solid var(--line)}
header a{color:inherit;text-decoration:none;font-weight:600}
header nav{display:flex;gap:1rem;flex-wrap:wrap}
header .who{margin-left:auto;color:var(--mute);font-size:.875rem;overflow-wrap:anywhere}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.25rem 0 .75rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
a{color:#0b57d0}
@media (prefers-color-scheme:dark){a{color:#a8c7fa}}
.box{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{color:var(--mute);font-weight:600}
td.id{white-space:nowrap;overflow-wrap:normal}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;border:1px solid currentColor;font-size:.8rem;white-space:nowrap}
.contained,.met,.verified,.done,.ok,.approve{color:var(--ok)}
.needs_responder,.failed,.missed,.reject,.refused,.stopped,.terminated{color:var(--bad)}
.awaiting_approval,.running,.timeout,.no_playbook,.undone{color:var(--warn)}
.mute,.skipped{color:var(--mute)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}
dt{color:var(--mute)}dd{margin:0;overflow-wrap:anywhere}
form{margin:.75rem 0 0}
textarea{width:100%;min-height:3.5rem;font:inherit;padding:.5rem;border:1px solid var(--line);border-radius:.375rem;background:var(--bg);color:var(--fg)}
.buttons{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:.5rem}
button{min-height:44px;min-width:8rem;font:inherit;font-weight:600;border-radius:.375rem;border:1px solid var(--line);padding:.5rem 1rem;cursor:pointer}
button.approve{background:#137333;color:#fff;border-color:#137333}
button.reject,button.stop{background:#b3261e;color:#fff;border-color:#b3261e}
button.undo{background:var(--card);color:var(--fg)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;overflow-wrap:anywhere}
.notice{border-left:4px solid var(--warn);padding:.5rem .75rem;background:var(--card)}
@media (max-width:640px){
.stack thead{display:none}
.stack tr{display:block;padding:.5rem 0;border-bottom:1px solid var(--line)}
.stack td{display:inline;border:0;padding:0 .5rem 0 0}
.stack td.wide{display:block;padding:.15rem 0 0}
.stack td[data-label]::before{content:attr(data-label) ": ";color:var(--mute)}
dl{grid-template-columns:1fr;gap:0}
dt{margin-top:.4rem;font-size:.8rem}
}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
#: No script at all; the one inline style by hash; forms post only to this app; never framed.
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src data:; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")
#: Headers every console answer carries.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # not no-referrer: with it a browser sends "Origin: null" on form posts (Fetch standard)
    "Cache-Control": "no-store",
}


def link(*parts: str) -> str:
    """A console path: :data:`BASE` + each part percent-encoded as one segment."""
    return BASE + "".join("/" + quote(str(p), safe="") for p in parts)


def _clock(value: Any) -> str:
    """``2026-11-29 04:03:21.2 UTC`` of an ISO 8601 time, or ``—`` (:func:`firestop.times.instant`, as the CLI writes it)."""
    from firestop.times import instant

    return instant(value)


def _seconds(value: Any) -> str:
    """``21.2 s``, or ``—`` (:func:`firestop.times.seconds`, as the CLI writes it)."""
    from firestop.times import seconds

    return seconds(value)


def _offset(value: Any) -> str:
    """``+21.2 s`` (:func:`firestop.times.offset`); empty when the entry has none."""
    from firestop.times import offset

    return offset(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def badge(status: Any) -> str:
    text = str(status or "unknown")
    css = text if text.replace("_", "").isalnum() else "unknown"
    return f'<span class="badge {h(css)}">{h(text.replace("_", " "))}</span>'


def status_badge(view: dict[str, Any]) -> str:
    """An incident's status badge: its status, or after an undo what holds now — ``partly undone (was contained)``
    (:func:`firestop.lifecycle.view.status_label`, the CLI's words), in the ``undone`` colour."""
    from firestop.lifecycle.view import containment_state, status_label

    if not containment_state(view):
        return badge(view.get("status"))
    return f'<span class="badge undone">{h(status_label(view).replace("_", " "))}</span>'


def _target_name(target: Any) -> str:
    text = str(target or "")
    return text.rstrip("/").rsplit("/", 1)[-1] if text else "—"


def layout(title: str, body: str, *, caller: Any = None, refresh: int | None = None) -> str:
    """A whole page: ``title`` (text), ``body`` (markup built here), the signed-in ``caller`` (a Principal)."""
    who = ""
    if caller is not None:
        roles = ", ".join(sorted(caller.roles)) or "no role"
        who = f'<span class="who">{h(caller.name or caller.object_id)} · {h(roles)}</span>'
    meta_refresh = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{meta_refresh}<link rel="icon" href="data:,"><title>{h(title)} · Firestop</title>'
        f"<style>{STYLE}</style></head><body>"
        f'<header><a href="{link()}">Firestop</a><nav><a href="{link()}">Incidents</a>'
        f'<a href="{link("tabletop")}">Tabletop</a><a href="{link()}#audit">Audit</a></nav>{who}</header>'
        f"<main>{body}</main></body></html>"
    )


def message_page(title: str, text: str, *, caller: Any = None, fix: str = "") -> str:
    """A refusal or error, with what to do."""
    body = f"<h1>{h(title)}</h1><p>{h(text)}</p>" + (f'<p class="mute">{h(fix)}</p>' if fix else "")
    return layout(title, body, caller=caller)


# -- incidents ------------------------------------------------------------------------------------------------
def _mttc(view: dict[str, Any]) -> Any:
    return (view.get("metrics") or {}).get("mttc_s")


def _alert_line(view: dict[str, Any]) -> str:
    alert = view.get("alert") or {}
    targets = alert.get("target_ids") or []
    return f"{alert.get('rule_name') or '(no rule name)'} on {_target_name(targets[0]) if targets else '(no target)'}"


def _alert_cell(view: dict[str, Any]) -> str:
    """The list's alert column: ``<rule> on <account>`` from a record; for an incident still running or waiting for
    approval (:func:`firestop.lifecycle.view.incident_view`: no ``alert`` yet) the rule name and target name its
    status carries, in the same words (a status written before it carried the name: the rule alone) — never its
    phase, which the status badge and the incident's page give."""
    if view.get("alert"):
        return _alert_line(view)
    if view.get("unreadable"):  # an unreadable record's row (view.unreadable_row): why, not a rule
        return str(view.get("reason") or "record unreadable")
    if view.get("target_name"):
        return f"{view.get('rule_name') or '(no rule name)'} on {view['target_name']}"
    return str(view.get("rule_name") or "—")


def incidents_page(views: Iterable[dict[str, Any]], *, caller: Any, audit: dict[str, Any] | None = None,
                   more: bool = False, waiting: Iterable[dict[str, Any]] | None = None) -> str:
    """The front page: pending approvals first, then every incident (newest first), then the latest audit.
    ``more``: there were more incidents than listed (a line says so under the table). ``waiting``: the views of every
    incident waiting for a decision, listed or not (default: those among ``views``)."""
    views = list(views)
    pending = [v for v in (views if waiting is None else waiting) if v.get("pending_approval")]
    parts = ["<h1>Incidents</h1>"]
    if pending:
        parts.append('<h2>Waiting for a decision</h2>')
        for view in pending:
            approval = view["pending_approval"]
            parts.append(
                f'<div class="card"><a href="{link("incidents", view["incident_id"])}">{h(view["incident_id"])}</a> '
                f'{badge("awaiting_approval")}<br>step <code>{h(approval.get("step"))}</code> '
                f'({h(approval.get("runbook"))}) on {h(_target_name(approval.get("target")))} · '
                f'expires {h(_clock(approval.get("expires_at")))}</div>')
    unreadable = [v for v in views if v.get("status") == "unreadable"]
    if unreadable:
        parts.append(f'<p class="notice">{len(unreadable)} incident record{"s" if len(unreadable) != 1 else ""} cannot be read: '
                     f'{h(", ".join(str(v.get("incident_id")) for v in unreadable[:10]))}{" …" if len(unreadable) > 10 else ""}. '
                     'They are listed without their details; an undo that would depend on them is refused until they can '
                     'be read (python -m firestop doctor checks the records store).</p>')
    if views:
        rows = "".join(
            f'<tr><td class="id"><a href="{link("incidents", v.get("incident_id") or "")}">{h(v.get("incident_id"))}</a></td>'
            f'<td>{status_badge(v)}</td><td>{h((v.get("playbook") or {}).get("name") or "—")}</td>'
            f'<td class="wide">{h(_alert_cell(v))}</td>'
            f'<td class="wide" data-label="received">{h(_clock(v.get("received_at") or v.get("created_at")))}</td>'
            f'<td data-label="MTTC">{h(_seconds(_mttc(v)))}</td></tr>'
            for v in views)
        parts.append('<div class="box"><table class="stack"><thead><tr><th>incident</th><th>status</th><th>playbook</th><th>alert</th>'
                     f'<th>received</th><th>MTTC</th></tr></thead><tbody>{rows}</tbody></table></div>')
        if more:
            parts.append('<p class="mute">More incidents not shown: the backend holds more than are listed here.</p>')
    else:
        parts.append('<p class="mute">No incidents.</p>')
    parts.append(audit_section(audit))
    return layout("Incidents", "".join(parts), caller=caller)


def audit_section(audit: dict[str, Any] | None) -> str:
    """The latest audit (``firestop.functions.http_console._latest_audit``'s summary), or "No audit yet"."""
    skipped = audit.get("skipped") if isinstance(audit, dict) and isinstance(audit.get("skipped"), int) else 0
    junk = (f'<p class="notice">{h(skipped)} document{"s" if skipped != 1 else ""} in the records store\'s audits/ '
            + ("named newer than this audit " if audit and audit.get("audit_id") else "")
            + "were skipped: not marked as filed by this app (planted by a records-store writer, or filed before "
              "markers).</p>") if skipped else ""
    if not audit or not audit.get("audit_id"):
        return ('<h2 id="audit">Latest audit</h2>' + junk + '<p class="mute">No audit yet '
                '(<code>python -m firestop audit run</code>, or the app\'s audit timer).</p>')
    # the CLI's words for the three outcomes (audit run: "15 ✔ · 14 ❌ · 0 —"), not the enum values ("not_evaluable")
    words = {"pass": "passed", "fail": "findings", "not_evaluable": "not evaluable"}
    counts = ", ".join(f"{v} {words.get(k, k)}" for k, v in (audit.get("counts") or {}).items())
    parts = [f'<h2 id="audit">Latest audit</h2><p>{h(audit.get("audit_id"))} · {h(_clock(audit.get("at")))} · {h(counts)}'
             f' · drift: {h(audit.get("new_drift"))} new, {h(audit.get("fixed"))} fixed</p>' + junk]
    findings = audit.get("findings") or []
    if findings:
        rows = "".join(f'<tr><td>{badge(f.get("severity"))}</td><td>{h(f.get("title"))}</td><td>{h(f.get("resource_name"))}</td>'
                       f'<td class="wide">{h(f.get("detail"))}</td><td class="wide" data-label="fix">{h(f.get("fix") or "—")}</td></tr>'
                       for f in findings)
        parts.append('<div class="box"><table class="stack"><thead><tr><th>severity</th><th>finding</th><th>resource</th>'
                     f'<th>detail</th><th>fix</th></tr></thead><tbody>{rows}</tbody></table></div>')
        if (audit.get("total_findings") or 0) > len(findings):
            parts.append(f'<p class="mute">{h(audit["total_findings"] - len(findings))} more: python -m firestop audit</p>')
    else:
        parts.append('<p class="ok">No findings.</p>')
    return "".join(parts)


def _timeline(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return '<p class="mute">Nothing has run yet.</p>'
    entries = sorted(entries, key=lambda e: e.get("offset_s") if isinstance(e.get("offset_s"), (int, float)) else 0)
    rows = "".join(
        # time and phase never break inside a word (newuser12: at 1280 px beside a long detail they read "-6167 .5 s",
        # "pha se", "dete ct": overflow-wrap:anywhere lets a cell shrink to one character)
        f'<tr><td class="id">{h(_offset(e.get("offset_s")))}</td><td class="id">{h(e.get("phase"))}</td><td>{h(e.get("step"))}</td>'
        f'<td>{h(_target_name(e.get("target")) if e.get("target") else "")}</td>'
        f'<td>{badge(e.get("outcome"))}</td><td class="wide">{h(e.get("detail"))}</td></tr>' for e in entries)
    return ('<div class="box"><table class="stack"><thead><tr><th>time</th><th>phase</th><th>step</th><th>target</th><th>outcome</th>'
            f'<th>detail</th></tr></thead><tbody>{rows}</tbody></table></div>')


def _phases(timeline: list[dict[str, Any]], *, so_far: bool) -> str:
    """The incident's parts named as its record's phases, detect → analyze → contain → resolve → learn
    (:func:`firestop.lifecycle.phases.phase_summary`, as the ``.md`` record names them), each value escaped."""
    from firestop.lifecycle.phases import outcomes_text, phase_summary, steps_text

    rows = "".join(  # the phase and its first time never fold mid-word (as the timeline's time and phase)
        f'<tr><td class="id">{h(p["title"])}</td><td class="id">{h(_offset(p["from_s"]) if p["entries"] else "—")}</td>'
        f'<td class="id">{h(_offset(p["to_s"]) if p["entries"] else "—")}</td><td>{h(p["covers"] or "—")}</td>'
        f'<td>{h(steps_text(p))}</td><td>{h(outcomes_text(p))}</td></tr>' for p in phase_summary(timeline))
    return (f'<h2 id="phases">Phases{" so far" if so_far else ""}: detect → analyze → contain → resolve → learn</h2>'
            '<div class="box"><table class="stack"><thead><tr><th>phase</th><th>from</th><th>to</th><th>covers</th>'
            f'<th>steps</th><th>outcomes</th></tr></thead><tbody>{rows}</tbody></table></div>')


def _changes(changes: list[Any], left_out: Any = 0) -> str:
    """The plan's changes (already bounded by :func:`firestop.lifecycle.approvals.plan_preview`), then how many it left
    out (``changes_left_out``)."""
    more = left_out if isinstance(left_out, int) and not isinstance(left_out, bool) and left_out > 0 else 0
    more_html = (f'<p class="mute">… and {more} more change(s) not shown here (<code>python -m firestop runbook plan</code> '
                 'lists them all).</p>') if more else ""
    if not changes:
        return '<p class="mute">The plan lists no changes.</p>' if not more else more_html
    from firestop.lifecycle.change_words import value_words  # None read as (absent)/(removed), JSON never Python's repr

    rows = "".join(
        f'<tr><td><code>{h(c.get("field"))}</code></td><td class="wide" data-label="before">{h(value_words(c.get("before"), "before"))}</td>'
        f'<td class="wide" data-label="after">{h(value_words(c.get("after"), "after"))}</td></tr>'
        if isinstance(c, dict) else f'<tr><td colspan="3">{h(c)}</td></tr>' for c in changes[:100])
    return (f'<div class="box"><table class="stack"><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead><tbody>{rows}'
            f'</tbody></table></div>{more_html}')


def _plan_view(approval: dict[str, Any]) -> str:
    """The plan an approver decides on: a failed plan said plainly (never "no changes"), else the changes, then the
    plan's notes (already bounded by :func:`firestop.lifecycle.approvals.plan_preview`; escaped here)."""
    # trust16: other contents of this alert arrived while it waits (firestop.lifecycle.view.with_variants)
    variants = (f'<p class="notice">{h(approval["variants_note"])}</p>'
                if isinstance(approval.get("variants_note"), str) and approval["variants_note"] else "")
    error = approval.get("plan_error")
    if isinstance(error, dict):
        return variants + (f'<p class="notice failed">The plan could not be computed: {h(error.get("message"))} ({h(error.get("kind"))}); '
                'approving runs the step without a preview.</p>')
    notes = [n for n in approval.get("notes") or [] if n][:20]
    shown = variants + (_changes(approval.get("changes") or [], approval.get("changes_left_out"))
                        if approval.get("changes") or not notes else "")
    if notes:
        shown += '<p class="mute">The plan lists no changes; it notes:</p>' if not approval.get("changes") else "<p>The plan notes:</p>"
        shown += "<ul>" + "".join(f"<li>{h(n)}</li>" for n in notes) + "</ul>"
    return shown


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:100])
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in list(value.items())[:40])
    return str(value)


def _blast_radius(value: Any) -> str:
    """The plan's blast radius (whatever shape the runbook gives: a mapping, a list or text), or nothing."""
    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, dict):
        inner = "<dl>" + "".join(f"<dt>{h(k)}</dt><dd>{h(_plain(v))}</dd>" for k, v in list(value.items())[:40]) + "</dl>"
    elif isinstance(value, list):
        inner = "<ul>" + "".join(f"<li>{h(_plain(v))}</li>" for v in value[:100]) + "</ul>"
    else:
        inner = f"<p>{h(value)}</p>"
    return f"<h3>Blast radius</h3>{inner}"


def approval_card(incident_id: str, approval: dict[str, Any], *, may_decide: bool, why_not: str, token: str | None,
                  cli_hint: str = "", check_hint: str = "") -> str:
    """The pending approval: what it changes, its blast radius, who may decide, and the Approve/Reject form.
    cli_hint: the same decision from the CLI (:func:`firestop.lifecycle.cli_hints.decide_command`; none when empty);
    check_hint: what to check before deciding (:func:`firestop.lifecycle.cli_hints.unconfirmed_hint`; none when empty)."""
    approvers = ", ".join(str(a) for a in approval.get("approvers") or []) or "anyone with the approver role (Firestop.Approver)"
    parts = [
        '<div class="card" id="approval"><h2>Waiting for approval</h2><dl>',
        f'<dt>step</dt><dd><code>{h(approval.get("step"))}</code> ({h(approval.get("runbook"))})</dd>',
        f'<dt>target</dt><dd><code>{h(approval.get("target"))}</code></dd>',
        f'<dt>why</dt><dd>{h(approval.get("why"))}</dd>',
        *([f'<dt>check first</dt><dd>{h(check_hint.removeprefix("Check first: "))}</dd>'] if check_hint else []),
        f'<dt>who may decide</dt><dd>{h(approvers)}' + (" — two people: the requester cannot approve" if approval.get("two_person") else "") + "</dd>",
        f'<dt>requested</dt><dd>{h(_clock(approval.get("requested_at")))}</dd>',
        f'<dt>expires</dt><dd>{h(_clock(approval.get("expires_at")))}' + (" (escalated)" if approval.get("escalated") else "") + "</dd>",
    ]
    if approval.get("refused_decisions"):
        parts.append(f'<dt>refused</dt><dd>{h(approval.get("refused_decisions"))} decision(s) did not count</dd>')
    parts.append("</dl><h3>Changes</h3>")
    parts.append(_plan_view(approval))
    parts.append(_blast_radius(approval.get("blast_radius")))
    held = approval.get("held_steps")
    if isinstance(held, dict) and held:  # alert.genuine: what approving lets act, step by step (bounded upstream)
        parts.append("<h3>Approving lets these steps act</h3><dl>" + "".join(
            f"<dt><code>{h(k)}</code></dt><dd>{h(_plain(v))}</dd>" for k, v in list(held.items())[:20]) + "</dl>")
    if may_decide and token:
        action = link("incidents", incident_id, "approvals", approval.get("step") or "")
        parts.append(
            f'<form method="post" action="{h(action)}"><input type="hidden" name="csrf" value="{h(token)}">'
            '<label for="comment">Comment (optional)</label><textarea id="comment" name="comment" maxlength="1000"></textarea>'
            '<div class="buttons"><button class="approve" type="submit" name="decision" value="approve">Approve</button>'
            '<button class="reject" type="submit" name="decision" value="reject">Reject</button></div></form>')
    else:
        parts.append(f'<p class="notice">{h(why_not)}</p>')
    if cli_hint:
        parts.append(f'<p class="mute">CLI: <code>{h(cli_hint)}</code></p>')
    parts.append("</div>")
    return "".join(parts)


def undo_card(incident_id: str, preview: list[dict[str, Any]], *, may_undo: bool, token: str | None, cli_hint: str = "") -> str:
    """What an undo would do to each action (newest first): restore what a step changed (not yet undone), or *release* a
    step that changed nothing (``release``: it found the state in place; nothing is restored); the Undo form for the
    changes, and a Release button on each release row — both open a confirmation page (a GET of the incident's undo
    route, the Release one with that row's ``step``), whose form posts with ``confirm`` (the responder role).
    cli_hint: the same undo from the CLI (:func:`firestop.lifecycle.cli_hints.undo_command`; none when empty)."""
    if not preview:
        return ""
    buttons = may_undo and bool(token)

    def does(a: dict[str, Any]) -> str:
        if a.get("release"):
            text = h("releases the state it found in place: nothing is restored, the incident stops relying on it")
            if buttons:
                # a GET to the release's confirmation page (release_confirm_page): one click never releases
                text += (f'<form method="get" action="{h(link("incidents", incident_id, "undo"))}">'
                         f'<input type="hidden" name="step" value="{h(a.get("step_id"))}"><div class="buttons">'
                         f'<button class="undo release" type="submit">Release {h(a.get("step_id"))}…</button></div></form>')
            return text
        return h("restores the state from before the step" if a.get("reversible") else "cannot be undone (keep as is)")

    rows = "".join(
        f'<tr><td><code>{h(a.get("step_id"))}</code></td><td>{h(a.get("runbook"))}</td><td>{h(_target_name(a.get("target")))}</td>'
        f'<td class="wide">{does(a)}</td></tr>'
        for a in preview)
    form = ""
    if may_undo and any(a.get("reversible") and not a.get("release") for a in preview):
        # a GET to the confirmation page (undo_confirm_page), which holds the POST form: one click never undoes
        form = (f'<form method="get" action="{h(link("incidents", incident_id, "undo"))}"><div class="buttons">'
                '<button class="undo" type="submit">Undo containment…</button></div></form>')
    return ('<div class="card" id="undo"><h2>Undo</h2><p>An undo would:</p><div class="box"><table class="stack"><thead><tr><th>step</th>'
            f'<th>runbook</th><th>target</th><th>does</th></tr></thead><tbody>{rows}</tbody></table></div>{form}'
            + (f'<p class="mute">CLI: <code>{h(cli_hint)}</code></p>' if cli_hint else "") + '</div>')


def undo_confirm_page(incident_id: str, preview: list[dict[str, Any]], *, caller: Any, token: str) -> str:
    """The Undo button's confirmation (the console's counterpart of ``incident undo``'s [y/N]; no script needed): what
    the undo would restore, then the POST form (``csrf``) to the incident's undo route, and a way back."""
    restores = [a for a in preview if a.get("reversible") and not a.get("release")]
    rows = "".join(
        f'<tr><td><code>{h(a.get("step_id"))}</code></td><td>{h(a.get("runbook"))}</td><td>{h(_target_name(a.get("target")))}</td>'
        '<td class="wide">restores the state from before the step</td></tr>' for a in restores)
    back = link("incidents", incident_id)
    body = (f'<h1>Undo containment of {h(incident_id)}?</h1><div class="card" id="undo-confirm"><p>This changes the tenant: '
            'each step below gets back the state recorded before it ran. Steps that cannot be undone stay as they are.</p>'
            '<div class="box"><table class="stack"><thead><tr><th>step</th><th>runbook</th><th>target</th><th>does</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div><form method="post" action="{h(link("incidents", incident_id, "undo"))}">'
            f'<input type="hidden" name="csrf" value="{h(token)}"><input type="hidden" name="confirm" value="undo">'
            '<div class="buttons"><button class="undo confirm" type="submit">Yes, undo containment</button></div></form>'
            f'<p><a href="{h(back)}">No, back to the incident</a></p></div>')
    return layout(f"Undo {incident_id}?", body, caller=caller)


def release_confirm_page(incident_id: str, action: dict[str, Any], *, caller: Any, token: str) -> str:
    """The Release button's confirmation: the step that changed nothing, what a release does (nothing restored, no
    Azure call; the incident stops relying on the state it found), then the POST form (``csrf``, ``step``,
    ``confirm=release``) to the incident's undo route, and a way back."""
    step = action.get("step_id") or ""
    body = (f'<h1>Release {h(step)} of {h(incident_id)}?</h1><div class="card" id="release-confirm"><p>'
            f'<code>{h(step)}</code> ({h(action.get("runbook"))} on {h(_target_name(action.get("target")))}) found the state in '
            'place and changed nothing. Releasing it restores nothing and makes no Azure call: this incident stops relying '
            'on that state, so an earlier incident\'s undo may then reopen it.</p>'
            f'<form method="post" action="{h(link("incidents", incident_id, "undo"))}">'
            f'<input type="hidden" name="csrf" value="{h(token)}"><input type="hidden" name="step" value="{h(step)}">'
            '<input type="hidden" name="confirm" value="release"><div class="buttons">'
            f'<button class="release confirm" type="submit">Yes, release {h(step)}</button></div></form>'
            f'<p><a href="{h(link("incidents", incident_id))}">No, back to the incident</a></p></div>')
    return layout(f"Release {step}?", body, caller=caller)


def stop_card(incident_id: str, *, may_stop: bool, cli_hint: str = "") -> str:
    """A running or waiting incident's Stop button (a GET to :func:`stop_confirm_page`; responders only) and its CLI."""
    button = (f'<form method="get" action="{h(link("incidents", incident_id, "stop"))}"><div class="buttons">'
              '<button class="stop" type="submit">Stop incident…</button></div></form>') if may_stop else ""
    return ('<div class="card" id="stop"><h2>Stop</h2><p>Stopping ends the incident: no further step runs; what already ran '
            'stays in place (undo it afterwards).</p>' + button
            + (f'<p class="mute">CLI: <code>{h(cli_hint)}</code></p>' if cli_hint else "") + "</div>")


def stop_confirm_page(view: dict[str, Any], *, caller: Any, token: str, max_reason: int) -> str:
    """The Stop button's confirmation: what a stop does, a required reason (at most ``max_reason`` characters, kept on the
    timeline), the POST form (``csrf``) to the incident's stop route, and a way back."""
    incident_id = view.get("incident_id") or ""
    pending = (view.get("pending_approval") or {}).get("step")
    now = f"waiting for approval of <code>{h(pending)}</code>" if pending else h(f'{view.get("phase") or ""} {view.get("step") or ""}'.strip() or "running")
    body = (f'<h1>Stop {h(incident_id)}?</h1><div class="card" id="stop-confirm"><p>Now: {now}. A stop ends the incident: no '
            'further step runs and no pending approval is used; what already ran stays in place.</p>'
            f'<form method="post" action="{h(link("incidents", incident_id, "stop"))}"><input type="hidden" name="csrf" value="{h(token)}">'
            f'<label for="reason">Why (required, kept on the timeline)</label><textarea id="reason" name="reason" required '
            f'maxlength="{int(max_reason)}"></textarea><div class="buttons"><button class="stop confirm" type="submit">Yes, stop incident'
            f'</button></div></form><p><a href="{h(link("incidents", incident_id))}">No, back to the incident</a></p></div>')
    return layout(f"Stop {incident_id}?", body, caller=caller)


def incident_page(view: dict[str, Any], *, caller: Any, approval_html: str = "", undo_html: str = "",
                  flash: str | None = None, stop_html: str = "") -> str:
    """One incident: status, metrics, pending approval, stop (while it runs or waits), timeline (so far), what holds, undo."""
    incident_id = view.get("incident_id") or ""
    status = view.get("status")
    metrics = view.get("metrics") or {}
    parts = [f"<h1>{h(incident_id)} {status_badge(view)}</h1>"]
    if flash:
        parts.append(f'<p class="notice">{h(flash)}</p>')
    parts.append("<dl>")
    if view.get("alert"):
        parts.append(f"<dt>alert</dt><dd>{h(_alert_line(view))}</dd>")
    parts.append(f'<dt>playbook</dt><dd>{h((view.get("playbook") or {}).get("name") or "—")}</dd>')
    if view.get("reason"):
        parts.append(f'<dt>outcome</dt><dd>{h(view.get("reason"))}</dd>')
    if status in ("running", "awaiting_approval"):
        from firestop.lifecycle.cli_hints import step_now

        parts.append(f'<dt>now</dt><dd>{h(view.get("phase") or "—")}, {h(step_now(view))}</dd>')
    parts.append(f'<dt>received</dt><dd>{h(_clock(view.get("received_at") or view.get("created_at")))}</dd>')
    parts.append(f'<dt>MTTD · MTTA · MTTC · MTTR</dt><dd>{h(_seconds(metrics.get("mttd_s")))} · {h(_seconds(metrics.get("mtta_s")))} · '
                 f'{h(_seconds(metrics.get("mttc_s")))} · {h(_seconds(metrics.get("mttr_s")))}</dd>')
    from firestop.lifecycle.view import after_close_counts, joined_counts

    if joined_counts(view):
        parts.append(f'<dt>joined</dt><dd id="joined">{h(joined_counts(view))}</dd>')
    joined = after_close_counts(view)
    if joined:
        parts.append(f'<dt>joined after close</dt><dd id="after-close">{h(joined)}</dd>')
    parts.append("</dl>")
    parts.append(approval_html)
    parts.append(stop_html)
    timeline = view.get("timeline") if view.get("timeline") is not None else view.get("timeline_so_far") or []
    parts.append(_phases(timeline, so_far=view.get("timeline") is None))
    parts.append(f'<h2>Timeline{" so far" if view.get("timeline") is None else ""}</h2>')
    parts.append(_timeline(timeline))
    holds, not_hold = view.get("holds") or [], view.get("does_not_hold") or []
    if holds or not_hold:
        parts.append("<h2>Containment</h2><ul>" + "".join(f'<li><span class="ok">holds</span> {h(x)}</li>' for x in holds)
                     + "".join(f'<li><span class="failed">does not hold</span> {h(x)}</li>' for x in not_hold) + "</ul>")
    parts.append(undo_html)
    refresh = REFRESH_SECONDS if status == "running" else None
    return layout(incident_id, "".join(parts), caller=caller, refresh=refresh)


# -- tabletop ---------------------------------------------------------------------------------------------------
def tabletop_page(cards: list[dict[str, Any]], *, caller: Any) -> str:
    """The newest tabletop scorecards."""
    if not cards:
        return layout("Tabletop", '<h1>Tabletop exercises</h1><p class="mute">No exercise has run yet '
                      '(<code>python -m firestop tabletop run NAME</code>).</p>', caller=caller)
    rows = "".join(
        f'<tr><td><a href="{link("tabletop", c.get("run_id") or "")}">{h((c.get("scenario") or {}).get("name"))}</a></td>'
        f'<td>{badge(c.get("result"))}</td><td>{h(c.get("met"))} met · {h(c.get("missed"))} missed</td>'
        f'<td>{h(_seconds((c.get("metrics") or {}).get("mttc_s")))}</td><td>{h(c.get("run_id"))}</td></tr>' for c in cards)
    return layout("Tabletop", '<h1>Tabletop exercises</h1><div class="box"><table><thead><tr><th>scenario</th><th>result</th>'
                  f'<th>expectations</th><th>MTTC</th><th>run</th></tr></thead><tbody>{rows}</tbody></table></div>', caller=caller)


def scorecard_page(card: dict[str, Any], *, caller: Any) -> str:
    """One scorecard: result, metrics, expectations, approvals waited on, pages sent."""
    scenario = card.get("scenario") or {}
    metrics = card.get("metrics") or {}
    parts = [f'<h1>{h(scenario.get("name"))} {badge(card.get("result"))}</h1>',
             f'<p>{h(scenario.get("description"))}</p>',
             f'<dl><dt>run</dt><dd>{h(card.get("run_id"))}</dd><dt>MTTD · MTTA · MTTC · MTTR</dt><dd>'
             f'{h(_seconds(metrics.get("mttd_s")))} · {h(_seconds(metrics.get("mtta_s")))} · {h(_seconds(metrics.get("mttc_s")))} · '
             f'{h(_seconds(metrics.get("mttr_s")))}</dd></dl>', "<h2>Expectations</h2>"]
    rows = "".join(f'<tr><td>{badge("met" if e.get("met") else "missed")}</td><td>{h(e.get("check"))}</td>'
                   f'<td>{h(e.get("evidence"))}</td></tr>' for e in card.get("expectations") or [])
    parts.append(f'<div class="box"><table><tbody>{rows}</tbody></table></div>' if rows else '<p class="mute">None.</p>')
    approvals = card.get("approvals") or []
    if approvals:
        parts.append("<h2>Approvals waited on</h2>")
        for approval in approvals:
            answers = "".join(f'<li>{h(a.get("by"))}: {h(a.get("decision"))} → {badge(a.get("outcome"))} '
                              f'{h(_clock(a.get("delivered_at")))}</li>' for a in approval.get("answers") or [])
            parts.append(f'<div class="card"><code>{h(approval.get("step"))}</code> {h(approval.get("incident_id") or "")}'
                         f'<ul>{answers}</ul></div>')
    pages = card.get("pages") or []
    parts.append("<h2>Pages</h2>")
    if pages:
        rows = "".join(f'<tr><td>{h(_clock(p.get("at")))}</td><td>{h(p.get("kind"))}</td><td>{h(", ".join(map(str, p.get("paged") or [])))}</td>'
                       f'<td>{h(p.get("step"))}</td><td>{h(p.get("channel"))}</td></tr>' for p in pages)
        parts.append('<div class="box"><table><thead><tr><th>at</th><th>kind</th><th>paged</th><th>step</th><th>channel</th></tr></thead>'
                     f'<tbody>{rows}</tbody></table></div>')
    else:
        parts.append('<p class="mute">Nobody was paged.</p>')
    return layout(str(scenario.get("name") or "Scorecard"), "".join(parts), caller=caller)

"""Printing for the CLI: rich tables for people, JSON for scripts. Errors are one line.

Everything that comes from outside (alert fields, resource names, error
messages) is shown as plain text: rich markup in it is not interpreted, and
terminal control characters and unpaired surrogates are replaced, so a
hostile alert cannot restyle or clear a responder's terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

def _piped_width(stream) -> int | None:
    """Rich wraps at 80 columns when output is not a terminal; piped output (``| grep``, ``> file``) keeps whole
    lines instead: 200 columns unless ``COLUMNS`` says otherwise. A terminal uses its own width."""
    try:
        if stream.isatty() or os.environ.get("COLUMNS"):
            return None
    except (AttributeError, ValueError):
        return None
    return 200


console = Console(width=_piped_width(sys.stdout))
err_console = Console(stderr=True, width=_piped_width(sys.stderr))

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_NEEDS_RESPONDER = 3
EXIT_NO_PLAYBOOK = 4

#: Control characters (but tab and line feed), lone surrogates, and the invisible format characters that reorder or
#: hide text — zero-width U+200B–U+200F, bidi embeddings/overrides U+202A–U+202E and isolates U+2066–U+2069,
#: U+2060–U+2065, the BOM, the line/paragraph separators U+2028/U+2029 (as :mod:`firestop.markup` for records,
#: console and logs; RT8-07).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n]")


def clean(value: Any) -> str:
    """``value`` as printable text: control and invisible format characters and lone surrogates become U+FFFD."""
    return _CONTROL.sub("\ufffd", "" if value is None else str(value))


def line(value: Any) -> str:
    """:func:`clean` on one line: a tab or line break becomes a space, so a value from outside (an alert's rule name,
    a runbook's message) can never start a line of its own — a forged ``Outcome: contained`` (RT8-07)."""
    return _LINE_BREAKS.sub(" ", clean(value))


def compact(value: Any) -> str:
    """A state value as one printable line: a string as it is, anything else as compact JSON (``true``, ``null``,
    ``{"defaultAction": "Deny"}``) — never Python's repr (``True``, ``None``, quoted strings) — as plans, approvals and
    undo previews all show them."""
    return clean(value) if isinstance(value, str) else clean(json.dumps(value, sort_keys=True, default=str))


def safe(value: Any) -> str:
    """``value`` cleaned and escaped for use inside a rich markup string."""
    return escape(clean(value))


def reader_went_away() -> NoReturn:
    """The reader of stdout closed it (``| head``): stop quietly with exit 0, as Unix tools do; nothing more is written."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit would raise again
    except (OSError, ValueError):
        pass
    raise SystemExit(0)


class PipeGuard:
    """Wraps stdout so that a reader closing the pipe (``| head``) ends the command quietly with exit 0
    (click would answer EPIPE with exit 1, which breaks ``set -o pipefail`` scripts)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            reader_went_away()

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            reader_went_away()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def fail(message: str, code: int = EXIT_BAD_INPUT, *, as_json: bool = False) -> NoReturn:
    """Print one clear error line (or a JSON error object) and exit with ``code``."""
    if as_json:
        sys.stdout.write(json.dumps({"error": clean(message), "exit_code": code}) + "\n")
    else:
        err_console.print(Text("error: ", style="bold red") + Text(clean(message)), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def confirm_or_exit(question: str, nothing: str = "nothing was changed", *, as_json: bool = False) -> None:
    """Ask ``question`` (default no); anything but yes — including no terminal or closed stdin — exits 2 with
    "not confirmed; <nothing> (use --yes in scripts)"."""
    try:
        confirmed = typer.confirm(question, default=False)
    except (typer.Abort, EOFError):  # stdin closed (a script, a pipe): same answer as "n"
        confirmed = False
    if not confirmed:
        fail(f"not confirmed; {nothing} (use --yes in scripts)", EXIT_BAD_INPUT, as_json=as_json)


def human_time(value: Any) -> str:
    """An ISO-8601 time as every command writes it, ``2026-11-29 04:03:21.2 UTC`` (:func:`firestop.times.instant`);
    ``—`` for None; other text as it is."""
    from firestop.times import instant

    return instant(value)


def to_json(data: Any) -> str:
    """JSON text for ``data``; ValueError if it cannot be encoded (e.g. nested too deeply)."""
    try:
        return json.dumps(data, indent=2, sort_keys=True, default=str)
    except RecursionError:
        raise ValueError("nested too deeply to print as JSON") from None


def print_json(data: Any) -> None:
    sys.stdout.write(to_json(data) + "\n")


def _short(resource_id: str | None) -> str:
    if not resource_id:
        return ""
    return str(resource_id).rstrip("/").rsplit("/", 1)[-1]


STYLES = {
    "ok": "green",
    "done": "green",
    "verified": "green",
    "approved": "green",
    "undone": "green",
    "released": "green",
    "retrying": "yellow",
    "awaiting approval": "yellow",
    "escalated": "yellow",
    "no playbook": "yellow",
    "skipped": "dim",  # neutral: nothing to do (a when: condition, an optional setting unset)
    "failed": "bold red",
    "timed out": "bold red",
    "approval timed out": "bold red",
    "rejected": "bold red",
    "decision refused": "red",
    "not verified": "bold red",
    "undo failed": "bold red",
}


def _timeline_table(timeline: list[dict[str, Any]]) -> Table:
    """The incident's timeline as a table: offset from receipt, phase, step, target, outcome, detail."""
    # Every cell and header is a Text: a plain str would go through rich's markup and emoji rendering, whose first
    # call imports rich's 3,600-entry emoji table (~13 ms, python -X importtime) for strings that hold neither.
    table = Table(show_lines=False, header_style="bold")
    for column in ("time", "phase", "step", "target", "outcome", "detail"):
        table.add_column(Text(column), overflow="fold", no_wrap=column == "time")
    from firestop.times import offset

    entries = sorted(timeline, key=lambda e: e.get("offset_s") if isinstance(e.get("offset_s"), (int, float)) else 0)
    for entry in entries:
        time_text = "" if entry.get("offset_s") is None else offset(entry.get("offset_s"))
        outcome = line(entry.get("outcome"))
        table.add_row(
            Text(time_text),
            Text(line(entry.get("phase"))),
            Text(line(entry.get("step"))),
            Text(line(_short(entry.get("target")))),
            Text(outcome, style=STYLES.get(outcome, "white")),
            Text(line(entry.get("detail"))),
        )
    return table


#: A change whose ``field: before → after`` is longer than this many characters shows before and after on lines of
#: their own (a role assignment's holder and scope, a whole rule): never folded into a cut path.
CHANGE_ONE_LINE = 100


def print_change(change: Any, lead: str) -> None:
    """One planned change: ``<lead><field>: <before> → <after>`` when it is short, else ``<lead><field>:`` then
    ``before:`` and ``after:`` each on a line of its own, indented, unwrapped (a path stays whole when copied). Values
    read as :func:`firestop.lifecycle.change_words.value_words` says (``(removed)``, never ``null``)."""
    from firestop.lifecycle.change_words import value_words

    if not isinstance(change, dict):
        console.print(Text(line(f"{lead}{change}")), highlight=False, soft_wrap=True)
        return
    field, before, after = (line(change.get("field")), line(value_words(change.get("before"), "before")),
                            line(value_words(change.get("after"), "after")))
    if len(field) + len(before) + len(after) + 5 <= CHANGE_ONE_LINE:
        console.print(Text(f"{lead}{field}: {before} → {after}"), highlight=False, soft_wrap=True)
        return
    pad = " " * (len(lead) - len(lead.lstrip()) + 4)
    console.print(Text(f"{lead}{field}:"), highlight=False, soft_wrap=True)
    console.print(Text(f"{pad}before: {before}"), highlight=False, soft_wrap=True)
    console.print(Text(f"{pad}after:  {after}"), highlight=False, soft_wrap=True)


def print_plan_preview(pending: dict[str, Any]) -> None:
    """What a pending approval would do (its ``changes``, ``notes``, ``plan_error``: see
    :func:`firestop.lifecycle.approvals.plan_preview`), each on a line of its own (:func:`line`): a failed plan said
    plainly, never as "no changes"."""
    if isinstance(pending.get("variants_note"), str) and pending["variants_note"]:  # trust16 (lifecycle.view.with_variants)
        console.print(Text(line(f"  {pending['variants_note']}"), style="yellow"), highlight=False)
    error = pending.get("plan_error")
    if isinstance(error, dict):
        console.print(Text(line(f"  the plan could not be computed: {error.get('message')} ({error.get('kind')}); "
                                "approving runs the step without a preview"), style="red"), highlight=False)
        return
    changes = pending.get("changes") or []
    for change in changes:
        print_change(change, "  would change ")
    left_out = pending.get("changes_left_out")
    if isinstance(left_out, int) and not isinstance(left_out, bool) and left_out > 0:
        console.print(Text(f"  … and {left_out} more change(s) not shown (run the plan to see them all: runbook plan)"),
                      highlight=False)
    notes = [n for n in pending.get("notes") or [] if n][:20]
    if not changes:
        console.print(Text("  would change nothing" + ("; the plan notes:" if notes else "")), highlight=False)
    for note in notes:
        console.print(Text(line(f"  note: {note}")), highlight=False)


def _print_holds(view: dict[str, Any]) -> None:
    """The ``holds`` / ``does not hold`` lines of a record, or of a view still waiting (README: exit 3 says what
    holds and what does not; a view from elsewhere without them is read from its timeline so far)."""
    if "holds" not in view and view.get("timeline") is None:
        from firestop.lifecycle.view import so_far_holds

        view = {**view, **so_far_holds(view.get("timeline_so_far"))}
    for said in view.get("holds") or []:
        console.print(Text.assemble(("  holds          ", "green"), line(said)), highlight=False)
    for said in view.get("does_not_hold") or []:
        console.print(Text.assemble(("  does not hold  ", "red"), line(said)), highlight=False)


def _print_metrics(view: dict[str, Any], *, sandbox: bool) -> None:
    """``MTTD … · MTTA … · MTTC … · MTTR …`` of a record, or of a view still waiting (what is known so far); nothing
    for a view without metrics (one from an app that does not send them)."""
    metrics = view.get("metrics")
    if not isinstance(metrics, dict):
        return
    from firestop.times import seconds as fmt

    console.print(  # a Text, not markup: see _timeline_table
        Text(f"MTTD {fmt(metrics.get('mttd_s'))} · MTTA {fmt(metrics.get('mtta_s'))} · MTTC {fmt(metrics.get('mttc_s'))} · "
             f"MTTR {fmt(metrics.get('mttr_s'))}" + ("  (simulated time, sandbox tenant)" if sandbox else "")),
        highlight=False,
    )


def print_pending(view: dict[str, Any], *, app_origin: str | None = None, sandbox: bool | None = None) -> None:
    """An incident that has not finished: where it stands and, if it waits for a human, how to decide.

    app_origin: the deployed app the view came from (``--app``); sandbox: whether a local incident ran on the
    sandbox tenant (False: it acted on real Azure) — they choose the decide command's identity flags
    (:mod:`firestop.lifecycle.cli_hints`, the console's wording too)."""
    from firestop.lifecycle.cli_hints import step_now

    console.print(
        f"[bold]Incident {safe(view.get('incident_id'))}[/] — {safe(view.get('status'))}"
        + (f" (phase {safe(view.get('phase'))}, {safe(step_now(view))})" if view.get("phase") else ""),
        highlight=False,
    )
    if view.get("reason"):
        console.print(Text(line(view["reason"])), highlight=False)
    if view.get("error"):
        console.print(Text(line(view["error"]), style="red"), highlight=False)
    if view.get("timeline_so_far"):
        console.print(Text("What has run so far:"), highlight=False)
        console.print(_timeline_table(view["timeline_so_far"]))
    _print_holds(view)
    _print_metrics(view, sandbox=False)  # a waiting view names no tenant: the same line local and --app
    pending = view.get("pending_approval")
    if not pending:
        return
    console.print(
        f"Waiting for approval of step [cyan]{safe(pending.get('step'))}[/] ({safe(pending.get('runbook'))}) "
        f"on {safe(_short(pending.get('target')))}: {safe(pending.get('why'))}",
        highlight=False,
    )
    print_plan_preview(pending)
    held = pending.get("held_steps")
    if isinstance(held, dict) and held:  # alert.genuine: what approving lets act, step by step (bounded upstream)
        console.print(Text("Approving lets these steps act:"), highlight=False)
        for what, items in list(held.items())[:20]:
            said = "; ".join(str(i) for i in items[:20]) if isinstance(items, list) else str(items)
            console.print(Text(line(f"  {what}: {said or 'nothing named'}")), highlight=False, soft_wrap=True)
    from firestop.lifecycle.cli_hints import unconfirmed_hint

    check = unconfirmed_hint(view)
    if check:
        console.print(Text(line(check), style="yellow"), highlight=False)
    listed = ", ".join(pending.get("approvers") or [])
    who = (f"{listed} (holding the approver role, Firestop.Approver)" if listed
           else "anyone with the approver role (app role Firestop.Approver)")
    console.print(
        Text(line(f"Approvers: {who}{' (two-person rule)' if pending.get('two_person') else ''}; "
                   f"expires {human_time(pending.get('expires_at'))}"
                   + (" (escalated)" if pending.get("escalated") else ""))),
        highlight=False,
    )
    from firestop.lifecycle.cli_hints import decide_command

    iid, step = line(view.get("incident_id")), line(pending.get("step"))
    console.print(Text("Decide: " + line(decide_command(iid, step, app_origin=app_origin, sandbox=sandbox,
                                                                 approvers=[line(a) for a in pending.get("approvers") or []]))),
                  highlight=False, soft_wrap=True)


def print_incident(record: dict[str, Any], *, app_origin: str | None = None, sandbox: bool | None = None) -> None:
    """The readable timeline of an incident, then its outcome, metrics and files (app_origin, sandbox: as
    :func:`print_pending`'s, for an incident still waiting)."""
    if record.get("timeline") is None:
        print_pending(record, app_origin=app_origin, sandbox=sandbox)
        return
    alert = record.get("alert") or {}
    playbook = record.get("playbook") or {}
    targets = ", ".join(_short(t) for t in alert.get("target_ids") or []) or "(no target)"
    header = Text.assemble(
        (f"Incident {line(record.get('incident_id'))}", "bold"),
        " — alert ",
        (line(alert.get("rule_name") or "(no rule name)"), "cyan"),
        f" on {line(targets)}",
    )
    if playbook:
        header += Text.assemble(" — playbook ", (line(playbook.get("name")), "cyan"))
    if record.get("exercise"):
        header += Text(" — tabletop exercise", style="magenta")
    console.print(header, highlight=False)
    console.print(_timeline_table(record.get("timeline") or []))
    from firestop.lifecycle.view import containment_state, status_label

    status = line(record.get("status"))
    color = {"contained": "green", "resolved": "green", "needs_responder": "bold red", "no_playbook": "yellow"}.get(status, "white")
    if containment_state(record):  # undone afterwards: what holds now comes first (firestop.lifecycle.view)
        color = "yellow"
    console.print(Text.assemble("Outcome: ", (line(status_label(record)), color), f" — {line(record.get('reason'))}"), highlight=False)
    _print_holds(record)
    for said in record.get("evidence_gaps") or []:
        console.print(Text.assemble(("  evidence gap   ", "yellow"), line(said)), highlight=False)
    _print_metrics({**record, "metrics": record.get("metrics") or {}}, sandbox=bool(record.get("sandbox")))
    if record.get("part_of"):  # another playbook's run on the same attack: the incident is the one it names
        console.print(Text(line(f"Part of incident {record['part_of']} (same attack, this alert's own playbook)")), highlight=False)
    if record.get("follows"):  # the same route's earlier incident held, and this alert reported new activity after it
        console.print(Text(line(f"Follows incident {record['follows']} (new activity after it held: contained again)")),
                      highlight=False)
    for part in record.get("parts") or []:
        console.print(Text(line(f"  part           {part.get('incident_id')} — {part.get('rule_name')} ({part.get('alert_id')})")),
                      highlight=False)
    for late in record.get("correlated_after_close") or []:
        if not late.get("part"):
            console.print(Text(line(f"  joined after close  {late.get('rule_name')} ({late.get('alert_id')}), "
                                     f"received {human_time(late.get('received_at'))}")), highlight=False)
    from firestop.lifecycle.view import after_close_counts, joined_counts

    approximate = joined_counts(record)
    if approximate:
        console.print(Text(line(f"  joined         {approximate}"), style="yellow"), highlight=False)
    counted = after_close_counts(record)
    if counted:
        console.print(Text(line(f"  joined after close  {counted}"), style="yellow" if "unchecked" in counted else ""),
                      highlight=False)
    gaps = record.get("checklist_gaps") or []
    if gaps:  # read at analyze time: the configuration that let the incident happen, even where containment changed it
        console.print(Text("Checklist gaps found before containment (fix them for good):", style="yellow"), highlight=False)
    for gap in gaps:
        console.print(Text(line(f"  Gap: {gap.get('gap')} on {_short(gap.get('target'))} — {gap.get('advice')}"), style="yellow"), highlight=False)
    files = record.get("record_files") or {}
    if files:
        console.print(Text(line(f"Record: {files.get('json_path')} · {files.get('markdown_path')}")), highlight=False,
                      soft_wrap=True)  # paths and hashes are never broken by an inserted newline, even past 200 columns
    if record.get("record_error"):
        console.print(Text(line(f"The record could not be filed: {record['record_error']}"), style="bold red"), highlight=False)
    where = files.get("evidence_paths") or {}  # records.file's artifacts: each item's file path or blob URL
    for item in record.get("evidence") or []:
        location = where.get(item.get("path")) if isinstance(item.get("path"), str) else None
        console.print(Text(line(f"Evidence: {location or item.get('path')} ({item.get('rows')} rows, sha256 {item.get('sha256')})")),
                      highlight=False, soft_wrap=True)

"""Printing for the CLI: rich tables for people, JSON for scripts. Errors are one line."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_NEEDS_RESPONDER = 3
EXIT_NO_PLAYBOOK = 4


def fail(message: str, code: int = EXIT_BAD_INPUT, *, as_json: bool = False) -> NoReturn:
    """Print one clear error line (or a JSON error object) and exit with ``code``."""
    if as_json:
        sys.stdout.write(json.dumps({"error": message, "exit_code": code}) + "\n")
    else:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def _short(resource_id: str | None) -> str:
    if not resource_id:
        return ""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


STYLES = {
    "ok": "green",
    "done": "green",
    "verified": "green",
    "retrying": "yellow",
    "no playbook": "yellow",
    "failed": "bold red",
    "not verified": "bold red",
    "skipped": "red",
}


def print_pending(view: dict[str, Any]) -> None:
    """An incident that has not finished: where it stands and, if it waits for a human, how to decide."""
    console.print(
        f"[bold]Incident {view.get('incident_id')}[/] — {view.get('status')} (phase {view.get('phase')}, step {view.get('step')})",
        highlight=False,
    )
    if view.get("error"):
        console.print(f"[red]{view['error']}[/]", highlight=False)
    pending = view.get("pending_approval")
    if not pending:
        return
    console.print(f"Waiting for approval of step [cyan]{pending.get('step')}[/] ({pending.get('runbook')}) on {_short(pending.get('target'))}: {pending.get('why')}", highlight=False)
    for change in pending.get("changes") or []:
        console.print(f"  would change {change.get('field')}: {change.get('before')!r} → {change.get('after')!r}", highlight=False)
    who = ", ".join(pending.get("approvers") or []) or "any responder"
    console.print(
        f"Approvers: {who}{' (two-person rule)' if pending.get('two_person') else ''}; expires {pending.get('expires_at')}"
        + (" (escalated)" if pending.get("escalated") else ""),
        highlight=False,
    )
    iid, step = view.get("incident_id"), pending.get("step")
    console.print(
        f"Decide: python -m firestop incident approve {iid} --step {step} --as <object-id>   "
        f"(or: incident reject {iid} --step {step} --as <object-id>)",
        highlight=False,
        soft_wrap=True,
    )


def print_incident(record: dict[str, Any]) -> None:
    """The readable timeline of an incident, then its outcome, metrics and files."""
    if record.get("timeline") is None:
        print_pending(record)
        return
    alert = record.get("alert") or {}
    playbook = record.get("playbook") or {}
    console.print(
        f"[bold]Incident {record.get('incident_id')}[/] — alert [cyan]{alert.get('rule_name') or '(no rule name)'}[/]"
        f" on {', '.join(_short(t) for t in alert.get('target_ids') or []) or '(no target)'}"
        + (f" — playbook [cyan]{playbook.get('name')}[/]" if playbook else ""),
        highlight=False,
    )
    table = Table(show_lines=False, header_style="bold")
    for column in ("time", "phase", "step", "target", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    for entry in record.get("timeline") or []:
        offset = entry.get("offset_s")
        time_text = "" if offset is None else f"{'+' if offset >= 0 else ''}{offset:.1f}s"
        outcome = str(entry.get("outcome") or "")
        table.add_row(
            time_text,
            str(entry.get("phase") or ""),
            str(entry.get("step") or ""),
            _short(entry.get("target")),
            f"[{STYLES.get(outcome, 'white')}]{outcome}[/]",
            str(entry.get("detail") or ""),
        )
    console.print(table)
    status = record.get("status")
    color = {"contained": "green", "needs_responder": "bold red", "no_playbook": "yellow"}.get(status or "", "white")
    console.print(f"Outcome: [{color}]{status}[/] — {record.get('reason') or ''}", highlight=False)
    for line in record.get("holds") or []:
        console.print(f"  [green]holds[/]          {line}", highlight=False)
    for line in record.get("does_not_hold") or []:
        console.print(f"  [red]does not hold[/]  {line}", highlight=False)
    metrics = record.get("metrics") or {}

    def fmt(v: Any) -> str:
        return "—" if v is None else f"{v:.1f} s"

    console.print(
        f"MTTD {fmt(metrics.get('mttd_s'))} · MTTC {fmt(metrics.get('mttc_s'))} · MTTR {fmt(metrics.get('mttr_s'))}"
        + ("  (simulated time, sandbox tenant)" if record.get("sandbox") else ""),
        highlight=False,
    )
    files = record.get("record_files") or {}
    if files:
        console.print(f"Record: {files.get('json_path')} · {files.get('markdown_path')}", highlight=False)
    for item in record.get("evidence") or []:
        console.print(f"Evidence: {item.get('path')} ({item.get('rows')} rows, sha256 {item.get('sha256')})", highlight=False)

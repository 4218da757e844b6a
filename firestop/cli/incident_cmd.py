"""``python -m firestop incident list|show|approve|reject|undo`` (local durable host, sandbox tenant)."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from typing import Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, console, fail, print_incident, print_json, safe

incident_app = typer.Typer(help="Incidents: list, show, approve or reject a pending step, undo containment.", no_args_is_help=True)

_RELATIVE = re.compile(r"^(\d+)([smhd])$")


def parse_since(text: str, now: datetime) -> datetime:
    """``2h``/``30m``/``7d``/``45s`` before ``now``, or an ISO 8601 time (UTC if no offset). ValueError otherwise."""
    m = _RELATIVE.match(text.strip())
    if m:
        amount, unit = int(m.group(1)), m.group(2)
        return now - timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _identity(as_: Optional[str], as_json: bool) -> str:
    who = as_ or os.environ.get("FIRESTOP_PRINCIPAL_ID")
    if not who:
        fail("--as: who decides? give your Entra object ID with --as <object-id> (or set FIRESTOP_PRINCIPAL_ID)", EXIT_BAD_INPUT, as_json=as_json)
    return who


def _env():
    from firestop.cli.wiring import sandbox_environment

    return sandbox_environment()


@incident_app.command("list")
def list_incidents(
    status: Optional[str] = typer.Option(None, "--status", help="contained, needs_responder, no_playbook, awaiting_approval, running, failed, terminated."),
    since: Optional[str] = typer.Option(None, "--since", help="Only incidents opened since: 2h, 30m, 7d, or an ISO 8601 time (simulated time in the sandbox)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Incidents, newest first."""
    from rich.table import Table
    from rich.text import Text

    from firestop.cli.incidents import view
    from firestop.cli.output import clean
    from firestop.lifecycle import ORCHESTRATOR_NAME

    env = _env()
    try:
        created_from = None
        if since:
            try:
                created_from = parse_since(since, env.clients.clock.now())
            except ValueError:
                fail(f"--since: {since!r} is not a duration (2h, 30m, 7d) or an ISO 8601 time", EXIT_BAD_INPUT, as_json=as_json)
        rows = [view(s) for s in env.host.list_instances(name=ORCHESTRATOR_NAME, created_from=created_from)]
    finally:
        env.close()
    if status:
        rows = [r for r in rows if r.get("status") == status]
    rows.reverse()
    summary = [
        {
            "incident_id": r.get("incident_id"),
            "status": r.get("status"),
            "playbook": (r.get("playbook") or {}).get("name"),
            "rule_name": (r.get("alert") or {}).get("rule_name"),
            "received_at": r.get("received_at") or r.get("created_at"),
            "pending_step": (r.get("pending_approval") or {}).get("step"),
            "exercise": bool(r.get("exercise")),
        }
        for r in rows
    ]
    if as_json:
        print_json(summary)
        return
    table = Table(header_style="bold")
    for column in ("incident", "status", "playbook", "alert rule", "received", "waiting for"):
        table.add_column(column, overflow="fold")
    for r in summary:
        table.add_row(*(Text(clean(v or "—")) for v in (r["incident_id"], r["status"], r["playbook"], r["rule_name"], r["received_at"], r["pending_step"])))
    console.print(table)


@incident_app.command("show")
def show(
    incident_id: str = typer.Argument(..., metavar="ID"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Timeline, actions, evidence and pending approvals of one incident."""
    from firestop.cli.incidents import exit_code, view
    from firestop.runtime import InstanceNotFound

    env = _env()
    try:
        try:
            incident = view(env.host.get_status(incident_id))
        except InstanceNotFound:
            fail(f"ID: no incident {incident_id!r}; list them with: python -m firestop incident list", EXIT_BAD_INPUT, as_json=as_json)
    finally:
        env.close()
    print_json(incident) if as_json else print_incident(incident)
    raise typer.Exit(exit_code(incident) if incident.get("status") in ("failed",) else 0)


def _decide(incident_id: str, step: str, decision: str, as_: Optional[str], groups: list[str], comment: Optional[str], as_json: bool) -> None:
    from firestop.cli.incidents import decide, exit_code

    who = _identity(as_, as_json)
    env = _env()
    try:
        try:
            incident = decide(env, incident_id, step, decision, who, groups=groups, comment=comment)
        except (LookupError, PermissionError) as exc:
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    finally:
        env.close()
    print_json(incident) if as_json else print_incident(incident)
    raise typer.Exit(exit_code(incident))


@incident_app.command("approve")
def approve(
    incident_id: str = typer.Argument(..., metavar="ID"),
    step: str = typer.Option(..., "--step", help="The step waiting for approval (see incident show)."),
    as_: Optional[str] = typer.Option(None, "--as", help="Your Entra object ID (default FIRESTOP_PRINCIPAL_ID)."),
    group: list[str] = typer.Option([], "--group", help="A group object ID you belong to (repeatable)."),
    comment: Optional[str] = typer.Option(None, "--comment"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Approve a pending step; the incident goes on at once."""
    _decide(incident_id, step, "approve", as_, group, comment, as_json)


@incident_app.command("reject")
def reject(
    incident_id: str = typer.Argument(..., metavar="ID"),
    step: str = typer.Option(..., "--step", help="The step waiting for approval (see incident show)."),
    as_: Optional[str] = typer.Option(None, "--as", help="Your Entra object ID (default FIRESTOP_PRINCIPAL_ID)."),
    group: list[str] = typer.Option([], "--group", help="A group object ID you belong to (repeatable)."),
    comment: Optional[str] = typer.Option(None, "--comment"),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Reject a pending step: it will not act, and the incident needs a responder."""
    _decide(incident_id, step, "reject", as_, group, comment, as_json)


@incident_app.command("undo")
def undo(
    incident_id: str = typer.Argument(..., metavar="ID"),
    step: Optional[str] = typer.Option(None, "--step", help="Undo only this step (default: every reversible step, newest first)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Undo containment of a finished incident (restores the state recorded before each step)."""
    from firestop.cli.undo import UndoRefused, apply_undo, undo_candidates

    if as_json and not yes:
        fail("--yes: undo changes the tenant; confirm with --yes when asking for --json", EXIT_BAD_INPUT, as_json=True)
    env = _env()
    try:
        try:
            record, actions = undo_candidates(env, incident_id, step=step)
        except UndoRefused as exc:
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
        if not yes:
            for action in actions:
                before = ", ".join(f"{k} = {v}" for k, v in (action.get("before") or {}).items() if k != "etag")
                console.print(f"would undo {safe(action['step_id'])} ({safe(action['runbook'])}) on {safe(action.get('target'))}: "
                              f"restore {safe(before) or 'the state before'}", highlight=False, soft_wrap=True)
            if not typer.confirm("Undo these on the sandbox tenant?", default=False):
                fail("not confirmed; nothing was changed", EXIT_BAD_INPUT)
        result = apply_undo(env, incident_id, record, actions)
    finally:
        env.close()
    if as_json:
        print_json(result)
    else:
        for item in result["undone"]:
            mark = "[green]undone[/]" if item["ok"] else "[red]not undone[/]"
            console.print(f"{mark} {safe(item['step_id'])} ({safe(item['runbook'])}): {safe(item['detail'])}", highlight=False)
    raise typer.Exit(0 if all(i["ok"] for i in result["undone"]) else 3)

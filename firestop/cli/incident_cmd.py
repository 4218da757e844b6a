"""``python -m firestop incident list|show|approve|reject|stop|undo`` (local durable host, sandbox tenant).

Who decides (``approve``/``reject``): with ``--azure``, the identity of your
Azure sign-in — the access token's ``oid`` and ``groups`` claims
(:func:`firestop.trust.principal_from_credential`), never a flag. Without it,
on a sandbox incident, ``--as <object id>`` (or ``FIRESTOP_PRINCIPAL_ID``) and
``--group`` are a **simulation** for demos and drills: no sign-in is checked,
the output says so, and they are refused for an incident that acted on real
Azure and whenever the process runs on Azure (App Service). Either way the
decision still counts only if that identity is among the step's approvers.
``undo`` names its responder the same way (sandbox ``--as``; the responder
role is checked) and files that object id in the record and the ledger. ``stop`` names its responder as
``approve`` names its approver (``--azure`` or sandbox ``--as``; the responder role is checked); the orchestrator
records who stopped it and why on the timeline.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, clean, confirm_or_exit, console, fail, human_time, line, print_incident, print_json, safe
from firestop.cli.remote import APP_HELP, AUTH_HELP
from firestop.cli.since_window import parse_since  # noqa: F401 — its old home: callers may import it from here

incident_app = typer.Typer(help="Incidents: list, show, approve or reject a pending step, stop one, undo containment.", no_args_is_help=True)

SIMULATION_AS_HELP = ("SANDBOX SIMULATION: decide as this Entra object ID without signing in (default "
                     "FIRESTOP_PRINCIPAL_ID); only for sandbox incidents, refused with --azure or on Azure.")
SIMULATION_GROUP_HELP = ("SANDBOX SIMULATION: a group object ID to claim (repeatable); grants nothing outside the "
                         "simulation (with --azure your groups come from your sign-in's token).")
AZURE_DECIDE_HELP = ("Decide with your Azure sign-in (DefaultAzureCredential, e.g. after az login): you are the access "
                     "token's object ID (oid), with its group claims.")


def _decider(incident_id: str, as_: Optional[str], groups: list[str], azure: bool, as_json: bool, undo: bool = False,
             stop: bool = False):
    """(environment, object id, groups) of who decides (``undo``: who undoes — ``incident undo`` has no ``--azure``,
    so its messages name ``--app`` instead; ``stop``: who stops); exits 2 naming the flag when that cannot be believed."""
    from firestop.cli.output import err_console
    from firestop.trust import CredentialIdentityError, on_azure, principal_from_credential

    if azure:
        if as_ or groups:
            fail("--as/--group: a sandbox simulation; with --azure you are who your Azure sign-in says (drop --as and --group)",
                 EXIT_BAD_INPUT, as_json=as_json)
        from firestop.cli.wiring import azure_environment

        env = azure_environment()
        try:
            if _incident_on_sandbox(env, incident_id) is True:
                fail(f"--azure: incident {incident_id} ran on the sandbox tenant; {'stop' if stop else 'decide'} it without "
                     "--azure (--as simulates)", EXIT_BAD_INPUT, as_json=as_json)
            caller = principal_from_credential(env.clients.credential)
        except CredentialIdentityError as exc:
            env.close()
            fail(f"--azure: {exc}", EXIT_BAD_INPUT, as_json=as_json)
        except BaseException:
            env.close()
            raise
        return env, caller.object_id, list(caller.groups)
    verb, elsewhere = (("undoes", "for an incident in the deployed app use --app <app URL> (your Entra sign-in)") if undo
                       else ("stops", "on real Azure use --azure (your sign-in stops it)") if stop
                       else ("decides", "on real Azure use --azure (your sign-in decides)"))
    if on_azure():
        fail("--as: running on Azure (App Service); --as is a sandbox simulation — "
             + ("undo through the console or the responders' API (POST /api/incidents/{id}/undo)" if undo
                else "stop through the console or the responders' API (POST /api/incidents/{id}/stop)" if stop
                else "decide through the responders' API or with --azure (your sign-in)"), EXIT_BAD_INPUT, as_json=as_json)
    who = as_ or os.environ.get("FIRESTOP_PRINCIPAL_ID")
    if not who:
        fail(f"--as: who {verb}? in the sandbox simulation give an object ID with --as <object-id> (or set "
             f"FIRESTOP_PRINCIPAL_ID){_who_may(incident_id, undo or stop)}; {elsewhere}", EXIT_BAD_INPUT, as_json=as_json)
    env = _env()
    if _incident_on_sandbox(env, incident_id) is False:
        env.close()
        fail(f"--as: incident {incident_id} acted on real Azure; --as is a sandbox simulation — "
             + ("incident undo has no --azure: restore the before-state its record keeps (incident show "
                f"{incident_id} --json, actions[].before) by hand" if undo
                else "stop it with --azure (your sign-in stops it)" if stop else "decide with --azure (your sign-in decides)"),
             EXIT_BAD_INPUT, as_json=as_json)
    err_console.print(f"SIMULATION: {'undoing' if undo else 'stopping' if stop else 'deciding'} as {who!r}" + (f" with groups {groups!r}" if groups else "")
                      + " (--as: sandbox only, no sign-in checked)", highlight=False, markup=False, soft_wrap=True)
    return env, who, groups


def _who_may(incident_id: str, responder: bool) -> str:
    """For the missing ``--as`` message: ``" — the step's approvers: oid-alice"`` when the sandbox incident waits for
    an approval that lists them, else the object IDs of the local role table (``FIRESTOP_ROLES``, ``roles.json``, else
    the sandbox's demo roles: :func:`firestop.trust.roles.load_table`) holding the role the verb needs (responder for
    undo and stop, approver to decide); "" when none is known (an unknown incident, an unreadable store or table)."""
    from firestop.trust.roles import IMPLIED, Role, load_table

    try:
        env = _env()
    except Exception:  # noqa: BLE001 — only a hint: the refusal itself stands whatever the store does
        return ""
    try:
        status = env.host.get_status(incident_id)
        custom = status.custom_status if isinstance(status.custom_status, dict) else {}
        pending = custom.get("pending_approval")
        table = load_table(env.settings.home, local=True)
    except Exception:  # noqa: BLE001 — unknown incident, unreadable store or table (RoleTableError): no hint
        return ""
    finally:
        env.close()
    if not responder and isinstance(pending, dict) and pending.get("approvers"):
        return " — the step's approvers: " + ", ".join(str(a) for a in pending["approvers"])
    role = Role.responder if responder else Role.approver
    holders = [p for p, roles in table.principals.items() if any(role in IMPLIED[r] for r in roles)]
    return f" — the {role.value}s in {table.source}: {', '.join(holders)}" if holders else ""


def _require_approver(env, who: str, groups: list[str], azure: bool, as_json: bool) -> None:
    """Exit 2 unless ``who`` holds the approver role in the role table — the same check as the responders'
    API (:func:`firestop.trust.roles_held`). With ``--azure`` the sandbox's demo roles never count (only a
    configured table does); app role claims are not in an ARM token, so none are read here."""
    from firestop.trust import TrustError, roles_held

    try:
        roles_held(who, groups, (), "approver", azure=azure, settings=env.settings)
    except TrustError as exc:
        fail(f"{exc.reason}; {exc.fix}", EXIT_BAD_INPUT, as_json=as_json)  # the caller's finally closes env


def _incident_on_sandbox(env, incident_id: str) -> bool | None:
    """True/False: the incident ran on the sandbox tenant / on real Azure (its input says); None if unknown."""
    from firestop.runtime import InstanceNotFound

    try:
        status = env.host.get_status(incident_id)
    except InstanceNotFound:
        return None
    sandbox = status.input.get("sandbox") if isinstance(status.input, dict) else None
    return sandbox if isinstance(sandbox, bool) else None


def _env():
    from firestop.cli.wiring import sandbox_environment

    return sandbox_environment()


def _remote(app: Optional[str], auth: Optional[str], as_json: bool):
    """The deployed app to act on (:mod:`firestop.cli.remote`), or None for local mode; exits 2 for a bad --app."""
    from firestop.cli.remote import RemoteApp, RemoteError, app_url

    try:
        origin = app_url(app)
        return RemoteApp(origin, auth=auth) if origin else None
    except RemoteError as exc:
        fail(str(exc), exc.exit_code, as_json=as_json)


def _remote_call(as_json: bool, call, *args, **kwargs):
    """``call(*args)``; a :class:`~firestop.cli.remote.RemoteError` exits with its code and message."""
    from firestop.cli.remote import RemoteError

    try:
        return call(*args, **kwargs)
    except RemoteError as exc:
        fail(str(exc), exc.exit_code, as_json=as_json)


@incident_app.command("list")
def list_incidents(
    status: Optional[str] = typer.Option(None, "--status", help="One of: contained, resolved, needs_responder, stopped, refused, no_playbook, awaiting_approval, running, failed, terminated."),
    since: Optional[str] = typer.Option(None, "--since", help="Only incidents opened since: 2h, 30m, 7d, or an ISO 8601 time. Counted back from the sandbox clock (simulated time, often days from the wall clock; the list says both), or with --app from this machine's clock."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Incidents, newest first. An incident whose filed record cannot be read is listed as such, named, and the
    command then exits 3 (the rest of the list is still shown)."""
    from rich.table import Table
    from rich.text import Text

    from firestop.cli.incidents import view
    from firestop.cli.output import EXIT_NEEDS_RESPONDER, clean, err_console
    from firestop.cli.since_window import SANDBOX_CLOCK, WALL_CLOCK, text as window_text
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.storage import StoreError

    from firestop.lifecycle.view import INCIDENT_STATUSES, UNREADABLE, containment_state, status_label, status_refusal, unreadable_row

    if status is not None and status not in INCIDENT_STATUSES:  # a status no incident can have matches nothing: exit 2
        fail(f"--status: {status_refusal(status)}", EXIT_BAD_INPUT, as_json=as_json)
    if since:  # refused before any sign-in or read, as --status is (the window itself is counted below)
        _now = datetime.now(timezone.utc)
        _window(since, _now, _now, WALL_CLOCK, as_json)
    remote = _remote(app, auth, as_json)
    if remote is not None:
        rows = _remote_call(as_json, remote.incidents, status)
        if since:
            now = datetime.now(timezone.utc)
            span = _window(since, now, now, WALL_CLOCK, as_json)
            rows = [r for r in rows if (r.get("created_at") or r.get("received_at") or "") >= span["from"]]
    else:
        env = _env()
        try:
            created_from = None
            if since:  # the incidents' times are the sandbox's: counted back from its clock, said so below
                span = _window(since, env.clients.clock.now(), datetime.now(timezone.utc), SANDBOX_CLOCK, as_json)
                created_from = datetime.fromisoformat(span["from"])
            rows = []
            for s in env.host.list_instances(name=ORCHESTRATOR_NAME, created_from=created_from):
                try:
                    rows.append(view(s))
                except StoreError as exc:  # one unreadable record: named in the list, not the end of it
                    rows.append(unreadable_row(s.instance_id, s.created_time, str(exc)))
        finally:
            env.close()
        if status:  # an unreadable record's status is unknown: it stays, named
            rows = [r for r in rows if r.get("status") in (status, UNREADABLE)]
        rows.reverse()
    summary = [
        {
            "incident_id": r.get("incident_id"),
            "status": r.get("status"),
            # after an undo: "undone" / "partly undone" (firestop.lifecycle.view.containment_state), else null
            "containment": containment_state(r),
            "playbook": (r.get("playbook") or {}).get("name"),
            "rule_name": (r.get("alert") or {}).get("rule_name") or r.get("rule_name"),
            "received_at": r.get("received_at") or r.get("created_at"),
            "pending_step": (r.get("pending_approval") or {}).get("step"),
            "exercise": bool(r.get("exercise")),
            # another playbook's run on the same attack: the incident it is a part of (issue 14's one incident per attack)
            "part_of": r.get("part_of"),
            **({"unreadable": True, "reason": r.get("reason")} if r.get("status") == UNREADABLE else {}),
        }
        for r in rows
    ]
    unreadable = [r for r in summary if r.get("unreadable")]
    if as_json:  # with --since: the window and its clock beside the rows (without it, the list as it always was)
        print_json({"incidents": summary, "window": span} if since else summary)
        if unreadable:
            raise typer.Exit(EXIT_NEEDS_RESPONDER)
        return
    if not summary:  # an empty table with only its header reads as a failure at 3 a.m.
        scope = " and ".join(f for f in (f"with status {status}" if status else "", f"since {since}" if since else "") if f)
        console.print(f"No incidents{' ' + scope if scope else ''} (tabletop exercises are never listed).",
                      highlight=False, markup=False)
        if since:
            console.print(clean(window_text(span)), highlight=False, markup=False, soft_wrap=True)
        return
    if since:  # which clock "2h" counted back from: the sandbox's can be days from the wall clock
        console.print(clean(window_text(span)), highlight=False, markup=False, soft_wrap=True)
    table = Table(header_style="bold")
    parts = any(r["part_of"] for r in summary)
    columns = ("incident", "status", "playbook", "alert rule", "received", "waiting for") + (("part of",) if parts else ())
    for column in columns:
        # ids and times are copied into the next command: never folded across lines
        table.add_column(column, overflow="fold", no_wrap=column in ("incident", "received", "part of"))
    for r in summary:
        values = (r["incident_id"], status_label(r), r["playbook"], r["rule_name"], human_time(r["received_at"]), r["pending_step"])
        table.add_row(*(Text(line(v or "—")) for v in values + ((r["part_of"],) if parts else ())))
    console.print(table)
    if unreadable:  # named on stderr with why; exit 3: the list is incomplete until the store is fixed
        for r in unreadable:
            fail_line = f"{r['incident_id']}: the filed record cannot be read ({r.get('reason') or 'no detail'})"
            err_console.print(clean(fail_line), highlight=False, markup=False, soft_wrap=True)
        err_console.print(f"{len(unreadable)} incident record(s) could not be read; fix the records store "
                          f"{_DAMAGED_HINT}, then list again", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_NEEDS_RESPONDER)


def _window(since: str, clock_now: datetime, wall_now: datetime, counted_from: str, as_json: bool) -> dict:
    """:func:`firestop.cli.since_window.window`; exits 2 naming ``--since`` for text that is not a window."""
    from firestop.cli.since_window import window

    try:
        return window(since, clock_now, wall_now, counted_from)
    except ValueError:
        from firestop.cli.since_window import MAX_BACK

        fail(f"--since: {since!r} is not a duration (2h, 30m, 7d; at most {MAX_BACK.days}d) "
             "or an ISO 8601 time (2026-11-29T01:00Z)",
             EXIT_BAD_INPUT, as_json=as_json)


#: How to fix an unreadable filed record: doctor sees a store that does not answer, not a damaged record in one that does.
_DAMAGED_HINT = "(python -m firestop doctor checks that the store answers, not what each record holds)"


@incident_app.command("show")
def show(
    incident_id: str = typer.Argument(..., metavar="ID", help="Incident ID (see: incident list)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Timeline, actions, evidence and pending approvals of one incident."""
    from firestop.cli.incidents import exit_code, view
    from firestop.runtime import InstanceNotFound
    from firestop.storage import StoreError

    remote = _remote(app, auth, as_json)
    if remote is not None:
        incident = _remote_call(as_json, remote.incident, incident_id)
        print_json(incident) if as_json else print_incident(incident, app_origin=remote.origin)
        raise typer.Exit(exit_code(incident) if incident.get("status") in ("failed",) else 0)
    env = _env()
    try:
        try:
            incident = view(env.host.get_status(incident_id))
        except InstanceNotFound:
            fail(f"ID: no incident {incident_id!r}; list them with: python -m firestop incident list", EXIT_BAD_INPUT, as_json=as_json)
        except StoreError as exc:  # the store needs fixing, not a bug of Firestop: said as incident list says it; exit 1
            # as the API's 503 for it is with --app (tests/lifecycle/test_undo_unreadable_records.py)
            fail(f"ID: the filed record of {incident_id} cannot be read ({exc}); fix the records store {_DAMAGED_HINT}, "
                 "then show it again", 1, as_json=as_json)
        if incident.get("pending_approval"):  # trust16: its variants on the card, as the API and the console show them
            from firestop.lifecycle.tally import TALLY_ENTITY
            from firestop.lifecycle.view import with_variants

            found, state = env.host.read_entity_state((TALLY_ENTITY, incident_id))
            incident = with_variants(incident, state) if found else incident
        sandbox = _incident_on_sandbox(env, incident_id)
    finally:
        env.close()
    print_json(incident) if as_json else print_incident(incident, sandbox=sandbox)
    raise typer.Exit(exit_code(incident) if incident.get("status") in ("failed",) else 0)


def _decide(incident_id: str, step: str, decision: str, as_: Optional[str], groups: list[str], comment: Optional[str],
            azure: bool, as_json: bool, app: Optional[str] = None, auth: Optional[str] = None) -> None:
    from firestop.cli.incidents import decide, exit_code
    from firestop.lifecycle.approvals import comment_problem

    problem = comment_problem(comment)
    if problem:
        fail(f"--comment: {problem}", EXIT_BAD_INPUT, as_json=as_json)
    remote = _remote(app, auth, as_json)
    if remote is not None:
        if as_ or groups or azure:
            fail("--as/--group/--azure: with --app you decide as your Entra sign-in (--auth); drop them", EXIT_BAD_INPUT, as_json=as_json)
        _remote_call(as_json, remote.decide, incident_id, step, decision, comment)
        incident = _remote_call(as_json, remote.wait_decided, incident_id, step)
        print_json(incident) if as_json else print_incident(incident, app_origin=remote.origin)
        raise typer.Exit(exit_code(incident))
    env, who, groups = _decider(incident_id, as_, groups, azure, as_json)
    try:
        _require_approver(env, who, groups, azure, as_json)
        try:
            incident = decide(env, incident_id, step, decision, who, groups=groups, comment=comment)
        except (LookupError, PermissionError) as exc:
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    finally:
        env.close()
    print_json(incident) if as_json else print_incident(incident, sandbox=not azure)
    raise typer.Exit(exit_code(incident))


@incident_app.command("approve")
def approve(
    incident_id: str = typer.Argument(..., metavar="ID", help="Incident ID (see: incident list)."),
    step: str = typer.Option(..., "--step", help="The step waiting for approval (see incident show)."),
    as_: Optional[str] = typer.Option(None, "--as", help=SIMULATION_AS_HELP),
    group: list[str] = typer.Option([], "--group", help=SIMULATION_GROUP_HELP),
    azure: bool = typer.Option(False, "--azure", help=AZURE_DECIDE_HELP),
    comment: Optional[str] = typer.Option(None, "--comment", help="Why you decided (kept in the record and the ledger; at most 1,000 characters)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Approve a pending step; the incident goes on at once. You must be among the step's approvers: your Azure
    sign-in with --azure, or — in a sandbox simulation only — the object ID given with --as."""
    _decide(incident_id, step, "approve", as_, group, comment, azure, as_json, app, auth)


@incident_app.command("reject")
def reject(
    incident_id: str = typer.Argument(..., metavar="ID", help="Incident ID (see: incident list)."),
    step: str = typer.Option(..., "--step", help="The step waiting for approval (see incident show)."),
    as_: Optional[str] = typer.Option(None, "--as", help=SIMULATION_AS_HELP),
    group: list[str] = typer.Option([], "--group", help=SIMULATION_GROUP_HELP),
    azure: bool = typer.Option(False, "--azure", help=AZURE_DECIDE_HELP),
    comment: Optional[str] = typer.Option(None, "--comment", help="Why you decided (kept in the record and the ledger; at most 1,000 characters)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Reject a pending step: it will not act, and the incident needs a responder. Who rejects: your Azure sign-in
    with --azure, or — in a sandbox simulation only — the object ID given with --as."""
    _decide(incident_id, step, "reject", as_, group, comment, azure, as_json, app, auth)


@incident_app.command("stop")
def stop(
    incident_id: str = typer.Argument(..., metavar="ID", help="Incident ID (see: incident list)."),
    # required, but checked below rather than by click, whose refusal names neither what to give nor why
    reason: Optional[str] = typer.Option(None, "--reason", metavar="TEXT", help="Required: why you stop it (kept on the "
                                         "timeline; at most 500 characters), e.g. 'false positive: planned key rotation'."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_: Optional[str] = typer.Option(None, "--as", help=SIMULATION_AS_HELP.replace("decide as", "stop as")),
    group: list[str] = typer.Option([], "--group", help=SIMULATION_GROUP_HELP),
    azure: bool = typer.Option(False, "--azure", help=AZURE_DECIDE_HELP.replace("Decide", "Stop")),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Stop a running incident or one waiting for an approval: no further step runs (what already ran stays; undo it
    with incident undo). You must hold the responder role — with --app as your Entra sign-in, with --azure as your Azure
    sign-in, in a sandbox simulation as the object ID given with --as. Exit 0 once it is stopped."""
    from firestop.cli.incidents import exit_code, stop as stop_incident
    from firestop.cli.remote import refuse_local_flags
    from firestop.lifecycle.incident import MAX_STOP_REASON
    from firestop.trust import TrustError, roles_held

    if reason is None:
        fail(f"incident stop needs --reason TEXT: why you stop it, kept in the record (1 to {MAX_STOP_REASON} printable "
             "characters), e.g. --reason 'false positive: planned key rotation'", EXIT_BAD_INPUT, as_json=as_json)
    reason = reason.strip()
    if not reason or len(reason) > MAX_STOP_REASON or not reason.isprintable():
        fail(f"--reason: say why in 1 to {MAX_STOP_REASON} printable characters, e.g. --reason 'false positive: planned key "
             "rotation'", EXIT_BAD_INPUT, as_json=as_json)
    if as_json and not yes:
        fail("--yes: stop ends the incident's containment; confirm with --yes when asking for --json", EXIT_BAD_INPUT, as_json=True)
    remote = _remote(app, auth, as_json)
    if remote is not None:
        refuse_local_flags(as_json, as_=as_, group=group, azure=azure)
        if not yes:
            _stop_confirm(_remote_call(as_json, remote.incident, incident_id), f"the app ({remote.origin})",
                          flags=f" --app {remote.origin}")
        _remote_stop(remote, incident_id, reason, as_json)
        incident = _remote_call(as_json, remote.wait_finished, incident_id)
        print_json(incident) if as_json else print_incident(incident, app_origin=remote.origin)
        raise typer.Exit(0 if incident.get("status") == "stopped" else exit_code(incident))
    env, who, groups = _decider(incident_id, as_, group, azure, as_json, stop=True)
    try:
        try:
            roles_held(who, groups, (), "responder", azure=azure, settings=env.settings)
        except TrustError as exc:
            fail(f"{'--azure' if azure else '--as'}: {exc.reason}; {exc.fix}", EXIT_BAD_INPUT, as_json=as_json)
        if not yes:
            from firestop.cli.incidents import view
            from firestop.runtime import InstanceNotFound

            try:
                _stop_confirm(view(env.host.get_status(incident_id)), "the sandbox tenant" if not azure else "Azure",
                              flags=f" --as {as_}" if as_ else "")
            except InstanceNotFound:
                fail(f"ID: no incident {incident_id!r}; list them with: python -m firestop incident list", EXIT_BAD_INPUT,
                     as_json=as_json)
        try:
            incident = stop_incident(env, incident_id, who, reason, groups=groups)
        except LookupError as exc:
            fail(_with_as(str(exc), as_), EXIT_BAD_INPUT, as_json=as_json)
    finally:
        env.close()
    print_json(incident) if as_json else print_incident(incident, sandbox=not azure)
    raise typer.Exit(0 if incident.get("status") == "stopped" else exit_code(incident))


def _remote_stop(remote, incident_id: str, reason: str, as_json: bool) -> None:
    """Send the stop through the app; a 409 (it had already finished) is said as the local stop says it (newuser12:
    the route's "has already finished (Completed); nothing to stop" named the runtime status and no undo command):
    the incident is read (reader role) for its outcome and the undo command with ``--app``."""
    from firestop.cli.remote import RemoteError

    try:
        remote.stop(incident_id, reason)
    except RemoteError as exc:
        if exc.status == 409:
            _refuse_finished(_remote_call(as_json, remote.incident, incident_id), flags=f" --app {remote.origin}",
                             as_json=as_json)
        fail(str(exc), exc.exit_code, as_json=as_json)


def _refuse_finished(incident: dict, *, flags: str = "", as_json: bool = False) -> None:
    """Exit 2 (one line, nothing sent) when ``incident`` (its view) has already finished: its outcome and the undo
    command with ``flags`` (`` --as OID``, `` --app URL``), as :func:`_stop_confirm` and the local stop say it."""
    status = incident.get("status")
    if status not in ("running", "awaiting_approval"):
        from firestop.lifecycle.undo import undo_left_hint

        fail(f"ID: incident {incident.get('incident_id')} has already finished ({status}); nothing to stop "
             f"({undo_left_hint(str(incident.get('incident_id')), incident, flags)})", EXIT_BAD_INPUT, as_json=as_json)


def _stop_confirm(incident: dict, where: str, *, flags: str = "") -> None:
    """Say what a stop does to ``incident`` (its view) and ask; anything but yes exits 2, nothing sent. A finished
    incident exits 2 before asking, naming the undo command with ``flags`` (`` --as OID``, `` --app URL``: as the
    stop was given, so that it runs as typed)."""
    status = incident.get("status")
    _refuse_finished(incident, flags=flags)
    pending = (incident.get("pending_approval") or {}).get("step")
    console.print(f"would stop incident {safe(incident.get('incident_id'))} ({safe(status)}"
                  + (f", waiting for approval of {safe(pending)}" if pending else "") + "): no further step runs; "
                  "what already ran stays in place (incident undo restores it)", highlight=False, soft_wrap=True)
    confirm_or_exit(f"Stop it on {where}?", "nothing was sent")


@incident_app.command("undo")
def undo(
    incident_id: str = typer.Argument(..., metavar="ID", help="Incident ID (see: incident list)."),
    step: Optional[str] = typer.Option(None, "--step", help="Undo only this step (default: every reversible step, newest first)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_: Optional[str] = typer.Option(None, "--as", help=SIMULATION_AS_HELP.replace("decide as", "undo as")),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what the undo would restore: changes nothing, asks nothing, exit 0."),
) -> None:
    """Undo containment of a finished incident (restores the state recorded before each step). You must hold the
    responder role — with --app as your Entra sign-in, in a sandbox simulation as the object ID given with --as; the
    record and the ledger name you. --dry-run: the preview only (with --json: the app's preview shape plus
    ``"dry_run": true``), exit 0."""
    from firestop.cli.remote import refuse_local_flags
    from firestop.cli.undo import (AlreadyReleased, UndoBusy, UndoRefused, UndoStale, not_undoable, outside_step, reliance_first,
                                   undo_candidates, undo_locally)
    from firestop.trust import TrustError, roles_held

    if as_json and not yes and not dry_run:
        fail("--yes: undo changes the tenant; confirm with --yes when asking for --json (or see it first with --dry-run)",
             EXIT_BAD_INPUT, as_json=True)
    remote = _remote(app, auth, as_json)
    if remote is not None:
        refuse_local_flags(as_json, as_=as_)
        preview = None
        if not yes or dry_run:
            preview = _remote_call(as_json, remote.undo_preview, incident_id, step)
            if preview.get("already_released"):
                _undo_done(preview, as_json)
            if dry_run:
                _dry_run_preview(incident_id, step, preview, as_json, flags=f" --app {remote.origin}", by_app=True)
            _undo_preview(preview.get("actions") or [], preview.get("stays") or [], f"the app's tenant ({remote.origin})",
                          step=step, others=preview.get("others"), by_app=True)
        result = _remote_call(as_json, remote.undo, incident_id, step)
        if preview is None and _needs_by_hand(result.get("undone")):  # the commands need the before-states the preview holds
            from firestop.cli.remote import RemoteError

            try:
                preview = remote.undo_preview(incident_id, step)
            except RemoteError:  # only for the commands: the result is said whatever this answers
                preview = None
        _undo_done(result, as_json, by_app=(preview or {}).get("actions") or [])
    env, who, groups = _decider(incident_id, as_, [], False, as_json, undo=True)
    try:
        try:
            roles_held(who, groups, (), "responder", azure=False, settings=env.settings)
        except TrustError as exc:
            fail(f"--as: {exc.reason}; {exc.fix}", EXIT_BAD_INPUT, as_json=as_json)
        try:
            record, actions = undo_candidates(env, incident_id, step=step)
        except AlreadyReleased as exc:  # a retried release: already done (idempotent), exit 0
            _undo_done({"incident_id": incident_id, "undone": [], "already_released": exc.step, "detail": str(exc)}, as_json)
        except UndoRefused as exc:  # not finished: the stop it names carries the --as given, as typed it runs
            fail(_with_as(str(exc), as_), EXIT_BAD_INPUT, as_json=as_json)
        try:  # refuse before asking: a record the ring does not vouch for, or a later or open incident relying on it
            reliance_first(env, incident_id, record, actions)  # (advisory: the lease's checks decide)
        except UndoStale as exc:  # a revision filed since the record was read: as the undo answers it, exit 2
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
        except UndoRefused as exc:
            fail(_with_as(str(exc), as_), 3, as_json=as_json)
        others = None if step is None else [{**o, "why": _with_as(o["why"], as_)} for o in outside_step(incident_id, record, step)]
        if dry_run:  # the app's preview shape (firestop.functions.http_responders: GET …/undo)
            _dry_run_preview(incident_id, step, {
                "incident_id": incident_id, "stays": not_undoable(record), "others": others or [],
                "actions": [{"step_id": a.get("step_id"), "runbook": a.get("runbook"), "target": a.get("target"),
                             "before": a.get("before") or {}, "release": not a.get("changed")} for a in actions]}, as_json, as_)
        if not yes:
            _undo_preview(actions, not_undoable(record), "the sandbox tenant", step=step, others=others)
        try:
            result = undo_locally(env, incident_id, record, actions, by=who)
        except UndoStale as exc:  # another undo filed a revision while this one waited (RT8-03): as remote, exit 2
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
        except UndoRefused as exc:  # busy (a containment holds the resource) or relied on by a later incident
            fail(_with_as(str(exc), as_), 3, as_json=as_json)
    finally:
        env.close()
    _undo_done(result, as_json)


def _with_as(message: str, as_: Optional[str]) -> str:
    """``message`` with ``--as AS_`` added to the ``incident undo ID [--step S]`` or ``incident stop ID --reason TEXT``
    command it tells the responder to run (a release of the later incident's step, the undo of a finished incident,
    the stop of one not finished), so that it runs as typed: without it, the local command asks who undoes. Unchanged when ``--as`` was not given (FIRESTOP_PRINCIPAL_ID answers it) or the message names no such
    command."""
    import re

    if not as_:
        return message
    return re.sub(r"(python -m firestop incident (?:undo [\w.-]+(?: --step [\w.-]+)?|stop [\w.-]+ --reason TEXT))(?![\w.-]| --step| --as)",
                  lambda m: f"{m.group(1)} --as {as_}", message)


#: Through ``--app`` the undo runs as the app's identity; for a step whose undo needs what Firestop's role never
#: holds (:func:`runbooks.permissions.undo_needs`: a revoked role assignment) Azure refuses it (403).
BY_APP_REFUSED = ("through --app the undo runs as the app's identity, which never holds that permission: on Azure "
                  "this step is not restored (403); restore it with your own sign-in holding one of those roles")


def _by_hand(action: dict) -> list[str]:
    """The commands a person runs to restore ``action`` (an undo preview's action: ``runbook``, ``before``) when the
    app's identity cannot: :func:`runbooks.identity.restore_commands` for a revoked role assignment; [] otherwise."""
    from runbooks.identity import RevokeRoleAssignment, restore_commands

    return restore_commands(action.get("before")) if action.get("runbook") == RevokeRoleAssignment.name else []


def _needs_by_hand(undone: object) -> bool:
    """Whether a remote undo's answer has a step not undone whose undo Firestop's role never may do."""
    from runbooks.permissions import undo_needs

    return any(isinstance(i, dict) and not i.get("ok") and undo_needs(str(i.get("runbook") or ""))
               for i in (undone if isinstance(undone, list) else []))


def _print_by_hand(commands: list[str]) -> None:
    for command in commands:
        console.print(f"    {clean(command)}", highlight=False, markup=False, soft_wrap=True)


def _undo_preview(actions: list[dict], stays: list[dict], where: str, *, step: Optional[str] = None,
                  others: Optional[list[dict]] = None, ask: bool = True, by_app: bool = False) -> None:
    """Print what the undo would restore or release and what it leaves, then ask; anything but yes exits 2, nothing
    changed. Without ``step``: ``stays``, the changes no undo can restore. With ``step``: ``others``
    (:func:`~firestop.lifecycle.undo.outside_step`: each other step, and how to undo or release it), as not part of
    this one — an app older than this CLI sends none, then ``stays`` as before. ``by_app``: the undo goes through
    ``--app`` (the app's identity acts): a step the app may not restore says so, with the command that does
    (:data:`BY_APP_REFUSED`, :func:`_by_hand`)."""
    from firestop.cli.state_text import restore_lines
    from runbooks.permissions import undo_needs

    releases = [a for a in actions if a.get("release") or ("changed" in a and not a.get("changed"))]
    for action in actions:
        if action in releases:
            console.print(f"would release {safe(action.get('step_id'))} ({safe(action.get('runbook'))}) on {safe(action.get('target'))}: "
                          "it found that state in place and changed nothing; this incident stops relying on it, "
                          "nothing is restored", highlight=False, soft_wrap=True)
            continue
        head, below = restore_lines(action.get("before"))
        console.print(f"would undo {safe(action.get('step_id'))} ({safe(action.get('runbook'))}) on {safe(action.get('target'))}: "
                      f"restore{' ' + safe(head) if head else ':'}", highlight=False, soft_wrap=True)
        for line in below:
            console.print(clean(line), highlight=False, markup=False, soft_wrap=True)
        needs = undo_needs(str(action.get("runbook") or ""), str(action.get("target") or "") or None)
        if needs:
            console.print(f"  {clean(needs)}", highlight=False, markup=False, soft_wrap=True)
            commands = _by_hand(action) if by_app else []
            if commands:
                console.print(f"  {BY_APP_REFUSED}:", highlight=False, markup=False, soft_wrap=True)
                _print_by_hand(commands)
    what = "release" if actions and len(releases) == len(actions) else "undo"
    if step is not None and others is not None:
        for other in others:
            console.print(f"not part of this {what}: {safe(other.get('step_id'))} ({safe(other.get('runbook'))}) — {safe(other.get('why'))}",
                          highlight=False, soft_wrap=True)
    else:
        for stays_as_is in stays:
            console.print(f"stays as it is: {safe(stays_as_is.get('step_id'))} ({safe(stays_as_is.get('runbook'))}) — {safe(stays_as_is.get('why'))}",
                          highlight=False, soft_wrap=True)
    these = "this" if len(actions) == 1 else "these"
    if ask:
        confirm_or_exit(f"{what.capitalize()} {these} on {where}?")


def _dry_run_preview(incident_id: str, step: Optional[str], preview: dict, as_json: bool, as_: Optional[str] = None,
                     flags: str = "", by_app: bool = False) -> None:
    """``incident undo --dry-run``: the preview (``preview``: the app's preview shape) printed — as JSON with
    ``"dry_run": true`` (``by_app``: each action the app may not restore with ``"restore_by_hand": [command]``) —
    then exit 0; nothing was changed, nothing asked."""
    if as_json:
        if by_app:
            preview = {**preview, "actions": [{**a, "restore_by_hand": _by_hand(a)} if isinstance(a, dict) and _by_hand(a) else a
                                              for a in preview.get("actions") or []]}
        print_json({**preview, "dry_run": True, "exit_code": 0})
        raise typer.Exit(0)
    _undo_preview(preview.get("actions") or [], preview.get("stays") or [], "", step=step, others=preview.get("others"),
                  ask=False, by_app=by_app)
    again = _with_as(f"python -m firestop incident undo {incident_id}" + (f" --step {step}" if step else ""), as_) + flags
    console.print(f"dry run: nothing was changed; to do it: {safe(again)}", highlight=False, soft_wrap=True)
    raise typer.Exit(0)


def _undo_done(result: dict, as_json: bool, by_app: Optional[list[dict]] = None) -> None:
    """Print the undo's outcome; exit 0 when every step was undone, else 3. ``by_app``: the undo went through
    ``--app``, with the preview's actions (their before-states): a step not undone that the app's identity may not
    restore says so with the command that does (``--json``: ``"restore_by_hand": [command]`` on that item)."""
    from runbooks.permissions import undo_needs

    before = {a.get("step_id"): a for a in by_app or [] if isinstance(a, dict)}
    by_hand = {}
    for item in result.get("undone") or []:
        if by_app is not None and not item.get("ok") and undo_needs(str(item.get("runbook") or "")):
            by_hand[item.get("step_id")] = _by_hand(before.get(item.get("step_id")) or {"runbook": item.get("runbook")})
    if as_json:
        print_json({**result, "undone": [{**i, "restore_by_hand": by_hand[i.get("step_id")]} if i.get("step_id") in by_hand else i
                                         for i in result.get("undone") or []]} if by_hand else result)
    else:
        if result.get("already_released"):
            console.print(safe(result.get("detail")), highlight=False, soft_wrap=True)
        for item in result.get("undone") or []:
            mark = "[red]not undone[/]" if not item.get("ok") else "[green]released[/]" if item.get("released") else "[green]undone[/]"
            console.print(f"{mark} {safe(item.get('step_id'))} ({safe(item.get('runbook'))}): {safe(item.get('detail'))}", highlight=False,
                          soft_wrap=True)
            if item.get("step_id") in by_hand:
                console.print(f"  {BY_APP_REFUSED}" + (":" if by_hand[item.get("step_id")] else " (az role assignment create; "
                              f"its before-state: python -m firestop incident show {line(result.get('incident_id'))} --json, "
                              "actions[].before)"),
                              highlight=False, markup=False, soft_wrap=True)
                _print_by_hand(by_hand[item.get("step_id")])
    raise typer.Exit(0 if all(i.get("ok") for i in result.get("undone") or []) else 3)

"""``python -m firestop runbook list|plan`` and ``python -m firestop permissions``.

``runbook list [--json]``
    Every runbook: name, summary, target type, whether it changes the target
    and can be undone, and the Azure actions it needs.

``runbook plan NAME --target RESOURCE_ID [--param key=value ...] [--json]``
    The runbook's dry-run on the sandbox tenant under ``FIRESTOP_HOME/sandbox``
    (:func:`firestop.cli.wiring.sandbox_environment`): the state now and the
    exact change ``apply`` would make. Changes nothing. ``--param`` values are
    JSON when they parse as JSON (``--param allow_ips='["192.0.2.1"]'``), else
    text; a key given twice collects a list (``--param ips=192.0.2.1 --param ips=192.0.2.2``).

``ledger verify INCIDENT [--json]``
    Check the incident's hash-chained ledger (``FIRESTOP_HOME/ledger``,
    :mod:`runbooks.ledger`) and that every evidence file it names still matches
    its SHA-256. Exit 0 intact, 3 broken or tampered (a responder must look), 2 no such ledger.

``permissions [--playbooks DIR] [--scope SCOPE ...] [--name NAME]``
    The Azure custom role (``az role definition create`` JSON) with exactly the
    actions the playbooks in ``DIR`` (default ``FIRESTOP_PLAYBOOKS``) need; see
    :mod:`runbooks.permissions`. ``AssignableScopes`` defaults to the sandbox
    subscription: pass ``--scope /subscriptions/<id>`` for a real one.

Exit codes: 0 done, 2 bad input (one line naming the field and the fix), 1 internal error
(and Azure refusing or failing a plan's reads).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, clean, console, fail, print_json

runbook_app = typer.Typer(help="Runbooks: list them, or dry-run one on the sandbox tenant.", no_args_is_help=True)
ledger_app = typer.Typer(help="The hash-chained ledger of an incident's evidence and actions.", no_args_is_help=True)


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` → params; values parsed as JSON when they are JSON; a key given twice → list.

    ValueError naming the bad item and the fix.
    """
    collected: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--param: {item!r} is not key=value; e.g. --param mode=disable_public_access")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        collected.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in collected.items()}


def _cli_message(message: str) -> str:
    """A runbook's error in CLI terms: ``params.x`` → ``--param x``, ``target:`` → ``--target:``."""
    if message.startswith("params."):
        return "--param " + message[len("params."):]
    if message.startswith("target:"):
        return "--target" + message[len("target"):]
    return message


@runbook_app.command("list")
def runbook_list(as_json: bool = typer.Option(False, "--json", help="Print the runbooks as JSON.")) -> None:
    """Every runbook with its summary, target type and the Azure actions it needs."""
    from runbooks import all_runbooks

    rows = [
        {
            "name": cls.name,
            "summary": cls.summary,
            "target_type": cls.target_type,
            "mutating": cls.mutating,
            "reversible": cls.reversible,
            "permissions": list(cls.permissions),
            "params": cls.Params.model_json_schema(),
        }
        for cls in all_runbooks()
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        effect = ("changes the target" if row["mutating"] else "read-only") + (", undoable" if row["reversible"] and row["mutating"] else "")
        console.print(f"[bold]{row['name']}[/]  ({row['target_type'] or 'no target'}; {effect})", highlight=False, soft_wrap=True)
        console.print(f"  {row['summary']}", highlight=False, markup=False, soft_wrap=True)
        console.print(f"  needs: {', '.join(row['permissions']) or 'no Azure permission'}", highlight=False, markup=False, soft_wrap=True)


@runbook_app.command("plan")
def runbook_plan(
    name: str = typer.Argument(..., metavar="NAME", help="Runbook name, e.g. network.lock (see: runbook list)."),
    target: Optional[str] = typer.Option(None, "--target", metavar="RESOURCE_ID", help="ARM resource ID to act on."),
    param: list[str] = typer.Option([], "--param", metavar="KEY=VALUE", help="Runbook parameter (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the runbook's answer as JSON."),
) -> None:
    """Dry-run NAME on the sandbox tenant: the state now and the change apply would make (changes nothing)."""
    from runbooks import UnknownRunbook, get_runbook

    try:
        runbook = get_runbook(name)
    except UnknownRunbook as exc:
        fail(f"NAME: {exc}", EXIT_BAD_INPUT, as_json=as_json)
    try:
        params = parse_params(param)
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    if runbook.target_type is not None and not target:
        fail(f"--target: {name} acts on a {runbook.target_type} resource; give its resource ID (/subscriptions/...)",
             EXIT_BAD_INPUT, as_json=as_json)
    try:
        answer = _plan_on_sandbox(name, target, params)
    except Exception as exc:  # noqa: BLE001
        fail(f"internal error: {type(exc).__name__}: {clean(exc)}", EXIT_INTERNAL, as_json=as_json)
    if not answer.get("ok"):
        error = answer.get("error") or {}
        code = EXIT_BAD_INPUT if error.get("kind") in ("invalid", "not_found") else EXIT_INTERNAL
        message = _cli_message(str(error.get("message") or "the plan failed"))
        if as_json:
            print_json({**answer, "exit_code": code})
            raise typer.Exit(code)
        fail(f"{error.get('kind')}: {clean(message)}", code)
    if as_json:
        print_json(answer)
        return
    _print_plan(answer["result"])


def _plan_on_sandbox(name: str, target: Optional[str], params: dict[str, Any]) -> dict[str, Any]:
    from firestop.cli.wiring import sandbox_environment
    from runbooks.dispatch import execute

    env = sandbox_environment()
    try:
        request = {"runbook": name, "action": "plan", "target": target, "params": params,
                   "incident_id": "manual", "step_id": "cli-plan"}
        return execute(request, clients=env.clients, settings=env.settings)
    finally:
        env.close()


def _compact(value: Any) -> str:
    return clean(json.dumps(value, sort_keys=True, default=str)) if not isinstance(value, str) else clean(value)


def _print_plan(plan: dict[str, Any]) -> None:
    console.print(f"Plan: {clean(plan['runbook'])} on {clean(plan.get('target') or '(no target)')}", highlight=False, markup=False)
    console.print("State now:", highlight=False, markup=False)
    for key, value in (plan.get("before") or {}).items():
        console.print(f"  {clean(key)}: {_compact(value)}", highlight=False, markup=False)
    changes = plan.get("changes") or []
    if changes:
        console.print("Would change:", highlight=False, markup=False)
        for change in changes:
            console.print(f"  {clean(change['field'])}: {_compact(change.get('before'))} → {_compact(change.get('after'))}",
                          highlight=False, markup=False)
    else:
        console.print("Would change: nothing", highlight=False, markup=False)
    for note in plan.get("notes") or []:
        console.print(f"Note: {clean(note)}", highlight=False, markup=False)


def permissions(
    playbooks: Optional[Path] = typer.Option(None, "--playbooks", metavar="DIR", help="Playbook folder (default FIRESTOP_PLAYBOOKS)."),
    scope: list[str] = typer.Option([], "--scope", metavar="SCOPE", help="AssignableScopes entry (repeatable; default: the sandbox subscription)."),
    name: str = typer.Option("Firestop responder", "--name", help="Role name."),
) -> None:
    """Print the Azure custom role (az role definition create JSON) with exactly the actions the playbooks need."""
    from firestop.playbooks import PlaybookError, load_playbooks
    from firestop.settings import Settings
    from runbooks.permissions import role_definition

    folder = playbooks or Settings.from_env().playbooks_dir
    if not folder.is_dir():
        fail(f"--playbooks: {folder} is not a directory; give the folder of playbook YAML files", EXIT_BAD_INPUT)
    for entry in scope:
        if not entry.lower().startswith(("/subscriptions/", "/providers/microsoft.management/managementgroups/")):
            fail(f"--scope: {entry!r} is not a subscription, resource group or management group ID; e.g. /subscriptions/<id>", EXIT_BAD_INPUT)
    try:
        loaded = load_playbooks(folder)
    except PlaybookError as exc:
        fail(f"--playbooks: {clean(str(exc).splitlines()[0])} (fix the file, or check it with: playbook validate {folder})", EXIT_BAD_INPUT)
    if not loaded:
        fail(f"--playbooks: no playbook files (*.yaml, *.yml) in {folder}", EXIT_BAD_INPUT)
    scopes = scope or [f"/subscriptions/{_sandbox_subscription()}"]
    print_json(role_definition(loaded, scopes, name=name))


def _sandbox_subscription() -> str:
    from firestop.sandbox.seed import read_seed_file

    return str(read_seed_file()["subscription_id"])


@ledger_app.command("verify")
def ledger_verify(
    incident: str = typer.Argument(..., metavar="INCIDENT", help="Incident ID, e.g. inc-0123456789abcdef."),
    as_json: bool = typer.Option(False, "--json", help="Print the check as JSON."),
) -> None:
    """Check INCIDENT's ledger: every hash, every link, every evidence file. Exit 0 intact, 3 tampered or broken."""
    from firestop.cli.output import EXIT_NEEDS_RESPONDER
    from firestop.evidence import EvidenceStore
    from firestop.settings import Settings
    from runbooks.ledger import Ledger

    settings = Settings.from_env()
    ledger = Ledger(settings.ledger_dir)
    if not ledger.path(incident).exists():
        fail(f"INCIDENT: no ledger for {incident!r} in {settings.ledger_dir}; check the incident ID and FIRESTOP_HOME",
             EXIT_BAD_INPUT, as_json=as_json)
    check = ledger.verify(incident, evidence_folder=EvidenceStore(settings.evidence_dir).folder(incident))
    result = {"incident_id": incident, "ok": check.ok, "entries": check.entries, "head": check.head,
              "problems": check.problems, "path": str(ledger.path(incident))}
    if as_json:
        print_json(result)
    elif check.ok:
        console.print(f"ledger intact: {check.entries} entries, head {check.head}", highlight=False, markup=False)
    else:
        console.print(f"ledger BROKEN after {check.entries} entries: {'; '.join(check.problems)}", highlight=False, markup=False)
    raise typer.Exit(0 if check.ok else EXIT_NEEDS_RESPONDER)


def register(app: typer.Typer) -> None:
    """Add ``runbook``, ``ledger`` and ``permissions`` to the root CLI."""
    app.add_typer(runbook_app, name="runbook")
    app.add_typer(ledger_app, name="ledger")
    app.command("permissions")(permissions)

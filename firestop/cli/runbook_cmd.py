"""``python -m firestop runbook list|plan|run`` and ``python -m firestop permissions``.

``runbook list [--json]``
    Every runbook: name, summary, target type, whether it changes the target
    and can be undone, and the Azure actions it needs.

``runbook plan NAME --target RESOURCE_ID [--param key=value ...] [--json] [--tenant FILE | --azure]``
    The runbook's dry-run: the state now and the exact change ``apply`` would
    make. Changes nothing. On the sandbox tenant under ``FIRESTOP_HOME/sandbox``
    by default (``--tenant FILE`` seeds it when it has no state yet), or on real
    Azure with ``DefaultAzureCredential`` (``--azure``: reads only, no prompt).
    ``--param`` values are JSON when they parse as JSON
    (``--param allow_ips='["192.0.2.1"]'``), else text; a key given twice
    collects a list (``--param ips=192.0.2.1 --param ips=192.0.2.2``).

``runbook run NAME --target RESOURCE_ID [--param key=value ...] [--yes] [--json] [--tenant FILE | --azure]``
    A responder's manual run: plan, show the exact change and ask for
    confirmation (unless ``--yes``), apply, then verify by reading the target
    back. ``--json`` never prompts, so it needs ``--yes`` (refused otherwise).
    ``--azure`` first asks whether to act on real Azure at all (unless ``--yes``).
    The run is recorded on the hash-chained ledger of the incident
    ``manual-<YYYY-MM-DD>`` (the date on the clients' clock, UTC), step
    ``cli-run-<HHMMSS>-<4 hex>`` — one step id per run, so a second run the same
    day acts again instead of finding the first run's idempotency marker.
    A Microsoft Graph runbook (``identity.disable_service_principal``, ``revoke_sessions``,
    ``confirm_compromised``) needs ``--target`` an Azure OpenAI account Firestop protects (its identity holds
    a containment write action there: ``firestop infra --account``) on which the principal holds a role assignment, unless the caller is admin (:mod:`runbooks.graph_scope`, RT18-02): refused with exit 2
    before anything is applied; ``runbook plan`` still shows the plan and notes the refusal.
    Exit 0 applied and verified, 2 bad input / not confirmed / the runbook
    refused its input / refused to a non-admin, 3 applied but not verified (a responder must look),
    1 Azure refused or failed (forbidden, throttled, conflict, ...) or an internal error.

``ledger verify INCIDENT [--json]``
    Check the incident's hash-chained ledger (``FIRESTOP_HOME/ledger``,
    :mod:`runbooks.ledger`) and that every evidence file it names still matches
    its SHA-256. Exit 0 intact, 3 broken or tampered (a responder must look), 2 no such ledger.

``permissions --scope SCOPE [--scope ...] | --sandbox  [--playbooks DIR] [--name NAME]``
    The Azure custom role (``az role definition create`` JSON) with exactly the
    actions the playbooks in ``DIR`` (default ``FIRESTOP_PLAYBOOKS``) need; see
    :mod:`runbooks.permissions` (it never holds roleAssignments/write,
    roleDefinitions/write, elevateAccess or a wildcard). ``--scope`` (a
    subscription, resource group or management group ID) is required — exit 2
    naming it when missing; ``--sandbox`` uses the sandbox tenant's subscription
    instead (for rehearsing with ``tenant.enforce_role``).

Exit codes (list, plan, permissions): 0 done, 2 bad input (one line naming the field and the fix),
1 internal error (and Azure refusing or failing a plan's reads).
"""

from __future__ import annotations

import json
import re
import shlex
import traceback
from pathlib import Path
from typing import Any, Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_NEEDS_RESPONDER, clean, confirm_or_exit, console, fail, print_json
from firestop.cli.remote import APP_HELP, AUTH_HELP

runbook_app = typer.Typer(help="Runbooks: list them, dry-run one, or run one (sandbox tenant by default, or --azure).",
                          no_args_is_help=True)
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


def _lists_where_expected(model: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with a single value wrapped in a list where the runbook's parameter is a list: ``--param
    ips=203.0.113.7`` given once means ``["203.0.113.7"]``, as given twice it collects a list (it was refused with
    "Input should be a valid list"). ``model``: the runbook's pydantic ``Params`` (None: unchanged)."""
    import typing

    fields = getattr(model, "model_fields", None) or {}
    out = dict(params)
    for key, value in params.items():
        field = fields.get(key)
        if field is None or isinstance(value, list):
            continue
        kinds = [field.annotation, *typing.get_args(field.annotation)]  # list[str] and list[str] | None alike
        if any(typing.get_origin(kind) in (list, typing.List) or kind is list for kind in kinds):
            out[key] = [value]
    return out


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


AZURE_HELP = "Act on real Azure with DefaultAzureCredential (break-glass) instead of the sandbox tenant."
TENANT_HELP = "Sandbox tenant file to seed FIRESTOP_HOME/sandbox with (when it has none yet)."


def _checked(name: str, target: Optional[str], param: list[str], azure: bool, tenant: Optional[Path], as_json: bool) -> dict[str, Any]:
    """Validate the shared inputs of plan and run; the parsed params. Exits 2 naming the option and the fix."""
    from runbooks import UnknownRunbook, get_runbook

    try:
        runbook = get_runbook(name)
    except UnknownRunbook as exc:
        fail(f"NAME: {exc}", EXIT_BAD_INPUT, as_json=as_json)
    try:
        params = _lists_where_expected(getattr(runbook, "Params", None), parse_params(param))
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    if runbook.target_type is not None and not target:
        fail(f"--target: {name} acts on a {runbook.target_type} resource; give its resource ID (/subscriptions/...)",
             EXIT_BAD_INPUT, as_json=as_json)
    if azure and tenant is not None:
        fail("--tenant: a sandbox tenant file makes no sense with --azure; drop one of them", EXIT_BAD_INPUT, as_json=as_json)
    if tenant is not None and not tenant.is_file():
        fail(f"--tenant: {tenant} is not a file; give a tenant YAML/JSON file", EXIT_BAD_INPUT, as_json=as_json)
    return params


#: What a tenant file that is not one raises while it seeds the sandbox (firestop.sandbox.seed: a parse error is a
#: ValueError; a seed without one of its keys a KeyError; a wrong shape inside a section TypeError/AttributeError).
TENANT_FILE_ERRORS = (ValueError, KeyError, TypeError, AttributeError)


def tenant_file_problem(tenant: Path, exc: BaseException) -> str:
    """The one line naming ``--tenant``, what is wrong with the file and where its format is (exit 2)."""
    why = f"missing key {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else f"{type(exc).__name__}: {clean(exc)}"
    return f"--tenant: {tenant} is not a valid tenant file ({why}); see firestop/sandbox/default_tenant.yaml for the format"


def _open_environment(azure: bool, tenant: Optional[Path], as_json: bool):
    """``wiring.environment`` for the command; a bad tenant file exits 2, anything else 1 (one line). With ``azure``,
    no sign-in exits 2 naming az login before anything is read or kept (``main._require_sign_in``, as ``alert handle
    --azure``): otherwise every read fails — ``runbook plan`` said "Azure answered HTTP None" (exit 1) and ``audit run``
    kept an audit of "not evaluable" controls and exited 0."""
    from firestop.cli.wiring import environment

    try:
        env = environment(azure=azure, seed=str(tenant) if tenant else None)
    except Exception as exc:  # noqa: BLE001 — a tenant file that does not parse as one, no usable Azure sign-in, ...
        if tenant is not None and isinstance(exc, TENANT_FILE_ERRORS):
            fail(tenant_file_problem(tenant, exc), EXIT_BAD_INPUT, as_json=as_json)
        _internal(exc, as_json)
    if azure:
        from firestop.cli.main import _require_sign_in

        _require_sign_in(env, as_json)  # closes env and exits 2 when nobody is signed in
    return env


def _internal(exc: BaseException, as_json: bool) -> None:
    if isinstance(exc, BrokenPipeError):
        from firestop.cli.output import reader_went_away

        reader_went_away()
    from firestop.cli.main import _state

    if _state.get("debug"):
        traceback.print_exception(exc)
    fail(f"internal error: {type(exc).__name__}: {clean(exc)} (run with --debug for the traceback)", EXIT_INTERNAL, as_json=as_json)


def _error_exit(answer: dict[str, Any]) -> int:
    """Exit code for a failed runbook answer: 2 when the runbook refused its input or the target does not exist, else 1."""
    kind = (answer.get("error") or {}).get("kind")
    return EXIT_BAD_INPUT if kind in ("invalid", "not_found") else EXIT_INTERNAL


def _error_line(answer: dict[str, Any], what: str) -> str:
    """``<kind>: <message>`` (``forbidden: …``, ``throttled: …``); a refused input (kind ``invalid``) is the message
    alone, which names the field first (``--target: …``), as every other bad-input line does."""
    error = answer.get("error") or {}
    message = clean(_cli_message(str(error.get('message') or f'the {what} failed')))
    return message if error.get("kind") == "invalid" else f"{error.get('kind')}: {message}"


@runbook_app.command("plan")
def runbook_plan(
    name: str = typer.Argument(..., metavar="NAME", help="Runbook name, e.g. network.lock (see: runbook list)."),
    target: Optional[str] = typer.Option(None, "--target", metavar="RESOURCE_ID", help="ARM resource ID to act on."),
    param: list[str] = typer.Option([], "--param", metavar="KEY=VALUE", help="Runbook parameter (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the runbook's answer as JSON."),
    azure: bool = typer.Option(False, "--azure", help=AZURE_HELP + " Reads only."),
    tenant: Optional[Path] = typer.Option(None, "--tenant", metavar="FILE", help=TENANT_HELP),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Dry-run NAME (sandbox tenant by default): the state now and the change apply would make (changes nothing)."""
    from firestop.cli.remote import calling, connect, refuse_local_flags

    params = _checked(name, target, param, azure, tenant, as_json)
    remote = connect(app, auth, as_json=as_json)
    if remote is not None:
        refuse_local_flags(as_json, azure=azure, tenant=tenant)
        answer = _local_shape(calling(as_json, remote.runbook, name, target, params, "plan"))
    else:
        from runbooks.dispatch import manual_ids

        env = _open_environment(azure, tenant, as_json)
        try:
            # planned for the manual-<date> ledger a run would use (as the API's plan is): names a runbook derives from
            # it (network.block_ips' deny rules, firestop-<incident>-<ip>) are those the run creates
            incident, _ = manual_ids(env.clients.clock.now(), "cli")
            refused = _graph_refusal(env, name, target, params, azure)  # read first, as the app does
            answer = _execute(env, {"runbook": name, "action": "plan", "target": target, "params": params,
                                    "incident_id": incident, "step_id": "cli-plan"})
            if refused and answer.get("ok"):  # the dry-run stays available (it changes nothing) and says a run would be refused (RT18-02)
                answer["run_refused"] = refused
        except Exception as exc:  # noqa: BLE001
            _internal(exc, as_json)
        finally:
            env.close()
    if not answer.get("ok"):
        code = _error_exit(answer)
        if as_json:
            print_json({**answer, "exit_code": code})
            raise typer.Exit(code)
        fail(_error_line(answer, "plan"), code)
    _note_refusal(answer)
    if as_json:
        print_json(answer)
        return
    _print_plan(answer["result"])


def _note_refusal(answer: dict[str, Any]) -> None:
    """A plan whose ``run_refused`` says a run would be refused (RT18-02, local or the app's): its note in CLI terms
    (``--target``, ``--param``), the same line both ways."""
    from runbooks.graph_scope import PLAN_NOTE

    refused = answer.get("run_refused")
    result = answer.get("result")
    if not isinstance(refused, dict) or not isinstance(result, dict):
        return
    notes = [n for n in result.get("notes") or [] if not str(n).startswith(PLAN_NOTE)]
    result["notes"] = [*notes, PLAN_NOTE + _refused_line({k: str(refused.get(k) or "") for k in ("error", "reason", "fix")})]


def _local_shape(answer: dict[str, Any]) -> dict[str, Any]:
    """A runbook answer from the app's API without the API's own fields (``requested_by``, ``incident_id``), so
    ``--json`` prints what the local command prints."""
    return {k: v for k, v in answer.items() if k not in ("requested_by", "incident_id")}


def _execute(env, request: dict[str, Any]) -> dict[str, Any]:
    from runbooks.dispatch import execute

    return execute(request, clients=env.clients, settings=env.settings)


def _execute_held(env, request: dict[str, Any], on_interrupt=None) -> dict[str, Any]:
    """:func:`_execute` of a change (apply, undo) with Ctrl-C held until its ledger entry is written (R13-03,
    :class:`firestop.cli.interrupt.deferred`). ``on_interrupt(answer)``: called with the finished change's answer
    when a Ctrl-C held meanwhile is then taken, before it propagates (so the interrupted line can say what was done)."""
    from firestop.cli import interrupt

    answer = None
    try:
        with interrupt.deferred():
            answer = _execute(env, request)
    except interrupt.Interrupted:
        if answer is not None and on_interrupt is not None:
            on_interrupt(answer)
        raise
    return answer


def _interrupted_run(name: str, target: Optional[str], params: dict[str, Any], run_id: str, ledger_id: str,
                     azure: bool, answer: dict[str, Any] | None, verified: bool | None = None) -> None:
    """What the Ctrl-C line says of a manual run (:func:`firestop.cli.interrupt.about`): the run's id, what its apply
    did (``answer``: its dispatch answer, None while it is not known; ``verified``: the verification's verdict once
    known), the command that runs it again (idempotent) and the one that undoes it. Called before the apply, once it
    answered, and once it was verified."""
    from firestop.cli import interrupt

    azure_flag = " --azure" if azure else ""
    ledger = f"python -m firestop ledger verify {ledger_id}"
    undo = f"python -m firestop runbook undo {run_id}{azure_flag}"
    result = (answer or {}).get("result") if isinstance((answer or {}).get("result"), dict) else {}
    where = f" to {_short_target(target)}" if target else ""
    if answer is None:
        state = (f"was applying {name}{where}: its ledger says whether the change was made ({ledger}); if it was, "
                 f"undo with: {undo}")
    elif not answer.get("ok"):
        state = f"failed to apply {name}{where} ({_error_line(answer, 'apply')}); its ledger says what it answered ({ledger})"
    elif result.get("changed"):
        checked = {None: "was not verified", True: "was verified", False: "did NOT verify"}[verified]
        state = f"applied {name}{where} ({clean(result.get('summary'))}) and {checked}; undo with: {undo}"
    else:
        state = f"changed nothing ({clean(result.get('summary'))}); nothing to undo"
    parts = [f"runbook run {shlex.quote(name)}"] + ([f"--target {shlex.quote(target)}"] if target else [])
    parts += [f"--param {shlex.quote(f'{k}={v if isinstance(v, str) else json.dumps(v)}')}" for k, v in params.items()]
    interrupt.about(incident_id=ledger_id, subject=f"manual run {run_id}", state=state,
                    resume=f"python -m firestop {' '.join(parts)}{azure_flag} --yes (plans again, applies only what is "
                           "missing, verifies; a new run id)")


def _short_target(target: str) -> str:
    """The last segment of a resource id (the account's name), or the target as given."""
    return clean(str(target).rstrip("/").rsplit("/", 1)[-1] or target)


def _graph_refusal(env, name: str, target: Optional[str], params: dict[str, Any], azure: bool) -> dict[str, str] | None:
    """RT18-02 (:mod:`runbooks.graph_scope`) for a local manual run (or undo) of ``name``: None when allowed (or not a
    Graph runbook), else ``{"error": <field>, "reason", "fix"}``. Admin is the role table's word on the identity these
    clients act as (:func:`firestop.trust.roles_held`, as ``incident approve``; with ``--azure`` the sandbox's demo roles
    never count); anyone else is held to the responder's rule. Role assignments that cannot be read refuse (nothing done)."""
    from firestop.azure.errors import RunbookError
    from firestop.trust import TrustError, roles_held
    from runbooks import get_runbook
    from runbooks.graph_scope import acts_through_graph, refusal

    runbook = type(get_runbook(name))
    if not acts_through_graph(runbook):
        return None
    admin = False
    who = env.clients.caller_object_id()
    if who:
        try:
            admin = bool(roles_held(who, (), (), "admin", azure=azure, settings=env.settings))
        except TrustError:
            admin = False
    try:
        refused = refusal(env.clients, runbook, target, params, admin=admin)
    except RunbookError as exc:
        return {"error": "target", "reason": f"the role assignments on the target could not be read ({exc.kind}: "
                f"{exc.message}), so whether {name} may act on this principal is unknown", "fix": "retry in a minute"}
    return None if refused is None else {"error": refused.field, "reason": refused.reason, "fix": refused.fix}


def _refused_line(refused: dict[str, str]) -> str:
    """A refusal as one CLI line naming the option: ``--target: …`` or ``--param <name>: …``, then the fix."""
    field = refused["error"] if refused["error"] == "target" else f"params.{refused['error']}"
    return _cli_message(f"{field}: {refused['reason']}; {refused['fix']}").replace("give target:", "give --target:")


def _confirm(question: str, as_json: bool) -> None:
    """Ask ``question`` (default no); anything but yes — including no terminal to ask on — exits 2, nothing done."""
    confirm_or_exit(question, as_json=as_json)


@runbook_app.command("run")
def runbook_run(
    name: str = typer.Argument(..., metavar="NAME", help="Runbook name, e.g. network.lock (see: runbook list)."),
    target: Optional[str] = typer.Option(None, "--target", metavar="RESOURCE_ID", help="ARM resource ID to act on."),
    param: list[str] = typer.Option([], "--param", metavar="KEY=VALUE", help="Runbook parameter (repeatable)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation (required with --json)."),
    as_json: bool = typer.Option(False, "--json", help="Print plan, apply and verify answers as JSON (needs --yes)."),
    azure: bool = typer.Option(False, "--azure", help=AZURE_HELP),
    tenant: Optional[Path] = typer.Option(None, "--tenant", metavar="FILE", help=TENANT_HELP),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show the change (runbook plan): changes nothing, asks nothing, exit 0."),
) -> None:
    """Apply NAME to --target and verify it: shows the exact change and asks first (unless --yes).

    Exit 0 applied and verified (or --dry-run: planned), 2 bad input or not confirmed, 3 applied but not verified,
    1 Azure refused or failed.
    """
    from firestop.cli.remote import connect, refuse_local_flags

    if dry_run:  # what a responder types for "show me first": the plan, as runbook plan prints it
        runbook_plan(name, target, param, as_json, azure, tenant, app, auth)
        if not as_json:
            from firestop.cli.interrupt import command

            again = command("runbook", "run", name, *(["--target", target] if target else []),
                            *[a for p in param for a in ("--param", p)], *(["--azure"] if azure else []),
                            *(["--tenant", str(tenant)] if tenant else []), *(["--app", app] if app else []))
            console.print(f"dry run: nothing was changed; to apply it: {clean(again)}", highlight=False, markup=False,
                          soft_wrap=True)
        raise typer.Exit(0)
    params = _checked(name, target, param, azure, tenant, as_json)
    if as_json and not yes:
        fail("--yes: runbook run --json does not prompt; confirm the change with --yes (see it first with: runbook plan ... --json)",
             EXIT_BAD_INPUT, as_json=True)
    remote = connect(app, auth, as_json=as_json)
    if remote is not None:
        refuse_local_flags(as_json, azure=azure, tenant=tenant)
        try:
            out, code = _run_remote(remote, name, target, params, yes=yes, as_json=as_json)
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 — an answer this version cannot read: one line, exit 1
            _internal(exc, as_json)
        if as_json:
            print_json({**out, "exit_code": code})
        raise typer.Exit(code)
    env = _open_environment(azure, tenant, as_json)  # --azure: no sign-in exits 2 here, before anything is asked
    try:
        if azure and not yes:
            _confirm(f"Act on REAL Azure ({clean(target or 'no target')}) as your DefaultAzureCredential sign-in? "
                     "The change is shown next; nothing changes before you confirm it.", as_json)
        out, code = _run(env, name, target, params, yes=yes, azure=azure, as_json=as_json)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        _internal(exc, as_json)
    finally:
        env.close()
    if as_json:
        print_json({**out, "exit_code": code})
    raise typer.Exit(code)


def _run(env, name: str, target: Optional[str], params: dict[str, Any], *, yes: bool, azure: bool, as_json: bool) -> tuple[dict[str, Any], int]:
    """plan → (confirm) → apply → verify on ``env``; (JSON summary, exit code). Prints the human view as it goes."""
    from runbooks.dispatch import manual_ids

    incident, step = manual_ids(env.clients.clock.now(), "cli")
    base = {"runbook": name, "target": target, "params": params, "incident_id": incident, "step_id": step}
    out: dict[str, Any] = {"runbook": name, "target": target, "azure": azure, "incident_id": incident, "step_id": step,
                           "run_id": f"{incident}/{step}", "plan": None, "apply": None, "verify": None, "ok": False}
    refused = _graph_refusal(env, name, target, params, azure)  # read before the plan, as the app does
    plan = out["plan"] = _execute(env, {**base, "action": "plan"})
    if not plan.get("ok"):
        return _failed(out, plan, "plan", as_json)
    if refused:  # RT18-02: nothing applied; exit 2 as the app's 403 is through --app
        if as_json:
            return {**out, "refused": refused}, EXIT_BAD_INPUT
        fail(_refused_line(refused), EXIT_BAD_INPUT)
    if not as_json:
        _print_plan(plan["result"])
    if not yes:
        where = "REAL Azure" if azure else "the sandbox tenant"
        _confirm(f"Apply {clean(name)} to {clean(target or '(no target)')} on {where}?", as_json)
    from firestop.cli import interrupt

    said = lambda answer, verified=None: _interrupted_run(name, target, params, out["run_id"], incident, azure, answer,  # noqa: E731
                                                          verified)
    said(None)  # the Ctrl-C line names the run, what it applied, how to verify and undo it (cli17)
    # the change and its ledger entry, never one without the other (R13-03)
    applied = out["apply"] = _execute_held(env, {**base, "action": "apply"}, on_interrupt=said)
    said(applied)
    if not applied.get("ok"):
        return _failed(out, applied, "apply", as_json)
    verify = out["verify"] = _execute(env, {**base, "action": "verify", "applied": applied["result"]})
    out["ok"] = bool(verify.get("ok"))
    said(applied, verified=out["ok"])  # a Ctrl-C from here on (printing): verified or not, said as it is
    if not as_json:
        _print_run(applied, verify, incident, out["run_id"])
    return out, (0 if out["ok"] else EXIT_NEEDS_RESPONDER)


def _run_remote(remote, name: str, target: Optional[str], params: dict[str, Any], *, yes: bool, as_json: bool) -> tuple[dict[str, Any], int]:
    """:func:`_run` through the app's runbook API (:mod:`firestop.cli.remote`): the plan (``mode: plan``), the same
    confirmation, then apply and verify in the app under one run id (``mode: run``). Same output and exit codes."""
    from firestop.cli.remote import calling

    plan = calling(as_json, remote.runbook, name, target, params, "plan")
    out: dict[str, Any] = {"runbook": name, "target": target, "azure": False, "incident_id": plan.get("incident_id"),
                           "step_id": plan.get("step_id"), "run_id": None, "plan": _local_shape(plan), "apply": None,
                           "verify": None, "ok": False}
    out["run_id"] = f"{out['incident_id']}/{out['step_id']}"
    if not plan.get("ok"):
        return _failed(out, plan, "plan", as_json)
    refused = plan.get("run_refused")
    if isinstance(refused, dict):  # RT18-02: the app would answer the run 403; say so before asking (exit 2, as a 403)
        if as_json:
            return {**out, "refused": refused}, EXIT_BAD_INPUT
        fail(_refused_line({k: str(refused.get(k) or "") for k in ("error", "reason", "fix")}), EXIT_BAD_INPUT)
    if not as_json:
        _print_plan(plan["result"])
    if not yes:
        _confirm(f"Apply {clean(name)} to {clean(target or '(no target)')} on the app's tenant ({remote.origin})?", as_json)
    ran = calling(as_json, remote.run, name, target, params)
    out.update(incident_id=ran.get("incident_id"), step_id=ran.get("step_id"), run_id=ran.get("run_id"))
    applied = out["apply"] = ran.get("apply") or {}
    if not applied.get("ok"):
        return _failed(out, applied, "apply", as_json, flags=f" --app {remote.origin}")
    verify = out["verify"] = ran.get("verify") or {}
    out["ok"] = bool(verify.get("ok"))
    if not as_json:
        _print_run(applied, verify, out["incident_id"], out["run_id"], flags=f" --app {remote.origin}")
    return out, (0 if out["ok"] else EXIT_NEEDS_RESPONDER)


def _failed(out: dict[str, Any], answer: dict[str, Any], what: str, as_json: bool, flags: str = "") -> tuple[dict[str, Any], int]:
    """(out, exit code) of a failed plan or apply; in text mode the one error line (and exit) instead (``flags``: as
    :func:`_print_run`'s)."""
    code = _error_exit(answer)
    if not as_json:
        line = _error_line(answer, what)
        if what == "apply":  # it may have changed part of the target: the ledger has what it answered
            line = f"apply failed, not verified: {line} (ledger: python -m firestop ledger verify {out['incident_id']}{flags})"
        fail(line, code)
    return out, code


def _print_run(applied: dict[str, Any], verify: dict[str, Any], incident: str, run_id: str | None = None,
               flags: str = "") -> None:
    """The human view of an apply and its verification; ``flags`` follows each command it suggests (`` --app URL`` for a
    run through the app: its ledger is the app's, so the hints must name it)."""
    result = applied["result"]
    label = "Applied" if result.get("changed") else "Nothing changed"
    summary = clean(result.get("summary"))
    if not result.get("changed"):  # most runbooks' own summary already ends "; nothing changed": say it once
        summary = re.sub(r"[;,]?\s*nothing changed\.?$", "", summary, flags=re.IGNORECASE) or "already as wanted"
    console.print(f"{label}: {summary}", highlight=False, markup=False)
    checks = (verify.get("result") or {}).get("checks") or []
    if not verify.get("ok") and not checks:
        console.print(f"NOT verified: {_error_line(verify, 'verify')}", highlight=False, markup=False)
    for check in checks:
        mark = "✔" if check.get("ok") else "✘"
        detail = f" — {clean(check.get('detail'))}" if check.get("detail") else ""
        console.print(f"  {mark} {clean(check.get('name'))}{detail}", highlight=False, markup=False)
    console.print("Verified." if verify.get("ok") else "NOT verified: a responder must look at what did not hold.",
                  highlight=False, markup=False)
    ledger = (result.get("artifacts") or {}).get("ledger") or {}
    if ledger.get("seq"):
        console.print(f"Ledger: {incident} entry {ledger['seq']} (check: python -m firestop ledger verify {incident}{flags})",
                      highlight=False, markup=False)
        if result.get("changed") and run_id:
            console.print(f"Undo with: python -m firestop runbook undo {run_id}{flags}", highlight=False, markup=False)
    elif ledger.get("error"):
        console.print(f"Ledger: {clean(ledger['error'])}", highlight=False, markup=False)


def _print_plan(plan: dict[str, Any]) -> None:
    console.print(f"Plan: {clean(plan['runbook'])} on {clean(plan.get('target') or '(no target)')}", highlight=False, markup=False)
    from firestop.cli.state_text import state_lines

    console.print("State now:", highlight=False, markup=False)
    for line in state_lines(plan.get("before") if isinstance(plan.get("before"), dict) else None):
        console.print(f"  {clean(line)}", highlight=False, markup=False)
    changes = plan.get("changes") or []
    if changes:
        console.print("Would change:", highlight=False, markup=False)
        from firestop.cli.output import print_change

        for change in changes:
            print_change(change, "  ")  # before/after on lines of their own when long; None read as (absent)/(removed)
    else:
        console.print("Would change: nothing", highlight=False, markup=False)
    for note in plan.get("notes") or []:
        console.print(f"Note: {clean(note)}", highlight=False, markup=False)
    for what, items in (plan.get("blast_radius") or {}).items():
        console.print(f"Also stops ({clean(what)}): {clean(', '.join(items)) or 'nothing'}", highlight=False, markup=False)


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
#: Management group IDs: up to 90 letters, digits, '-', '_', '.', '(' and ')', not ending in '.' (Microsoft Learn,
#: "Naming rules and restrictions for Azure resources", Microsoft.Management/managementGroups).
_MANAGEMENT_GROUP = re.compile(r"[-\w.()]{1,90}\Z")
_MG_PREFIX = "/providers/microsoft.management/managementgroups/"


def _assignable_scope_problem(entry: str) -> str | None:
    """Why ``entry`` cannot be one of a custom role's AssignableScopes, or None.

    Accepted (Azure RBAC custom roles, Microsoft Learn "Azure custom roles", AssignableScopes): ``/subscriptions/<GUID>``,
    ``/subscriptions/<GUID>/resourceGroups/<name>`` (a valid resource group name) and anything further below it, and
    ``/providers/Microsoft.Management/managementGroups/<id>``; no empty segment. The answer is the message's body
    (the value as given, what it must be)."""
    example = "e.g. /subscriptions/<subscription GUID>[/resourceGroups/<name>]"
    if entry.lower().startswith(_MG_PREFIX):
        group = entry[len(_MG_PREFIX):]
        if "/" in group or not _MANAGEMENT_GROUP.match(group) or group.endswith("."):
            return (f"{clean(group)!r} is not a management group ID (1-90 letters, digits, '-', '_', '.', '(' and ')'); "
                    "give /providers/Microsoft.Management/managementGroups/<id>")
        return None
    if not entry.lower().startswith("/subscriptions/"):
        return f"{clean(entry)!r} is not a subscription, resource group or management group ID; {example}"
    segments = entry.split("/")[1:]
    if any(not segment for segment in segments):
        return f"{clean(entry)!r} has an empty path segment (a doubled or trailing '/'); {example}"
    if not _GUID.match(segments[1]):
        return f"{clean(segments[1])!r} is not a subscription ID (a GUID, as az account show prints it); {example}"
    if len(segments) > 2:
        if segments[2].lower() != "resourcegroups" or len(segments) < 4:
            return f"{clean(entry)!r} is not a subscription or resource group ID; {example}"
        from firestop.resource_id import resource_group_name_problem

        problem = resource_group_name_problem(segments[3])
        if problem:
            return f"{clean(problem)}; {example}"
    return None


def permissions(
    playbooks: Optional[Path] = typer.Option(None, "--playbooks", metavar="DIR", help="Playbook folder (default FIRESTOP_PLAYBOOKS)."),
    scope: list[str] = typer.Option([], "--scope", metavar="SCOPE", help="AssignableScopes entry, e.g. /subscriptions/<id> (repeatable; required unless --sandbox)."),
    sandbox: bool = typer.Option(False, "--sandbox", help="Scope the role to the sandbox tenant's subscription (rehearsal only)."),
    name: str = typer.Option("Firestop responder", "--name", help="Role name."),
    as_json: bool = typer.Option(False, "--json", help="Accepted for symmetry: the role is always printed as JSON (errors too, with --json)."),
    audit: bool = typer.Option(False, "--audit", help="Print the read-only role the checklist audit needs instead (assign it at the audited subscription)."),
) -> None:
    """Print the Azure custom role (az role definition create JSON) with exactly the actions the playbooks need
    (never roleAssignments/write, roleDefinitions/write, elevateAccess or a wildcard); with --audit, the read-only
    role of the checklist audit (every read its controls make)."""
    from firestop.playbooks import PlaybookError, load_playbooks
    from firestop.settings import Settings
    from runbooks.permissions import graph_permissions, role_definition, undo_roles_needed

    if not scope and not sandbox:
        fail("--scope: required; give the subscription, resource group or management group the role may be assigned at "
             "(e.g. --scope /subscriptions/<id>), or --sandbox for the sandbox tenant", EXIT_BAD_INPUT, as_json=as_json)
    if scope and sandbox:
        fail("--sandbox: a sandbox role has the sandbox's scope; drop --scope or --sandbox", EXIT_BAD_INPUT, as_json=as_json)
    folder = playbooks or Settings.from_env().playbooks_dir
    if not folder.is_dir():
        fail(f"--playbooks: {folder} is not a directory; give the folder of playbook YAML files", EXIT_BAD_INPUT, as_json=as_json)
    for entry in scope:
        problem = _assignable_scope_problem(entry)
        if problem:
            fail(f"--scope: {problem}", EXIT_BAD_INPUT, as_json=as_json)
    try:
        loaded = load_playbooks(folder)
    except PlaybookError as exc:
        fail(f"--playbooks: {clean(str(exc).splitlines()[0])} (fix the file, or check it with: playbook validate {folder})", EXIT_BAD_INPUT, as_json=as_json)
    if not loaded:
        fail(f"--playbooks: no playbook files (*.yaml, *.yml) in {folder}", EXIT_BAD_INPUT, as_json=as_json)
    scopes = scope or [f"/subscriptions/{_sandbox_subscription()}"]
    if audit:
        from runbooks.permissions import audit_role_definition

        print_json(audit_role_definition(scopes, name=f"{name} (audit reads)"))
        return
    try:
        role = role_definition(loaded, scopes, name=name)
    except ValueError as exc:
        fail(f"--playbooks: {clean(exc)}", EXIT_BAD_INPUT, as_json=as_json)
    print_json(role)
    graph = graph_permissions(loaded)
    if graph:  # not part of the Azure role (stdout stays the JSON az role definition create takes)
        typer.echo("Microsoft Graph application permissions (grant to Firestop's app registration, admin consent; "
                   f"not in the Azure role): {', '.join(graph)}", err=True)
        typer.echo("They are tenant-wide: a responder's manual run of a Graph runbook acts only on a principal holding a role "
                   "assignment on the --target account; an admin's on any principal (README, Graph runbooks run by hand)", err=True)
    for text in undo_roles_needed(loaded):  # never in the role: a person's (the undo preview says the same)
        typer.echo(f"Not in this role: {text}.", err=True)


def _sandbox_subscription() -> str:
    from firestop.sandbox.seed import read_seed_file

    return str(read_seed_file()["subscription_id"])


@runbook_app.command("undo")
def runbook_undo(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="The manual run to undo, as runbook run printed it: manual-<date>/<step>."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation (required with --json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the undo answer as JSON (needs --yes, or --dry-run)."),
    azure: bool = typer.Option(False, "--azure", help=AZURE_HELP),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what the undo would restore: changes nothing, asks nothing, exit 0."),
) -> None:
    """Undo a manual runbook run: restore the state its apply recorded on the ledger (exact undo, or a refusal
    when the target changed since), inside the target's containment lease. A run that changed nothing (it found the
    state in place) is released: nothing is restored, the run stops relying on that state. Exit 0 undone or released,
    2 bad input / nothing to undo / relied on by an incident / not confirmed, 3 a containment holds the target, 1 failed.
    --dry-run: the preview only (exit 0; 2 as above when there is nothing to undo or an incident relies on it)."""
    from firestop.cli.manual_undo import ManualUndoRefused, find_manual_run
    from runbooks.manual_runs import ManualAlreadyReleased
    from firestop.cli.remote import calling, connect, refuse_local_flags

    if as_json and not yes and not dry_run:
        fail("--yes: runbook undo --json does not prompt; confirm with --yes", EXIT_BAD_INPUT, as_json=True)
    remote = connect(app, auth, as_json=as_json)
    if remote is not None:
        from runbooks.manual_runs import RUN_ID_PATTERN

        refuse_local_flags(as_json, azure=azure)
        if not RUN_ID_PATTERN.fullmatch((run_id or "").strip()):
            fail(f"RUN_ID: {run_id[:80]!r} is not a manual run id; give it as runbook run printed it: "
                 "manual-<YYYY-MM-DD>/cli-run-<HHMMSS>-<hex>", EXIT_BAD_INPUT, as_json=as_json)
        if not yes or dry_run:
            run = calling(as_json, remote.manual_run, run_id.strip())
            if run.get("already_released"):
                _already_released(run_id, str(run.get("detail") or ""), as_json)
            _undo_preview(run.get("runbook"), run.get("target"), run.get("before"), f"the app's tenant ({remote.origin})", as_json,
                          release=bool(run.get("release")), dry_run=f"{run_id.strip()} --app {remote.origin}" if dry_run else None)
        body = calling(as_json, remote.manual_undo, run_id.strip())
        if body.get("already_released"):
            _already_released(run_id, str(body.get("detail") or ""), as_json)
        _undo_answer(run_id, body.get("undo") or {}, as_json)
    env = _open_environment(azure, None, as_json)
    try:
        try:
            run = find_manual_run(env.settings, run_id)
        except ManualAlreadyReleased as exc:  # a retried release: done already
            _already_released(run_id, str(exc), as_json)
        except ManualUndoRefused as exc:
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
        import asyncio

        from firestop.lifecycle.locks import HostLeasePort
        from firestop.lifecycle.undo import UndoBusy, UndoReliedOn, manual_reliance, manual_undo_under_lease

        refused = _graph_refusal(env, run.runbook, run.target, run.params, azure)  # RT18-02: the run's rule
        if refused:
            fail(_refused_line(refused), EXIT_BAD_INPUT, as_json=as_json)
        try:
            if run.changed:  # a release restores nothing: nothing relies on it
                # before asking, as inside the lease (checked again there): the incidents created since the run are
                # the candidates, so a record planted for an incident that never was refuses nothing (A16-07)
                from firestop.lifecycle.undo import _manual_record, later_incidents

                since = asyncio.run(later_incidents(HostLeasePort(env.host), _manual_record(run)))
                manual_reliance(env.settings, run, candidates=since)
        except UndoReliedOn as exc:
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
        if not yes or dry_run:
            _undo_preview(run.runbook, run.target, run.applied.get("before"), "REAL Azure" if azure else "the sandbox tenant", as_json,
                          release=not run.changed, dry_run=run_id.strip() if dry_run else None)
        try:  # inside the target's containment lease, as an incident undo (RT6-02)
            answer = asyncio.run(manual_undo_under_lease(HostLeasePort(env.host), env.settings, run, lambda: _execute_held(env, {
                "runbook": run.runbook, "action": "undo", "target": run.target, "params": run.params,
                "incident_id": run.incident_id, "step_id": run.step_id, "applied": run.applied})))
        except UndoBusy as exc:
            fail(str(exc), 3, as_json=as_json)
        except ManualAlreadyReleased as exc:  # released meanwhile by another responder: done already
            _already_released(run_id, str(exc), as_json)
        except (UndoReliedOn, ManualUndoRefused) as exc:  # ManualUndoRefused: undone meanwhile (RT8-03)
            fail(str(exc), EXIT_BAD_INPUT, as_json=as_json)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        _internal(exc, as_json)
    finally:
        env.close()
    _undo_answer(run_id, answer, as_json)


def _undo_preview(runbook: Any, target: Any, before: Any, where: str, as_json: bool, *, release: bool = False,
                  dry_run: Optional[str] = None) -> None:
    """Print what undoing a manual run restores (a release: nothing), then ask (anything but yes exits 2).
    ``dry_run`` (the run id, then `` --app URL`` for the app's run): print it — with ``as_json`` as ``{"run_id",
    "dry_run": true, "runbook", "target", "release", "before", "needs"}`` — and exit 0 without asking; nothing is
    changed."""
    from firestop.cli.state_text import restore_lines
    from runbooks.permissions import undo_needs

    needs = undo_needs(str(runbook), str(target)) if runbook and target and not release else None
    if dry_run is not None and as_json:
        print_json({"run_id": dry_run.split(" ", 1)[0], "dry_run": True, "runbook": runbook, "target": target, "release": release,
                    "before": {} if release else before, "needs": needs, "exit_code": 0})
        raise typer.Exit(0)
    if release:
        console.print(f"would release {clean(runbook)} on {clean(target or '(no target)')}: the run changed nothing, so "
                      "nothing is restored; it stops relying on the state it found in place", highlight=False, markup=False,
                      soft_wrap=True)
        _dry_run_or_confirm(dry_run, f"Release this on {where}?", as_json)
        return
    head, below = restore_lines(before)
    console.print(f"would undo {clean(runbook)} on {clean(target or '(no target)')}: restore{' ' + clean(head) if head else ':'}",
                  highlight=False, markup=False, soft_wrap=True)
    for line in below:
        console.print(clean(line), highlight=False, markup=False, soft_wrap=True)
    if needs:
        console.print(f"  {clean(needs)}", highlight=False, markup=False, soft_wrap=True)
    _dry_run_or_confirm(dry_run, f"Undo this on {where}?", as_json)


def _dry_run_or_confirm(dry_run: Optional[str], question: str, as_json: bool) -> None:
    """``--dry-run``: say nothing was changed and exit 0; else ask ``question`` (:func:`_confirm`)."""
    if dry_run is not None:
        console.print(f"dry run: nothing was changed; to do it: python -m firestop runbook undo {clean(dry_run)}",
                      highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(0)
    _confirm(question, as_json)


def _undo_answer(run_id: str, answer: dict[str, Any], as_json: bool) -> None:
    """Print a manual run's undo answer and exit: 0 undone, else the runbook error's code."""
    code = 0 if answer.get("ok") else _error_exit(answer)
    if as_json:
        print_json({"run_id": run_id, "undo": answer, "exit_code": code})
    elif answer.get("ok") and answer.get("released"):
        console.print(clean((answer.get("result") or {}).get("summary")), highlight=False, markup=False, soft_wrap=True)
    elif answer.get("ok"):
        console.print(f"Undone: {clean((answer.get('result') or {}).get('summary'))}", highlight=False, markup=False)
    else:
        fail(f"undo failed: {_error_line(answer, 'undo')}", code)
    raise typer.Exit(code)


def _already_released(run_id: str, detail: str, as_json: bool) -> None:
    """A manual run released already: say so and exit 0 (a retried release is done, as ``incident undo``'s)."""
    if as_json:
        print_json({"run_id": run_id, "already_released": True, "detail": detail, "exit_code": 0})
    else:
        console.print(clean(detail), highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(0)


@ledger_app.command("verify")
def ledger_verify(
    incident: str = typer.Argument(..., metavar="INCIDENT", help="Incident ID, e.g. inc-0123456789abcdef, or a day's "
                                   "manual runs, manual-<YYYY-MM-DD> (as runbook run prints it)."),
    as_json: bool = typer.Option(False, "--json", help="Print the check as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Check INCIDENT's ledger: every hash, every link, every evidence file. Exit 0 intact, 3 tampered or broken,
    2 no such ledger, 1 the ledger store cannot be read."""
    from firestop.cli.output import EXIT_NEEDS_RESPONDER
    from firestop.cli.remote import calling, connect

    remote = connect(app, auth, as_json=as_json)
    if remote is not None:  # the app checks its own ledger store (reader role)
        result = calling(as_json, remote.ledger, incident)
    else:
        result = _verify_local(incident, as_json)
    if as_json:
        print_json(result)
    else:
        console.print(_verify_text(result), highlight=False, markup=False)
    raise typer.Exit(0 if result.get("ok") else EXIT_NEEDS_RESPONDER)


#: Where to look for whoever wrote to a ledger what Firestop did not.
_FIND_WRITER = ("find the writer (Blob Storage: the firestop-audit StorageWrite logs; locally: who can write "
                "FIRESTOP_HOME/ledger)")


def _verify_text(result: dict[str, Any]) -> str:
    """``ledger verify``'s line for ``result`` (``_verify_local``'s or the API's), worded by its ``verdict``
    (:attr:`runbooks.ledger.ChainCheck.verdict`), never by matching its problems' text. An answer without one (an
    app older than this CLI) is worded ``intact`` when ok, else ``broken``."""
    verdict = result.get("verdict") or ("intact" if result.get("ok") else "broken")
    entries, head = result.get("entries"), result.get("head")
    problems = "; ".join(str(p) for p in result.get("problems") or [])
    if verdict == "intact":
        return f"ledger intact: {entries} entries, head {head}"
    if verdict == "out_of_chain":
        # an entry-shaped line the app did not seal here (planted, copied, or an entry of ours edited since): the
        # sealed chain runs over it, but "intact" would hide that a sealed entry may have been rewritten
        return (f"ledger: {entries} sealed entr{'y' if entries == 1 else 'ies'} chain, head {head}; lines out of that "
                f"chain were skipped: {problems}. If Firestop wrote one of them, it was edited: compare with the blob's "
                f"earlier versions, and {_FIND_WRITER}")
    if verdict == "junk":
        # only lines that are not entries (runbooks.ledger.verify_chain skips them and the chain runs over them):
        # not a broken chain, but something other than Firestop wrote to the ledger — say which and where to look
        return (f"ledger chain intact over {entries} entries, head {head}; but it holds lines Firestop did not write: "
                f"{problems}. {_FIND_WRITER[0].upper()}{_FIND_WRITER[1:]}")
    if verdict == "unsealed":
        sealed = result.get("sealed")
        whole = sealed == 0
        return (f"ledger chain intact over {entries} entries, head {head}; but Firestop believes "
                f"{'none of them' if whole else f'only {sealed}'}: {problems}. "
                + ("A ledger written before this app had its seal key (FIRESTOP_SEAL_KEY), or under another key, is "
                   "kept as it is and read as history only; if it was not, " if whole else "If these were not written "
                   "before sealing began, ") + _FIND_WRITER)
    if verdict == "unchecked":
        return f"ledger not checked: {entries} entries chain, head {head}, but {problems}"
    return f"ledger BROKEN after {result.get('verified', entries)} entries that verified: {problems}"


def _verify_local(incident: str, as_json: bool) -> dict[str, Any]:
    """``{"incident_id", "ok", "verdict", "entries", "verified", "sealed", "head", "problems", "location"}`` (the fields of
    :class:`runbooks.ledger.ChainCheck`) of the local ledger store; exits 2 when there
    is no such ledger, 1 when the store cannot be read."""
    from firestop.evidence import EvidenceStore
    from firestop.settings import Settings
    from firestop.storage import StoreError
    from firestop.storage.locations import logical_location
    from runbooks.ledger import Ledger

    settings = Settings.from_env()
    ledger = Ledger.of(settings)
    try:
        if not ledger.exists(incident):
            fail(f"INCIDENT: no ledger for {incident!r} in {ledger.store.where}; check the incident ID, "
                 "FIRESTOP_STORAGE_BLOB_URL and FIRESTOP_HOME", EXIT_BAD_INPUT, as_json=as_json)
        check = ledger.verify(incident, evidence=EvidenceStore.of(settings).reader(incident))
    except StoreError as exc:
        fail(f"ledger store: {exc}", EXIT_INTERNAL, as_json=as_json)
    return {"incident_id": incident, "ok": check.ok, "verdict": check.verdict, "entries": check.entries,
            "verified": check.verified, "sealed": check.sealed, "head": check.head, "problems": check.problems,
            "location": logical_location(ledger.location(incident), settings)}  # as the app answers it


def register(app: typer.Typer) -> None:
    """Add ``runbook``, ``ledger`` and ``permissions`` to the root CLI."""
    app.add_typer(runbook_app, name="runbook")
    app.add_typer(ledger_app, name="ledger")
    app.command("permissions")(permissions)

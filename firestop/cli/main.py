"""``python -m firestop``: nouns ``alert`` and ``sandbox`` (more arrive with their issues).

Exit codes: 0 done/contained, 2 bad input, 3 needs a responder, 4 no playbook
matched, 1 internal error, 130 interrupted (Ctrl-C: one line saying what is left,
:mod:`firestop.cli.interrupt`). ``--json`` prints machine-readable output; errors are
one line (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional

import typer

from rich.text import Text

from firestop.cli.help_request import META_KEY as _ASKS_FOR_HELP, RootGroup
from firestop.cli.output import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    clean,
    console,
    err_console,
    fail,
    print_incident,
    print_json,
)

def _root_app() -> typer.Typer:
    """The root Typer app's settings (:data:`app`, and :func:`_app_for`'s root for ``alert handle``)."""
    return typer.Typer(
        name="firestop",
        help=("Incident response for Azure OpenAI: alert in, contained incident and post-incident record out.\n\n"
              "Start with: python -m firestop incident list (what is open), incident show ID (where it stands and "
              "what to type next). Commands act on the sandbox tenant unless given --azure or --app URL.\n\n"
              "Exit codes: 0 done, 2 bad input (the message names the field and the fix), 3 a responder is needed, "
              "4 no playbook matched, 1 internal error (--debug for the traceback), 130 interrupted."),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # plain help (click's layout, inherited by every sub-command): no "<bool>" type column on flags,
        # no boxes that cut long help off on a narrow terminal
        rich_markup_mode=None,
        cls=RootGroup,  # --help shows help whatever the settings (firestop.cli.help_request)
    )


app = _root_app()
alert_app = typer.Typer(help="Handle Azure Monitor alerts (Common Alert Schema).", no_args_is_help=True)
sandbox_app = typer.Typer(help="The simulated tenant under FIRESTOP_HOME/sandbox.", no_args_is_help=True)
app.add_typer(alert_app, name="alert")
app.add_typer(sandbox_app, name="sandbox")

from firestop.cli.playbook_cmd import playbook_app  # noqa: E402

app.add_typer(playbook_app, name="playbook")

from firestop.cli.incident_cmd import incident_app  # noqa: E402

app.add_typer(incident_app, name="incident")

from firestop.cli.tabletop_cmd import tabletop_app  # noqa: E402

app.add_typer(tabletop_app, name="tabletop")

from firestop.cli.rules_cmd import rules_app  # noqa: E402

app.add_typer(rules_app, name="rules")

from firestop.cli.serve_cmd import serve as _serve_command  # noqa: E402

app.command("serve")(_serve_command)

from firestop.cli import runbook_cmd  # noqa: E402

runbook_cmd.register(app)  # runbook list|plan, permissions

from firestop.cli import infra_cmd  # noqa: E402

infra_cmd.register(app)  # infra, doctor

from firestop.cli import audit_cmd  # noqa: E402

audit_cmd.register(app)  # audit run|controls|show

from firestop.cli import simulate_cmd  # noqa: E402

simulate_cmd.register(sandbox_app)  # sandbox simulate

from firestop.cli import seal_key_cmd  # noqa: E402

seal_key_cmd.register(app)  # seal-key show|rotate|retire

_state = {"debug": False}


#: Commands that run with wrong settings: ``doctor`` reports every one of them (with its fix) instead.
_REPORTS_SETTINGS = frozenset({"doctor"})


@app.callback()
def _root(ctx: typer.Context, debug: bool = typer.Option(False, "--debug", help="Show tracebacks of internal errors.")) -> None:
    _state["debug"] = debug
    from firestop.cli import interrupt

    interrupt.forget()  # one command per process; CliRunner invokes several in one
    if ctx.invoked_subcommand not in _REPORTS_SETTINGS and not ctx.meta.get(_ASKS_FOR_HELP):
        from firestop.settings import command_problems

        problems = command_problems()
        if problems:  # README: settings are validated at start-up — one line, exit 2, nothing done
            name, problem = problems[0]
            more = f" (and {len(problems) - 1} more: python -m firestop doctor lists them)" if len(problems) > 1 else ""
            fail(f"setting: {name}: {problem}; fix or unset {name}{more}", EXIT_BAD_INPUT, as_json="--json" in sys.argv)
    if not debug:
        # azure-identity and azure-core log credential chains and retries at WARNING; with no handler
        # configured Python's last-resort handler would print them to stderr. The CLI says it in one line.
        import logging

        logging.getLogger("azure").addHandler(logging.NullHandler())


#: Read at most this much: the Common Alert Schema caps a payload at 256 KB; one byte more lets the parser say 413.
_READ_LIMIT = 256 * 1024 + 1


def _read_payload(source: str, as_json: bool) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read(_READ_LIMIT)
    if not source.strip():
        fail("FILE: empty path; give the path of an alert payload (JSON) or - for stdin", EXIT_BAD_INPUT, as_json=as_json)
    path = Path(source)
    if not path.exists():
        fail(f"FILE: {source} does not exist; give the path of an alert payload (JSON) or - for stdin", EXIT_BAD_INPUT, as_json=as_json)
    if path.is_dir():
        fail(f"FILE: {source} is a directory; give one alert payload file", EXIT_BAD_INPUT, as_json=as_json)
    try:
        with open(path, "rb") as fh:
            return fh.read(_READ_LIMIT)
    except OSError as exc:
        fail(f"FILE: cannot read {source}: {exc.strerror}", EXIT_BAD_INPUT, as_json=as_json)


def _alert_or_fail(source: str, as_json: bool):
    """The parsed alert of FILE (or stdin); exit 2 with the field and the fix when it is not acceptable."""
    from firestop.alerts import AlertPayloadError, parse_alert

    payload = _read_payload(source, as_json)
    where = "stdin" if source == "-" else source
    if not payload.strip():
        fail(f"FILE: {where} is empty; give one alert payload, e.g. python -m firestop alert handle "
             "examples/alerts/leaked-key.json (or pipe one to -)", EXIT_BAD_INPUT, as_json=as_json)
    try:
        return parse_alert(payload)
    except AlertPayloadError as exc:
        fail(_cli_words(exc, where, payload), EXIT_BAD_INPUT, as_json=as_json)


#: What to do about a payload that is not one JSON object, in a command line's words (the HTTP intake's fix, "Post the
#: alert … (Content-Type: application/json)", speaks to a sender; the CLI reads a file or stdin).
_CLI_JSON_FIX = ("give the alert as one JSON object, as the Azure Monitor action group sends it (common alert schema; "
                 "YAML is not read), e.g. examples/alerts/leaked-key.json")


def _cli_words(exc, where: str, payload: bytes) -> str:
    """``exc`` (:class:`firestop.alerts.AlertPayloadError`) worded for ``alert handle``: a whole-payload problem whose fix
    is the HTTP intake's names FILE (``where``) and says what to give the command; an Event Grid or CloudEvents delivery
    (a JSON array of events) is pointed to the app's ``POST /api/events``. Other errors (a field of the alert) as they are."""
    from firestop.alerts.body import _SEND_JSON_FIX

    if exc.fix != _SEND_JSON_FIX:
        return str(exc)
    reason = exc.reason.replace("body", "the payload", 1)
    if exc.reason.startswith("body is a JSON array"):
        try:
            first = json.loads(payload)[0]
        except (ValueError, IndexError, TypeError, RecursionError):
            first = None
        if isinstance(first, dict) and ("eventType" in first or "specversion" in first or "type" in first):
            return (f"FILE: {where} is an event delivery (a JSON array of Event Grid or CloudEvents events), not an alert; "
                    "alert handle takes one alert object — deliver events to the app's POST /api/events (firestop serve "
                    "locally), or give the alert itself, e.g. examples/alerts/defender-jailbreak.json")
    return f"FILE: {where}: {reason}; {_CLI_JSON_FIX}"


def _sign_in_problem(exc: BaseException) -> str | None:
    """One line for a missing or failed Azure sign-in (azure-core's ``ClientAuthenticationError`` and azure-identity's
    ``CredentialUnavailableError``, which subclasses it), instead of DefaultAzureCredential's many-line dump; else None.
    Checked by class names so the CLI's start-up imports no Azure SDK."""
    names = {c.__name__ for c in type(exc).__mro__}
    if not names & {"ClientAuthenticationError", "CredentialUnavailableError"}:
        return None
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return (f"no Azure sign-in: run az login (or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service "
            f"principal, or run where a managed identity is assigned) — {first[:200]}")


def _internal(exc: BaseException, as_json: bool) -> None:
    if isinstance(exc, BrokenPipeError):
        from firestop.cli.output import reader_went_away

        reader_went_away()
    from firestop.cli import interrupt
    from firestop.settings import SettingsError

    if interrupt.caused(exc):  # Ctrl-C inside code that re-raised it as another exception (interrupt.caused)
        if _state["debug"]:
            traceback.print_exception(exc)
        fail(interrupt.line(), interrupt.EXIT_INTERRUPTED, as_json=as_json)
    if isinstance(exc, SettingsError):  # a wrong setting is bad input, named with its fix
        fail(f"setting: {exc}", EXIT_BAD_INPUT, as_json=as_json)
    sign_in = _sign_in_problem(exc)
    if sign_in and not _state["debug"]:
        fail(sign_in, EXIT_BAD_INPUT, as_json=as_json)
    # newuser12: a damaged durable.sqlite read "internal error: DatabaseError: file is not a database" from alert handle
    # (its own handler) where incident list (main()'s) said what to do; the same line here
    problem = None if _state["debug"] else _unusable_state(exc)
    if problem:
        fail(problem[0], problem[1], as_json=as_json)
    if _state["debug"]:
        traceback.print_exception(exc)
    fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", EXIT_INTERNAL, as_json=as_json)


@contextmanager
def _progress(*, enabled: bool):
    """A spinner on stderr showing the incident's phase, step and elapsed wall time (interactive terminals only)."""
    from firestop.times import seconds

    if not enabled or not err_console.is_terminal:
        yield None
        return
    started = time.monotonic()
    with err_console.status("handling the alert: detect · analyze · contain · resolve · learn…") as status:
        def update(st) -> None:
            custom = st.custom_status if isinstance(st.custom_status, dict) else {}
            status.update(clean(f"{custom.get('phase') or st.runtime_status} · {custom.get('step') or ''} · {seconds(time.monotonic() - started)}"))

        yield update


def _require_playbooks(alert, as_json: bool) -> None:
    """Exit 2, recording nothing, when broken playbook files leave ``alert`` without a playbook."""
    from firestop.playbooks import routing_blocked
    from firestop.settings import Settings

    problem = routing_blocked(alert, Settings.from_env().playbooks_dir)
    if problem:
        fail(f"FIRESTOP_PLAYBOOKS: {problem}", EXIT_BAD_INPUT, as_json=as_json)


def _require_sign_in(env, as_json: bool) -> None:
    """Break-glass needs a credential before anything is recorded: without one every step would fail
    and the alert would count as handled. Exit 2 naming the fix; FIRESTOP_HOME is left as it was."""
    from firestop.trust import CredentialIdentityError, principal_from_credential

    try:
        principal_from_credential(env.clients.credential)
    except CredentialIdentityError as exc:
        env.close()
        fail(f"--azure: {exc}; nothing was done", EXIT_BAD_INPUT, as_json=as_json)


@alert_app.command("handle")
def alert_handle(
    file: str = typer.Argument(..., metavar="FILE", help="Alert payload (Common Alert Schema JSON), or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the incident as JSON."),
    rerun: bool = typer.Option(False, "--rerun", help="Handle the alert again even if it was handled before."),
    azure: bool = typer.Option(False, "--azure", help="Act on real Azure with DefaultAzureCredential (break-glass, when the Function App is down)."),
    tenant: Optional[Path] = typer.Option(None, "--tenant", help="Sandbox tenant file to seed FIRESTOP_HOME/sandbox with (when it has none yet)."),
    yes: bool = typer.Option(False, "--yes", help="With --azure: do not ask for confirmation."),
    unregistered: bool = typer.Option(False, "--unregistered", help="Sandbox only: do not have the sandbox's Azure "
                                      "Monitor fire the alert first, so with the source check on it is checked as a "
                                      "forged delivery is (rehearse the forged path). Refused with --azure."),
) -> None:
    """Run an alert through detect → analyze → contain → resolve → learn (sandbox tenant by default)."""
    from contextlib import nullcontext

    from firestop.cli import interrupt

    again = ["alert", "handle", file] + (["--azure"] if azure else [])
    # from the first moment (the imports below take seconds on a fresh home): Ctrl-C says no incident was started
    # and how to start it; --rerun starts a new incident, once it exists plain `alert handle` resumes it (the alert's
    # newest unfinished one)
    interrupt.about(resume=interrupt.command(*again, *(["--rerun"] if rerun else [])), resume_once_started=interrupt.command(*again),
                    starts_incident=True)
    from firestop.cli.collector import paused
    from firestop.cli.platform_warm import warm

    warm()  # azure-core's User-Agent runs `uname -p` once per process: now, while the imports below run
    # the sandbox's start-up imports and one incident on a virtual clock: the cyclic collector's passes free ~nothing
    with nullcontext() if azure else paused():
        _alert_handle(file, as_json=as_json, rerun=rerun, azure=azure, tenant=tenant, yes=yes, unregistered=unregistered)


def _alert_handle(file: str, *, as_json: bool, rerun: bool, azure: bool, tenant: Optional[Path], yes: bool,
                  unregistered: bool = False) -> None:
    """``alert handle``'s work (see :func:`alert_handle`); ends with ``typer.Exit`` carrying the exit code."""
    if azure and unregistered:  # (before anything is read or built: it changes the sandbox's set-up only)
        fail("--unregistered: it rehearses a forged delivery in the sandbox (its Azure Monitor not told of the alert); "
             "with --azure the source check reads real Azure, and nothing skips it: drop one of them", EXIT_BAD_INPUT,
             as_json=as_json)
    alert = _alert_or_fail(file, as_json)
    if azure and tenant:
        fail("--tenant: a sandbox tenant file makes no sense with --azure; drop one of them", EXIT_BAD_INPUT, as_json=as_json)
    if tenant and not tenant.is_file():
        fail(f"--tenant: {tenant} is not a file; give a tenant YAML/JSON file", EXIT_BAD_INPUT, as_json=as_json)
    if azure and not yes:
        if as_json or not sys.stdin.isatty():
            fail("--yes: --azure acts on real Azure resources; confirm with --yes when not running interactively", EXIT_BAD_INPUT, as_json=as_json)
        targets = ", ".join(alert.target_ids) or "(no target)"
        if not typer.confirm(f"Act on REAL Azure resources ({clean(targets)}) with the matching playbook?", default=False):
            fail("not confirmed; nothing was done", EXIT_BAD_INPUT, as_json=as_json)
    _require_playbooks(alert, as_json)
    try:
        from firestop.cli.incidents import handle_alert
        from firestop.cli.runbook_cmd import TENANT_FILE_ERRORS, tenant_file_problem
        from firestop.cli.wiring import environment

        try:
            env = environment(azure=azure, seed=str(tenant) if tenant else None)
        except TENANT_FILE_ERRORS as exc:  # a tenant file that is not one is bad input, not an internal error
            if tenant is None:
                raise
            fail(tenant_file_problem(tenant, exc), EXIT_BAD_INPUT, as_json=as_json)
        if azure:
            _require_sign_in(env, as_json)
        try:
            with _progress(enabled=not as_json) as on_progress:
                record, note = handle_alert(alert, rerun=rerun, env=env, retry_unfinished=azure, on_progress=on_progress,
                                            register=not unregistered)
        finally:
            env.close()
    except typer.Exit:
        raise
    except KeyboardInterrupt:  # SIGINT's default handler (not through main(), e.g. a test runner)
        from firestop.cli import interrupt

        fail(interrupt.line(), interrupt.EXIT_INTERRUPTED, as_json=as_json)
    except Exception as exc:  # noqa: BLE001
        _internal(exc, as_json)
    from firestop.cli.incidents import exit_code

    if as_json:
        print_json({**record, "note": note} if note else record)
    else:
        if note:
            console.print(Text(clean(note), style="yellow"), highlight=False)
        if record.get("status") == "nothing_to_contain":
            console.print(Text(clean(record.get("reason"))), highlight=False)
        else:
            print_incident(record, sandbox=not azure)
    if record.get("record_error"):
        raise typer.Exit(EXIT_INTERNAL)  # contained or not, a missing record is an internal failure to act on
    raise typer.Exit(exit_code(record))


@alert_app.command("show")
def alert_show(
    file: str = typer.Argument(..., metavar="FILE", help="Alert payload (Common Alert Schema JSON), or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the normalised alert as JSON."),
) -> None:
    """Print what Firestop understood of an alert payload (changes nothing)."""
    from rich.table import Table

    from firestop.alerts import render_alert_rows

    alert = _alert_or_fail(file, as_json)
    if as_json:
        try:
            print_json(alert.model_dump(mode="json"))
        except ValueError as exc:
            fail(f"$: the payload is {exc}; show it without --json", EXIT_BAD_INPUT, as_json=True)
        return
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field, value in render_alert_rows(alert):
        table.add_row(Text(clean(field)), Text(clean(value)))
    console.print(table)


@sandbox_app.command("reset")
def sandbox_reset(
    tenant_file: Optional[Path] = typer.Option(None, "--tenant", help="Seed from this tenant file (YAML/JSON; az resource show output) instead of the built-in tenant."),
    force: bool = typer.Option(False, "--force", help="Reset even while firestop serve runs against this FIRESTOP_HOME."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Restore the simulated tenant to its seed (keys, network settings, vault, logs, clock). Refused (exit 2) while
    firestop serve runs against the same FIRESTOP_HOME, unless --force."""
    from firestop.cli import serve_lock
    from firestop.cli.wiring import reset_sandbox
    from firestop.settings import Settings

    if tenant_file is not None and not tenant_file.is_file():
        fail(f"--tenant: {tenant_file} is not a file; give a tenant YAML/JSON file", EXIT_BAD_INPUT, as_json=as_json)
    servers = [] if force else serve_lock.running(Settings.from_env().home)
    if servers:
        who = ", ".join(f"pid {s['pid']}" + (f" ({s['url']})" if s.get("url") else "") for s in servers)
        fail(f"--force: firestop serve is running against this FIRESTOP_HOME ({who}) and holds the sandbox tenant open; "
             "stop it first (Ctrl+C), or reset under it with --force", EXIT_BAD_INPUT, as_json=as_json)
    from firestop.cli.runbook_cmd import TENANT_FILE_ERRORS, tenant_file_problem

    try:
        tenant = reset_sandbox(seed=str(tenant_file) if tenant_file else None)
    except TENANT_FILE_ERRORS as exc:
        if tenant_file is None:
            _internal(exc, as_json)
        fail(tenant_file_problem(tenant_file, exc), EXIT_BAD_INPUT, as_json=as_json)
    except Exception as exc:  # noqa: BLE001
        _internal(exc, as_json)
    where = str(Settings.from_env().sandbox_dir)
    if as_json:
        print_json({"reset": True, "state_dir": where, "clock": tenant.clock.now().isoformat()})
    else:
        console.print(Text(clean(f"Sandbox tenant restored to its seed ({where}).")), highlight=False)


principal_app = typer.Typer(help="The caller identity the responders' HTTP API expects (App Service authentication).", no_args_is_help=True)
app.add_typer(principal_app, name="principal")


@principal_app.command("header")
def principal_header(
    as_: str = typer.Option(..., "--as", help="Entra object ID of the caller."),
    group: list[str] = typer.Option([], "--group", help="A group object ID (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"header": name, "value": value} as JSON.'),
) -> None:
    """Print the X-MS-CLIENT-PRINCIPAL header value App Service would send for this caller, for local testing against
    `firestop serve` (which believes it from loopback peers only). It carries identity only: locally the caller's roles
    come from the role table (FIRESTOP_ROLES or FIRESTOP_HOME/roles.json; the sandbox's demo roles by default). On
    Azure, App Service authentication sets the header (with the Entra app role claims) and strips any the client sends."""
    from firestop.trust import encode_principal

    if not as_.strip():
        fail("--as: give the caller's Entra object ID", EXIT_BAD_INPUT, as_json=as_json)
    value = encode_principal(as_.strip(), groups=tuple(group))
    if as_json:
        from firestop.trust import HEADER

        print_json({"header": HEADER, "value": value})
        return
    sys.stdout.write(value + "\n")


def _unusable_state(exc: BaseException) -> tuple[str, int] | None:
    """``(what to tell a responder, exit code)`` when local state cannot be read or written, None when ``exc`` is not
    that kind of error: a damaged durable store is exit 1 (internal); a ``FIRESTOP_HOME`` that cannot be created or
    written — permission, a file in the way, or an OS error on a path inside it (``ENOENT`` where no folder can be made,
    ``EROFS`` a read-only file system, ``ENOSPC``) — is exit 2, the setting named with its fix (as ``doctor`` and
    ``infra deploy`` say it)."""
    import errno
    import sqlite3

    from firestop.settings import Settings

    try:
        home = Settings.from_env().home
    except Exception:  # noqa: BLE001 — a wrong setting is reported on its own
        home = None
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"the local durable store under {home or 'FIRESTOP_HOME'} cannot be read ({exc}); move durable.sqlite aside "
                "(or restore it from a backup) — records, evidence and ledgers beside it are untouched"), EXIT_INTERNAL
    if not isinstance(exc, OSError):
        return None
    in_home = False
    if home is not None and exc.filename:
        try:
            where, root = Path(str(exc.filename)).absolute(), Path(home).absolute()
            in_home = where == root or root in where.parents
        except (OSError, ValueError):
            in_home = False
    kinds = (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError)
    if isinstance(exc, kinds) or (in_home and exc.errno in (errno.ENOENT, errno.EROFS, errno.ENOSPC, errno.EDQUOT)):
        return (f"FIRESTOP_HOME ({home or 'FIRESTOP_HOME'}) is not usable: {type(exc).__name__}: {exc.strerror or exc}"
                f"{f' ({exc.filename})' if exc.filename else ''}; point FIRESTOP_HOME at a writable directory"), EXIT_BAD_INPUT
    return None


def _run_for_json(args: list[str], stop: Callable[[str, int], NoReturn]) -> NoReturn:
    """Run the app for a ``--json`` command line: as click's standalone mode does, except that a usage error (an unknown
    option or command, a missing argument, a value click refuses) is the JSON error object every command prints
    (``{"error", "exit_code": 2}`` on stdout, :func:`firestop.cli.output.fail`) instead of click's usage text on
    stderr, so a script reading stdout gets JSON whatever went wrong."""
    from typer.exceptions import TyperException  # the base of (Typer's vendored) click's ClickException, UsageError

    try:
        code = _app_for(args)(args=args, prog_name="python -m firestop", standalone_mode=False)
    except TyperException as exc:  # UsageError and its kinds: the command line itself
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        stop(f"usage: {message} (see: {' '.join(['python -m firestop', *_command_words(args), '--help'])})",
             int(getattr(exc, "exit_code", EXIT_BAD_INPUT)))
    except typer.Abort:  # EOF at a prompt (standalone mode says "Aborted!", exit 1)
        stop("aborted: no answer was given; nothing was changed", EXIT_INTERNAL)
    # standalone mode exits 0 after a command returns; a typer.Exit comes back here as its code
    raise SystemExit(code if isinstance(code, int) and not isinstance(code, bool) else 0)


def _command_words(args: list[str]) -> list[str]:
    """The command words at the start of ``args`` (``incident show``), up to the first option or word that is not a
    sub-command, for the --help hint of a usage error (groups told by their ``commands``, as in Typer's vendored click)."""
    words: list[str] = []
    command: Any = typer.main.get_command(app)
    for arg in args:
        commands = getattr(command, "commands", None)
        if not isinstance(commands, dict) or arg not in commands:
            break
        words.append(arg)
        command = commands[arg]
    return words


#: The root for ``alert handle`` command lines, built by :func:`_app_for` on first use.
_handle_app: Optional[typer.Typer] = None


def _app_for(args: list[str]) -> typer.Typer:
    """The Typer app that runs ``args`` (after :func:`main` moved ``--debug`` first): for ``alert handle …`` a root
    with the same settings, root callback (``--debug``, the settings check) and ``alert`` group as :data:`app`, but
    without the other groups and commands; :data:`app` for anything else.

    Why: Typer builds the click command of every group and command of its app before parsing (reading ~60
    functions' signatures and type hints): 41-42 ms of CPU for :data:`app`, 2.3 ms for the ``alert`` group
    (``time.process_time`` around ``typer.main.get_command``, 3 runs, load ~7), on each ``alert handle``. What such
    a command line does, prints and refuses involves only the root and the ``alert`` group; ``--help`` and every
    other command still get the whole app."""
    global _handle_app
    words = args[1:] if args[:1] == ["--debug"] else args
    if words[:2] != ["alert", "handle"]:
        return app
    if _handle_app is None:
        root = _root_app()
        root.callback()(_root)
        root.add_typer(alert_app, name="alert")
        _handle_app = root
    return _handle_app


def main(argv: Optional[list[str]] = None) -> None:
    from firestop.settings import SettingsError

    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args[1:] and "--" not in args:
        # --debug is a root option; responders type it at the end too (`incident show ID --debug`)
        args = ["--debug", *[a for a in args if a != "--debug"]]
    as_json = "--json" in args

    def stop(message: str, code: int) -> NoReturn:
        try:
            fail(message, code, as_json=as_json)
        except typer.Exit as done:  # outside the app, so no click to turn it into the exit status
            raise SystemExit(done.exit_code) from None

    from firestop.cli.output import PipeGuard

    from firestop.cli import interrupt

    if not isinstance(sys.stdout, PipeGuard):
        sys.stdout = PipeGuard(sys.stdout)
    interrupt.install()
    try:
        if as_json:
            _run_for_json(args, stop)
        else:
            _app_for(args)(args=args, prog_name="python -m firestop")
    except (interrupt.Interrupted, KeyboardInterrupt) as exc:  # Ctrl-C: one line, exit 130 (firestop.cli.interrupt)
        done = interrupt.answered(exc)
        if done is not None:  # the command had printed its answer and was exiting: that answer and its code stand
            raise SystemExit(done) from None
        if "--debug" in args:
            traceback.print_exc()
        stop(interrupt.line(), interrupt.EXIT_INTERRUPTED)
    except SettingsError as exc:  # raised outside a command's own handler: still bad input, never a traceback
        stop(f"setting: {exc}", EXIT_BAD_INPUT)
    except BrokenPipeError:
        from firestop.cli.output import reader_went_away

        reader_went_away()
    except Exception as exc:  # noqa: BLE001 — the last line of defence: one line, never a traceback without --debug
        if interrupt.caused(exc):  # Ctrl-C inside code that re-raised it as another exception (interrupt.caused)
            if "--debug" in args:
                traceback.print_exc()
            stop(interrupt.line(), interrupt.EXIT_INTERRUPTED)
        if "--debug" in args:
            raise
        problem = _unusable_state(exc)
        if problem:
            stop(*problem)
        sign_in = _sign_in_problem(exc)
        if sign_in:
            stop(sign_in, EXIT_BAD_INPUT)
        stop(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", EXIT_INTERNAL)

"""``python -m firestop audit run|controls|show`` — the security checklist against the tenant.

``audit run [--resource-group RG ...] [--account RG/NAME|ID ...] [--fix] [--no-incidents] [--json] [--tenant FILE | --azure --subscription ID]``
    Evaluate every control (:mod:`firestop.audit`) over the scope, print the checklist (✔/❌/—,
    severity, evidence, fix), keep the audit with the records (``FIRESTOP_HOME/records/audits/``:
    JSON, Markdown, HTML) and report the drift since the previous audit of the same scope. A *new*
    high-severity finding whose control names a playbook opens an incident on the local durable host
    (as ``alert handle`` would: deduped by its alert id, so once). ``--fix`` adds the runbook plan
    (dry run) of each fixable finding and the ``runbook run`` command that applies it (normal runbook
    path: plan shown again, confirmation, verify, ledger), or says why a fix is not offered there (its
    runbook's precondition fails, or it has nothing to change). Exit 0 all controls pass, 3 findings,
    2 bad input, 1 internal error.
``audit controls [--json]``
    The registered controls: id, area, severity, target, Azure Policy definition, fix, runbook, schema.
``audit fix [AUDIT_ID] [--control ID ...] [--resource NAME ...] [--yes] [--json]``
    Apply the runbooks of a stored audit's fixable findings (default: the newest audit) through the
    normal runbook path — each one planned again, shown, confirmed (unless ``--yes``), applied,
    verified and written to the manual ledger, exactly as ``runbook run``. Each finding is checked again
    just before its turn (:mod:`firestop.audit.fixes`): a fix whose control no longer fails, or whose
    runbook's plan is refused or changes nothing, is not offered and the reason is printed
    (``not_offered`` in JSON). Exit 0 all applied and verified, 3 some not verified, 2 bad input /
    not confirmed / nothing to fix (no chosen fix applies now), 1 Azure refused.
``audit show [AUDIT_ID] [--format text|json|markdown|html]``
    A stored audit (default: the newest). Exit 2 when there is none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_NEEDS_RESPONDER, clean, console, fail, print_json
from firestop.cli.remote import APP_HELP, AUTH_HELP

audit_app = typer.Typer(help="The Azure OpenAI security checklist, checked against the tenant (sandbox by default, or --azure).",
                        no_args_is_help=True)

_RG = __import__("re").compile(r"^[-\w._()]{1,90}$")


def _internal(exc: BaseException, as_json: bool) -> None:
    from firestop.cli.runbook_cmd import _internal as internal

    internal(exc, as_json)


def audit_context(env, *, subscription: str, resource_groups: tuple[str, ...] = (), accounts: tuple[str, ...] = ()):
    """The :class:`~firestop.audit.AuditContext` of a CLI environment (on the sandbox: reads it does not model are skipped)."""
    from firestop.audit import AuditContext
    from firestop.playbooks import load_playbooks_lenient

    from firestop.audit.reader import default_unserved

    unserved = default_unserved() if env.tenant is not None else None
    playbooks, _ = load_playbooks_lenient(env.settings.playbooks_dir)
    return AuditContext(clients=env.clients, settings=env.settings, subscription=subscription, resource_groups=resource_groups,
                        accounts=accounts, unserved=unserved, playbooks=tuple(playbooks))


def open_drift_incidents(env, audit) -> list[dict[str, Any]]:
    """Start (or find) the incident of each drift alert on the local host and drive it; one entry per alert."""
    from firestop.audit.drift import drift_alerts
    from firestop.cli.incidents import handle_alert

    out = []
    for alert in drift_alerts(audit):
        record, note = handle_alert(alert, env=env)
        out.append({"incident_id": record.get("incident_id"), "status": record.get("status"), "playbook": alert.routed_playbook,
                    "control": alert.custom_properties.get("firestop-control"), "resource": alert.target_ids[0],
                    "resource_name": alert.target_ids[0].rsplit("/", 1)[-1], "alert_id": alert.alert_id,
                    "outcome": "already open for this drift" if note and "already handled" in note else f"opened ({record.get('status')})"})
    return out


def run_and_keep(env, ctx, *, incidents: bool = True):
    """Run the audit, open drift incidents, keep it with the records: (audit as filed, files)."""
    from firestop.audit import run_audit
    from firestop.audit import store
    from firestop.audit.service import scope_of

    previous, unverified = store.previous(store.records_store(env.settings), scope_of(ctx))
    audit = run_audit(ctx, previous=previous, unverified=unverified)
    if incidents:
        opened = open_drift_incidents(env, audit)
        if opened:
            audit = audit.model_copy(update={"incidents": tuple(opened)})
    return store.save(audit, store.records_store(env.settings))


def _short(value: Any) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 240 else text[:237] + "…"


def print_audit(audit, files: dict[str, str] | None = None) -> None:
    from firestop.audit.models import Area
    from firestop.times import instant

    c = audit.counts()
    console.print(Text(clean(f"Audit {audit.audit_id} — {', '.join(audit.scope)} — {instant(audit.at)}")), highlight=False)
    for area in Area:
        rows = [r for r in audit.results if r.area is area]
        if not rows:
            continue
        table = Table(title=area.value, title_justify="left", show_lines=False, expand=True)
        width = max(len(r.resource_name) for r in rows)
        for name, kw in (("", {"width": 2}), ("control", {"ratio": 2}), ("resource", {"no_wrap": True, "min_width": min(width, 40)}),
                         ("sev", {"width": 6}), ("what was found · evidence · fix", {"ratio": 5})):
            table.add_column(name, overflow="fold", **kw)
        for r in rows:
            text = r.detail
            if r.status.value == "fail":
                text += "".join(f"\n  · {e.read} = {_short(e.value)}" for e in r.evidence)
                text += f"\n  fix: {r.fix}" + (f" (runbook {r.runbook.runbook}: audit run --fix)" if r.runbook else "")
            table.add_row(r.status.mark, Text(clean(r.title)), Text(clean(r.resource_name)), r.severity.value, Text(clean(text)))
        console.print(table)
    from firestop.audit.drift import since

    if audit.drift.previous or audit.drift.unverified:
        console.print(Text(clean(f"Since {since(audit.drift)}: {len(audit.drift.new)} new finding(s), {len(audit.drift.fixed)} fixed")),
                      highlight=False)
        for k in audit.drift.new:
            console.print(Text(clean(f"  ❌ new: {k}")), highlight=False)
        for k in audit.drift.fixed:
            console.print(Text(clean(f"  ✔ fixed: {k}")), highlight=False)
    else:
        console.print("First audit of this scope: the baseline for drift.", highlight=False)
    for i in audit.incidents:
        console.print(Text(clean(f"Incident {i['incident_id']} ({i['playbook']}): {i['outcome']} — {i['control']} on {i['resource_name']}")),
                      highlight=False)
    console.print(Text(f"{c['pass']} ✔ · {c['fail']} ❌ · {c['not_evaluable']} —"), highlight=False)
    if files:
        console.print(Text(clean(f"Report: {files.get('markdown')} · {files.get('html')}")), highlight=False,
                      soft_wrap=True)  # paths are never broken by an inserted newline (as incident show's Record: line)


#: What ``--account RG/NAME`` names (an Azure OpenAI account is a Cognitive Services account).
ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"


@audit_app.command("run")
def audit_run(
    resource_group: list[str] = typer.Option([], "--resource-group", metavar="RG", help="Only this resource group (repeatable)."),
    account: list[str] = typer.Option([], "--account", metavar="RG/NAME", help="Only this Azure OpenAI account: <rg>/<name> (in the audited subscription) or its resource ID (repeatable; with --app a resource ID)."),
    subscription: Optional[str] = typer.Option(None, "--subscription", help="Subscription ID (default: the sandbox tenant's; required with --azure)."),
    fix: bool = typer.Option(False, "--fix", help="Also plan (dry run) the runbook of each fixable finding."),
    no_incidents: bool = typer.Option(False, "--no-incidents", help="Report drift only; open no incident."),
    as_json: bool = typer.Option(False, "--json", help="Print the audit as JSON."),
    azure: bool = typer.Option(False, "--azure", help="Read real Azure with DefaultAzureCredential (reads only)."),
    tenant: Optional[Path] = typer.Option(None, "--tenant", metavar="FILE", help="Sandbox tenant file to seed FIRESTOP_HOME/sandbox with."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP + " The app audits its own scope (FIRESTOP_AUDIT_SUBSCRIPTION)."),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Check the security checklist against the tenant; exit 0 all pass, 3 findings."""
    import uuid

    from firestop.resource_id import resource_id_key

    for rg in resource_group:
        if not _RG.match(rg):
            fail(f"--resource-group: {rg!r} is not a resource group name (1-90 letters, digits, -_.())", EXIT_BAD_INPUT, as_json=as_json)
    for a in account:
        if not a.strip().startswith("/"):  # RG/NAME, as infra --account: expanded once the subscription is known
            from firestop.infra.scopes import ScopeError, resource_ref

            try:
                resource_ref("--account", a, ACCOUNT_TYPE, "00000000-0000-0000-0000-000000000000")
            except ScopeError as exc:
                fail(f"--account: {exc.message}", EXIT_BAD_INPUT, as_json=as_json)
            if app is not None:
                fail(f"--account: {a[:80]!r} — with --app give the account's resource ID (the app audits its own "
                     "subscription, which this command does not know)", EXIT_BAD_INPUT, as_json=as_json)
            continue
        try:
            resource_id_key(a)
        except ValueError:
            a = ""
        if "/providers/microsoft.cognitiveservices/accounts/" not in a.lower():
            fail("--account: give an account as <resource group>/<name> or its resource ID "
                 "(/subscriptions/…/providers/Microsoft.CognitiveServices/accounts/NAME)", EXIT_BAD_INPUT, as_json=as_json)
    if subscription is not None:
        try:
            uuid.UUID(subscription)
        except ValueError:
            fail(f"--subscription: {subscription!r} is not a subscription ID (a GUID)", EXIT_BAD_INPUT, as_json=as_json)
    if azure and subscription is None:
        fail("--subscription: required with --azure (the subscription to audit)", EXIT_BAD_INPUT, as_json=as_json)
    from firestop.cli.remote import calling, connect, refuse_local_flags

    remote = connect(app, auth, as_json=as_json)
    if remote is not None:
        # the app audits its own subscription and always opens the incidents of new drift (a caller cannot turn that off)
        refuse_local_flags(as_json, subscription=subscription, no_incidents=no_incidents, azure=azure, tenant=tenant)
        answer = calling(as_json, remote.run_audit, list(resource_group), list(account), fix)
        audit, files, fixes = _audit_of(answer, as_json), answer.get("files") or {}, answer.get("fixes") if fix else None
    else:
        audit, files, fixes = _run_local(resource_group, account, subscription, fix, no_incidents, azure, tenant, as_json)
    _print_run_result(audit, files, fixes, as_json)


def _audit_of(answer: dict[str, Any], as_json: bool):
    """The :class:`~firestop.audit.models.Audit` in an answer of the app's audit API (its extra fields dropped);
    exit 1 when it is not one."""
    from pydantic import ValidationError

    from firestop.audit.models import Audit

    try:
        return Audit.model_validate({k: v for k, v in answer.items() if k in Audit.model_fields})
    except ValidationError as exc:
        fail(f"the app answered an audit this version cannot read ({exc.error_count()} problem(s)); update Firestop",
             1, as_json=as_json)


def _run_local(resource_group, account, subscription, fix, no_incidents, azure, tenant, as_json):
    """(audit as kept, files, fix plans or None) of an audit of the local environment."""
    from firestop.cli.runbook_cmd import _open_environment

    env = _open_environment(azure, tenant, as_json)  # --azure without a sign-in: exit 2 before anything is read or kept
    try:
        sub = subscription or (env.tenant.subscription_id if env.tenant is not None else "")
        from firestop.infra.scopes import resource_ref

        account = [a if a.strip().startswith("/") else resource_ref("--account", a, ACCOUNT_TYPE, sub) for a in account]
        missing = _missing_scope(env, sub, resource_group, account)
        if missing:
            fail(missing, EXIT_BAD_INPUT, as_json=as_json)
        ctx = audit_context(env, subscription=sub, resource_groups=tuple(resource_group), accounts=tuple(account))
        audit, files = run_and_keep(env, ctx, incidents=not no_incidents)
        fixes = None
        if fix:
            from firestop.audit.fixes import plan_fixes

            fixes = plan_fixes(audit, clients=env.clients, settings=env.settings)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        _internal(exc, as_json)
    finally:
        env.close()
    return audit, files, fixes


def _missing_scope(env, subscription: str, resource_groups, accounts) -> str | None:
    """The refusal for the first ``--resource-group`` or ``--account`` that does not exist, else None
    (:func:`firestop.audit.scope_check.missing_scope`; the app's ``POST /api/audits`` refuses the same with a 400)."""
    from firestop.audit.scope_check import missing_scope

    missing = missing_scope(env.clients, subscription, resource_groups, accounts)
    if missing is None:
        return None
    flag = "--resource-group" if missing.kind == "resource_group" else "--account"
    return f"{flag}: {missing.reason}; {missing.fix}"


def _print_run_result(audit, files: dict[str, str], fixes: list[dict[str, Any]] | None, as_json: bool) -> None:
    code = EXIT_NEEDS_RESPONDER if audit.findings else 0
    if as_json:
        out = {**audit.model_dump(mode="json"), "files": files, "counts": audit.counts(), "exit_code": code}
        if fixes is not None:
            out["fixes"] = fixes
        print_json(out)
        raise typer.Exit(code)
    print_audit(audit, files)
    for f in fixes or []:
        if not f["offered"]:
            console.print(Text(clean(f"Fix {f['control']} on {f['resource_name']} with {f['runbook']}: not offered — {f['reason']}")),
                          highlight=False)
            continue
        from firestop.lifecycle.change_words import value_words  # never Python's repr, None said as (absent)/(removed)

        changes = "; ".join(f"{c['field']}: {value_words(c.get('before'), 'before')} → {value_words(c.get('after'), 'after')}"
                            for c in f["plan"].get("changes") or []) or "nothing"
        console.print(Text(clean(f"Fix {f['control']} on {f['resource_name']} with {f['runbook']} (dry run): would change {changes}")), highlight=False)
        # the command is copied as is: never broken by an inserted newline (a narrow terminal wraps it visually)
        console.print(Text(clean(f"  apply: {f['apply']}")), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@audit_app.command("controls")
def audit_controls(
    as_json: bool = typer.Option(False, "--json", help="Print the controls as JSON."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Every control: id, area, severity, target, Azure Policy built-in definition, fix, runbook."""
    from firestop.audit import all_controls
    from firestop.cli.remote import calling, connect

    remote = connect(app, auth, as_json=as_json)
    rows = calling(as_json, remote.audit_controls) if remote is not None else [c.describe() for c in all_controls()]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        policy = f" · policy {row['policy_definition']}" if row["policy_definition"] else ""
        fixer = f" · runbook {row['runbook']['runbook']}" if row["runbook"] else ""
        console.print(Text(clean(f"{row['id']}  [{row['area']} · {row['severity']} · {row['target']}{policy}{fixer}]")), highlight=False)
        console.print(Text(clean(f"  {row['title']}")), highlight=False)


def _audit_id_hint(app: Optional[str], verb: str = "show") -> str:
    """What to type instead of a malformed AUDIT_ID of ``audit <verb>`` (``show``, ``fix``): where ids come from
    (``audit run`` prints each audit's id), then locally the newest stored audit's id as an example (or ``audit run``
    when there is none); with ``--app`` / FIRESTOP_APP_URL, omitting it (the app's latest)."""
    import os

    from firestop.audit import store
    from firestop.cli.remote import APP_ENV
    from firestop.settings import Settings

    if app or os.environ.get(APP_ENV, "").strip():
        return f"omit it for the app's latest audit: python -m firestop audit {verb} --app <url>"
    newest = store.stored_ids(store.records_store(Settings.from_env()))[:1]
    if not newest:
        return "no audit is stored yet; run one: python -m firestop audit run (it prints the audit's id)"
    return (f"audit run prints each audit's id; the latest is {newest[0]}: python -m firestop audit {verb} {newest[0]} "
            "(or omit AUDIT_ID for it)")


@audit_app.command("show")
def audit_show(
    audit_id: Optional[str] = typer.Argument(None, metavar="AUDIT_ID", help="A stored audit id (default: the newest)."),
    fmt: str = typer.Option("text", "--format", help="text, json, markdown or html."),
    as_json: bool = typer.Option(False, "--json", help="Same as --format json."),
    app: Optional[str] = typer.Option(None, "--app", help=APP_HELP),
    auth: Optional[str] = typer.Option(None, "--auth", help=AUTH_HELP),
) -> None:
    """Print a stored audit (the newest by default)."""
    import sys

    from firestop.audit import store
    from firestop.audit.render import render_html, render_markdown
    from firestop.cli.remote import calling, connect
    from firestop.settings import Settings

    fmt = "json" if as_json else fmt
    if fmt not in ("text", "json", "markdown", "html"):
        fail(f"--format: {fmt!r} is not one of text, json, markdown, html", EXIT_BAD_INPUT, as_json=as_json)
    if audit_id is not None and not store.valid_audit_id(audit_id):
        fail(f"AUDIT_ID: {audit_id[:80]!r} is not an audit id (audit-<time>-<4 hex>); {_audit_id_hint(app)}",
             EXIT_BAD_INPUT, as_json=as_json)
    remote = connect(app, auth, as_json=as_json)
    if remote is not None:  # the app's stored audit as JSON, rendered here exactly as a local one
        audit = _audit_of(calling(as_json, remote.audit, audit_id), as_json)
    else:
        records = store.records_store(Settings.from_env())
        audit = store.load(records, audit_id) if audit_id else store.latest(records)
        if audit is None:
            fail(f"AUDIT_ID: no stored audit{' ' + audit_id if audit_id else ''} in {records.where}; run: python -m firestop audit run",
                 EXIT_BAD_INPUT, as_json=as_json)
    if fmt == "json":
        print_json(audit.model_dump(mode="json"))
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(audit) + "\n")
    elif fmt == "html":
        sys.stdout.write(render_html(audit) + "\n")
    else:
        print_audit(audit)


@audit_app.command("fix")
def audit_fix(
    audit_id: Optional[str] = typer.Argument(None, metavar="AUDIT_ID", help="A stored audit id (default: the newest)."),
    control: list[str] = typer.Option([], "--control", metavar="ID", help="Only findings of this control (repeatable)."),
    resource: list[str] = typer.Option([], "--resource", metavar="NAME", help="Only findings on this resource name (repeatable)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask before each change (required with --json)."),
    as_json: bool = typer.Option(False, "--json", help="Print each run's plan, apply and verify as JSON (needs --yes)."),
) -> None:
    """Apply the runbooks of a stored audit's findings through the normal runbook path (plan, confirm, apply, verify, ledger)."""
    from firestop.audit import store
    from firestop.audit.fixes import check_fix
    from firestop.cli.runbook_cmd import _open_environment, _run
    from firestop.settings import Settings

    if as_json and not yes:
        fail("--yes: audit fix --json does not prompt; confirm with --yes (see the plans first with: audit run --fix)",
             EXIT_BAD_INPUT, as_json=True)
    if audit_id is not None and not store.valid_audit_id(audit_id):
        fail(f"AUDIT_ID: {audit_id[:80]!r} is not an audit id (audit-<time>-<4 hex>); {_audit_id_hint(None, 'fix')}",
             EXIT_BAD_INPUT, as_json=as_json)  # the same hint as audit show's (cli17)
    records = store.records_store(Settings.from_env())
    audit = store.load(records, audit_id) if audit_id else store.latest(records)
    if audit is None:
        fail(f"AUDIT_ID: no stored audit{' ' + audit_id if audit_id else ''} in {records.where}; run: python -m firestop audit run",
             EXIT_BAD_INPUT, as_json=as_json)
    wanted_controls = {c.lower() for c in control}
    wanted_resources = {r.lower() for r in resource}
    chosen = [r for r in audit.findings if r.runbook is not None
              and (not wanted_controls or r.control.lower() in wanted_controls)
              and (not wanted_resources or r.resource_name.lower() in wanted_resources)]
    if not chosen and not (control or resource):  # nothing narrowed it: the audit itself has no runbook fix
        fail(f"AUDIT_ID: {audit.audit_id} has no finding a runbook can fix; nothing was changed (each finding names its fix "
             f"by hand: python -m firestop audit show {audit.audit_id})", EXIT_BAD_INPUT, as_json=as_json)
    if not chosen:
        fail(f"--control/--resource: no fixable finding in {audit.audit_id} matches; see: python -m firestop audit run --fix",
             EXIT_BAD_INPUT, as_json=as_json)
    if audit.sandbox is False:
        fail("AUDIT_ID: that audit read real Azure; apply its fixes with runbook run --azure (shown by audit run --fix)",
             EXIT_BAD_INPUT, as_json=as_json)
    env = _open_environment(False, None, as_json)
    runs, skipped, worst = [], [], 0
    try:
        for r in chosen:
            # checked just before its turn: a fix applied earlier in this run may have made it moot
            ctx = audit_context(env, subscription=r.resource.split("/")[2] if r.resource.startswith("/subscriptions/") else "")
            check = check_fix(r, clients=env.clients, settings=env.settings, ctx=ctx)
            if not check["offered"]:
                skipped.append({"control": r.control, "resource": r.resource, "resource_name": r.resource_name,
                                "runbook": check["runbook"], "reason": check["reason"]})
                if not as_json:
                    console.print(Text(clean(f"{r.control} on {r.resource_name} ({check['runbook']}): not offered — {check['reason']}")),
                                  highlight=False)
                continue
            out, code = _run(env, r.runbook.runbook, r.resource, dict(r.runbook.params), yes=yes, azure=False, as_json=as_json)
            runs.append({"control": r.control, "resource": r.resource, **out, "exit_code": code})
            worst = max(worst, code)
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001
        _internal(exc, as_json)
    finally:
        env.close()
    if not runs:  # every chosen fix was refused before anything ran: nothing to fix
        worst = EXIT_BAD_INPUT
        if not as_json:
            console.print(Text(clean(f"Nothing to fix in {audit.audit_id}: no chosen finding's runbook applies now.")), highlight=False)
    if as_json:
        print_json({"audit_id": audit.audit_id, "runs": runs, "not_offered": skipped, "exit_code": worst})
    raise typer.Exit(worst)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")

"""``firestop rules trust RULE_ID``: an admin trusts a customer's own alert rule (RT17-01).

With the source check on, an alert confirms only when the rule that fired it is the routed playbook's own detection
as ``firestop infra`` deploys it (:mod:`firestop.infra.rule_trust`). A rule of the customer's own routed with
``firestop-playbook: <name>`` waits for a responder (``alert.genuine``) until an admin trusts *this version* of it:
the rule is read from Azure (the same GET the source check makes), and a sealed entry bound to its id and the digest
of its criteria is written to the records store (:mod:`firestop.infra.trusted_rules`). An edit of what decides when
it fires, where it reads, how it routes or (digest version 2, trust17) whether and when a firing reaches Firestop —
a mute, how it resolves — voids the entry; an entry sealed before trust17 (version 1) holds only while the rule sets no
mute or resolve of its own, and is flagged "re-trust" by ``check`` and ``list``.

``firestop rules check RULE_ID [--target ACCOUNT_ID]``: would this rule's alerts be confirmed without a responder —
is it its playbook's detection as deployed, or trusted by an admin (exit 0), or not (exit 3, with why)? Reader
role not needed: it reads the rule (the same GET) and the records store only; for upgrading, run it on each of your
own rules routed to Firestop's action group.

``firestop rules untrust RULE_ID``: an admin revokes the trust in every trusted version of the rule (a sealed untrust
entry, :func:`firestop.infra.trusted_rules.untrust_rule`); ``firestop rules list [--revoked]``: the trusted rules,
who trusted (and revoked) them and when (:func:`~firestop.infra.trusted_rules.listing`). A RULE_ID answered 404 is
told the id's form and where ids are (:func:`_not_found_hint`).

Who may trust or revoke: the ``admin`` role (:func:`firestop.trust.roles_held`, the API's check). ``--azure``: your Azure sign-in
(DefaultAzureCredential), the configured role table, real Azure and the app's records store and seal key;
otherwise the sandbox simulation with ``--as``. Exit codes: 0 trusted (now or already) / revoked (or nothing to revoke)
/ listed, 3 (check) not trusted, 2 bad input (not a rule id, no such rule, not an admin, no seal key), 1 anything else.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, clean, console, fail, print_json

rules_app = typer.Typer(help="Alert rules an admin trusted: their alerts act without a responder (see README, Trust model).",
                        no_args_is_help=True)


@rules_app.command("trust")
def trust(
    rule_id: str = typer.Argument(..., metavar="RULE_ID", help="ARM id of the metric, scheduled query or activity log alert rule."),
    as_: Optional[str] = typer.Option(None, "--as", help="SANDBOX SIMULATION: trust as this Entra object ID (default FIRESTOP_PRINCIPAL_ID)."),
    group: list[str] = typer.Option([], "--group", help="SANDBOX SIMULATION: a group object ID to claim (repeatable)."),
    azure: bool = typer.Option(False, "--azure", help="Real Azure with your sign-in (DefaultAzureCredential); the app's records store and seal key."),
    as_json: bool = typer.Option(False, "--json", help="Print the entry as JSON."),
) -> None:
    """Trust this version of an alert rule: its alerts are then confirmed at their source like the playbook's own
    detections (a later edit of its condition, scope or firestop-* properties voids the trust). Admin role."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    from firestop.storage.base import StoreError
    from firestop.trust.seal import SealKeyError

    rule_id, env, who = _admin_session(rule_id, as_, group, azure, as_json, doing="trusting")
    try:
        try:
            rule = env.clients.alerts_management().get_rule(rule_id)
        except ResourceNotFoundError:
            fail(f"RULE_ID: no alert rule {clean(rule_id)} (Azure answered 404); {_not_found_hint(env, azure)}",
                 EXIT_BAD_INPUT, as_json=as_json)
        except AzureError as exc:
            fail(f"the alert rule could not be read ({type(exc).__name__}); nothing was trusted", 1, as_json=as_json)
        from firestop.infra.trusted_rules import trust_rule
        from firestop.records.store import records_store

        try:
            entry, written = trust_rule(records_store(env.settings), rule if isinstance(rule, dict) else {}, by=who,
                                        at=env.clients.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        except SealKeyError as exc:
            fail(f"the app's seal key is needed to trust a rule: {clean(exc)}", EXIT_BAD_INPUT, as_json=as_json)
        except ValueError as exc:
            fail(f"RULE_ID: {clean(exc)}", EXIT_BAD_INPUT, as_json=as_json)
        except StoreError as exc:
            fail(f"the records store could not be read or written ({clean(exc)}); nothing was trusted", 1, as_json=as_json)
    finally:
        env.close()
    shown = {k: v for k, v in entry.items() if k not in ("seal", "event")} | {"written": written}
    if as_json:
        print_json(shown)
        return
    console.print(clean(f"{'Trusted' if written else 'Already trusted'}: {entry['rule_id']} (criteria {entry['criteria'][:12]}…, "
                        f"routes to {', '.join(entry['playbooks']) or 'no playbook'}) by {entry['trusted_by']}. "
                        "An edit of its condition, scope or firestop-* properties voids this."), highlight=False,
                  markup=False, soft_wrap=True)


@rules_app.command("check")
def check(
    rule_id: str = typer.Argument(..., metavar="RULE_ID", help="ARM id of the metric, scheduled query or activity log alert rule."),
    target: Optional[str] = typer.Option(None, "--target", metavar="ACCOUNT_ID", help="The account its alerts target (default: the rule's scope when that is an account)."),
    azure: bool = typer.Option(False, "--azure", help="Real Azure with your sign-in (DefaultAzureCredential)."),
    as_json: bool = typer.Option(False, "--json", help="Print {rule_id, playbook, detection, trusted, why, retrust?} as JSON."),
) -> None:
    """Would this rule's alerts act without a responder (source check on)? Exit 0 yes, 3 no (why), 2 bad input."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    from firestop.azure.alerts_management import check_rule_id, rule_routes
    from firestop.cli.output import EXIT_NEEDS_RESPONDER

    try:
        rule_id = check_rule_id(rule_id)
    except ValueError as exc:
        fail(f"RULE_ID: {exc}", EXIT_BAD_INPUT, as_json=as_json)
    if target is not None:
        from firestop.resource_id import parse

        try:
            ok = parse(target).type_key == "microsoft.cognitiveservices/accounts"
        except ValueError:
            ok = False
        if not ok:
            fail(f"--target: {clean(target[:300])!r} is not an Azure OpenAI account's resource id "
                 "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>)",
                 EXIT_BAD_INPUT, as_json=as_json)
    from firestop.cli.wiring import azure_environment, sandbox_environment

    env = azure_environment() if azure else sandbox_environment()
    try:
        try:
            rule = env.clients.alerts_management().get_rule(rule_id)
        except ResourceNotFoundError:
            fail(f"RULE_ID: no alert rule {clean(rule_id)} (Azure answered 404); {_not_found_hint(env, azure)}",
                 EXIT_BAD_INPUT, as_json=as_json)
        except AzureError as exc:
            fail(f"the alert rule could not be read ({type(exc).__name__})", 1, as_json=as_json)
        rule = rule if isinstance(rule, dict) else {}
        scopes = (rule.get("properties") or {}).get("scopes") or []
        account = target or next((str(s) for s in scopes if "/providers/microsoft.cognitiveservices/accounts/" in str(s).lower()), "")
        routes = sorted(r for r in rule_routes(rule) if r)
        from firestop.infra.rule_trust import trusted_detection
        from firestop.infra.trusted_rules import RETRUST, RETRUST_KEY, TRUSTED_STATES, trust_state
        from firestop.playbooks import load_playbooks_lenient
        from firestop.records.store import records_store

        playbooks = {p.name: p for p in load_playbooks_lenient(env.settings.playbooks_dir)[0]}
        if len(routes) != 1:
            why = ("it routes by its name only (no firestop-playbook custom property): a shipped detection always carries one"
                   if not routes else f"it routes to {len(routes)} playbooks")
        elif not account:
            why = "give --target: the account its alerts target (its scope is not an account)"
        else:
            try:
                why = trusted_detection(rule, playbooks.get(routes[0]), target=account.lower(),
                                        read_workspace=env.clients.alerts_management().get_workspace,
                                        workspace_guid=env.settings.log_workspace_id,
                                        automation_principal_id=env.settings.automation_principal_id,
                                read_rule=env.clients.alerts_management().get_rule)
            except AzureError as exc:
                fail(f"the workspace the rule reads could not be read ({type(exc).__name__})", 1, as_json=as_json)
        detection = why is None
        state = None if detection else trust_state(records_store(env.settings), rule)
        trusted = detection or state in TRUSTED_STATES
    finally:
        env.close()
    shown = {"rule_id": rule_id, "playbook": routes[0] if len(routes) == 1 else None, "detection": detection,
             "trusted": trusted, "why": None if trusted else why}
    if state == "retrust":  # (trust17: a digest version 1 entry, sealed before mute fields were covered)
        shown["retrust"] = RETRUST
    elif state == "rekey":  # (A18-03: its newest trust was sealed with a retired seal key)
        shown["retrust"] = RETRUST_KEY
        why = f"{RETRUST_KEY} ({why})" if why else RETRUST_KEY
        shown["why"] = why
    if as_json:
        print_json(shown)
    else:
        console.print(clean(f"{rule_id}: " + ("its playbook's own detection: its alerts act without a responder" if detection
                                              else f"trusted by an admin ({RETRUST}): its alerts act without a responder"
                                              if state == "retrust"
                                              else "trusted by an admin: its alerts act without a responder" if trusted
                                              else f"not trusted — {why}; its alerts wait for a responder (alert.genuine) "
                                                   f"until an admin runs: python -m firestop rules trust {rule_id} "
                                                   + ("--azure" if azure else "--as <admin object id>"))),
                      highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(0 if trusted else EXIT_NEEDS_RESPONDER)


@rules_app.command("untrust")
def untrust(
    rule_id: str = typer.Argument(..., metavar="RULE_ID", help="ARM id of the rule whose trust to revoke (as rules list shows it)."),
    as_: Optional[str] = typer.Option(None, "--as", help="SANDBOX SIMULATION: revoke as this Entra object ID (default FIRESTOP_PRINCIPAL_ID)."),
    group: list[str] = typer.Option([], "--group", help="SANDBOX SIMULATION: a group object ID to claim (repeatable)."),
    azure: bool = typer.Option(False, "--azure", help="Real Azure with your sign-in (DefaultAzureCredential); the app's records store and seal key."),
    as_json: bool = typer.Option(False, "--json", help="Print {rule_id, revoked: [{criteria, playbooks, event, by, at}]} as JSON."),
) -> None:
    """Revoke an admin's trust in every trusted version of an alert rule: its alerts wait for a responder again. The
    rule need not exist any more. A sealed untrust entry (who, when) is added beside the trust (the records store keeps
    both: auditable, rules list shows it). Admin role. Exit 0 (revoked, or nothing was trusted), 2 bad input, 1 else."""
    from firestop.storage.base import StoreError
    from firestop.trust.seal import SealKeyError

    rule_id, env, who = _admin_session(rule_id, as_, group, azure, as_json, doing="revoking trust")
    try:
        from firestop.infra.trusted_rules import untrust_rule
        from firestop.records.store import records_store

        try:
            revoked = untrust_rule(records_store(env.settings), rule_id, by=who,
                                   at=env.clients.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        except SealKeyError as exc:
            fail(f"the app's seal key is needed to revoke a rule's trust: {clean(exc)}", EXIT_BAD_INPUT, as_json=as_json)
        except StoreError as exc:
            fail(f"the records store could not be read or written ({clean(exc)}); nothing was revoked", 1, as_json=as_json)
        except ValueError as exc:  # a chain full, or its place taken over and over (R16-01)
            fail(f"{clean(exc)}; nothing more was revoked", 1, as_json=as_json)
    finally:
        env.close()
    if as_json:
        print_json({"rule_id": rule_id, "revoked": [{k: e[k] for k in ("criteria", "playbooks", "event", "by", "at")}
                                                    for e in revoked]})
        return
    console.print(clean(f"Revoked: {len(revoked)} trusted version(s) of {rule_id} by {who}; its alerts wait for a responder "
                        "(alert.genuine) until an admin trusts it again." if revoked else
                        f"Nothing to revoke: no version of {rule_id} is trusted (python -m firestop rules list shows "
                        "the trusted rules)."), highlight=False, markup=False, soft_wrap=True)


@rules_app.command("list")
def list_(
    revoked: bool = typer.Option(False, "--revoked", help="Also list versions whose trust was revoked (who and when)."),
    azure: bool = typer.Option(False, "--azure", help="The app's records store and seal key (real Azure)."),
    as_json: bool = typer.Option(False, "--json", help="Print {entries: [{rule_id, criteria, digest_version, playbooks, state, retrust?, trusted_by, trusted_at, untrusted_by?, untrusted_at?}], ignored, truncated} as JSON."),
) -> None:
    """The alert rules an admin trusted (each trusted version: who and when), from the records store. Entries that do
    not carry the app's seal are not believed: counted as ignored. Exit 0, 2 (no seal key), 1 (store unreadable)."""
    from firestop.storage.base import StoreError
    from firestop.trust.seal import SealKeyError

    from firestop.cli.wiring import azure_environment, sandbox_environment
    from firestop.infra.trusted_rules import LIST_LIMIT, listing
    from firestop.records.store import records_store

    env = azure_environment() if azure else sandbox_environment()
    try:
        try:
            found = listing(records_store(env.settings))
        except SealKeyError as exc:
            fail(f"the app's seal key is needed to believe a trust entry: {clean(exc)}", EXIT_BAD_INPUT, as_json=as_json)
        except StoreError as exc:
            fail(f"the records store could not be read ({clean(exc)})", 1, as_json=as_json)
    finally:
        env.close()
    entries = [e for e in found["entries"] if revoked or e["state"] != "revoked"]
    if as_json:
        print_json({**found, "entries": entries})
        return
    lines = [f"{e['rule_id']}  {e['state']}  criteria {e['criteria'][:12]}…  routes to {', '.join(e['playbooks']) or 'no playbook'}"
             f"  trusted by {e['trusted_by']} at {e['trusted_at']}"
             + (f"  revoked by {e['untrusted_by']} at {e['untrusted_at']}" if e["state"] == "revoked" else "")
             + (f"  ({e['retrust']})" if e.get("retrust") else "")
             for e in entries]
    if not lines:
        lines = ["No trusted alert rules" + ("" if revoked else " (--revoked: with revoked ones)") +
                 ". Trust one: python -m firestop rules trust RULE_ID " + ("--azure" if azure else "--as <admin object id>")]
    if found["ignored"]:
        lines.append(f"{found['ignored']} object(s) under trusted-rules/ do not carry the app's seal: ignored (not believed)")
    if found["truncated"]:
        lines.append(f"more than {LIST_LIMIT} objects under trusted-rules/: only the first {LIST_LIMIT} read")
    for text in lines:
        console.print(clean(text), highlight=False, markup=False, soft_wrap=True)


#: The most alert rule ids a 404's hint lists from the sandbox.
HINT_RULES = 5
#: An example whose handling registers its alert rule in the sandbox (its alertRuleID, as the example gives it).
EXAMPLE = ("examples/alerts/leaked-key.json", "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
           "rg-ai-prod/providers/microsoft.insights/scheduledqueryrules/aoai-leaked-key-usage")


def _not_found_hint(env, azure: bool) -> str:
    """What a RULE_ID answered 404 should say: the id's form, and where to find ids — on Azure the az commands that
    list them; in the sandbox the rules it holds (at most :data:`HINT_RULES`, through the SDK's list operations), or,
    when it holds none (a fresh sandbox), how to get one."""
    form = ("a rule id is /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Insights/"
            "<scheduledQueryRules|metricAlerts|activityLogAlerts>/<name>")
    trusted = "python -m firestop rules list" + (" --azure" if azure else "") + " lists the trusted ones"
    if azure:
        return (f"{form}; list yours with az monitor scheduled-query list --query [].id (az monitor metrics alert list, "
                f"az monitor activity-log alert list); {trusted}")
    held: list[str] = []
    try:
        from azure.core.exceptions import AzureError

        monitor = env.clients.monitor(env.tenant.subscription_id)
        for listed in (monitor.scheduled_query_rules.list_by_subscription(), monitor.metric_alerts.list_by_subscription(),
                       monitor.activity_log_alerts.list_by_subscription_id()):
            held += [str(r.id) for r in listed]
    except (AzureError, AttributeError):
        held = []
    if held:
        more = f" and {len(held) - HINT_RULES} more" if len(held) > HINT_RULES else ""
        return f"{form}; this sandbox holds {', '.join(sorted(held)[:HINT_RULES])}{more}; {trusted}"
    return (f"{form}; this sandbox holds no alert rule yet: handling an alert registers its rule — python -m firestop "
            f"alert handle {EXAMPLE[0]}, then rules check {EXAMPLE[1]} (python -m firestop sandbox simulate FILE deploys the "
            "playbooks' own detections, as firestop infra does, before it plays an attack FILE)")


def _admin_session(rule_id: str, as_: Optional[str], groups: list[str], azure: bool, as_json: bool, *, doing: str = "trusting"):
    """What ``rules trust`` and ``rules untrust`` check first: ``(rule id as checked, environment, object id)`` once
    RULE_ID is an alert rule's ARM id (else exit 2 naming it), the caller is believed (:func:`_who`) and holds the admin
    role (:func:`_admin`). The caller closes the environment; it is closed here when a check fails."""
    from firestop.azure.alerts_management import check_rule_id

    try:
        rule_id = check_rule_id(rule_id)
    except ValueError as exc:
        fail(f"RULE_ID: {exc}", EXIT_BAD_INPUT, as_json=as_json)
    env, who, held = _who(as_, groups, azure, as_json, doing=doing)
    try:
        _admin(env, who, held, azure, as_json)
    except BaseException:  # (typer.Exit from fail: the environment is not the caller's yet)
        env.close()
        raise
    return rule_id, env, who


def _admin(env, who: str, groups: list[str], azure: bool, as_json: bool) -> None:
    """Exit 2 unless ``who`` holds Firestop's admin role (:func:`firestop.trust.roles_held`)."""
    from firestop.trust import TrustError, roles_held

    try:
        roles_held(who, groups, (), "admin", azure=azure, settings=env.settings)
    except TrustError as exc:  # (_admin_session closes env)
        fail(f"{exc.reason}; {exc.fix}", EXIT_BAD_INPUT, as_json=as_json)


def _who(as_: Optional[str], groups: list[str], azure: bool, as_json: bool, *, doing: str = "trusting"):
    """(environment, object id, groups) of who trusts (or, ``doing``, revokes: the simulation's notice says which);
    exits 2 naming the flag when that cannot be believed."""
    from firestop.trust import CredentialIdentityError, on_azure, principal_from_credential

    if azure:
        if as_ or groups:
            fail("--as/--group: a sandbox simulation; with --azure you are who your Azure sign-in says (drop them)",
                 EXIT_BAD_INPUT, as_json=as_json)
        from firestop.cli.wiring import azure_environment

        env = azure_environment()
        try:
            caller = principal_from_credential(env.clients.credential)
        except CredentialIdentityError as exc:
            env.close()
            fail(f"--azure: {exc}", EXIT_BAD_INPUT, as_json=as_json)
        return env, caller.object_id, list(caller.groups)
    if on_azure():
        fail("--as: running on Azure (App Service); --as is a sandbox simulation — use --azure (your sign-in)",
             EXIT_BAD_INPUT, as_json=as_json)
    who = as_ or os.environ.get("FIRESTOP_PRINCIPAL_ID")
    if not who:
        fail("--as: who trusts the rule? in the sandbox simulation give an admin's object ID with --as <object-id> "
             "(the demo roles: oid-admin); on real Azure use --azure", EXIT_BAD_INPUT, as_json=as_json)
    from firestop.cli.output import err_console
    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    if env.settings.storage_blob_url:  # a flag's identity never writes where the app reads (the app's records store)
        env.close()
        fail("--as: a sandbox simulation keeps its trust in FIRESTOP_HOME, but FIRESTOP_STORAGE_BLOB_URL names a Blob "
             "records store (the app's?): unset it to simulate, or trust with --azure (your sign-in)",
             EXIT_BAD_INPUT, as_json=as_json)
    err_console.print(f"SIMULATION: {doing} as {who!r}" + (f" with groups {list(groups)!r}" if groups else "")
                      + " (--as: sandbox only, no sign-in checked)", highlight=False, markup=False, soft_wrap=True)
    return env, who, list(groups)

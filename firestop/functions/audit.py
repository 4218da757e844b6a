"""The audit in the Function App: responders' routes and the weekly timer (:mod:`firestop.audit`).

Auth level ANONYMOUS for the Functions host, as every people route (:mod:`firestop.functions.http_api`,
:mod:`firestop.functions.http_console`): on Azure a ``FUNCTION`` route would need the function key, which is
what alert senders hold, never a person's credential. A person calls with their Entra access token or the
sign-in cookie, which App Service authentication (``infra/azuredeploy.json``: required, 401 for the
unauthenticated, these paths not excluded) turns into ``X-MS-CLIENT-PRINCIPAL``; each route declares its role below
with ``@requires`` (:mod:`firestop.trust.route_roles`) and calls :func:`firestop.trust.authorize` with it. Locally (``firestop serve``, :mod:`firestop.runtime.serve`)
nothing changes: without ``--auth-jwks`` every route, ANONYMOUS ones included, still needs the function key and
the principal header is believed from loopback peers only; with it the principal comes only from a verified
bearer token.

| route | role | does |
|---|---|---|
| ``GET /api/audits/latest`` | reader | the newest stored audit this app filed (found by its sealed filed-marker's name, :func:`firestop.audit.store.latest_view`: junk documents are skipped unread); ``?format=json`` (default) / ``markdown`` / ``html``; with documents named newer skipped, ``"skipped_documents": N`` in the JSON and the header ``X-Firestop-Skipped-Documents`` |
| ``GET /api/audits/{audit_id}`` | reader | one stored audit, same formats |
| ``POST /api/audits`` | responder | run an audit now over ``FIRESTOP_AUDIT_SUBSCRIPTION`` (+ ``FIRESTOP_AUDIT_RESOURCE_GROUPS``), keep it, open the drift incidents; 200 with the audit (``exit_code`` 0 / 3, ``files``). Body ``{}`` or ``{"resource_groups"?, "accounts"?, "fix"?}``: narrow the scope (never widen it: 400 outside it, at most 50 of each) and add the dry-run ``fixes`` |
| ``GET /api/audits/controls`` | reader | the registered controls (as ``audit controls --json``) |

Answers: 200 as above; 400 a malformed audit id or format (``{"error", "reason", "fix"}``);
401/403 from :func:`firestop.trust.authorize` (no believable caller / not the route's role); 404 no
such audit (or none yet); 503 ``FIRESTOP_AUDIT_SUBSCRIPTION`` unset or invalid, or the Durable store
refused a drift incident (the audit is kept; the next run retries the alert, deduped). HTML
answers carry ``Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'`` and
``X-Content-Type-Options: nosniff``.

Timer ``audit_timer``: ``FIRESTOP_AUDIT_SCHEDULE`` (NCRONTAB, default ``0 0 5 * * 1``, Mondays 05:00
UTC; ``off`` registers none; an invalid value logs an error and uses the default). Each run audits
the configured scope, keeps the audit, and turns each new high-severity finding into an alert
accepted through intake (:func:`firestop.intake.accept_alert`: correlation slot, start-if-absent) —
deduped like alerts, so a retried run opens nothing twice. Findings are logged (``WARNING`` with
the count, ``ERROR`` per new high finding: control and resource, ``%r``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from firestop.lazy_re import LazyPattern
from firestop.telemetry.requests import observed

from firestop.functions.tabletop_timer import valid_ncrontab
from firestop.resource_id import resource_group_name_problem
from firestop.trust import Role, TrustError, authorize, peer_address
from firestop.trust.route_roles import declared_role, requires

bp = df.Blueprint()
log = logging.getLogger("firestop.audit")

SCHEDULE_ENV = "FIRESTOP_AUDIT_SCHEDULE"
SUBSCRIPTION_ENV = "FIRESTOP_AUDIT_SUBSCRIPTION"
GROUPS_ENV = "FIRESTOP_AUDIT_RESOURCE_GROUPS"
DEFAULT_SCHEDULE = "0 0 5 * * 1"
FORMATS = ("json", "markdown", "html")


def schedule_from_env(env=None) -> str | None:
    raw = (os.environ if env is None else env).get(SCHEDULE_ENV, "").strip()
    if not raw:
        return DEFAULT_SCHEDULE
    if raw.lower() in ("off", "disabled", "none"):
        return None
    if not valid_ncrontab(raw):
        log.error("%s=%r is not a six-field NCRONTAB expression; using the default %r", SCHEDULE_ENV, raw, DEFAULT_SCHEDULE)
        return DEFAULT_SCHEDULE
    return raw


def scope_from_env(env=None) -> tuple[str | None, tuple[str, ...]]:
    """(subscription or None when unset/invalid, resource groups) from the app settings."""
    import uuid

    env = os.environ if env is None else env
    sub = (env.get(SUBSCRIPTION_ENV) or "").strip()
    try:
        sub = str(uuid.UUID(sub)) if sub else ""
    except ValueError:
        sub = ""
    groups = tuple(g.strip() for g in (env.get(GROUPS_ENV) or "").split(",") if g.strip())[:50]
    return (sub or None), groups


def _json(status: int, body: Any) -> func.HttpResponse:
    import json

    # ASCII JSON (\u escapes), as every other route answers: a lone surrogate the caller sent can always be written
    # (RT10-01: raw UTF-8 made it a 500)
    return func.HttpResponse(json.dumps(body, default=str), status_code=status, mimetype="application/json")


def _error(status: int, field: str, reason: str, fix: str) -> func.HttpResponse:
    return _json(status, {"error": field, "reason": reason, "fix": fix})


def _caller(req: func.HttpRequest, action: str):
    try:
        return authorize(req.headers, declared_role(), peer_address=peer_address(req.headers), action=action), None
    except TrustError as exc:
        return None, _json(exc.status, exc.body())


def _answer(audit, fmt: str, extra: dict[str, Any] | None = None) -> func.HttpResponse:
    from firestop.audit.render import render_html, render_markdown

    if fmt == "html":
        return func.HttpResponse(render_html(audit), status_code=200, mimetype="text/html", charset="utf-8",
                                 headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                                          "X-Content-Type-Options": "nosniff"})
    if fmt == "markdown":
        return func.HttpResponse(render_markdown(audit), status_code=200, mimetype="text/markdown", charset="utf-8",
                                 headers={"X-Content-Type-Options": "nosniff"})
    return _json(200, {**audit.model_dump(mode="json"), "counts": audit.counts(), **(extra or {})})


def _format(req: func.HttpRequest) -> str | func.HttpResponse:
    fmt = (req.params.get("format") or "json").lower()
    if fmt not in FORMATS:
        return _error(400, "format", f"{fmt[:40]!r} is not a format", f"use one of {', '.join(FORMATS)}")
    return fmt


#: trust16: how many audit documents named newer than the one shown were skipped (not filed by this app)
SKIPPED_HEADER = "X-Firestop-Skipped-Documents"


@bp.route(route="audits/latest", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.reader)
def latest_audit_http(req: func.HttpRequest) -> func.HttpResponse:
    from firestop.audit import store
    from firestop.settings import get_settings

    _, denied = _caller(req, "show audit")
    if denied:
        return denied
    fmt = _format(req)
    if isinstance(fmt, func.HttpResponse):
        return fmt
    audit, skipped = store.latest_view(store.records_store(get_settings()))
    if audit is None:
        if skipped:  # trust16: documents stand in audits/ that this app did not file (or cannot read now)
            return _error(404, "audit_id", f"no audit this app filed and sealed was found; {skipped} document(s) in "
                          "the records store's audits/ were skipped (not marked as filed by this app: planted, or "
                          "filed before markers)", "run one: POST /api/audits (responder) or wait for audit_timer")
        return _error(404, "audit_id", "no audit has been kept yet", "run one: POST /api/audits (responder) or wait for audit_timer")
    response = _answer(audit, fmt, {"skipped_documents": skipped} if skipped else None)
    if skipped:  # trust16: said in every format (the JSON body too)
        response.headers[SKIPPED_HEADER] = str(skipped)
    return response


@bp.route(route="audits/{audit_id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.reader)
def get_audit_http(req: func.HttpRequest) -> func.HttpResponse:
    from firestop.audit import store
    from firestop.settings import get_settings

    _, denied = _caller(req, "show audit")
    if denied:
        return denied
    audit_id = req.route_params.get("audit_id", "")
    if not store.valid_audit_id(audit_id):
        return _error(400, "audit_id", "not an audit id", "use an id from GET /api/audits/latest, e.g. audit-20261129T031440Z-202a")
    fmt = _format(req)
    if isinstance(fmt, func.HttpResponse):
        return fmt
    audit = store.load(store.records_store(get_settings()), audit_id)
    if audit is None:
        return _error(404, "audit_id", f"no audit {audit_id}", "see GET /api/audits/latest")
    return _answer(audit, fmt)


async def run_app_audit(client, *, resource_groups: tuple[str, ...] = (), accounts: tuple[str, ...] = ()) -> tuple[Any, dict[str, str]]:
    """Audit the configured scope (or the part of it named by ``resource_groups`` / ``accounts``, checked by
    :func:`narrowed_scope`), open the drift incidents through intake, keep the audit. ValueError when no scope."""
    from firestop.audit import AuditContext, run_audit, store
    from firestop.audit.reader import default_unserved
    from firestop.audit.service import scope_of
    from firestop.azure.clients import get_client_factory
    from firestop.playbooks import load_playbooks_lenient
    from firestop.settings import get_settings

    subscription, groups = scope_from_env()
    if subscription is None:
        raise ValueError(f"{SUBSCRIPTION_ENV} is not set to a subscription ID")
    settings = get_settings()
    factory = get_client_factory()
    playbooks, _ = load_playbooks_lenient(settings.playbooks_dir)
    ctx = AuditContext(clients=factory, settings=settings, subscription=subscription, resource_groups=resource_groups or groups,
                       accounts=accounts, unserved=default_unserved() if factory.sandbox else None,  # as the CLI on the sandbox
                       playbooks=tuple(playbooks))
    records = store.records_store(settings)
    before, unverified = store.previous(records, scope_of(ctx))
    audit = run_audit(ctx, previous=before, unverified=unverified)
    opened = await open_drift_incidents(client, audit)
    if opened:
        audit = audit.model_copy(update={"incidents": tuple(opened)})
    return store.save(audit, records)


async def open_drift_incidents(client, audit) -> list[dict[str, Any]]:
    """Accept each drift alert through intake (start-if-absent on its correlation slot); IntakeUnavailable propagates."""
    from firestop.audit.drift import drift_alerts
    from firestop.azure.clients import get_client_factory
    from firestop.functions.intake_call import accept
    from firestop.intake import CorrelationSettings
    from firestop.trust.seal import load_seal_key

    alerts = drift_alerts(audit)
    if not alerts:
        return []
    factory = get_client_factory()
    key = load_seal_key()
    out = []
    for alert in alerts:
        log.error("audit %s: new high finding %r on %r → playbook %r", audit.audit_id, alert.custom_properties.get("firestop-control"),
                  alert.target_ids[0], alert.routed_playbook)
        outcome = await accept(client, alert, factory=factory, settings=CorrelationSettings.from_env(), key=key)
        out.append({"incident_id": outcome.instance_id, "status": outcome.kind.value, "playbook": alert.routed_playbook,
                    "control": alert.custom_properties.get("firestop-control"), "resource": alert.target_ids[0],
                    "resource_name": alert.target_ids[0].rsplit("/", 1)[-1], "alert_id": alert.alert_id,
                    "outcome": f"{outcome.kind.value} {outcome.instance_id or ''}".strip()})
    return out


#: Most resource groups / accounts one audit request may name.
MAX_SCOPE_ITEMS = 50


#: A Cognitive Services account name (Microsoft Learn, "Naming rules and restrictions for Azure resources",
#: Microsoft.CognitiveServices/accounts): 2-64 alphanumerics and hyphens, starting with an alphanumeric.
_ACCOUNT_NAME = LazyPattern(r"[a-z0-9][a-z0-9-]{1,63}", 0, globals())


def narrowed_scope(body: dict[str, Any], env=None) -> tuple[tuple[str, ...], tuple[str, ...], bool] | func.HttpResponse:
    """(resource groups, accounts, fix) asked for by a ``POST /api/audits`` body, or the 400/503 answer.

    The request may only narrow the app's scope: resource groups inside ``FIRESTOP_AUDIT_RESOURCE_GROUPS`` when that
    is set, accounts inside ``FIRESTOP_AUDIT_SUBSCRIPTION`` (and those groups). At most :data:`MAX_SCOPE_ITEMS` of each."""
    subscription, configured = scope_from_env(env)
    unknown = sorted(set(body) - {"resource_groups", "accounts", "fix"})
    if unknown:
        return _error(400, unknown[0], f"unknown field {unknown[0]!r}", 'send {"resource_groups"?, "accounts"?, "fix"?}')
    fix = body.get("fix", False)
    if not isinstance(fix, bool):
        return _error(400, "fix", "fix must be true or false", 'e.g. {"fix": true}')
    out: list[tuple[str, ...]] = []
    for field in ("resource_groups", "accounts"):
        items = body.get(field) or []
        if not isinstance(items, list) or len(items) > MAX_SCOPE_ITEMS or not all(isinstance(i, str) for i in items):
            return _error(400, field, f"{field} must be a list of at most {MAX_SCOPE_ITEMS} strings", f'e.g. {{"{field}": ["…"]}}')
        out.append(tuple(items))
    groups, accounts = out
    if (groups or accounts) and subscription is None:
        return _error(503, SUBSCRIPTION_ENV, f"{SUBSCRIPTION_ENV} is not set to a subscription ID", "set the app setting to the subscription ID to audit")
    allowed = {g.lower() for g in configured}
    for rg in groups:
        if (problem := resource_group_name_problem(rg)) is not None:
            return _error(400, "resource_groups", problem, "give resource group names as Azure shows them (az group list --query [].name)")
        if allowed and rg.lower() not in allowed:
            return _error(400, "resource_groups", f"{rg!r} is outside the app's audit scope ({GROUPS_ENV})",
                          f"use one of: {', '.join(configured)}")
    prefix = f"/subscriptions/{subscription}/resourcegroups/".lower()
    for account in accounts:
        low = account.lower()
        group = low[len(prefix):].split("/", 1)[0] if low.startswith(prefix) else ""
        name = low.partition("/providers/microsoft.cognitiveservices/accounts/")[2]
        if (len(account) > 1024 or not account.isprintable() or not group or resource_group_name_problem(group) is not None
                or not _ACCOUNT_NAME.fullmatch(name) or (allowed and group not in allowed)):
            return _error(400, "accounts", f"{account[:120]!r} is not an Azure OpenAI account inside the app's audit scope",
                          f"give /subscriptions/{subscription}/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>")
    return groups, accounts, fix


@bp.route(route="audits", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
@observed
@requires(Role.responder)
async def run_audit_http(req: func.HttpRequest, client) -> func.HttpResponse:
    """Run an audit now: body ``{}`` or ``{"resource_groups"?, "accounts"?, "fix"?}`` (:func:`narrowed_scope`); with
    ``fix`` the answer carries ``fixes``, the dry-run plan of each fixable finding (:func:`firestop.audit.fixes.plan_fixes`)."""
    from firestop.functions.http_api import _body
    from firestop.intake import IntakeUnavailable

    caller, denied = _caller(req, "run audit")
    if denied:
        return denied
    body = _body(req)
    if isinstance(body, func.HttpResponse):
        return body
    scope = narrowed_scope(body)
    if isinstance(scope, func.HttpResponse):
        return scope
    groups, accounts, fix = scope
    if groups or accounts:  # a typo would keep an empty audit as the latest one (firestop.audit.scope_check)
        from firestop.audit.scope_check import missing_scope
        from firestop.azure.clients import get_client_factory

        missing = missing_scope(get_client_factory(), scope_from_env()[0] or "", groups, accounts)
        if missing is not None:
            return _error(400, "resource_groups" if missing.kind == "resource_group" else "accounts", missing.reason, missing.fix)
    try:
        audit, files = await run_app_audit(client, resource_groups=groups, accounts=accounts)
    except ValueError as exc:
        return _error(503, SUBSCRIPTION_ENV, str(exc), "set the app setting to the subscription ID to audit")
    except IntakeUnavailable:
        return _error(503, "intake", "a drift incident could not be recorded", "retry; the audit is kept and the drift alert is deduped")
    log.info("audit %s run by %r: %s", audit.audit_id, caller.object_id, audit.counts())
    from firestop.settings import get_settings
    from firestop.storage.locations import logical_location

    settings = get_settings()  # the files' logical locations: the app never tells a caller its paths (cli17)
    extra: dict[str, Any] = {"exit_code": 3 if audit.findings else 0, "requested_by": caller.object_id,
                             "files": {k: logical_location(v, settings) for k, v in (files or {}).items()}}
    if fix:
        from firestop.audit.fixes import plan_fixes
        from firestop.azure.clients import get_client_factory
        from firestop.settings import get_settings

        extra["fixes"] = plan_fixes(audit, clients=get_client_factory(), settings=get_settings())
    return _answer(audit, "json", extra)


@bp.route(route="audits/controls", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@observed
@requires(Role.reader)
def audit_controls_http(req: func.HttpRequest) -> func.HttpResponse:
    """The app's registered controls (``audit controls``): ``[{"id", "area", "severity", "target", "policy_definition", …}]``."""
    from firestop.audit import all_controls

    _, denied = _caller(req, "list audit controls")
    if denied:
        return denied
    return _json(200, [c.describe() for c in all_controls()])


SCHEDULE = schedule_from_env()

if SCHEDULE is not None:

    @bp.function_name("audit_timer")
    @bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False, use_monitor=True)
    @bp.durable_client_input(client_name="client")
    async def audit_timer(timer: func.TimerRequest, client) -> None:
        """Audit the configured scope, keep the audit, raise drift as incidents."""
        if scope_from_env()[0] is None:
            log.warning("audit timer: %s is not set; nothing audited", SUBSCRIPTION_ENV)
            return
        audit, files = await run_app_audit(client)
        counts = audit.counts()
        log.warning("audit %s: %d finding(s), %d new, %d fixed, %d incident(s) (report %r)", audit.audit_id, counts["fail"],
                    len(audit.drift.new), len(audit.drift.fixed), len(audit.incidents), files.get("markdown"))

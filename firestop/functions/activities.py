"""Activity functions: where Firestop touches the world (Azure, files)."""

from __future__ import annotations

from typing import Any

import logging

import azure.durable_functions as df

from firestop.lifecycle import (
    ACTIVITY_START_PENDING_JOINS,
    ACTIVITY_CONFIRM_ALERT,
    ACTIVITY_DESCRIBE_TARGETS,
    ACTIVITY_LEDGER_HEAD,
    ACTIVITY_RECORD_LATE,
    ACTIVITY_RUN_RUNBOOK,
    ACTIVITY_SELECT_PLAYBOOK,
    ACTIVITY_SUMMARIZE_ACTIVITY,
)
from firestop.lifecycle.sealing import ACTIVITY_SEAL_INPUT, ACTIVITY_VERIFY_SEAL

bp = df.Blueprint()
log = logging.getLogger("firestop.activities")


@bp.activity_trigger(input_name="request", activity=ACTIVITY_RUN_RUNBOOK)
def run_runbook(request: dict) -> dict:
    """Run one runbook action; input/output documented in :mod:`runbooks.dispatch`."""
    from runbooks.dispatch import execute

    return execute(request)


@bp.activity_trigger(input_name="request", activity=ACTIVITY_SELECT_PLAYBOOK)
def select_playbook(request: dict) -> dict[str, Any]:
    """``{"alert": Alert JSON}`` → ``{"playbook": Playbook JSON | None, "reason": str}``.

    Loads the playbooks from ``FIRESTOP_PLAYBOOKS`` (:func:`~firestop.playbooks.route_playbook`: the chosen one
    validated in full, the others by their runbooks' names); an invalid playbook file is reported as the reason
    when no playbook is chosen (nothing acts on a half-read playbook set).
    """
    from firestop.alerts import Alert
    from firestop.playbooks import route_playbook
    from firestop.playbooks.loader import playbook_json
    from firestop.settings import get_settings

    alert = Alert.model_validate(request["alert"])
    if alert.monitor_condition == "Resolved":
        return {"playbook": None, "reason": "monitorCondition is Resolved: nothing to contain", "playbook_errors": []}
    playbook, reason, errors = route_playbook(alert, get_settings().playbooks_dir)
    problems = [str(e) for e in errors]
    if errors:
        log.error("invalid playbooks skipped: %r", "; ".join(problems))
    if playbook is None and errors:
        reason += f" ({len(errors)} playbook file(s) could not be loaded: {'; '.join(problems)})"
    return {
        "playbook": playbook_json(playbook) if playbook else None,
        "reason": reason,
        "playbook_errors": problems,
    }


@bp.activity_trigger(input_name="request", activity=ACTIVITY_DESCRIBE_TARGETS)
def describe_targets(request: dict) -> dict[str, Any]:
    """``{"target_ids": [...]}`` → facts per target (see :mod:`firestop.analysis`; ``production`` from
    ``FIRESTOP_NON_PRODUCTION_ACCOUNTS`` and the tags, RT20-09); read-only."""
    from firestop.analysis import describe_targets as describe
    from firestop.azure.clients import get_client_factory
    from firestop.settings import get_settings

    return describe(get_client_factory(), list(request.get("target_ids") or []),
                    get_settings().non_production_accounts)


@bp.activity_trigger(input_name="request", activity=ACTIVITY_SUMMARIZE_ACTIVITY)
def summarize_activity(request: dict) -> dict[str, Any]:
    """``{"incident_id", "evidence": [manifest items]}`` → recent activity (see :mod:`firestop.evidence.activity`).

    Reads the incident's own log evidence; no Azure call."""
    from firestop.evidence import EvidenceStore
    from firestop.evidence.activity import summarize_evidence
    from firestop.settings import get_settings

    read = EvidenceStore.of(get_settings()).reader(str(request.get("incident_id")))
    return summarize_evidence(read, list(request.get("evidence") or []))


@bp.activity_trigger(input_name="request", activity=ACTIVITY_LEDGER_HEAD)
def ledger_head(request: dict) -> dict[str, Any]:
    """``{"incident_id"}`` → ``{"entries": n, "head": sha256}`` of the incident's ledger (before the record is filed),
    plus ``"unreadable": n, "problems": [str]`` (what :func:`runbooks.ledger.verify_chain` names, at most
    :data:`runbooks.ledger.MAX_UNREADABLE_NAMED` + 1) when lines that are not entries were skipped (a blob writer's
    junk or a torn line: the record and its timeline say so, :class:`firestop.lifecycle.timeline.IncidentDoc`), and
    ``"unsealed": n`` when entries that chain carry no seal of the app's key (written before it had one, or under
    another: Firestop believes none of them; the record's timeline says so). With no usable key, no ``unsealed``."""
    from firestop.settings import get_settings
    from runbooks.ledger import GENESIS, Ledger

    ledger, incident = Ledger.of(get_settings()), str(request.get("incident_id"))
    key = ledger.key()
    seen = {"entries": 0, "head": GENESIS, "unsealed": 0}

    def kept(entry: dict[str, Any]) -> None:  # streamed (ledger15): the count, the head and the unsealed, not the entries
        seen["entries"] += 1
        seen["head"] = str(entry.get("hash"))
        if key is not None and not ledger.sealed(entry, key, on=incident):
            seen["unsealed"] += 1

    check = ledger.check(incident, key=key, kept=kept)  # (a planted object out of the chain is skipped and named: RT14-01)
    out: dict[str, Any] = {"entries": seen["entries"], "head": seen["head"]}
    if check.skipped:
        out.update(unreadable=check.skipped, problems=[p for p in check.problems if p.endswith("never believed")])
    unsealed = seen["unsealed"] if key is not None else None
    if unsealed:  # written without a seal key (or under another): Firestop believes none of them (leftovers11)
        out["unsealed"] = unsealed
    return out


@bp.activity_trigger(input_name="request", activity=ACTIVITY_RECORD_LATE)
def record_late_alerts(request: dict) -> dict[str, Any]:
    """``{"incident_id", "alerts": [alert summary, …]}`` (the tally's late alerts, :func:`firestop.lifecycle.tally.late`)
    → ``{"recorded", "duplicate", "failed"}``: each put on the incident's filed record through the after-close path
    (:func:`firestop.functions.intake_call.record_after_close_sync`: a revision, deduplicated by alert key). A
    failure is counted and logged, never raised: the incident's own record is filed already."""
    from firestop.functions.intake_call import record_after_close_sync
    from firestop.lifecycle.tally import MAX_LATE_NAMED

    incident = str(request.get("incident_id"))
    counts = {"recorded": 0, "duplicate": 0, "failed": 0}
    for alert in [a for a in request.get("alerts") or [] if isinstance(a, dict)][:MAX_LATE_NAMED]:
        entry = {**alert, "covered": "tallied as the incident was closing; recorded after its record was filed"}
        try:
            answer = record_after_close_sync(incident, entry)
        except (RuntimeError, OSError) as exc:  # StoreError is an OSError
            log.error("late alert %r not recorded on %r: %r", alert.get("alert_id"), incident, str(exc))
            counts["failed"] += 1
            continue
        counts["duplicate" if answer == "duplicate" else "recorded" if answer == "recorded" else "failed"] += 1
    return counts


@bp.activity_trigger(input_name="request", activity=ACTIVITY_VERIFY_SEAL)
def verify_seal(request: dict) -> dict[str, Any]:
    """``{"purpose", "binding", "digest", "seal", "about"}`` → ``{"ok", "reason"}`` (see
    :mod:`firestop.lifecycle.sealing`). A refusal is logged as a WARNING (values as repr); a missing
    or unusable key refuses too (fail closed). The key never leaves this function."""
    from firestop.trust.seal import SealKeyError, load_seal_key

    purpose, binding = str(request.get("purpose")), str(request.get("binding"))
    try:
        ok, reason = load_seal_key().check(purpose, binding, str(request.get("digest")), request.get("seal"))
    except SealKeyError as exc:
        ok, reason = False, f"the app holds no usable seal key: {exc}"
    if not ok:
        log.warning("refused %s input for %r (%r): %r", purpose, binding, str(request.get("about") or "")[:300], reason)
    return {"ok": ok, "reason": reason}


@bp.activity_trigger(input_name="request", activity=ACTIVITY_SEAL_INPUT)
def seal_input(request: dict) -> dict[str, Any]:
    """``{"purpose", "binding", "digest"}`` → ``{"seal"}`` (or ``{"seal": None, "reason"}`` without a usable key).

    Only orchestrations call activities, and the incident orchestrator calls this one only
    after its own input's seal was verified."""
    from firestop.trust.seal import SealKeyError, load_seal_key

    try:
        return {"seal": load_seal_key().sign(str(request.get("purpose")), str(request.get("binding")), str(request.get("digest")))}
    except (SealKeyError, ValueError) as exc:
        log.error("cannot seal %r input for %r: %s", request.get("purpose"), request.get("binding"), exc)
        return {"seal": None, "reason": str(exc)}


@bp.activity_trigger(input_name="request", activity=ACTIVITY_CONFIRM_ALERT)
def confirm_alert_at_source(request: dict) -> dict[str, Any]:
    """:func:`_confirm_alert_at_source`, its answer then kept as the incident run's check verdict
    (:func:`firestop.records.check_verdicts.keep`: what an alert that joined it while the check ran waits for,
    variants13) — unless it could not check for a passing reason and the orchestrator will try again (variants14:
    the verdict is the answer of its last try). Never raises."""
    answer = _confirm_alert_at_source(request)
    if request.get("incident_id") and not _tried_again(request, answer):
        from firestop.records.check_verdicts import keep
        from firestop.records.store import records_store
        from firestop.settings import get_settings
        from firestop.trust.seal import load_seal_key

        try:  # sealed (RT16-03): a verdict anyone with write on the store planted is not one
            keep(records_store(get_settings()), str(request["incident_id"]), str(request.get("received_at") or ""),
                 answer.get("confirmed") is True, load_seal_key())
        except Exception as exc:  # noqa: BLE001 - a waiting alert then checks itself after its bound (logged)
            log.warning("check verdict not kept: %s", type(exc).__name__)
    return answer


class OutcomeNotVisible(RuntimeError):
    """``start_pending_joins`` ran before its incident's status showed the run's check outcome (listing14): nothing
    listed; the orchestrator's retry runs it again."""


def _tried_again(request: dict, answer: dict) -> bool:
    """Whether the orchestrator tries this check again (variants14): the answer could not check for a passing reason
    (:func:`firestop.source_reasons.could_not_check`) and the request's ``attempt`` is below its ``attempts``
    (:data:`firestop.lifecycle.incident.CHECK_ATTEMPTS`). A request without them (scheduled by an older orchestrator)
    is never tried again."""
    from firestop.source_reasons import could_not_check

    attempt, attempts = request.get("attempt"), request.get("attempts")
    return (could_not_check(answer.get("code")) and isinstance(attempt, int) and isinstance(attempts, int)
            and attempt < attempts)


@bp.activity_trigger(input_name="request", activity=ACTIVITY_START_PENDING_JOINS)
@bp.durable_client_input(client_name="client")
async def start_pending_joins(request: dict, client) -> dict[str, int]:
    """``{"incident_id", "received_at"}`` (an incident run whose source check said "not confirmed", after its verdict
    was kept) → ``{"started", "found", "left", "refused", "unreadable", "rederived"}``: the variant of each alert kept as a pending
    join of that run (:func:`firestop.records.pending_joins.pending`, at most ``MAX_STARTS``; ``left``: the rest;
    ``unreadable``: sealed names whose content is not the pending join they were sealed for — deleted or overwritten,
    bounds14) started with its kept sealed input unless an instance of its id exists (``found``: intake started it
    after reading the verdict, or this activity ran before — a retry starts nothing twice). Each kept input's seal is checked here, bound to the
    variant id it would start, and it must name this run's incident as ``variant_of`` (``refused``: blobs that fail
    either, not started — R12-01: a planted one took the genuine variant's id); it is checked again where it runs.
    joins18: a kept input that fails only because a key since retired sealed it (well formed, naming a retired key of
    the ring, its MAC right under it, naming this run's incident: kept before a rotation, which RT20-01 refuses as a
    live purpose) is not re-sealed: its variant starts with an input re-derived from its alert alone
    (:func:`firestop.functions.intake_call.rederived_variant_input`: intake's own build, current key, its own source
    check, no pinned playbook), counted in ``started`` and apart in ``rederived``; anything else stays refused (as is
    an alert that no longer parses or would re-derive to no checked variant). A Durable client binding on an activity: any function may hold one (Azure Durable Functions,
    "Orchestration client" binding); the local host gives it its management server's. Raises when the store or the
    client fails (the orchestrator retries).

    First (listing14) it reads the incident's own status: it lists only once that status shows the check's outcome
    (:func:`firestop.intake.accept.published_not_confirmed`, the predicate intake's R12-06 read uses), else it raises
    :class:`OutcomeNotVisible` and the orchestrator's retry runs it again (first after 5 s, PENDING_JOIN_ATTEMPTS in
    all). Why: intake, reading no verdict (a blob made unreadable, R12-06), reads that status; still pending there,
    it leaves the alert joined, counting on this list. The orchestrator sets the status in the very episode that
    schedules this activity, but DurableTask.AzureStorage enqueues the activity's message *before* it writes the
    Instances row holding the custom status: ``AzureStorageOrchestrationService``'s
    ``CompleteTaskOrchestrationWorkItemAsync`` ("First, add new messages into the queue"), then
    ``trackingStore.UpdateStateAsync``, which writes the history and the Instances row last
    (``Tracking/AzureTableTrackingStore.cs``; github.com/Azure/durabletask at 5217032 — the order since PR #201 of
    2018, v1.8.5 and v2.9.1 alike; an Instances write that fails is made by the next episode, after that one's
    messages). Listed before that write, a join made meanwhile read "pending", joined, and was never listed. With
    the read first: a join whose status read missed the outcome made that read before this one saw it (a status is
    the Instances row, read strongly consistent, and every later status of the run shows the outcome) — and kept
    its pending join before its read, so before this list. Cost: one status read per not-confirmed run, and on Azure
    a retry (5 s) when the race is met; no new orchestrator action (the same activity, under the retry it already
    had), so histories recorded before this change replay unchanged."""
    from firestop.intake.accept import published_not_confirmed
    from firestop.lifecycle import ORCHESTRATOR_NAME
    from firestop.records.pending_joins import Scan
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.functions.intake_call import rederived_variant_input
    from firestop.trust.seal import Purpose, load_seal_key, retired_key_of, verify

    def exists(status) -> bool:  # the SDK: a falsy status for a 404, a falsy one with Message for an error
        if not status and (getattr(status, "Message", None) is not None
                           or getattr(status, "ExceptionMessage", None) is not None):
            raise RuntimeError("get_status answered an error")
        return bool(status)

    incident = str(request.get("incident_id") or "")
    own = await client.get_status(incident)
    if not exists(own) or not published_not_confirmed(own):
        raise OutcomeNotVisible(f"the source check outcome is not in the status of {incident[:200]} yet: "
                                "pending joins not listed (retried)")
    key = load_seal_key()  # (none usable: SealKeyError — raised, the orchestrator retries, then notes it failed)
    # one pending join read and held at a time (A13-02: a list of every kept input held up to MAX_STARTS of them)
    listed = Scan(records_store(get_settings()), incident, str(request.get("received_at") or ""), key)
    left = listed.left
    started = found = refused = kept = rederived = 0
    for variant, sealed in listed:
        kept += 1
        # R12-01: a blob planted in the folder (Storage Blob Data write) names the genuine alert's variant id with an
        # input that is not sealed for it; started, that run is refused, and the genuine blob's variant is then
        # "found": never checked. Only an input sealed for this very id, naming this run's incident, is started.
        ok, _ = verify(Purpose.INCIDENT, sealed, binding=variant, key=key)
        fresh = None
        if not ok and isinstance(sealed, dict) and sealed.get("variant_of") == incident \
                and retired_key_of(Purpose.INCIDENT, sealed, binding=variant, key=key) is not None:
            # joins18: kept before a seal key rotation (a retired key opens no live input, RT20-01): re-derived from
            # its alert alone as intake builds a variant, sealed with the current key — never re-sealed
            try:
                fresh = rederived_variant_input(sealed, variant, incident, key=key)
            except ValueError:  # (no alert that parses: refused as any other)
                fresh = None
        if fresh is None and (not ok or not isinstance(sealed, dict) or sealed.get("variant_of") != incident):
            refused += 1
            continue
        if exists(await client.get_status(variant)):
            found += 1
            continue
        try:
            await client.start_new(ORCHESTRATOR_NAME, variant, fresh or sealed)
        except Exception:  # noqa: BLE001 - refused: started meanwhile (intake); else the store failed: raise
            if not exists(await client.get_status(variant)):
                raise
            found += 1
            continue
        started += 1
        rederived += fresh is not None
    if rederived:
        log.warning("pending joins of %s: %d kept before a seal key rotation, started with an input re-derived from "
                    "their alert (sealed with the current key; nothing pinned carried over)", incident[:200], rederived)
    if refused:
        log.warning("pending joins of %s: %d not sealed for the variant they name with the current seal key (not "
                    "started; planted, or kept before a seal key rotation: a retired key starts nothing, RT20-01)",
                    incident[:200], refused)
    if listed.unreadable:
        log.warning("pending joins of %s: %d could not be read as the pending join their sealed name names (deleted "
                    "or overwritten in the records store?)", incident[:200], listed.unreadable)
    if kept or left:
        log.info("pending joins of %s: %d started, %d found, %d left", incident[:200], started, found, left)
    return {"started": started, "found": found, "left": left, "refused": refused, "unreadable": listed.unreadable,
            "rederived": rederived}


def _rule_trust(alert: dict, read_rule: Any = None) -> Any:
    """RT17-01: ``trust(rule, read_workspace)`` for :func:`firestop.azure.alerts_management.confirm` — None when the
    fired rule is one of the routed playbook's detections as deployed (:func:`firestop.infra.rule_trust.trusted_detection`:
    the playbook :func:`firestop.playbooks.route_playbook` chooses for ``alert``, the workspace
    ``FIRESTOP_LOG_WORKSPACE_ID``, Firestop's identity ``FIRESTOP_AUTOMATION_PRINCIPAL_ID``) or an admin trusted this
    version of it (:func:`firestop.infra.trusted_rules.is_trusted`: one records-store read, only for a rule that is
    no detection); else why not. ``read_rule``: the source check's ``AlertsManagementClient.get_rule`` (a copy of a
    detection that sets ``firestop-nsg``/``-apim``/``-rai-policy`` is held to Firestop's own deployed rule, R13-05)."""
    from firestop.settings import get_settings

    def trust(rule: dict, read_workspace: Any) -> str | None:
        from firestop.alerts import Alert
        from firestop.infra.rule_trust import trusted_detection
        from firestop.infra.trusted_rules import is_trusted
        from firestop.playbooks import route_playbook
        from firestop.records.store import records_store

        settings = get_settings()
        playbook, _, _ = route_playbook(Alert.model_validate(alert), settings.playbooks_dir)
        targets = [str(t) for t in alert.get("target_ids") or []]
        why = trusted_detection(rule, playbook, target=targets[0] if len(targets) == 1 else "",
                                read_workspace=read_workspace, workspace_guid=settings.log_workspace_id,
                                automation_principal_id=settings.automation_principal_id, read_rule=read_rule)
        if why is None or is_trusted(records_store(settings), rule):
            return None
        return (f"{why}; no admin has trusted it (python -m firestop rules trust RULE_ID): whoever may write an alert "
                "rule could have written it")

    return trust


def _confirm_alert_at_source(request: dict) -> dict[str, Any]:
    """``{"alert": the incident input's alert JSON, "source": "azure-monitor"|"defender"|"sentinel"|"policy"|"graph-defender", "source_ref"?,
    "incident_id", "received_at"}`` → ``{"confirmed": bool, "why": str, "code": firestop.source_reasons.Reason}``: the alert read from its source — Alerts
    Management (:func:`firestop.azure.alerts_management.confirm`), Defender for Cloud
    (:func:`firestop.azure.security_source.confirm_defender`, ``source_ref`` the alert's ARM id) or Sentinel
    (:func:`~firestop.azure.security_source.confirm_sentinel`, the incident's) or Policy Insights
    (:func:`firestop.azure.policy_source.confirm_policy`, an Azure Policy state event: RT14-03) or, for Graph's copy of
    a Defender alert, its age alone (:func:`firestop.azure.security_source.confirm_graph_copy`, trust16); read-only — and, confirmed, claimed
    for this incident (:func:`~firestop.azure.alerts_management.claim`: a second incident naming the same alert — or,
    for a policy event, the same policy state, verify12 — is not confirmed). An unknown source, or anything that goes wrong, is not confirmed (fail safe: a responder
    decides); never raises."""
    from firestop.azure.alerts_management import AZURE_MONITOR, confirm
    from firestop.azure.clients import get_client_factory
    from firestop.azure.security_source import DEFENDER, POLICY, SENTINEL, confirm_defender, confirm_sentinel
    from firestop.source_reasons import Reason, code_of

    source = request.get("source")
    from firestop.alerts.source_refs import GRAPH

    if source == GRAPH:  # RT17-05: no source vouches for another provider's Graph alert (never confirmed)
        return {"confirmed": False, "code": Reason.CHECK_FAILED,
                "why": "a Microsoft Graph security alert that Microsoft Defender for Cloud did not raise (its provider's "
                       "title and entities are whatever its rule's author wrote): no source confirms it detected an "
                       "attack on this resource"}
    from firestop.alerts.source_refs import GRAPH_DEFENDER

    if source not in (AZURE_MONITOR, DEFENDER, SENTINEL, POLICY, GRAPH_DEFENDER):
        return {"confirmed": False, "why": f"no check for source {str(source)[:40]!r}", "code": Reason.CHECK_FAILED}
    factory = get_client_factory()
    try:
        alert = dict(request.get("alert") or {})
        if source == AZURE_MONITOR:
            client = factory.alerts_management()
            found = confirm(client, alert, factory.clock.now(), logs=factory.logs, monitor=factory.monitor,
                            source_ref=request.get("source_ref"), trust=_rule_trust(alert, client.get_rule))
        elif source == DEFENDER:
            found = confirm_defender(factory.security, alert, request.get("source_ref"), factory.clock.now())
        elif source == GRAPH_DEFENDER:  # trust16: fetched from Graph by Firestop: its age is what is bounded (pure)
            from firestop.azure.security_source import confirm_graph_copy

            found = confirm_graph_copy(alert, factory.clock.now())
        elif source == POLICY:  # RT14-03: an Azure Policy state event, read back from Policy Insights
            from firestop.azure.policy_source import confirm_policy

            found = confirm_policy(factory.policy_insights, alert, factory.clock.now())
        else:
            found = confirm_sentinel(factory.sentinel(), alert, request.get("source_ref"), factory.clock.now())
        incident = request.get("incident_id")
        if found.get("confirmed") is True and incident:  # (an input of an orchestration scheduled before: unclaimed)
            from firestop.azure.alerts_management import claim
            from firestop.records.store import records_store
            from firestop.settings import get_settings
            from firestop.trust.seal import load_seal_key

            why = claim(records_store(get_settings()), alert, str(incident), str(request.get("received_at") or ""),
                        state=found.get("claim_key") if source == POLICY else None,  # verify12: once per policy state
                        key=load_seal_key())  # bounds14: sealed (SealKeyError: the check failed, fail safe below)
            if why is not None:
                return {"confirmed": False, "why": str(why), "code": why.code}
        confirmed = found.get("confirmed") is True
        # the confirmer's code (firestop.source_reasons: one list), else one that says it gave none
        code = Reason.CONFIRMED if confirmed else code_of(found.get("code")) or Reason.UNCLASSIFIED
        return {"confirmed": confirmed, "why": str(found.get("why") or ""), "code": code}
    except Exception as exc:  # noqa: BLE001 - fail safe: not confirmed, the responder decides (logged)
        from firestop.azure.errors import passing

        log.warning("confirm_alert_at_source failed: %s", type(exc).__name__)
        # a passing failure (429/5xx/timeout/connection left after the SDK's retries) could not check: tried again
        return {"confirmed": False, "why": f"the check failed ({type(exc).__name__})",
                "code": Reason.TRANSIENT if passing(exc) else Reason.CHECK_FAILED}

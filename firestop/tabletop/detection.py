"""Detection in an attack-driven exercise: the rules deployed before T0, and what they achieved.

:func:`deploy_detection(tenant, playbooks_dir)` puts on the exercise's tenant what ``firestop infra``
deploys (:mod:`firestop.infra.detection`): the action group ``ag-firestop`` (one webhook with the
common alert schema; the exercise's runner stands in for the Function App) and every playbook's
rules, bound to every Cognitive Services account, through ``azure-mgmt-monitor`` on the sandbox
transport — as ``firestop infra --workspace … --apim …`` was run: workspace-scoped rules on the
workspace the accounts send their logs to (``{account_endpoint}`` from each account), ``{apim_id}``
the tenant's API Management service. Diagnostic settings are the tenant's own (the seed's — the prod
account's and its API Management gateway's — or a scenario's overrides): a missing one is exactly
what an exercise should be able to find.

:func:`summarize(exercise)` → the scorecard's ``detection`` section::

    {"first_malicious_at", "detected": bool, "detected_at", "mttd_s", "mttc_s", "mttr_s",   # all from the first malicious request
     "rules": [{"rule", "kind", "condition", "fired_at", "fired_offset_s", "received_at", "mttd_s", "why"}],
     "requests": {"malicious", "served", "served_before_detection", "served_after_detection",
                  "served_after_containment", "refused_after_containment", "refused" (401/403 in all),
                  "made_after_containment", "first_refused_at", "refused_after_alert_s"},
     "arm": [{"step", "kind", "at", "status"}], "gaps": [{"target", "gap", "advice"}], "reason": str | None,
     "aftermath": [{"index", "rule", "incident_id", "outcome"}],   # alerts on refused requests after containment (no new incident)
     "cut_off": bool,                      # served before containment, every malicious request after it refused (401/403)
     "attacker_after_containment": str}    # the same in words: served / refused by containment / refused as before

``why`` explains an MTTD in Azure's terms: the data's ingestion delay (resource logs,
``diagnostics.ingestion``; Activity Log export ``activity.ingestion``; Activity Log submission
``activity.submission``; metric publication ``metrics.latency``) plus the wait for the rule's
next evaluation (``evaluationFrequency``) and, for thresholds, the time the attacker needed to
cross it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from firestop.times import instant as _at, seconds as _s

#: Simulated seconds the rules keep being evaluated after the attack's last step.
HORIZON_S = 10 * 60.0
ACTION_GROUP = "ag-firestop"
#: Firestop's webhook as infra/azuredeploy.json writes it: its host, /api/alerts and the alerts function key (a
#: stand-in here: the tabletop delivers in process) — the audit counts no receiver without a key (A16-05).
WEBHOOK = "https://func-firestop.azurewebsites.net/api/alerts?code=tabletop-alerts-key"


def _accounts(tenant: Any) -> list[str]:
    return [r["id"] for r in tenant._state.doc["resources"].values()  # noqa: SLF001 — inspection of the exercise's own tenant
            if r.get("type", "").lower() == "microsoft.cognitiveservices/accounts"]


def _first(tenant: Any, resource_type: str) -> str | None:
    return next((r["id"] for r in tenant._state.doc["resources"].values()  # noqa: SLF001
                 if r.get("type", "").lower() == resource_type), None)


def _nsg(tenant: Any) -> str | None:
    return _first(tenant, "microsoft.network/networksecuritygroups")


def _apim_services(tenant: Any) -> list[str]:
    return [r["id"] for r in tenant._state.doc["resources"].values()  # noqa: SLF001
            if r.get("type", "").lower() == "microsoft.apimanagement/service"]


def _workspace(tenant: Any, accounts: list[str]) -> str | None:
    """The workspace the protected accounts send their RequestResponse logs to (else the tenant's first)."""
    from firestop.sandbox.monitor.models import log_workspaces

    for account_id in accounts:
        for workspace in log_workspaces(tenant._state, account_id, "RequestResponse"):  # noqa: SLF001
            return workspace["resource_id"]
    return next((w["resource_id"] for w in tenant._state.doc["workspaces"].values()), None)  # noqa: SLF001


def deploy_detection(tenant: Any, playbooks_dir: Path, parameters: dict[str, str] | None = None) -> list[str]:
    """Deploy the action group and every playbook's rules on ``tenant``; returns the ids written.
    ``parameters``: placeholders ``firestop infra`` was given (the scenario's ``infra_parameters``)."""
    from firestop.azure.clients import ClientFactory
    from firestop.infra.detection import apply, rule_resources
    from firestop.playbooks import load_playbooks_lenient
    playbooks, _ = load_playbooks_lenient(playbooks_dir)
    factory = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True, polling_interval=0)
    monitor = factory.monitor(tenant.subscription_id)
    accounts = _accounts(tenant)
    group_rg = accounts[0].split("/")[4] if accounts else "rg-ai-prod"
    group = monitor.action_groups.create_or_update(group_rg, ACTION_GROUP, {
        "location": "Global", "group_short_name": "firestop", "enabled": True,
        "webhook_receivers": [{"name": "firestop", "service_uri": WEBHOOK, "use_common_alert_schema": True}]})
    placeholders = {**(parameters or {}), "automation_principal_id": tenant.credential.principal_id}  # Firestop's own identity
    nsg = _nsg(tenant)
    if nsg:
        placeholders["nsg_id"] = nsg
    apim = _apim_services(tenant)
    if apim:
        placeholders["apim_id"] = apim[0]
    endpoints = {a: (tenant._state.doc["resources"][a.lower()].get("properties") or {}).get("endpoint", "")  # noqa: SLF001
                 for a in accounts}
    resources = rule_resources(playbooks, accounts=accounts, subscription_id=tenant.subscription_id, action_group_id=group.id,
                               placeholders=placeholders, workspace_id=_workspace(tenant, accounts), endpoints=endpoints)
    return [group.id, *apply(monitor, resources)]


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else round((b - a).total_seconds(), 3)


def _why(tenant: Any, detection: dict, first: datetime | None) -> str:
    latency = tenant.latency
    e = detection["explain"]
    kind = detection["kind"]
    if kind == "scheduledQueryRules":
        return (f"rows reach the workspace {_s(latency.get('diagnostics.ingestion', 120))} after a request "
                f"(Activity Log export: {_s(latency.get('activity.ingestion', 180))}); the rule runs every {_s(e.get('frequency_s', 0))} "
                f"over the last {_s(e.get('window_s', 0))} and saw {e.get('value', 0):g} for {e.get('dimensions') or 'the scope'}")
    if kind == "defender":
        return (f"Defender for AI sees a call's evidence {_s(e.get('detection_s', 60))} after it and evaluates every "
                f"{_s(e.get('evaluation_s', 60))} (sandbox assumptions: Defender documents real-time detection without a figure): "
                f"first evidence {_at(e.get('evidence_at'))}, alert {e.get('alert_type')} raised {_at(e.get('generated_at'))}; "
                f"{e.get('delivery', 'delivery')} posted it {_s(e.get('delivery_s', 0))} later")
    if kind == "metricAlerts":
        return (f"a metric minute is published {_s(latency.get('metrics.latency', 60))} after it ends; the rule runs every "
                f"{_s(e.get('frequency_s', 0))} over {_s(e.get('window_s', 0))}: {e.get('metric')}"
                + "".join(f" {d['name']} {d['value']}" for d in e.get("dimensions") or [])
                + f" = {e.get('value', 0):g} against {e.get('threshold', 0):g}")
    return (f"the Activity Log receives an event {_s(latency.get('activity.submission', 20))} after it happens "
            f"({e.get('operation')} at {_at(e.get('event_at'))}); activity log alerts are evaluated as events arrive")


def summarize(exercise: Any) -> dict[str, Any]:
    """The ``detection`` section for a finished attack-driven exercise (see the module docstring)."""
    from firestop.sandbox.monitor.models import log_destinations, log_workspaces

    tenant, driver, run = exercise.tenant, exercise.driver, exercise.run
    calls = [c for c in tenant.data_plane_log() if c.get("tag")]
    arm = [a for a in driver.arm_log if a.get("malicious")]
    starts = [_ts(c["at"]) for c in calls] + [_ts(a["at"]) for a in arm]
    first = min(starts) if starts else None
    received = {a["index"]: a for a in run.alerts}
    rules = []
    for d in exercise.detections:
        fired_at = _ts(d["at"])
        got = received.get(d["index"])
        received_at = _ts(got["delivered_at"]) if got else None
        rules.append({"rule": d["rule_name"], "kind": d["kind"], "condition": d["condition"], "fired_at": d["at"],
                      "fired_offset_s": exercise.offset(fired_at), "received_at": got["delivered_at"] if got else None,
                      "incident_id": got.get("incident_id") if got else None,
                      "mttd_s": _secs(first, received_at) if d["condition"] == "Fired" else None,
                      "why": _why(tenant, d, first), "delivered": bool(d["webhooks"])})
    fired = [r for r in rules if r["condition"] == "Fired" and r["received_at"]]
    detected_at = min((_ts(r["received_at"]) for r in fired), default=None)
    primary = next((r for r in fired if _ts(r["received_at"]) == detected_at), None)
    record = run.incidents.get((primary or {}).get("incident_id") or "", {}) if primary else {}
    # the attack is contained by the first incident of its alerts that contained it, not necessarily the first
    # detected (a jailbreak alert resolved at source can arrive before the content-abuse alert that tightens the filter)
    holding = [rec for rec in (run.incidents.get(r.get("incident_id") or "", {}) for r in fired) if _ts(rec.get("contained_at"))]
    if holding and not _ts(record.get("contained_at")):
        record = min(holding, key=lambda rec: _ts(rec.get("contained_at")))
    contained_at = _ts(record.get("contained_at"))
    resolved_at = _ts(record.get("resolved_at") or record.get("closed_at"))
    served = [c for c in calls if c["status"] == 200]
    refused_after = [c for c in calls if detected_at and _ts(c["at"]) >= detected_at and c["status"] in (401, 403)]
    first_refused = min((_ts(c["at"]) for c in refused_after), default=None)
    gaps = []
    attacked = sorted({s.account for s in driver.steps if s.kind == "requests"})
    for name in attacked:
        account_id = next((a for a in _accounts(tenant) if a.rsplit("/", 1)[-1].lower() == name.lower()), None)
        if account_id and not log_workspaces(tenant._state, account_id, "RequestResponse"):  # noqa: SLF001
            gaps.append({"target": account_id, "gap": "diagnostic logs: the account sends no RequestResponse logs to Log Analytics "
                                                      "(no diagnostic setting), so no log alert rule can see its requests",
                         "advice": "deploy the diagnostic setting firestop infra emits (Audit, RequestResponse, Trace, AllMetrics)"})
    for name in sorted({s.apim for s in driver.steps if s.kind == "requests" and s.apim}):
        service_id = next((a for a in _apim_services(tenant) if a.rsplit("/", 1)[-1].lower() == name.lower()), None)
        destinations = log_destinations(tenant._state, service_id, "GatewayLogs") if service_id else [(None, True)]  # noqa: SLF001
        advice = "deploy the diagnostic setting firestop infra --apim emits (GatewayLogs to ApiManagementGatewayLogs, AllMetrics)"
        if not destinations:
            gaps.append({"target": service_id, "gap": "diagnostic logs: the API Management service sends no GatewayLogs to Log Analytics "
                                                      "(no diagnostic setting), so no log alert rule can see the calls through its gateway",
                         "advice": advice})
        elif not any(dedicated for _, dedicated in destinations):
            gaps.append({"target": service_id, "gap": "diagnostic logs: the API Management service sends its GatewayLogs to AzureDiagnostics "
                                                      "(Azure diagnostics mode), not to the resource-specific table ApiManagementGatewayLogs "
                                                      "the rules read, so no log alert rule sees the calls through its gateway",
                         "advice": advice + " — logAnalyticsDestinationType: Dedicated"})
    after = [c for c in calls if contained_at is not None and _ts(c["at"]) >= contained_at]
    served_after = sum(1 for c in after if c["status"] == 200)
    refused_after_containment = sum(1 for c in after if c["status"] in (401, 403))
    # a "resolved" incident (evidence and write-back only) contained nothing: what the attacker did after it ended
    ended = _ts(record.get("closed_at") or record.get("resolved_at")) if record.get("status") == "resolved" else None
    after_resolution = [c for c in calls if ended is not None and contained_at is None and _ts(c["at"]) >= ended]
    reason = None
    if detected_at is None:
        reason = ("not detected: no rule fired" + (f" — {gaps[0]['gap']}" if gaps else "") +
                  ("" if calls or arm else "; the attack made no request"))
    return {
        "first_malicious_at": first.isoformat() if first else None,
        "detected": detected_at is not None, "detected_at": detected_at.isoformat() if detected_at else None,
        "mttd_s": _secs(first, detected_at), "mttc_s": _secs(first, contained_at), "mttr_s": _secs(first, resolved_at),
        "contained_at": contained_at.isoformat() if contained_at else None,
        "rules": rules,
        "requests": {
            "malicious": len(calls), "served": len(served),
            "served_before_detection": sum(1 for c in served if detected_at is None or _ts(c["at"]) < detected_at),
            "served_after_detection": sum(1 for c in served if detected_at is not None and _ts(c["at"]) >= detected_at),
            "served_after_containment": sum(1 for c in served if contained_at is not None and _ts(c["at"]) >= contained_at),
            "refused_after_containment": refused_after_containment,
            "refused": sum(1 for c in calls if c["status"] in (401, 403)),
            "made_after_containment": len(after),
            "first_refused_at": first_refused.isoformat() if first_refused else None,
            "refused_after_alert_s": _secs(detected_at, first_refused),
        },
        "arm": list(driver.arm_log), "gaps": gaps, "reason": reason,
        # alerts on the attacker being refused after containment, joined to the incident that refused it
        # (firestop.intake.aftermath): [{"index", "rule", "incident_id", "outcome"}]
        "aftermath": [{"index": a["index"], "rule": a["rule_name"], "incident_id": a["incident_id"], "outcome": a["outcome"]}
                      for a in run.alerts if a.get("aftermath")],
        "cut_off": _cut_off(calls, contained_at, after, refused_after_containment),
        "attacker_after_containment": (_resolved_text(after_resolution) if ended is not None and contained_at is None else
                                       _after_text(contained_at, after, served_after, refused_after_containment,
                                                   served_before=_served_before(calls, contained_at))),
    }


def _resolved_text(after: list[dict]) -> str:
    """What the attacker got after a *resolved* incident (nothing contained: the playbook kept the evidence and wrote back)."""
    head = "not contained — resolved (evidence and write-back only, nothing cut off)"
    if not after:
        return head + ": the attack made no request after it ended"
    served = sum(1 for c in after if c["status"] == 200)
    filtered = sum(1 for c in after if c["status"] == 400)
    refused = sum(1 for c in after if c["status"] in (401, 403))
    other = len(after) - served - filtered - refused
    parts = [f"{served} served"] + ([f"{filtered} blocked by the content filter (400)"] if filtered else []) + (
        [f"{refused} refused (401/403)"] if refused else []) + ([f"{other} answered otherwise"] if other else [])
    return head + f": the attacker made {len(after)} malicious request(s) after it ended — " + ", ".join(parts)


def _served_before(calls: list[dict], contained_at: datetime | None) -> int:
    return sum(1 for c in calls if c["status"] == 200 and (contained_at is None or _ts(c["at"]) < contained_at))


def _cut_off(calls: list[dict], contained_at: datetime | None, after: list[dict], refused: int) -> bool:
    """Containment cut the attacker off: it was served before, and every malicious request after was refused (401/403)."""
    return bool(after) and refused == len(after) and _served_before(calls, contained_at) > 0


def _after_text(contained_at: datetime | None, after: list[dict], served: int, refused: int, *, served_before: int = 1) -> str:
    """What the attacker got after "contained", in the attack's own terms (a contained incident need not mean a stopped attacker)."""
    if contained_at is None:
        return "not contained"
    if not after:
        return "the attack made no request after containment"
    n = len(after)
    if refused == n and not served_before:
        return (f"refused before and after containment: none of the attacker's requests was ever served; "
                f"{n} more after containment, all refused (401/403) as before")
    if refused == n:
        return f"cut off: all {n} malicious request(s) after containment were refused (401/403)"
    throttled = sum(1 for c in after if c["status"] == 429)
    filtered = sum(1 for c in after if c["status"] == 400)
    other = n - served - refused - throttled - filtered
    parts = [f"{served} served"] + ([f"{refused} refused by containment (401/403)"] if refused else []) + (
        [f"{throttled} throttled (429: the deployment's rate limit)"] if throttled else []) + (
        [f"{filtered} blocked by the content filter (400, as before containment)"] if filtered else []) + (
        [f"{other} answered otherwise"] if other else [])
    return f"not cut off: the attacker made {n} malicious request(s) after containment — " + ", ".join(parts)

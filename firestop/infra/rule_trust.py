"""RT17-01: is an alert rule Azure Monitor fired one Firestop may act on without a responder?

The source check (:func:`firestop.azure.alerts_management.confirm`) proves that Azure Monitor fired the alert from
the rule it names and that the rule routes as delivered. Anyone who may write an alert rule (Monitoring Contributor)
can write a rule that fires for real, though: an always-true query in their own resource group, routed to a playbook.
The trust anchor here is the playbook's own detection: a fired rule is trusted when what decides *when it fires*
equals one of the routed playbook's ``detect:`` rules as ``firestop infra`` deploys it
(:func:`firestop.playbooks.detect.arm_body`, :func:`firestop.infra.detection.rule_resources`). An identical rule fires
only on the real condition, so writing one (in any resource group, under any name) gains its author nothing.

Compared (:func:`criteria`, from the rule's ARM JSON as ``Microsoft.Insights`` answers its GET; REST specs
``scheduledQueryRule_API.json`` 2023-12-01, ``metricAlert_API.json`` 2018-03-01, ``activityLogAlerts_API.json``
2020-10-01):

* scheduled query rules: ``scopes``, ``targetResourceTypes``, ``evaluationFrequency``, ``windowSize`` (as seconds),
  ``overrideQueryTimeRange``, and each ``criteria.allOf[]`` condition's ``query`` (trailing whitespace of the whole
  text dropped: nothing else is normalised), ``timeAggregation``, ``metricMeasureColumn``, ``operator``,
  ``threshold`` (as a number), ``dimensions`` (name, operator, values), ``failingPeriods``, ``resourceIdColumn``;
* metric alerts: ``scopes``, ``evaluationFrequency``, ``windowSize``, ``targetResourceType``, the criteria's
  ``odata.type`` and each criterion's ``metricName``, ``metricNamespace``, ``timeAggregation``, ``dimensions``,
  ``criterionType``, ``operator``, ``threshold``, ``alertSensitivity``, ``failingPeriods``, ``ignoreDataBefore``;
* activity log alerts: ``scopes`` and ``condition`` (``allOf`` of ``{field, equals | containsAny}``, ``anyOf``).

Also compared (:func:`notification`, rulemute16): what decides *whether and when a firing reaches Firestop* once the
rule fires — a copy muted for a day notifies Firestop of the first alert only, one made to never resolve (or to resolve
on its own schedule) changes when Firestop hears the Resolved notification and, for a stateful rule, when it may fire
again. Decided per property from the same specs:

* scheduled query rules: ``kind`` (absent: ``LogAlert``, the spec's default; ``LogToMetric`` raises no alert at all),
  ``muteActionsDuration`` ("Mute actions for the chosen period of time … after the alert is fired"; absent is zero),
  ``autoMitigate`` ("whether the alert should be automatically resolved … The default is true") and
  ``ruleResolveConfiguration`` (``autoResolved``: "whether or not to auto resolve a fired alert", an absent one read as
  ``autoMitigate``; ``timeToResolve``: "the duration a rule must evaluate as healthy before the fired alert is
  automatically resolved", ``firestop infra`` sets none, so any is a difference — whether Azure's GET echoes a default
  here is not verified: if it does, a deployed rule is refused and a responder decides, fail closed);
* metric alerts: ``autoMitigate`` ("whether the alert should be auto resolved or not. The default is true"; the
  2018-03-01 spec has no mute);
* activity log alerts: nothing (2020-10-01 defines no mute or resolve: each matching event notifies).

Left out, as they change neither whether nor when Firestop is notified: ``checkWorkspaceAlertsStorageConfigured``
("whether this scheduled query rule should be stored in the customer's storage": where the rule is kept, checked when
it is written), ``skipQueryValidation`` (whether the query is validated when written) and a metric criterion's
``skipMetricValidation`` (likewise); ``actions.actionProperties`` ("customizes the actions": the route is
:func:`firestop.azure.alerts_management.compare_route`'s); a metric alert's ``targetResourceRegion`` (only for a
multi-resource scope, and the scope is compared); names, descriptions, severity; ``enabled`` (a disabled rule fires
nothing; the audit lists it disabled). The action groups are not compared here (the route and ``firestop-*``
properties are compared by :func:`firestop.azure.alerts_management.compare_route`, and here the rule's ``firestop-*``
keys must be the detection's, their values too where the detection fixes them).

:func:`criteria_digest` (what an admin's trusted-rule entry of digest version 1 binds) does not include
:func:`notification`: adding it would void every entry already sealed. trust17 decided: entries written from now on
bind :func:`trust_digest` version 2 (criteria, notification, ``firestop-*`` properties, id), so muting a rule an admin
trusted, or making it resolve otherwise, voids the trust like any other edit; version 1 entries are still verified,
but an admin's version 1 trust holds only while the rule's :func:`notification` is the spec's defaults
(:func:`notification_is_default`: no mute, auto-resolved, a LogAlert) — a rule muted after it was trusted under
version 1 is not trusted (fail closed: the cheap check, no new entry needed), and ``rules list`` and the audit flag a
version 1 entry "trusted before mute fields were covered: re-trust" (:mod:`firestop.infra.trusted_rules`).

The scope (whose data the rule reads): an account-scoped log rule and a metric rule must be scoped to the alert's
target account (Azure writes its logs and metrics); an activity log alert to the target's subscription; a
workspace-scoped log rule (``scope: workspace``) to a workspace whose ``customerId`` is ``FIRESTOP_LOG_WORKSPACE_ID``
— the workspace ``firestop infra --workspace`` was given and the accounts' diagnostic settings write to. A workspace
the rule's author controls could be fed rows; Firestop's own could be written to only by its ingestion.

Placeholders (:data:`firestop.playbooks.detect.KNOWN_PLACEHOLDERS`) are filled as deployed where Firestop knows the
value: ``{account_id}`` is the target account (in any case: ARM ids are case-insensitive), ``{automation_principal_id}`` ``FIRESTOP_AUTOMATION_PRINCIPAL_ID``
(a GUID when unset). ``{account_endpoint}`` must be the target account's own endpoint: its name as the custom subdomain under
``openai``/``cognitiveservices``/``services.ai`` ``.azure.com`` (``.us``, ``.cn``), ending with ``/`` as Azure gives it
(RT18-01: a prefix without it also matches a look-alike host); an account whose subdomain differs
is not confirmed (a responder decides, or an admin trusts the rule). Any
other placeholder in a query matches a run of characters without a quote, backslash or line break (it cannot leave
the string literal it stands in). A ``firestop-*`` property filled from such a placeholder (``firestop-nsg``,
``firestop-apim``, ``firestop-rai-policy``: what the steps act on) is pinned instead (R13-05): a rule other than
Firestop's own deployed one for the target that sets it must set it as that rule does (:func:`own_rule_ids`).

When: all of this is judged on the rule as read now, which :func:`changed_after_firing` (A13-09) holds to be the rule
that fired — not modified at or after the alert's ``startDateTime`` (:data:`RULE_MODIFIED_FIELDS`).

Pure except ``read_workspace`` (the workspace's ARM JSON; the source check passes its memoised reader, so a workspace
read the dimension re-run makes anyway is not made twice).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from firestop.playbooks.detect import ActivityLogAlert, ScheduledQueryRule, arm_body, duration_seconds, rule_kind

_MARK = "\u0000"
#: What a placeholder Firestop does not know stands for in a compared string: no quote, backslash or line break.
_FREE = r"[^\"'\\\r\n\x00]{0,400}"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_KINDS = {"scheduledqueryrules": "scheduledQueryRules", "metricalerts": "metricAlerts", "activitylogalerts": "activityLogAlerts"}


def _seconds(value: Any) -> Any:
    try:
        return duration_seconds(str(value)) if value is not None else None
    except ValueError:
        return f"unreadable {str(value)[:30]}"


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return f"unreadable {str(value)[:30]}"


def _low(value: Any) -> Any:
    return str(value).strip().rstrip("/").lower() if isinstance(value, str) else value


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dimensions(value: Any) -> list:
    return [(d.get("name"), d.get("operator") or "Include", sorted(str(v) for v in _list(d.get("values"))) or ["*"])
            for d in _list(value) if isinstance(d, dict)]


def _periods(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    return (_number(value.get("numberOfEvaluationPeriods")), _number(value.get("minFailingPeriodsToAlert")))


def _condition(value: Any) -> Any:
    """An activity log alert's condition leaf or ``anyOf`` group, keys lower-cased."""
    if not isinstance(value, dict):
        return repr(value)[:80]
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:  # (a GET may spell an absent operand as null)
            continue
        key = str(key).lower()
        if key == "anyof" or key == "allof":
            out[key] = [_condition(c) for c in _list(item)]
        elif key == "containsany":
            out[key] = [str(v) for v in _list(item)]
        else:
            out[key] = item
    return out


def criteria(rule: dict[str, Any]) -> dict[str, Any] | None:
    """What decides when the alert rule ``rule`` (ARM JSON, or an ARM body with ``type`` given) fires, in one
    comparable shape (see the module docstring); None for a rule of another type. Pure."""
    kind = _KINDS.get(str(rule.get("type") or "").rsplit("/", 1)[-1].lower())
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    if kind is None:
        return None
    common = {"kind": kind, "scopes": [_low(s) for s in _list(props.get("scopes"))]}
    if kind == "activityLogAlerts":
        return {**common, "condition": _condition(props.get("condition"))}
    timing = {"evaluationFrequency": _seconds(props.get("evaluationFrequency")),
              "windowSize": _seconds(props.get("windowSize"))}
    allof = _list((props.get("criteria") or {}).get("allOf") if isinstance(props.get("criteria"), dict) else None)
    if kind == "scheduledQueryRules":
        conditions = [{
            "query": str(c.get("query") or "").rstrip(), "timeAggregation": c.get("timeAggregation"),
            "metricMeasureColumn": c.get("metricMeasureColumn") or None, "operator": c.get("operator"),
            "threshold": _number(c.get("threshold")), "dimensions": _dimensions(c.get("dimensions")),
            "failingPeriods": _periods(c.get("failingPeriods")) or (1.0, 1.0),
            "resourceIdColumn": c.get("resourceIdColumn") or None,
        } for c in allof if isinstance(c, dict)]
        return {**common, **timing, "targetResourceTypes": sorted(_low(t) for t in _list(props.get("targetResourceTypes"))),
                "overrideQueryTimeRange": _seconds(props.get("overrideQueryTimeRange")), "allOf": conditions}
    conditions = [{
        "metricName": c.get("metricName"), "metricNamespace": _low(c.get("metricNamespace")),
        "timeAggregation": c.get("timeAggregation"), "dimensions": _dimensions(c.get("dimensions")),
        "criterionType": c.get("criterionType") or "StaticThresholdCriterion", "operator": c.get("operator"),
        "threshold": _number(c.get("threshold")), "alertSensitivity": c.get("alertSensitivity"),
        "failingPeriods": _periods(c.get("failingPeriods")), "ignoreDataBefore": c.get("ignoreDataBefore"),
    } for c in allof if isinstance(c, dict)]
    return {**common, **timing, "targetResourceType": _low(props.get("targetResourceType")),
            "odata.type": (props.get("criteria") or {}).get("odata.type") if isinstance(props.get("criteria"), dict) else None,
            "allOf": conditions}


def notification(rule: dict[str, Any]) -> dict[str, Any]:
    """What decides whether and when a firing of ``rule`` (ARM JSON, or an ARM body with ``type`` given) reaches
    Firestop, beyond :func:`criteria` (see the module docstring): ``{"resource kind": "logalert", "muteActionsDuration":
    seconds (0 when absent), "autoMitigate": bool, "ruleResolveConfiguration.autoResolved": bool,
    "ruleResolveConfiguration.timeToResolve": seconds | None}`` for a scheduled query rule, ``{"autoMitigate": bool}``
    for a metric alert, ``{}`` otherwise. A value that is not the spec's type is kept as read (it equals no deployed
    value). Pure."""
    kind = _KINDS.get(str(rule.get("type") or "").rsplit("/", 1)[-1].lower())
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    auto = True if props.get("autoMitigate") is None else props.get("autoMitigate")
    if kind == "metricAlerts":
        return {"autoMitigate": auto}
    if kind != "scheduledQueryRules":
        return {}
    resolve = props.get("ruleResolveConfiguration")
    resolve = resolve if isinstance(resolve, dict) else ({} if resolve is None else {"autoResolved": repr(resolve)[:40]})
    return {"resource kind": _low(rule.get("kind") or "LogAlert"),
            "muteActionsDuration": _seconds(props.get("muteActionsDuration")) or 0,
            "autoMitigate": auto,
            "ruleResolveConfiguration.autoResolved": auto if resolve.get("autoResolved") is None else resolve["autoResolved"],
            "ruleResolveConfiguration.timeToResolve": _seconds(resolve.get("timeToResolve"))}


def firestop_keys_verbatim(rule: dict[str, Any]) -> bool:
    """True when every ``firestop-*`` custom property of ``rule``'s notifications is as the playbooks read it: a
    lower-case key, a string value without surrounding whitespace, no two keys alike but for case (R17-04). The
    playbooks' conditions read ``alert.custom_properties.<key>`` by its exact key and compare its exact value, and
    Azure Monitor delivers the rule's map as it is; :func:`firestop_keys` (what the detection check and the trust
    digests compare) folds case and strips values, so a rule edited to ``Firestop-Signal`` or ``"failed-requests "``
    would compare equal and its alerts read as carrying no signal. Pure."""
    for m in rule_property_maps_of(rule):
        keys = [str(k) for k in m if str(k).lower().startswith("firestop-")]
        if len({k.lower() for k in keys}) != len(keys):
            return False
        for key in keys:
            value = m[key]
            if key != key.lower() or not isinstance(value, str) or value != value.strip():
                return False
    return True


def rule_property_maps_of(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The rule's notifications' custom-property maps that are maps (:func:`~firestop.azure.alerts_management.rule_property_maps`)."""
    from firestop.azure.alerts_management import rule_property_maps

    return [m for m in rule_property_maps(rule) if isinstance(m, dict)]


def firestop_keys(rule: dict[str, Any]) -> list[dict[str, str]]:
    """The ``firestop-*`` custom properties of each of the rule's notifications (keys lower-case). Pure."""
    from firestop.azure.alerts_management import rule_property_maps

    return [{str(k).lower(): str(v).strip() for k, v in m.items() if str(k).lower().startswith("firestop-")}
            for m in rule_property_maps(rule) if isinstance(m, dict)]


def _matches(expected: Any, found: Any, patterns: dict[str, str]) -> bool:
    """``found`` equals ``expected``, where a marked placeholder in an expected string matches its pattern."""
    if isinstance(expected, str) and _MARK in expected:
        if not isinstance(found, str):
            return False
        parts = expected.split(_MARK)
        regex = "".join(patterns.get(p, _FREE) if i % 2 else re.escape(p) for i, p in enumerate(parts))
        return re.fullmatch(regex, found, re.DOTALL) is not None
    if isinstance(expected, dict):
        return isinstance(found, dict) and expected.keys() == found.keys() and all(
            _matches(v, found[k], patterns) for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        return isinstance(found, (list, tuple)) and len(expected) == len(found) and all(
            _matches(e, f, patterns) for e, f in zip(expected, found))
    return expected == found


def _properties_match(expected: list[dict[str, str]], found: list[dict[str, str]], patterns: dict[str, str]) -> bool:
    """Each notification's ``firestop-*`` properties are the detection's: the same keys — one whose deployed value
    comes from a placeholder may be absent (``firestop infra`` leaves a property out when it was not given the
    value) — and the same values, a placeholder's matching its pattern."""
    want = expected[0] if expected else {}
    for held in found or [{}]:
        if any(k not in want for k in held):
            return False
        for key, value in want.items():
            if key not in held:
                if _MARK not in value:
                    return False
            elif not _matches(value, held[key], patterns):
                return False
    return True


#: The most differences a "closest" sentence names (the rest are counted).
MAX_NAMED_DIFFERENCES = 6


def _differences(expected: dict, found: dict, patterns: dict[str, str]) -> list[str]:
    """Every compared field of ``found`` that differs from ``expected`` (:func:`criteria` shapes), in their order;
    a condition of ``allOf`` (the same number of them) by its field, e.g. ``allOf[0].threshold``."""
    out: list[str] = []
    for key, value in expected.items():
        held = found.get(key)
        if _matches(value, held, patterns):
            continue
        if key == "allOf" and isinstance(value, list) and isinstance(held, list) and len(value) == len(held):
            for i, (want, got) in enumerate(zip(value, held)):
                if isinstance(want, dict) and isinstance(got, dict):
                    out += [f"allOf[{i}].{k}" for k, v in want.items() if not _matches(v, got.get(k), patterns)]
                elif not _matches(want, got, patterns):
                    out.append(f"allOf[{i}]")
        else:
            out.append(key)
    return out or ["criteria"]


def _named(differences: list[str]) -> str:
    """``"threshold differs"`` / ``"a, b and c differ"`` (at most :data:`MAX_NAMED_DIFFERENCES` named, the rest counted)."""
    shown = differences[:MAX_NAMED_DIFFERENCES]
    more = len(differences) - len(shown)
    if more:
        return f"{', '.join(shown)} and {more} more differ"
    if len(shown) == 1:
        return f"{shown[0]} differs"
    return f"{', '.join(shown[:-1])} and {shown[-1]} differ"


def _placeholders(target: str, automation_principal_id: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(values given to :func:`arm_body`, regex per marked placeholder)."""
    from firestop.playbooks.detect import KNOWN_PLACEHOLDERS

    values = {name: _MARK + name + _MARK for name in KNOWN_PLACEHOLDERS}
    # ARM ids are case-insensitive, and the alert's target is kept lower-case: the deployed id in any case
    patterns: dict[str, str] = {"account_id": f"(?i:{re.escape(target)})"}
    if automation_principal_id:
        values["automation_principal_id"] = automation_principal_id
    else:
        patterns["automation_principal_id"] = _GUID
    account = target.rstrip("/").rsplit("/", 1)[-1]
    # the account's own endpoint: its custom subdomain (the account's name) under an Azure AI services domain
    # (learn.microsoft.com azure/ai-services/openai/reference: https://{resource}.openai.azure.com/), never another host.
    # The trailing slash is required (RT18-01): the account's properties.endpoint always ends with it, and the shipped
    # query tests the endpoint as a prefix (BackendUrl startswith), so without it "…openai.azure.com" would also take
    # "…openai.azure.com.evil.example/", a host the copy's author owns
    patterns["account_endpoint"] = (rf"https://{re.escape(account)}\.(?:openai|cognitiveservices|services\.ai)"
                                    r"\.azure\.(?:com|us|cn)/")
    return values, patterns


def _free_keys(expected: list[dict[str, str]], patterns: dict[str, str]) -> set[str]:
    """The detection's ``firestop-*`` keys whose value comes from a placeholder Firestop does not know at run time
    (``{nsg_id}``, ``{apim_id}``, ``{strict_rai_policy}``: no pattern in ``patterns``)."""
    want = expected[0] if expected else {}
    return {k for k, v in want.items() if _MARK in v and any(p not in patterns for p in v.split(_MARK)[1::2])}


def own_rule_ids(kind: str, rule_name: str, target: str) -> list[str]:
    """Where ``firestop infra`` deploys detection ``rule_name`` (a scheduled query or metric alert rule, account- or
    workspace-scoped) for the ``target`` account: its resource group, named ``<rule>-<account>`` (several accounts)
    or ``<rule>`` (one) — :func:`firestop.infra.detection.rule_resources`. [] for a target that is no account id."""
    parts = str(target or "").strip().strip("/").split("/")
    if len(parts) != 8 or parts[0].lower() != "subscriptions" or parts[6].lower() != "accounts":
        return []
    base = f"/subscriptions/{parts[1]}/resourceGroups/{parts[3]}/providers/Microsoft.Insights/{kind}/"
    return [f"{base}{rule_name}-{parts[7]}", f"{base}{rule_name}"]


def _pinned(rule: dict[str, Any], free: set[str], kind: str, rule_name: str, target: str,
            read_rule: Callable[[str], dict] | None) -> str | None:
    """R13-05: None when the ``free`` properties ``rule`` sets equal those of Firestop's own deployed rule for the
    target (:func:`own_rule_ids`, read with ``read_rule``) — or ``rule`` is that rule — else why not (a phrase that
    follows "firestop-* custom properties")."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    held = firestop_keys(rule)
    keys = sorted({k for m in held for k in m if k in free})
    if not keys:
        return None
    ids = own_rule_ids(kind, rule_name, target)
    if str(rule.get("id") or "").strip().rstrip("/").lower() in {i.lower() for i in ids}:
        return None  # Firestop's own deployed rule (its step targets: what firestop infra was given)
    named = f"({', '.join(keys)})"
    if read_rule is None or not ids:
        return f"{named} cannot be compared with Firestop's own deployed rule"
    own, where = None, ids[0]
    for where in ids:
        try:
            own = read_rule(where)
        except ResourceNotFoundError:
            continue
        except (AzureError, ValueError) as exc:
            return f"{named} cannot be compared with Firestop's own deployed rule {where[:300]!r} ({type(exc).__name__})"
        break
    if not isinstance(own, dict):
        return f"{named} are set but Firestop's own deployed rule is not there ({' or '.join(i[:300] for i in ids)})"
    mine = (firestop_keys(own) or [{}])[0]
    differ = [k for k in keys if any(k in m and m[k].casefold() != str(mine.get(k, "")).casefold() for m in held)]
    if differ:
        return f"({', '.join(differ)}) differ from Firestop's own deployed rule {where[:300]!r}"
    return None


def trusted_detection(rule: dict[str, Any], playbook: Any, *, target: str, read_workspace: Callable[[str], dict],
                      workspace_guid: str | None, automation_principal_id: str | None = None,
                      read_rule: Callable[[str], dict] | None = None) -> str | None:
    """None when the fired ``rule`` (ARM JSON) is one of ``playbook``'s (a :class:`firestop.playbooks.models.Playbook`)
    ``detect:`` rules as ``firestop infra`` deploys it for the alert's ``target`` account (ARM id, confirmed at the
    source), scoped where Azure or Firestop's own workspace (``workspace_guid``: ``FIRESTOP_LOG_WORKSPACE_ID``)
    writes the data; else why not (one sentence naming what differs). ``read_workspace(arm_id)``: the workspace's ARM
    JSON (``properties.customerId``), called only for a workspace-scoped candidate whose criteria match; its
    ``AzureError`` (an unreadable workspace, after the pipeline's retries) propagates.

    R13-05: a rule that is not Firestop's own deployed rule (a copy) and sets a ``firestop-*`` property whose deployed
    value comes from a placeholder Firestop does not know (``firestop-nsg``, ``firestop-apim``,
    ``firestop-rai-policy``: which NSG, API Management service or RAI policy the steps act on) must set it as
    Firestop's own deployed rule for the target does (:func:`own_rule_ids`, read with ``read_rule(arm_id)`` — the
    rule's ARM JSON; ``ResourceNotFoundError`` for none): else, or without ``read_rule``, or when it cannot be read
    (any other ``AzureError``: fail closed), why not."""
    found = criteria(rule if isinstance(rule, dict) else {})
    if found is not None:  # (rulemute16: a muted or never-resolving copy is not the detection)
        found = {**found, **notification(rule)}
    name = str((rule or {}).get("name") or "")[:120] if isinstance(rule, dict) else ""
    if found is None:
        return f"the alert rule {name!r} is not a metric, scheduled query or activity log alert rule"
    if not firestop_keys_verbatim(rule):  # R17-04: compared folded below; the playbooks read them verbatim
        return (f"the alert rule {name!r}'s firestop-* custom properties are not as the playbooks read them (a key not "
                "lower-case, a value with surrounding spaces, or two keys alike but for case): not the detection as "
                "deployed")
    if playbook is None:
        return f"the alert rule {name!r} routes to no playbook whose detection it could be"
    target = str(target or "").strip().rstrip("/")
    values, patterns = _placeholders(target, automation_principal_id)
    subscription = "/".join(target.split("/")[:3]) if target.lower().startswith("/subscriptions/") else ""
    closest = None
    for candidate in playbook.detect.rules():
        if rule_kind(candidate) != found["kind"]:
            continue
        on_workspace = isinstance(candidate, ScheduledQueryRule) and candidate.scope == "workspace"
        if isinstance(candidate, ActivityLogAlert):
            scopes = [subscription]
        elif on_workspace:
            scopes = [_MARK + "workspace" + _MARK]
        else:
            scopes = [target]
        try:
            body = arm_body(candidate, playbook=playbook.name, scopes=scopes, action_group_id="x", placeholders=values)
        except ValueError:
            continue
        typed = {"type": f"Microsoft.Insights/{found['kind']}", **body}
        expected = {**(criteria(typed) or {}), **notification(typed)}
        workspace_pattern = {"workspace": r"/subscriptions/[0-9a-f-]{36}/resourcegroups/[-\w.()]{1,90}/providers/"
                                          r"microsoft\.operationalinsights/workspaces/[-\w]{1,63}"}
        if not _matches(expected, found, {**patterns, **workspace_pattern}):
            if closest is None or name.lower().startswith(candidate.name.lower()):  # (the one it is named after)
                closest = (candidate.name, _named(_differences(expected, found, {**patterns, **workspace_pattern})))
            continue
        if not _properties_match(firestop_keys({"type": rule.get("type"), **body}), firestop_keys(rule), patterns):
            closest = closest or (candidate.name, "firestop-* custom properties differ")
            continue
        unpinned = _pinned(rule, _free_keys(firestop_keys({"type": rule.get("type"), **body}), patterns), found["kind"],
                           candidate.name, target, read_rule)
        if unpinned is not None:
            return (f"the alert rule {name!r}'s firestop-* custom properties {unpinned}: a copy of playbook "
                    f"{playbook.name!r}'s detection {candidate.name!r} may not choose what its steps act on")
        if on_workspace:
            scope = found["scopes"][0]
            try:
                workspace = read_workspace(str((rule.get("properties") or {}).get("scopes")[0]).strip().rstrip("/")) or {}
            except ValueError as exc:  # (not a workspace id; an AzureError propagates: the source check says unreadable)
                return f"the workspace {scope[:200]!r} the alert rule {name!r} reads is not one ({type(exc).__name__})"
            guid = str((workspace.get("properties") or {}).get("customerId") or "").strip().lower()
            if not workspace_guid or guid != str(workspace_guid).strip().lower():
                return (f"the alert rule {name!r} reads the workspace {scope[:200]!r}, not Firestop's "
                        "(FIRESTOP_LOG_WORKSPACE_ID): rows there need not be the accounts' own")
        return None
    if closest is None:
        return (f"the alert rule {name!r} is not a detection of playbook {playbook.name!r} (it ships no "
                f"{found['kind']} rule)")
    return (f"the alert rule {name!r} is not playbook {playbook.name!r}'s detection as deployed for this account "
            f"(closest: {closest[0]!r}, whose {closest[1]})")


def criteria_digest(rule: dict[str, Any]) -> str:
    """sha256 (hex) of the rule's :func:`criteria` and its ``firestop-*`` properties: what a trusted-rule entry binds
    (an edit that changes when the rule fires, where it reads or how it routes voids the entry). Pure."""
    from firestop.seal_contract import digest

    return digest({"criteria": criteria(rule) or {}, "properties": firestop_keys(rule),
                   "id": str((rule or {}).get("id") or "").strip().lower()})


#: The digest version a new trusted-rule entry binds (:func:`trust_digest`); 1 is :func:`criteria_digest`.
TRUST_DIGEST_VERSION = 2


def trust_digest(rule: dict[str, Any], version: int = TRUST_DIGEST_VERSION) -> str:
    """sha256 (hex) of what a trusted-rule entry of digest ``version`` binds: 1 — :func:`criteria_digest` (entries
    sealed before trust17); 2 — the same and :func:`notification` (``muteActionsDuration``, ``autoMitigate``,
    ``ruleResolveConfiguration``, ``kind``), with ``"version": 2`` in the digested document (no version 1 document
    digests alike). ValueError for another version. Pure."""
    from firestop.seal_contract import digest

    if version == 1:
        return criteria_digest(rule)
    if version != 2:
        raise ValueError(f"trust digest version {version!r} is unknown (1 or 2)")
    return digest({"version": 2, "criteria": criteria(rule) or {}, "notification": notification(rule or {}),
                   "properties": firestop_keys(rule), "id": str((rule or {}).get("id") or "").strip().lower()})


def notification_is_default(rule: dict[str, Any]) -> bool:
    """True when ``rule``'s :func:`notification` is what its type's spec gives a rule that sets none of those
    properties (no mute, auto-resolved, no timeToResolve, a LogAlert): what a version 1 trusted-rule entry, which
    never bound them, may still vouch for (trust17). Pure."""
    rule = rule if isinstance(rule, dict) else {}
    return notification(rule) == notification({"type": rule.get("type")})



#: Where an alert rule's GET says when it last changed (A13-09), per lower-case rule type, as the REST specs Firestop
#: reads give them (azure-rest-api-specs ``specification/monitor/resource-manager/Microsoft.Insights/stable``):
#: ``scheduledQueryRule_API.json`` 2023-12-01 — ``ScheduledQueryRuleResource.systemData`` (read-only, ARM's common
#: ``systemData`` of ``common-types/resource-management/v2/types.json``: ``lastModifiedAt``, "the timestamp of resource
#: last modification (UTC)"; its ``ScheduledQueryRuleProperties`` have no ``lastUpdatedTime``, which only the legacy
#: 2018-04-16 API had); ``metricAlert_API.json`` 2018-03-01 — ``MetricAlertProperties.lastUpdatedTime`` (read-only,
#: "Last time the rule was updated in ISO8601 format"; no ``systemData`` in that version: azure-mgmt-monitor 6.0.2's
#: ``v2018_03_01.MetricAlertResource`` keeps ``last_updated_time`` and no ``system_data``);
#: ``activityLogAlerts_API.json`` 2020-10-01 — neither (``v2020_10_01.ActivityLogAlertResource`` has no such field).
#: Both places are read for every type and the later time wins (ARM may add ``systemData`` to any answer).
RULE_MODIFIED_FIELDS = {"scheduledqueryrules": "systemData.lastModifiedAt",
                        "metricalerts": "properties.lastUpdatedTime",
                        "activitylogalerts": None}


def last_modified(rule: dict[str, Any]) -> Any:
    """The latest of the rule's ``systemData.lastModifiedAt`` and ``properties.lastUpdatedTime`` (aware UTC
    ``datetime``); None when it gives neither; the string ``"unreadable"`` when one is given but is no ISO 8601 time
    (never believed: a rule whose change time cannot be read is treated as changed). Pure."""
    from firestop.alerts.times import parse_utc_or_none

    rule = rule if isinstance(rule, dict) else {}
    system = rule.get("systemData") if isinstance(rule.get("systemData"), dict) else {}
    props = rule.get("properties") if isinstance(rule.get("properties"), dict) else {}
    times = []
    for value in (system.get("lastModifiedAt"), props.get("lastUpdatedTime")):
        if value is None:
            continue
        parsed = parse_utc_or_none(value)
        if parsed is None:
            return "unreadable"
        times.append(parsed)
    return max(times) if times else None


def changed_after_firing(rule: dict[str, Any], started: Any) -> str | None:
    """A13-09: None when the fired ``rule`` (ARM JSON) has not changed since before its alert fired, else why not (one
    sentence). ``started``: the alert's ``startDateTime`` from Alerts Management (an aware ``datetime``; the delivery's
    ``firedDateTime`` equals it within a second, :func:`firestop.azure.alerts_management.compare`).

    The trust checks (:func:`trusted_detection`, an admin's trusted-rule entry) judge the rule as read now; a rule
    written always-true, fired, then overwritten with a detection's criteria would pass them. So a rule modified at or
    after ``started`` (:func:`last_modified`; no margin: any change after the fire) is refused, and so is a scheduled
    query or metric alert rule whose answer carries no modification time (their specs define one, the sandbox answers
    it, so a genuine detection is never refused for its absence — fail safe for an answer that lacks it). An activity
    log alert rule's spec (2020-10-01) defines none: absent, it is judged as read (an activity log alert's event, when
    the delivery names one, is read back and held to the rule's current condition: verify13); present, it is held to
    the same rule."""
    kind = str((rule or {}).get("type") or "").rsplit("/", 1)[-1].lower() if isinstance(rule, dict) else ""
    name = str((rule or {}).get("name") or "")[:120] if isinstance(rule, dict) else ""
    modified = last_modified(rule)
    if modified == "unreadable":
        return f"the alert rule {name!r} gives a modification time that is not an ISO 8601 time: it may have changed after it fired"
    if modified is None:
        if RULE_MODIFIED_FIELDS.get(kind) is None and kind in RULE_MODIFIED_FIELDS:
            return None
        field = RULE_MODIFIED_FIELDS.get(kind) or "systemData.lastModifiedAt"
        return (f"the alert rule {name!r} does not say when it last changed ({field} absent): it may have changed "
                "after it fired")
    if started is None:
        return f"the alert rule {name!r} cannot be compared with its alert's firing time (none given)"
    if modified >= started:
        return (f"the alert rule {name!r} changed after it fired (last modified {modified.isoformat()}, the alert "
                f"started {started.isoformat()}): what fired may not be the rule as read now")
    return None

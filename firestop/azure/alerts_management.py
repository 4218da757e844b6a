"""Azure Monitor's fired alerts (Alerts Management REST 2019-03-01) through azure-mgmt-core's ARM pipeline, and the
check that a Common Alert Schema webhook names an alert Azure Monitor actually fired.

Source of the API: ``Alerts_GetById`` in Azure/azure-rest-api-specs,
``specification/alertsmanagement/resource-manager/Microsoft.AlertsManagement/AlertsManagement/stable/2019-03-01/
AlertsManagement.json`` and its example ``examples/Alerts_GetById.json`` (``GET {alertId}?api-version=2019-03-01``
→ ``{"id", "name", "type": "Microsoft.AlertsManagement/alerts", "properties": {"essentials": {"targetResource",
"alertRule", "monitorCondition": "Fired"|"Resolved", "startDateTime", "monitorConditionResolvedDateTime", …}}}``).
The Common Alert Schema's ``essentials.alertId`` is that id
(``/subscriptions/<sub>/providers/Microsoft.AlertsManagement/alerts/<guid>``,
https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema). It needs
``Microsoft.AlertsManagement/alerts/read`` at the subscription (the template's custom role). The alert rule the
source names (``essentials.alertRule``) is read too (:data:`RULE_API_VERSIONS`; ``Microsoft.Insights/metricAlerts/read``,
``…/scheduledQueryRules/read``, ``…/activityLogAlerts/read``): the playbook a delivery routes to must be one the rule
routes to (RT13).

No SDK method is mocked: the pipeline is azure-core's (bearer token for ``https://management.azure.com/.default``,
``RetryPolicy`` retrying 408/429/5xx ``retry_total`` times honouring ``Retry-After``), the sandbox is its transport.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError, map_error
from azure.core.rest import HttpRequest

from firestop.azure.errors import CouldNotCheck, passing
from firestop.source_reasons import Reason

API_VERSION = "2019-03-01"
#: What intake writes into a new incident's input (``source_check``) for a Common Alert Schema alert.
AZURE_MONITOR = "azure-monitor"
_ALERT_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/providers/Microsoft\.AlertsManagement/alerts/[0-9a-fA-F-]{36}$",
                       re.IGNORECASE)
#: The alert rules a Common Alert Schema alert's ``alertRule`` names, by lower-case type: the api-version read and where
#: the rule keeps the custom properties its action groups' webhooks carry (``customProperties`` of the payload).
#: azure-rest-api-specs ``specification/monitor/resource-manager/Microsoft.Insights``: ``metricAlert_API.json``
#: 2018-03-01 (``properties.actions[].webHookProperties``), ``scheduledQueryRule_API.json`` 2023-12-01
#: (``properties.actions.customProperties``), ``activityLogAlerts_API.json`` 2020-10-01
#: (``properties.actions.actionGroups[].webhookProperties``).
RULE_API_VERSIONS = {"metricalerts": "2018-03-01", "scheduledqueryrules": "2023-12-01", "activitylogalerts": "2020-10-01"}
_RULE_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/Microsoft\.Insights/"
                      r"(metricAlerts|scheduledQueryRules|activityLogAlerts)/(?!\.+$)[^/?#%\\\x00-\x1f\x7f]{1,260}$", re.IGNORECASE)
#: ``Microsoft.OperationalInsights/workspaces`` read for a workspace-scoped log rule's ``customerId`` (azure-rest-api-specs
#: ``specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/stable/2022-10-01/Workspaces.json``).
WORKSPACE_API_VERSION = "2022-10-01"
#: An alert whose ``startDateTime`` is older than this (seconds) is not a reason for automatic containment now.
MAX_FIRED_AGE_SECONDS = 24 * 3600
#: An alert the source says resolved more than this long (seconds) before the check is "resolved long ago".
MAX_RESOLVED_AGE_SECONDS = 3600
#: Clock skew allowed between the source's times and ours (seconds).
SKEW_SECONDS = 300
#: The payload's ``essentials.firedDateTime`` and the source's ``startDateTime`` are the same instant (both "when the
#: alert instance fired": learn.microsoft.com azure-monitor/alerts/alerts-common-schema, and the Essentials model of
#: @azure/arm-alertsmanagement, "Creation time (ISO-8601 format) of alert instance"); the payload carries 100 ns ticks
#: (``2019-03-22T13:58:24.3713213Z``, alerts-payload-samples), Python keeps microseconds: equal within this (seconds).
FIRED_TOLERANCE_SECONDS = 1.0


def check_alert_id(value: Any) -> str:
    """The id itself, else ``ValueError`` naming the expected form (it lands in a URL path)."""
    if not isinstance(value, str) or not _ALERT_ID.match(value.strip()):
        raise ValueError("not an Alerts Management alert id (/subscriptions/<id>/providers/Microsoft.AlertsManagement/alerts/<guid>)")
    return value.strip()


def check_rule_id(value: Any) -> str:
    """The id itself, else ``ValueError`` naming the expected form (it lands in a URL path)."""
    if not isinstance(value, str) or not _RULE_ID.fullmatch(value.strip()) or ".." in value:
        raise ValueError("not a metric, scheduled query or activity log alert rule id "
                         "(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Insights/<type>/<name>)")
    return value.strip()


class AlertsManagementClient:
    """``get_alert`` of Azure Monitor's fired alerts (REST :data:`API_VERSION`), ``get_rule`` of the alert rule that
    fired one (:data:`RULE_API_VERSIONS`; needs ``Microsoft.Insights/<type>/read``)."""

    def __init__(self, credential: Any, *, transport: Any = None, retry_total: int = 4,
                 base_url: str = "https://management.azure.com") -> None:
        from firestop.azure.sentinel import arm_pipeline_client  # the one way the product builds a raw ARM pipeline

        self._client = arm_pipeline_client(credential, transport=transport, retry_total=retry_total, base_url=base_url,
                                           moniker="firestop-alertsmanagement/1")

    def get_alert(self, alert_id: str) -> dict:
        """The alert's ARM JSON. ``ResourceNotFoundError`` (404), ``HttpResponseError`` (another 4xx/5xx after the
        retries), ``ValueError`` (not an alert id)."""
        request = HttpRequest("GET", self._client.format_url(check_alert_id(alert_id)), params={"api-version": API_VERSION})
        response = self._client.send_request(request)
        if response.status_code >= 400:
            map_error(status_code=response.status_code, response=response, error_map={404: ResourceNotFoundError})
            raise HttpResponseError(response=response)
        return response.json()

    def get_workspace(self, workspace_id: str) -> dict:
        """A Log Analytics workspace's ARM JSON (``Workspaces_Get``, REST :data:`WORKSPACE_API_VERSION`:
        ``properties.customerId``, the GUID the query API takes); needs ``Microsoft.OperationalInsights/workspaces/read``.
        Errors as :meth:`get_alert` (``ValueError``: not a workspace id)."""
        from firestop.azure.monitor_source import _WORKSPACE

        workspace_id = str(workspace_id or "").strip()
        if not _WORKSPACE.fullmatch(workspace_id):
            raise ValueError("not a Log Analytics workspace id")
        request = HttpRequest("GET", self._client.format_url(workspace_id), params={"api-version": WORKSPACE_API_VERSION})
        response = self._client.send_request(request)
        if response.status_code >= 400:
            map_error(status_code=response.status_code, response=response, error_map={404: ResourceNotFoundError})
            raise HttpResponseError(response=response)
        return response.json()

    def get_rule(self, rule_id: str) -> dict:
        """The alert rule's ARM JSON; errors as :meth:`get_alert` (``ValueError``: not a rule id)."""
        rule_id = check_rule_id(rule_id)
        kind = _RULE_ID.match(rule_id).group(1).lower()
        request = HttpRequest("GET", self._client.format_url(rule_id), params={"api-version": RULE_API_VERSIONS[kind]})
        response = self._client.send_request(request)
        if response.status_code >= 400:
            map_error(status_code=response.status_code, response=response, error_map={404: ResourceNotFoundError})
            raise HttpResponseError(response=response)
        return response.json()


def _route(properties: Any) -> str | None:
    """The :data:`firestop.alerts.alert.ROUTE_PROPERTY` of a custom-properties map as ``Alert.routed_playbook`` reads it
    (keys case-insensitive, the last such key winning, the value stripped and lower-cased), else None."""
    from firestop.alerts.alert import ROUTE_PROPERTY

    if not isinstance(properties, dict):
        return None
    props = {str(k).lower(): v for k, v in properties.items()}
    return str(props.get(ROUTE_PROPERTY) or "").strip().lower() or None


def rule_routes(rule: dict[str, Any]) -> set[str | None]:
    """The playbooks an alert rule's notifications can carry (None: a notification without the route property). Pure.
    A metric or activity log rule's action groups each carry their own webhook properties; a scheduled query rule has
    one map for all. A rule of another shape routes nowhere (empty set: nothing confirms against it)."""
    props = (rule or {}).get("properties") or {}
    actions = props.get("actions") if isinstance(props, dict) else None
    kind = str((rule or {}).get("type") or "").rsplit("/", 1)[-1].lower()
    if kind == "scheduledqueryrules":
        return {_route(actions.get("customProperties"))} if isinstance(actions, dict) else {None}
    if kind == "activitylogalerts":
        groups = actions.get("actionGroups") if isinstance(actions, dict) else None
        return {_route(g.get("webhookProperties")) for g in groups or [] if isinstance(g, dict)} or {None}
    if kind == "metricalerts":
        return {_route(a.get("webHookProperties")) for a in actions or [] if isinstance(a, dict)} or {None}
    return set()


def _firestop_entries(properties: Any) -> frozenset[tuple[str, str]]:
    """The ``firestop-*`` entries of a custom-properties map exactly as sent — key case and value untouched, the route
    left out (compared on its own, case-insensitively, as :attr:`firestop.alerts.alert.Alert.routed_playbook` reads
    it). RT19-02: the playbooks' conditions read ``alert.custom_properties.<key>`` by its exact key and compare its
    exact value, so a delivery is the rule's only when these are the rule's as Azure Monitor sends them (verbatim);
    before, ``Firestop-Signal`` or ``"failed-requests "`` passed here and read as no signal there."""
    from firestop.alerts.alert import ROUTE_PROPERTY

    if not isinstance(properties, dict):
        return frozenset()
    return frozenset((str(k), str(v)) for k, v in properties.items()
                     if str(k).lower().startswith("firestop-") and str(k).lower() != ROUTE_PROPERTY and v is not None)


def rule_property_maps(rule: dict[str, Any]) -> list[Any]:
    """Every custom-properties map an alert rule's notifications can carry (:func:`rule_routes`' maps). Pure."""
    props = (rule or {}).get("properties") or {}
    actions = props.get("actions") if isinstance(props, dict) else None
    kind = str((rule or {}).get("type") or "").rsplit("/", 1)[-1].lower()
    if kind == "scheduledqueryrules":
        return [actions.get("customProperties") if isinstance(actions, dict) else None]
    if kind == "activitylogalerts":
        groups = actions.get("actionGroups") if isinstance(actions, dict) else None
        return [g.get("webhookProperties") for g in groups or [] if isinstance(g, dict)] or [None]
    if kind == "metricalerts":
        return [a.get("webHookProperties") for a in actions or [] if isinstance(a, dict)] or [None]
    return []


def compare_route(alert: dict[str, Any], rule: dict[str, Any]) -> str | None:
    """None when the playbook ``alert`` (the incident input's alert JSON, ``custom_properties``) is routed to is one
    the rule routes to, and its other ``firestop-*`` custom properties (``firestop-nsg``, ``firestop-rai-policy``, …:
    the targets and parameters steps take) are those of one of the rule's notifications carrying that route, key case
    and value exactly (:func:`_firestop_entries`, RT19-02), else why not (naming the property). Pure. RT13: the route
    is the delivery's own choice otherwise; RT14-04: so were the NSG a caller is blocked on and the content filter
    policy."""
    claimed = _route(alert.get("custom_properties"))
    routes = rule_routes(rule)
    if claimed not in routes:
        shown = sorted(r or "(none)" for r in routes) or ["nothing readable"]
        return (f"firestop-playbook differs: the alert rule routes to {', '.join(shown)[:200]}, "
                f"the alert names {claimed or '(none)'!r}")
    delivered = _firestop_entries(alert.get("custom_properties"))
    held = [_firestop_entries(m) for m in rule_property_maps(rule) if _route(m) == claimed]
    if delivered in held:
        return None
    differing = sorted(delivered.symmetric_difference(*held) if len(held) == 1 else delivered - frozenset().union(*held))
    name = differing[0][0] if differing else "firestop-*"
    return f"custom property {name[:60]} differs from the alert rule's: the delivery's firestop-* properties are not the rule's"


def _norm(value: Any) -> str:
    return str(value or "").strip().rstrip("/").lower()


def _time(value: Any) -> datetime | None:
    from firestop.alerts.times import parse_utc_or_none

    return parse_utc_or_none(value)


def _severity(value: Any) -> Any:
    from firestop.alerts.essentials import parse_severity

    try:
        return parse_severity(value)
    except (TypeError, ValueError):
        return f"unreadable {str(value)[:20]!r}"


def _signal(value: Any) -> str | None:
    from firestop.alerts.essentials import normalize_signal_type

    return normalize_signal_type(value) if isinstance(value, str) else None


def compare(alert: dict[str, Any], source: dict[str, Any], now: datetime) -> str | None:
    """None when ``source`` (the ``get_alert`` JSON) confirms ``alert`` (the incident input's alert JSON:
    ``target_ids``, ``rule_id``, ``rule_name``, ``fired_at``, ``severity`` (0..4), ``signal_type``,
    ``monitor_condition``), else why not (one sentence naming the field that differed). Pure.

    Besides target and rule (an alert with that id fired on that target from that rule, within 24 h), the delivery
    must be that alert (RT13): its ``fired_at`` is the source's ``startDateTime`` within
    :data:`FIRED_TOLERANCE_SECONDS`, its severity the source's (``Sev0``..``Sev4``), its signal type the source's
    (compared normalised; a source that gives none or ``Unknown`` — the REST enum's third value — is not compared), and
    a delivery saying ``Resolved`` needs a source that says so (one saying ``Fired`` may meet a source resolved since)."""
    essentials = ((source or {}).get("properties") or {}).get("essentials") or {}
    target = _norm(essentials.get("targetResource"))
    claimed = [_norm(t) for t in alert.get("target_ids") or []]
    if not claimed:
        return "the alert names no target resource"
    differing = [t for t in claimed if t != target]
    if differing:
        return f"targetResource differs: the source says {essentials.get('targetResource')!r}, the alert names {differing[0]!r}"
    rule = _norm(essentials.get("alertRule"))
    rule_id, rule_name = _norm(alert.get("rule_id")), _norm(alert.get("rule_name"))
    if not rule or (rule_id and rule != rule_id) or (not rule_id and rule.rsplit("/", 1)[-1] != rule_name):
        return f"alertRule differs: the source says {essentials.get('alertRule')!r}, the alert names {alert.get('rule_id') or alert.get('rule_name')!r}"
    started = _time(essentials.get("startDateTime"))
    if started is None:
        return "the source gives no startDateTime"
    if started > now + timedelta(seconds=SKEW_SECONDS) or started < now - timedelta(seconds=MAX_FIRED_AGE_SECONDS):
        return f"startDateTime {essentials.get('startDateTime')} is not within {MAX_FIRED_AGE_SECONDS // 3600} h before the check"
    fired = _time(alert.get("fired_at"))
    if fired is None or abs((fired - started).total_seconds()) > FIRED_TOLERANCE_SECONDS:
        return (f"firedDateTime differs: the source says it started {essentials.get('startDateTime')}, "
                f"the alert says {str(alert.get('fired_at'))[:40]}")
    if _severity(essentials.get("severity")) != alert.get("severity"):
        return f"severity differs: the source says {str(essentials.get('severity'))[:20]!r}, the alert says {alert.get('severity')!r}"
    signal = _signal(essentials.get("signalType"))
    if signal not in (None, "Unknown") and signal != _signal(alert.get("signal_type")):
        return f"signalType differs: the source says {signal!r}, the alert says {str(alert.get('signal_type'))[:20]!r}"
    condition = essentials.get("monitorCondition")
    if alert.get("monitor_condition") not in ("Fired", "Resolved"):
        return f"the alert's monitorCondition is {str(alert.get('monitor_condition'))[:20]!r}"
    if alert.get("monitor_condition") == "Resolved" and condition != "Resolved":
        return f"monitorCondition differs: the alert says Resolved, the source says {str(condition)[:20]!r}"
    if condition == "Resolved":
        resolved = _time(essentials.get("monitorConditionResolvedDateTime"))
        if resolved is None or resolved < now - timedelta(seconds=MAX_RESOLVED_AGE_SECONDS):
            return f"the source says the alert resolved at {essentials.get('monitorConditionResolvedDateTime')}, long before the check"
    elif condition != "Fired":
        return f"monitorCondition is {condition!r} at the source, not Fired"
    return None


#: Where a confirmed source alert is claimed: the records store (``FIRESTOP_RECORDS_CONTAINER``, create-only),
#: ``source-confirmed/<sha256 of "alert id (lower case)|monitorCondition">.json``. Outside every incident's names
#: (``records.store`` reads only ``<incident>.json`` revisions, audits and notifications their own prefixes).
CLAIM_PREFIX = "source-confirmed/"
#: The most bytes a once-marker is read at (bounds14): one :func:`claim` writes is ~260 bytes (an incident id of at
#: most ~100 characters, an ISO time, the seal's ~110); ×15 margin. A bigger blob at a marker's name was planted by a
#: Storage Blob Data writer (read whole, a multi-GB one exhausted the instance's memory): refused unread, no marker.
CLAIM_READ_LIMIT = 4096
#: What a once-marker's seal is for (bounds14): the app's seal key (:class:`firestop.trust.seal.SealKey`), bound to
#: the marker's name (the hash of the alert id and condition, or of the policy state), covering the incident id and
#: the run's ``received_at`` it names. Only a sealed marker names an incident (:func:`claimed_by`).
CLAIM_PURPOSE = "source-once-marker"


class ClaimRefused(str):
    """:func:`claim`'s answer when the alert cannot be claimed for this incident: the reason (text, for the timeline
    and the ``alert.genuine`` card) with its :class:`~firestop.source_reasons.Reason` as ``code`` — what reads it
    chooses by the code, never by the words."""

    code: Reason

    def __new__(cls, why: str, code: Reason) -> "ClaimRefused":
        made = super().__new__(cls, why)
        made.code = code
        return made


def claim_name(alert: dict[str, Any], state: str | None = None) -> str:
    """The store name of ``alert``'s once-marker. One per delivery kind: a Fired and a Resolved delivery of one alert
    are two deliveries Azure Monitor sends (each its own dedupe key), a second of either is a replay. ``state``: what
    the source says the alert *is* when its id is the sender's choice (a policy event: the policy state,
    :func:`firestop.azure.policy_source.state_key`) — the marker is then the state's, whatever the id."""
    import hashlib

    key = f"{str(alert.get('alert_id') or '').strip().lower()}|{alert.get('monitor_condition')}"
    if state:
        key = f"policy-state|{state}"
    return f"{CLAIM_PREFIX}{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()}.json"


def _claim_digest(incident_id: str, received_at: str) -> str:
    """What a marker's seal covers: the incident run it names, as a JSON pair (no separator an id could hold moves the
    boundary between the two)."""
    import json

    return json.dumps([incident_id, received_at], separators=(",", ":"))


def claimed_by(store: Any, name: str, key: Any) -> str | None:
    """The incident id the once-marker ``name`` names when it carries ``key``'s seal for that name and that incident
    run (bounds14); None when there is no marker, or it is over :data:`CLAIM_READ_LIMIT` bytes, not JSON, or not
    sealed so — a marker planted by a Storage Blob Data writer, or one written before bounds14 (unsealed: from then on
    an incident opened before the change is not named by its marker; its Resolved delivery is routed by its resource's
    slot, as without the check, and a second delivery of its alert still waits for a responder, since the name stays
    taken). Raises the store's other errors (a read that fails)."""
    return _marker(store, name, key)[0]


def _marker(store: Any, name: str, key: Any) -> tuple[str | None, str]:
    """(:func:`claimed_by`'s answer, why it is None: ``""`` when there is no marker)."""
    held, _, why = _marker_run(store, name, key)
    return held, why


def _marker_run(store: Any, name: str, key: Any) -> tuple[str | None, str | None, str]:
    """(the incident id the marker names, the ``received_at`` of the run it names — both None unless ``key`` believes
    its seal —, why not: ``""`` when there is no marker)."""
    import json

    from firestop.storage.base import TooLarge

    try:
        raw = store.read(name, limit=CLAIM_READ_LIMIT)
    except TooLarge as exc:  # bounds14: planted (none Firestop writes is near the bound): no marker, and said
        import logging

        logging.getLogger("firestop.intake").warning("once-marker not believed: %s", exc)
        return None, None, f"over {CLAIM_READ_LIMIT} bytes, refused unread"
    if raw is None:
        return None, None, ""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # (R12-04: a planted marker of nested "[" is no marker)
        return None, None, "not JSON"
    held = doc.get("incident_id") if isinstance(doc, dict) else None
    received = doc.get("received_at") if isinstance(doc, dict) else None
    if not isinstance(held, str) or not held or not isinstance(received, str):
        return None, None, "not a marker Firestop writes"
    ok, _ = key.check(CLAIM_PURPOSE, name, _claim_digest(held, received), doc.get("seal"))
    return (held, received, "") if ok else (None, None, "not sealed by this app for this alert")


def claim(store: Any, alert: dict[str, Any], incident_id: str, received_at: str = "", state: str | None = None, *,
          key: Any) -> ClaimRefused | None:
    """RT13 step 3: one confirmed incident per source alert (and condition). Writes ``{"incident_id", "received_at",
    "seal"}`` at :func:`claim_name` with create-if-absent (Put Blob ``If-None-Match: *`` / an atomic link locally),
    sealed with ``key`` (the app's :class:`firestop.trust.seal.SealKey`, :data:`CLAIM_PURPOSE`, bounds14): None when
    written now or by this same incident run before (an activity retried or replayed writes the same bytes: the seal
    is deterministic; seal18: or under another key of the ring — a retry across a seal key rotation writes other
    bytes, and its own marker, sealed for this very run, is believed as this run's claim), else why not
    (:class:`ClaimRefused`): another incident's sealed marker holds it
    (``ALREADY_CONFIRMED``, naming it), an object Firestop did not seal holds the name (``MARKER_UNSEALED``: planted,
    or a marker written before bounds14 — the name stays taken, so the delivery waits for a responder; no incident is
    named from it), or the store failed (``UNREADABLE``: fail safe). ``received_at`` (the input's) tells one run of an
    instance id from a later one (an instance purged and the alert posted again gets the same id). ``store``: a
    :mod:`firestop.storage` store."""
    import json

    from firestop.storage.base import AlreadyExists, StoreError

    name = claim_name(alert, state)
    seal = key.sign(CLAIM_PURPOSE, name, _claim_digest(str(incident_id), str(received_at)))
    data = json.dumps({"incident_id": str(incident_id), "received_at": str(received_at), "seal": seal},
                      sort_keys=True).encode()
    try:
        store.create(name, data, "application/json")
        return None
    except AlreadyExists:
        try:
            held, run, unsealed = _marker_run(store, name, key)
        except (StoreError, ValueError) as exc:
            held, run, unsealed = None, None, f"unreadable ({type(exc).__name__})"
        if held == str(incident_id) and run == str(received_at):  # this run's own claim, under a key since retired
            return None
        if held is None:
            what = "policy state" if state else "alert"
            return ClaimRefused(
                f"the once-marker of this {what} ({name}) holds an object Firestop did not seal ({unsealed or 'gone'}: "
                "planted by a storage writer, or written before markers were sealed): no incident is named from it, "
                "and this delivery waits for a responder (one confirmed incident per source alert)",
                Reason.MARKER_UNSEALED)
        if state:
            return ClaimRefused(f"this policy state was already confirmed for incident {held[:80]!r}: a policy state "
                                "contains once (a new event naming the same state waits for a responder)",
                                Reason.ALREADY_CONFIRMED)
        return ClaimRefused(f"this alert was already confirmed for incident {held[:80]!r}: one confirmed incident per "
                            "source alert (a replayed or re-routed delivery waits for a responder)",
                            Reason.ALREADY_CONFIRMED)
    except (StoreError, ValueError, OSError) as exc:
        return ClaimRefused(f"the once-marker of this alert could not be written ({type(exc).__name__}): fail safe",
                            Reason.UNREADABLE)


def unread_code(exc: Exception, otherwise: Reason) -> Reason:
    """The code of a read that raised ``exc`` after the pipeline's retries: :attr:`Reason.NOT_FOUND` for a 404,
    :attr:`Reason.TRANSIENT` for a passing failure (429, 5xx, timeout, connection: :func:`firestop.azure.errors.passing`
    — "could not check", tried again later), else ``otherwise``."""
    if isinstance(exc, ResourceNotFoundError):
        return Reason.NOT_FOUND
    return Reason.TRANSIENT if passing(exc) else otherwise


def _unread(exc: Exception, what: str, then: str, not_found: str) -> str:
    """Why a read through the ARM pipeline did not confirm: ``not_found`` for a 404, else ``what`` with the HTTP status
    (or the error's type, for a connection error) after the pipeline's retries, then ``then``."""
    if isinstance(exc, ResourceNotFoundError):
        return not_found
    if isinstance(exc, HttpResponseError):
        return f"{what} (HTTP {exc.status_code} after retries){then}"
    return f"{what} ({type(exc).__name__} after retries){then}"


def confirm(client: AlertsManagementClient, alert: dict[str, Any], now: datetime, logs: Any = None,
            monitor: Any = None, source_ref: Any = None, trust: Any = None) -> dict[str, Any]:
    """``{"confirmed": bool, "why": str, "code": firestop.source_reasons.Reason}``: ``alert`` (incident input alert JSON) read from its source and compared
    (:func:`compare`), then the alert rule the source names read and its routes compared (:func:`compare_route`), then
    the dimensions the steps act on confirmed at their source (:func:`firestop.azure.monitor_source.confirm_dimensions`:
    a log search rule's own query re-run over the window that fired, a metric rule's dimension series read;
    an activity log rule's event read back from the Activity Log, ``source_ref`` the input's reference of it:
    :mod:`firestop.azure.activity_source`, verify13;
    ``logs()`` gives the ``LogsQueryClient``, ``monitor(subscription)`` the ``MonitorManagementClient``; without them
    a delivery naming such dimensions is not confirmed).
    Never raises for what the source answers: a 404 is "alert not found at its source", an error left after the
    pipeline's retries (429/5xx/network) is not confirmed either, nor is a rule that cannot be read or an
    ``alertRule`` that is not a metric / scheduled query / activity log alert rule id (fail safe: a responder
    decides). Two GETs, one after the other, both read-only.

    RT17-01: between the route and the dimensions, ``trust(rule, read_workspace)`` (None when the rule is one Firestop
    may act on, else why not: :func:`firestop.infra.rule_trust.trusted_detection` or an admin's trusted-rule entry,
    wired by the confirm activity) — a rule anybody with alert-rule write could have written is not confirmed
    (``Reason.RULE_NOT_TRUSTED``). Before it (A13-09, ``Reason.RULE_CHANGED``), a rule modified at or after the alert's ``startDateTime``, or
    one that does not say when it last changed, is not confirmed either, same code
    (:func:`firestop.infra.rule_trust.changed_after_firing`): trust is judged on the rule as read, which must be the
    rule that fired — for the playbook's detection and for an admin's trusted-rule entry alike. Without ``trust`` nothing is confirmed (fail safe). ``read_workspace`` is
    ``client.get_workspace`` memoised for this call: a workspace-scoped rule's workspace is read once, by whichever
    of the trust check and the dimension re-run needs it first. Reads per alert: the alert, its rule, a
    workspace-scoped log rule's workspace (once), then the dimension re-read (a query or a metric or an Activity Log
    read) when the delivery names dimensions — no read more than before for a rule that is trusted."""
    try:
        alert_id = check_alert_id(alert.get("alert_id"))
    except ValueError as exc:
        return {"confirmed": False, "why": f"the alert's id is {str(alert.get('alert_id'))[:160]!r}: {exc}",
                "code": Reason.NOT_FOUND}
    try:
        source = client.get_alert(alert_id)
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the source could not be read", "",
                                                   "alert not found at its source (Alerts Management answered 404)"),
                "code": unread_code(exc, Reason.UNREADABLE)}
    why = compare(alert, source if isinstance(source, dict) else {}, now)
    if why is not None:
        return {"confirmed": False, "why": why, "code": Reason.DIFFERS}
    rule_id = (((source or {}).get("properties") or {}).get("essentials") or {}).get("alertRule")
    try:
        rule = client.get_rule(check_rule_id(rule_id))
    except ValueError:
        return {"confirmed": False, "why": f"the alert rule {str(rule_id)[:160]!r} cannot be read: not a metric, scheduled query or activity log alert rule id",
                "code": Reason.RULE}
    except AzureError as exc:
        return {"confirmed": False, "why": _unread(exc, "the alert rule cannot be read", ": its route cannot be confirmed",
                                                   "the alert rule cannot be read (404): its route cannot be confirmed"),
                "code": Reason.TRANSIENT if passing(exc) else Reason.RULE}
    from firestop.azure.monitor_source import confirm_dimensions, delivered

    rule = rule if isinstance(rule, dict) else {}
    workspaces: dict[str, Any] = {}

    def read_workspace(workspace_id: str) -> dict:  # (memoised: one read per workspace and alert)
        key = str(workspace_id).strip().lower()
        if key not in workspaces:
            workspaces[key] = client.get_workspace(workspace_id)
        return workspaces[key]

    why = compare_route(alert, rule)
    code = Reason.RULE if why is not None else Reason.CONFIRMED
    if why is None:  # A13-09: the rule read now is the rule that fired (not changed since it fired)
        from firestop.infra.rule_trust import changed_after_firing

        started = _time((((source or {}).get("properties") or {}).get("essentials") or {}).get("startDateTime"))
        why = changed_after_firing(rule, started)
        if why is not None:
            return {"confirmed": False, "why": why, "code": Reason.RULE_CHANGED}
    if why is None:  # RT17-01: a rule Firestop may act on, not merely one that fired and routes here
        try:
            why = "no check of the alert rule's trust was given" if trust is None else trust(rule, read_workspace)
        except AzureError as exc:  # the workspace a workspace-scoped rule reads, unreadable after the retries
            return {"confirmed": False, "code": Reason.UNREADABLE,
                    "why": _unread(exc, "the alert rule's workspace could not be read", ": its trust cannot be confirmed",
                                   "the alert rule's workspace was not found (404): its trust cannot be confirmed")}
        code = Reason.RULE_NOT_TRUSTED if why is not None else code
        if why is not None:
            return {"confirmed": False, "why": why, "code": code}
    dimensions = delivered(alert)  # (read once)
    if why is None:  # RT19-01/05: a split or a window the rule did not fire for is not the alert that fired
        from firestop.azure.monitor_source import unnamed_split

        why = unnamed_split(alert, rule)
        if why is None:  # RT19-05: the window the evidence keeps is the one the rule evaluated
            from firestop.azure.monitor_source import window_differs

            why = window_differs(alert, rule, _time((((source or {}).get("properties") or {}).get("essentials")
                                                     or {}).get("startDateTime")))
        if why is not None:
            return {"confirmed": False, "why": why, "code": Reason.DIFFERS}
    if why is None and dimensions:
        # which re-read judged the delivered values: a metric rule's metric, an activity log rule's event (verify13),
        # else (a log search rule) its query
        kind = str(rule_id).lower()
        code = (Reason.METRIC_DIMENSIONS if "/microsoft.insights/metricalerts/" in kind
                else Reason.ACTIVITY_EVENT if "/microsoft.insights/activitylogalerts/" in kind
                else Reason.LOG_DIMENSIONS)
        if logs is None:
            why, code = "the alert's dimensions cannot be re-read (no Log Analytics client)", Reason.UNREADABLE
        else:
            why = confirm_dimensions(logs, read_workspace, alert, rule, source, monitor=monitor,
                                     source_ref=source_ref)
            if isinstance(why, CouldNotCheck):  # a read failed for a passing reason: could not check (variants14)
                code = Reason.TRANSIENT
    return {"confirmed": why is None, "code": Reason.CONFIRMED if why is None else code,
            "why": why or ("the alert was found at its source: target, rule, firing time, severity, signal type, condition, "
                           "evaluation window and route match, the rule is trusted" + (", its dimensions found at their source" if dimensions else ""))}

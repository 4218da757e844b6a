"""One security alert, whatever delivered it: the fields every Defender/Sentinel shape maps onto.

Field names follow Defender for Cloud's REST ``Alert`` (2022-01-01): ``alertType``, ``systemAlertId``,
``severity`` (High/Medium/Low/Informational → Sev 1/2/3/4, the common schema's scale), ``status``
(Active/InProgress/New → Fired; Resolved/Dismissed/Closed → Resolved), ``startTimeUtc``/``endTimeUtc``
(the evaluated window), ``timeGeneratedUtc`` (when the alert was raised: ``fired_at``),
``resourceIdentifiers[].azureResourceId`` (targets), ``entities[]`` and ``extendedProperties``
(indicators).

Indicators (each bounded to :data:`~firestop.alerts.indicators.MAX_INDICATORS`, values at most
:data:`MAX_VALUE_CHARS` characters, non-strings skipped):

* caller IPs: ``ip`` entities' ``address``, extended properties whose name says IP (``Source IP``,
  ``Client IP Address``, ``IP address``…);
* principals: ``account`` entities' ``aadUserId``/``objectId``;
* user agents: ``User agent`` / ``UserAgent`` properties;
* end-user ids: ``End user id`` / ``EndUserId`` properties, ``account`` entities' ``name`` when no id;
* applications: ``Application name``/``ApplicationName`` properties, ``cloud-application`` entities' ``name``;
* deployments: ``Deployment name``/``DeploymentName``/``Deployment`` properties;
* alert types: the ``alertType``.

The extended-property names of AI alerts are not published with a sample (the Defender reference
lists alert types only); the names above are matched case- and punctuation-insensitively, so
``End user id``, ``EndUserId`` and ``end_user_id`` all count.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from typing import Any, Iterable

from msgspec import Struct, field

from firestop.alerts.alert import ROUTE_PROPERTY, Alert
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.indicators import MAX_INDICATORS, Indicators
from firestop.alerts.normalize import canonical_targets, resource_type_of
from firestop.resource_id import unpaired_surrogate

MAX_VALUE_CHARS = 512

#: Defender for Cloud AI alert types (Defender for Cloud "Alerts for AI services" reference) → shipped playbook.
ALERT_TYPE_PLAYBOOKS: dict[str, str] = {
    "ai.azure_jailbreak.contentfiltering.blockedattempt": "ai-jailbreak",
    "ai.azure_jailbreak.contentfiltering.detectedattempt": "ai-jailbreak",
    "ai.azure_asciismuggling": "ai-jailbreak",
    "ai.azure_credentialtheftattempt": "ai-credential-theft",
    "ai.azure_dowduplicaterequests": "ai-denial-of-wallet",
    "ai.azure_dowvolumeanomaly": "ai-denial-of-wallet",
    "ai.azure_accessfromsuspicioususeragent": "ai-suspicious-user-agent",
    "ai.azure_dataleakinmodelresponse.sensitive": "ai-sensitive-data-exposure",
    "ai.azure_accessanomaly": "ai-risky-service-principal",
}

#: Custom property carrying a Defender alert's ``systemAlertId`` (``defender.resolve_alert`` reads it).
DEFENDER_ALERT_PROPERTY = "firestop-defender-alert"

_SEVERITY = {"high": 1, "medium": 2, "low": 3, "informational": 4, "information": 4}
_RESOLVED = {"resolved", "dismissed", "closed"}
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_IP_KEYS = {"sourceip", "clientip", "clientipaddress", "ipaddress", "callerip", "calleripaddress", "ip", "sourceipaddress"}
_UA_KEYS = {"useragent", "clientuseragent", "httpuseragent"}
_END_USER_KEYS = {"enduserid", "enduser", "userid", "endusername"}
_APP_KEYS = {"applicationname", "application", "appname"}
_DEPLOYMENT_KEYS = {"deploymentname", "deployment", "modeldeployment", "modeldeploymentname"}


def squash(name: Any) -> str:
    return _NOT_ALNUM.sub("", str(name).lower())


class SecurityAlert(Struct):
    """The normalised fields (see the module docstring)."""

    source: str                      # e.g. "defender:rest-2022-01-01"
    alert_type: str
    system_alert_id: str
    display_name: str | None = None
    description: str | None = None
    severity: str | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    generated: datetime | None = None
    resource_ids: list[str] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    extended_properties: dict[str, Any] = field(default_factory=dict)
    product: str = "Microsoft Defender for Cloud"
    alert_resource_id: str | None = None     # the Defender alert's own ARM id, when the shape has it
    extra_context: dict[str, Any] = field(default_factory=dict)
    extra_indicators: dict[str, list[str]] = field(default_factory=dict)


def parse_time(value: Any, path: str, *, required: bool = False) -> datetime | None:
    """ISO 8601 (any number of fractional digits, ``Z`` or offset) → aware UTC; 422 naming ``path``."""
    if value is None or value == "":
        if required:
            raise AlertPayloadError(path, "required time is missing", f"Send {path} as an ISO 8601 UTC time.")
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise AlertPayloadError(path, "expected an ISO 8601 time string", f"Send {path} as e.g. 2026-11-29T02:24:00Z.")
    text = value.strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", text)
    if match is None:
        raise AlertPayloadError(path, f"not an ISO 8601 time: {text[:40]!r}", f"Send {path} as e.g. 2026-11-29T02:24:00Z.")
    base, frac, zone = match.groups()
    frac = (frac or ".0")[:7]
    try:  # the pattern admits impossible dates (month 13, February 30, hour 25): a 422 too, never a ValueError (RT8-05)
        when = datetime.fromisoformat(base + frac + ("+00:00" if zone in (None, "Z") else zone))
    except ValueError:
        raise AlertPayloadError(path, f"not a calendar time: {text[:40]!r}", f"Send {path} as e.g. 2026-11-29T02:24:00Z.") from None
    if not 2000 <= when.year <= 2099:
        raise AlertPayloadError(path, "time outside 2000-2099", f"Send {path} as the real alert time.")
    return when.astimezone(timezone.utc)


def text(value: Any, limit: int = MAX_VALUE_CHARS) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def _ip(value: Any) -> str | None:
    raw = text(value, 64)
    if raw is None:
        return None
    try:
        return str(ipaddress.ip_address(raw.split("%")[0]))
    except ValueError:
        return None


class _Bag:
    def __init__(self) -> None:
        self.values: dict[str, list[str]] = {}

    def add(self, kind: str, value: Any) -> None:
        value = _ip(value) if kind == "caller_ips" else text(value)
        if value is None:
            return
        bucket = self.values.setdefault(kind, [])
        if len(bucket) < MAX_INDICATORS and value.lower() not in {v.lower() for v in bucket}:
            bucket.append(value)

    def get(self, kind: str) -> tuple[str, ...]:
        return tuple(self.values.get(kind, ()))


def _dicts(value: Any) -> Iterable[dict]:
    return [v for v in value if isinstance(v, dict)][:MAX_INDICATORS * 2] if isinstance(value, list) else []


def indicators_of(alert: SecurityAlert) -> Indicators:
    bag = _Bag()
    for entity in _dicts(alert.entities):
        kind = squash(entity.get("type") or entity.get("Type") or entity.get("kind") or "")
        props = entity.get("properties") if isinstance(entity.get("properties"), dict) else entity
        if kind == "ip":
            bag.add("caller_ips", props.get("address") or props.get("Address"))
        elif kind == "account":
            principal = props.get("aadUserId") or props.get("AadUserId") or props.get("objectId") or props.get("ObjectGuid")
            bag.add("principal_ids", principal)
            if not principal:
                bag.add("end_user_ids", props.get("name") or props.get("Name"))
        elif kind in ("cloudapplication", "cloudapp"):
            bag.add("applications", props.get("name") or props.get("Name") or props.get("appName"))
    for key, value in list(alert.extended_properties.items())[: MAX_INDICATORS * 4]:
        k = squash(key)
        if k in _IP_KEYS:
            for part in str(value).split(",")[:MAX_INDICATORS]:
                bag.add("caller_ips", part.strip())
        elif k in _UA_KEYS:
            bag.add("user_agents", value)
        elif k in _END_USER_KEYS:
            bag.add("end_user_ids", value)
        elif k in _APP_KEYS:
            bag.add("applications", value)
        elif k in _DEPLOYMENT_KEYS:
            bag.add("deployments", value)
    for kind, values in alert.extra_indicators.items():
        for value in values[:MAX_INDICATORS]:
            bag.add(kind, value)
    bag.add("alert_types", alert.alert_type)
    return Indicators(
        caller_ips=bag.get("caller_ips"), principal_ids=bag.get("principal_ids"), user_agents=bag.get("user_agents"),
        end_user_ids=bag.get("end_user_ids"), applications=bag.get("applications"),
        deployments=bag.get("deployments"), alert_types=bag.get("alert_types"),
    )


def playbook_for(alert_type: str | None) -> str | None:
    """The shipped playbook of a Defender alert type, else None (an unknown type is recorded, not routed)."""
    return ALERT_TYPE_PLAYBOOKS.get((alert_type or "").strip().lower())


def to_alert(alert: SecurityAlert, *, custom_properties: dict[str, str] | None = None, alert_id: str | None = None,
             route_type: str | None = None) -> Alert:
    """The normalised :class:`Alert` (422 naming the field when a resource id is not an ARM id)."""
    try:
        targets = canonical_targets(alert.resource_ids[:20])
    except ValueError as exc:
        raise AlertPayloadError("resourceIdentifiers", str(exc), "Send the alerted resource's ARM resource id.") from None
    if unpaired_surrogate(alert_id or alert.system_alert_id):  # RT9-01: the alert id is hashed as UTF-8 (and ARM-addressed)
        raise AlertPayloadError("systemAlertId" if alert_id is None else "id", "holds an unpaired UTF-16 surrogate (a lone "
                                "\\ud800-\\udfff escape)", "Send the alert's id as the service delivers it.")
    props = dict(custom_properties or {})
    routed = playbook_for(route_type if route_type is not None else alert.alert_type)
    if routed and not any(k.lower() == ROUTE_PROPERTY for k in props):
        props[ROUTE_PROPERTY] = routed
    if alert.source.startswith("defender:"):
        # the orchestration input keeps custom properties but not the raw context: runbooks read the id here
        props.setdefault(DEFENDER_ALERT_PROPERTY, alert.system_alert_id)
    fired = alert.generated or alert.end or alert.start
    assert fired is not None
    status = (alert.status or "Active").strip().lower()
    severity = _SEVERITY.get((alert.severity or "").strip().lower())
    description = " — ".join(p for p in (text(alert.display_name), text(alert.description, 2000)) if p) or None
    context = {
        "source": alert.source,
        "product": alert.product,
        "alertType": alert.alert_type,
        "systemAlertId": alert.system_alert_id,
        "alertResourceId": alert.alert_resource_id,
        "displayName": text(alert.display_name),
        "severity": text(alert.severity, 32),
        "status": text(alert.status, 32),
        "entities": alert.entities[: MAX_INDICATORS],
        "extendedProperties": {str(k)[:128]: (text(v) if not isinstance(v, (dict, list)) else v)
                               for k, v in list(alert.extended_properties.items())[:200]},
        **alert.extra_context,
    }
    return Alert(
        schema_id=alert.source,
        alert_id=alert_id or "Microsoft.Security/alerts/" + alert.system_alert_id.strip().lower(),
        rule_name=alert.alert_type,
        rule_id=None,
        severity=severity,
        signal_type="Security",
        monitoring_service=alert.product,
        monitor_condition="Resolved" if status in _RESOLVED else "Fired",
        fired_at=fired,
        resolved_at=None,
        description=description,
        target_ids=targets,
        resource_type=resource_type_of(targets, None),
        custom_properties=props,
        window_start=alert.start,
        window_end=alert.end,
        indicators=indicators_of(alert),
        essentials=None,
        context=context,
    )

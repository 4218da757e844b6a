"""Activity log contexts: Administrative / Policy / Autoscale / Security
(``Activity Log - …``), Service Health and Resource Health.

Source: ``alerts-common-schema.md``, ``alerts-payload-samples.md``,
``activity-log-alerts-webhook.md``. Quirks: ``claims``, ``httpRequest`` and
``properties.policies`` are JSON strings; Service Health ``impactedServices`` is
a JSON string (real) or an array (test action); ``channels`` / ``eventSource`` /
``level`` are integers in one doc and strings in another (kept as sent); the
test payloads add ``"Activity Log Event Description"``; Service Health
resolution is in ``status`` / ``properties.stage`` while ``monitorCondition``
stays ``Fired``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field

from firestop.alerts.contexts.common import _Ctx
from firestop.alerts.contexts.lenient import (
    AnyDict,
    JsonDict,
    LenientBool,
    LenientScalar,
    LenientText,
    LenientUtc,
    _dicts,
    _Model,
    _nested,
)
from firestop.alerts.indicators import decode_json_text

class Authorization(_Model):
    action: LenientText = None
    scope: LenientText = None


class _ActivityBase(_Ctx):
    authorization: _nested(Authorization) = None
    channels: LenientScalar = None
    claims: JsonDict = Field(default_factory=dict)
    """Decoded from the JSON string Azure sends (``{}`` when null/undecodable)."""
    caller: LenientText = None
    correlation_id: LenientText = Field(default=None, alias="correlationId")
    event_source: LenientScalar = Field(default=None, alias="eventSource")
    event_timestamp: LenientUtc = Field(default=None, alias="eventTimestamp")
    event_data_id: LenientText = Field(default=None, alias="eventDataId")
    level: LenientScalar = None
    operation_name: LenientText = Field(default=None, alias="operationName")
    operation_id: LenientText = Field(default=None, alias="operationId")
    status: LenientText = None
    sub_status: LenientText = Field(default=None, alias="subStatus")
    submission_timestamp: LenientUtc = Field(default=None, alias="submissionTimestamp")
    http_request: JsonDict = Field(default_factory=dict, alias="httpRequest")
    event_description: LenientText = Field(default=None, alias="Activity Log Event Description")


class ActivityLogContext(_ActivityBase):
    """Activity log alert: Administrative, Policy, Autoscale, Security, Recommendation."""

    kind: Literal["activity_log"] = "activity_log"
    properties: AnyDict = Field(default_factory=dict)

    @property
    def policies(self) -> tuple[dict[str, Any], ...]:
        """``properties.policies`` decoded from its JSON string (Policy events)."""
        decoded = decode_json_text(self.properties.get("policies"))
        return tuple(p for p in decoded if isinstance(p, dict)) if isinstance(decoded, list) else ()

    def json_property(self, name: str) -> Any:
        """``properties[name]`` with JSON-in-a-string decoded (e.g. ``remediationSteps``);
        None when absent or undecodable."""
        return decode_json_text(self.properties.get(name))


class ImpactedService(_Model):
    service_name: LenientText = Field(default=None, alias="ServiceName")
    impacted_regions: Annotated[tuple[str, ...], BeforeValidator(lambda v: [r.get("RegionName") for r in _dicts(v) if isinstance(r.get("RegionName"), str)])] = Field(
        default=(), alias="ImpactedRegions"
    )


def _impacted(value: Any) -> list[dict[str, Any]]:
    return _dicts(decode_json_text(value))


class ServiceHealthProperties(_Model):
    title: LenientText = None
    service: LenientText = None
    region: LenientText = None
    communication: LenientText = None
    incident_type: LenientText = Field(default=None, alias="incidentType")
    tracking_id: LenientText = Field(default=None, alias="trackingId")
    impact_start_time: LenientUtc = Field(default=None, alias="impactStartTime")
    impact_mitigation_time: LenientUtc = Field(default=None, alias="impactMitigationTime")
    impacted_services: Annotated[tuple[ImpactedService, ...], BeforeValidator(_impacted)] = Field(
        default=(), alias="impactedServices"
    )
    """JSON string in real payloads, an array in the test action: both decoded."""
    stage: LenientText = None
    communication_id: LenientText = Field(default=None, alias="communicationId")
    maintenance_id: LenientText = Field(default=None, alias="maintenanceId")
    is_hir: LenientBool = Field(default=None, alias="isHIR")
    is_synthetic: LenientBool = Field(default=None, validation_alias=AliasChoices("IsSynthetic", "isSynthetic", "is_synthetic"))
    impact_type: LenientText = Field(default=None, alias="impactType")
    version: LenientText = None


class ServiceHealthContext(_ActivityBase):
    """Service Health event (incident, maintenance, advisory, security)."""

    kind: Literal["service_health"] = "service_health"
    properties: _nested(ServiceHealthProperties) = None

    @property
    def is_resolved(self) -> bool:
        """Service Health reports resolution in ``status`` / ``properties.stage``;
        ``essentials.monitorCondition`` stays ``Fired``."""
        stage = self.properties.stage if self.properties else None
        return any((v or "").strip().lower() == "resolved" for v in (self.status, stage))


class ResourceHealthProperties(_Model):
    title: LenientText = None
    details: LenientText = None
    current_health_status: LenientText = Field(default=None, alias="currentHealthStatus")
    previous_health_status: LenientText = Field(default=None, alias="previousHealthStatus")
    type: LenientText = None
    cause: LenientText = None


class ResourceHealthContext(_ActivityBase):
    """Resource Health event."""

    kind: Literal["resource_health"] = "resource_health"
    properties: _nested(ResourceHealthProperties) = None


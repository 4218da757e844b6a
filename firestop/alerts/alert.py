"""The normalised :class:`Alert` that incident orchestrations receive as input.

Built by :func:`firestop.alerts.parse_alert` from a common-schema webhook body
(``alerts-common-schema.md``). Frozen, JSON round-trippable::

    Alert.model_validate(alert.model_dump(mode="json")) == alert

so it can be passed as Durable orchestration input. All datetimes are aware
UTC. ``context`` is the raw ``alertContext`` exactly as sent; the typed view is
:attr:`Alert.typed_context`.
"""

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
import hashlib
from collections import namedtuple
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from firestop.empty import new_dict
from firestop.alerts.essentials import Essentials, MonitorCondition, UtcDatetime
from firestop.alerts.indicators import NONE_FOUND, Indicators
from firestop.resource_id import resource_id_key

if TYPE_CHECKING:  # pragma: no cover
    from firestop.alerts.contexts import AlertContext

__all__ = ["INCIDENT_ID_PREFIX", "ROUTE_PROPERTY", "Alert", "AlertReadings", "IntakeAlert", "alert_input_json", "incident_key_for"]

#: The custom property an alert rule routes to a playbook with (``firestop-playbook: <name>``).
ROUTE_PROPERTY = "firestop-playbook"
#: How every incident's Durable instance id starts: :func:`incident_key_for` (CLI, tabletop), the intake's
#: ``slot_id``, the CLI's reruns (``<id>-<n>``) and step groups (``<id>:group-<n>``). Listings that want incidents
#: pass it as ``instanceIdPrefix``: entity instances (``@name@key``) never match it (see
#: :mod:`firestop.instance_listing`).
INCIDENT_ID_PREFIX = "inc-"


def incident_key_for(alert_id: str) -> str:
    """:data:`INCIDENT_ID_PREFIX` (``"inc-"``) + first 16 hex digits of sha256(alert_id lower-cased).

    Deterministic, 20 characters of ``[a-z0-9-]``: safe as a Durable Functions
    instance id. Fired and Resolved notifications of one alert share it.
    """
    digest = hashlib.sha256(alert_id.strip().lower().encode("utf-8")).hexdigest()
    return INCIDENT_ID_PREFIX + digest[:16]


class AlertReadings:
    """What :class:`Alert` and :class:`IntakeAlert` derive from their fields alike (one definition for both): read
    from ``alert_id``, ``monitor_condition``, ``fired_at``, ``resolved_at``, ``target_ids`` and ``custom_properties``.
    (No annotations here: pydantic would take them for fields of :class:`Alert`.)"""

    __slots__ = ()

    def __hash__(self) -> int:  # dict fields are unhashable; identity is the delivery
        return hash((self.alert_id, self.monitor_condition, self.fired_at, self.resolved_at))

    def targets(self, resource_id: str) -> bool:
        """True if ``resource_id`` is one of :attr:`target_ids` (case-insensitive,
        canonicalised). Empty or non-string input → False."""
        try:
            key = resource_id_key(resource_id)
        except ValueError:
            return False
        return any(resource_id_key(t) == key for t in self.target_ids)

    @property
    def incident_key(self) -> str:
        """Deterministic short id from :attr:`alert_id` (see :func:`incident_key_for`)."""
        return incident_key_for(self.alert_id)

    @property
    def dedupe_key(self) -> str:
        """:attr:`incident_key` + ``-fired`` / ``-resolved``.

        Azure retries webhooks up to 5 times (``action-groups.md``), so the same
        delivery can arrive more than once; this identifies a delivery.
        """
        return f"{self.incident_key}-{self.monitor_condition.lower()}"

    @property
    def routed_playbook(self) -> str | None:
        """The playbook named by the :data:`ROUTE_PROPERTY` custom property (lower-cased, stripped), else None.
        Keys are matched case-insensitively, the last such key winning: the one reading both playbook
        selection and correlation use, so they can never disagree on where an alert is routed."""
        if not self.custom_properties:
            return None  # (most alerts)
        props = {k.lower(): v for k, v in self.custom_properties.items()}
        wanted = str(props.get(ROUTE_PROPERTY) or "").strip().lower()
        return wanted or None

    @property
    def is_resolved(self) -> bool:
        """``monitor_condition == "Resolved"``."""
        return self.monitor_condition == "Resolved"


class Alert(AlertReadings, BaseModel):
    """A validated, normalised Azure Monitor alert (common alert schema).

    Attributes:
        schema_id: ``schemaId`` as sent (``azureMonitorCommonAlertSchema``).
        alert_id: ``essentials.alertId`` (unique per alert; Fired and Resolved
            deliveries of one alert share it).
        rule_name: ``essentials.alertRule`` (null for budget alerts).
        rule_id: ``essentials.alertRuleID`` or ``alertRuleId``.
        severity: 0..4 from ``"Sev0".."Sev4"`` (or ``"3"``); None when null.
        signal_type: ``"Metric"``, ``"Log"``, ``"Activity Log"`` (``"ActivityLog"``
            normalised), another value as sent, or None.
        monitoring_service: ``essentials.monitoringService`` as sent
            (``"Platform"``, ``"Log Alerts V2"``, ``"Activity Log - Administrative"`` …).
        monitor_condition: ``"Fired"`` or ``"Resolved"``.
        fired_at / resolved_at: aware UTC; ``resolved_at`` only when sent.
        description: ``essentials.description`` as sent.
        target_ids: canonical ``alertTargetIDs`` (case kept; compare with
            :meth:`targets`).
        resource_type: lower-case ARM type of the first target, else
            ``targetResourceType`` lower-cased, else None.
        custom_properties: ``data.customProperties`` as ``dict[str, str]``
            (``{}`` when null/absent).
        window_start / window_end: evaluated window from the alertContext
            (aware UTC) or None.
        indicators: caller IPs, operation names, principal ids found in the context.
        essentials: the typed ``data.essentials``. Always set by ``parse_alert``;
            None only when an Alert is rebuilt from a dump that excluded it (the
            orchestration input, ``firestop.lifecycle.start.incident_input``,
            excludes ``essentials`` and ``context`` to keep raw payload out of
            Durable history).
        context: the raw ``data.alertContext`` dict, as sent (``{}`` when
            null/absent, or when excluded from the dump it was rebuilt from).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_id: str
    alert_id: str = Field(min_length=1)
    rule_name: str | None = None
    rule_id: str | None = None
    severity: int | None = Field(default=None, ge=0, le=4)
    signal_type: str | None = None
    monitoring_service: str | None = None
    monitor_condition: MonitorCondition
    fired_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    description: str | None = None
    target_ids: tuple[str, ...] = ()
    resource_type: str | None = None
    custom_properties: dict[str, str] = Field(default_factory=new_dict)
    window_start: UtcDatetime | None = None
    window_end: UtcDatetime | None = None
    indicators: Indicators = Field(default_factory=Indicators)
    essentials: Essentials | None = None
    context: dict[str, Any] = Field(default_factory=new_dict)

    @cached_property
    def typed_context(self) -> "AlertContext":
        """The alertContext as a typed model chosen by :attr:`monitoring_service`
        (see :mod:`firestop.alerts.contexts`); never raises — an unknown service
        or a context that does not fit gives an ``UnknownContext`` holding the raw dict.
        """
        from firestop.alerts.contexts import parse_context

        return parse_context(self.monitoring_service, self.context)


#: The fields of an :class:`IntakeAlert`: :class:`Alert`'s without ``essentials``, in its order.
INTAKE_FIELDS: tuple[str, ...] = tuple(name for name in Alert.model_fields if name != "essentials")
_INDICATOR_FIELDS: tuple[str, ...] = tuple(Indicators.model_fields)
#: The IntakeAlert's values as a named tuple: each attribute read by a C descriptor, the tuple built in C
_IntakeValues = namedtuple("_IntakeValues", INTAKE_FIELDS)
_tuple_new = tuple.__new__
_orjson_dumps, _UTC_Z = orjson.dumps, orjson.OPT_UTC_Z


class IntakeAlert(_IntakeValues, AlertReadings):
    """The alert the webhook reads (:func:`firestop.alerts.parse.parse_intake_alert`): :class:`Alert`'s values
    (:data:`INTAKE_FIELDS`, same names, types and meaning) on a plain immutable object, built without pydantic —
    on the intake path a model's validation and construction were a fifth of an alert's cost (issue 18).

    A named tuple underneath (built in C, each attribute read by a C descriptor: a slotted class set field by field
    cost ~27,000 instructions per alert under callgrind, more than the model it replaces), so it is immutable
    (setting or deleting an attribute raises AttributeError) — but it compares and hashes as an alert, not as a
    tuple: equal only to another IntakeAlert holding equal values, hashed as :class:`Alert` is.
    :class:`AlertReadings` gives ``incident_key``, ``dedupe_key``, ``routed_playbook``, ``is_resolved`` and
    ``targets()``. No ``essentials`` and no ``typed_context``: :meth:`to_alert` gives the :class:`Alert`
    (``essentials`` None) for readers that need a model.
    """

    __slots__ = ()

    def __new__(cls, values: dict[str, Any]) -> "IntakeAlert":
        """``values``: one already-checked value per name of :data:`INTAKE_FIELDS` (KeyError when one is missing;
        other keys are ignored)."""
        return _tuple_new(cls, map(values.__getitem__, INTAKE_FIELDS))

    @classmethod
    def of(cls, alert: Alert) -> "IntakeAlert":
        """``alert``'s values (its ``essentials`` dropped)."""
        return cls(alert.__dict__)

    def to_alert(self) -> Alert:
        """The same values as an :class:`Alert` (``essentials`` None, as an Alert rebuilt from the orchestration
        input), built without a second validation (:func:`firestop.alerts.checked.built`)."""
        from firestop.alerts.checked import built

        return built(Alert, {**dict(zip(INTAKE_FIELDS, self)), "essentials": None})

    def __eq__(self, other: object) -> bool:
        if type(other) is IntakeAlert:
            return tuple.__eq__(self, other)
        return False if isinstance(other, tuple) else NotImplemented  # (a plain tuple of the values is no alert)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = AlertReadings.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (tuple(self),))

    def __repr__(self) -> str:
        return f"IntakeAlert(alert_id={self.alert_id!r}, monitor_condition={self.monitor_condition!r})"


def _rebuilt(values: tuple[Any, ...]) -> IntakeAlert:
    """An IntakeAlert from its values in :data:`INTAKE_FIELDS` order (unpickling)."""
    return _tuple_new(IntakeAlert, values)


def _json_time(value: Any) -> Any:
    """A datetime as pydantic's JSON mode writes it: ISO 8601, ``Z`` for a zero UTC offset (orjson's writing with
    ``OPT_UTC_Z``, the same text: ~3x faster than ``isoformat`` and the suffix check)."""
    if value is None:
        return None
    return _orjson_dumps(value, option=_UTC_Z)[1:-1].decode()


def alert_input_json(alert: Alert | IntakeAlert) -> dict[str, Any]:
    """``alert.model_dump(mode="json", exclude={"context", "essentials"})`` for an :class:`Alert` or an
    :class:`IntakeAlert` alike (what an incident's input carries: :func:`firestop.lifecycle.start.incident_input`).

    For an IntakeAlert it is written here field by field (tuples as lists, datetimes as pydantic writes them, the
    indicators as their dump); ``tests/alerts/test_alerts_intake_alert.py`` holds it equal to the model's dump."""
    if type(alert) is not IntakeAlert:
        return alert.model_dump(mode="json", exclude={"context", "essentials"})
    found = alert.indicators
    indicators = found.__dict__  # (built with exactly its fields: firestop.alerts.checked)
    # the datetimes as _json_time writes them, in line (four Python calls were a seventh of this function)
    fired_at, resolved_at, window_start, window_end = _times(alert)
    return {
        "schema_id": alert.schema_id,
        "alert_id": alert.alert_id,
        "rule_name": alert.rule_name,
        "rule_id": alert.rule_id,
        "severity": alert.severity,
        "signal_type": alert.signal_type,
        "monitoring_service": alert.monitoring_service,
        "monitor_condition": alert.monitor_condition,
        "fired_at": None if fired_at is None else _orjson_dumps(fired_at, option=_UTC_Z)[1:-1].decode(),
        "resolved_at": None if resolved_at is None else _orjson_dumps(resolved_at, option=_UTC_Z)[1:-1].decode(),
        "description": alert.description,
        "target_ids": list(alert.target_ids),
        "resource_type": alert.resource_type,
        "custom_properties": dict(alert.custom_properties),
        "window_start": None if window_start is None else _orjson_dumps(window_start, option=_UTC_Z)[1:-1].decode(),
        "window_end": None if window_end is None else _orjson_dumps(window_end, option=_UTC_Z)[1:-1].decode(),
        "indicators": (_no_indicators_json() if found is NONE_FOUND  # (most alerts: fresh empty lists, no zip)
                       else dict(zip(_INDICATOR_FIELDS, map(list, map(indicators.__getitem__, _INDICATOR_FIELDS))))),
    }


#: An IntakeAlert's four datetimes (fired_at, resolved_at, window_start, window_end), read by one C call.
_times = itemgetter(*map(INTAKE_FIELDS.index, ("fired_at", "resolved_at", "window_start", "window_end")))


def _no_indicators_json() -> dict[str, list[str]]:
    """The JSON of :data:`~firestop.alerts.indicators.NONE_FOUND` (an empty list per field of
    :class:`~firestop.alerts.indicators.Indicators`, in its order: checked at import), new lists each time."""
    return {"caller_ips": [], "operation_names": [], "principal_ids": [], "user_agents": [], "end_user_ids": [],
            "applications": [], "deployments": [], "apim_subscriptions": [], "alert_types": [], "truncated": []}


if tuple(_no_indicators_json()) != _INDICATOR_FIELDS or any(NONE_FOUND.__dict__.values()):
    raise ImportError("firestop.alerts.alert: _no_indicators_json does not follow Indicators' fields")

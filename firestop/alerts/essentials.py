"""``data.essentials`` of the Azure Monitor common alert schema, typed.

Source: MicrosoftDocs/azure-monitor-docs ``alerts-common-schema.md`` (field
table) and ``alerts-payload-samples.md`` (samples); quirks collected in
``shared/corpus/alerts/NOTES.md``. The model is tolerant of what Azure really
sends:

* ``severity`` as ``"Sev3"`` (common schema) or ``"3"`` / ``3`` (non-common
  metric schema) → int 0..4; null in budget (``CostAlerts``) alerts;
* ``signalType`` ``"ActivityLog"`` (Service Health test payload) as well as
  ``"Activity Log"``; null in budget alerts — kept as sent here, normalised on
  :class:`~firestop.alerts.alert.Alert`;
* ``alertRuleID`` (doc table) or ``alertRuleId`` (samples);
* ``alertRule``, ``alertTargetIDs``, ``originAlertId`` null (budget alerts);
* ``configurationItems`` ``[]`` or missing (Service Health test payload);
* numbers where strings are expected (``essentialsVersion: 1.0``);
* 7-digit fractional seconds in ``firedDateTime`` / ``resolvedDateTime``.

Hostile values: ``firedDateTime`` / ``resolvedDateTime`` outside 2000..2099
(``firestop.alerts.times.check_sane``: Azure Monitor stamps them with its own
clock, so nothing else is real) and ``alertTargetIDs`` items with no segment
(``"/"``, ``"///"``, ``" / "``) are invalid — 422 naming the field — instead of
overflowing or raising later.

Required: ``alertId`` (non-empty), ``monitorCondition`` (``Fired`` /
``Resolved``, any case), ``firedDateTime``. Unknown keys are kept (extra
fields) so nothing Azure adds later is lost. The model serialises by alias, so
``model_dump(mode="json")`` looks like the Azure payload again.
"""

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from firestop.alerts.normalize import canonical_targets
from firestop.alerts.times import parse_sane_utc, parse_utc
from firestop.lazy_re import LazyPattern
from firestop.resource_id import canonical_resource_id, unpaired_surrogate

__all__ = [
    "Essentials",
    "MonitorCondition",
    "UtcDatetime",
    "normalize_signal_type",
    "parse_severity",
]

MonitorCondition = Literal["Fired", "Resolved"]

_SEVERITY_RE = LazyPattern(r"^(?:sev\s*)?([0-4])$", re.IGNORECASE, globals())
#: The spellings Azure Monitor sends, looked up before the pattern is matched
_SEVERITIES = {f"Sev{i}": i for i in range(5)}
_ONLY_STR = frozenset({str})


def parse_severity(value: object) -> int | None:
    """``"Sev3"`` / ``"sev 3"`` / ``"3"`` / ``3`` → ``3``; None / ``""`` → None.

    Raises:
        ValueError: anything else (e.g. ``"Sev9"``, ``"Critical"``, ``True``).
    """
    if type(value) is str:
        known = _SEVERITIES.get(value)
        if known is not None:
            return known
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("severity must be Sev0..Sev4 or 0..4, got a boolean")
    if isinstance(value, int) and 0 <= value <= 4:
        return value
    if isinstance(value, float) and value.is_integer() and 0 <= value <= 4:
        return int(value)
    if isinstance(value, str):
        m = _SEVERITY_RE.match(value.strip())
        if m:
            return int(m.group(1))
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
    raise ValueError(f"severity must be Sev0..Sev4 or 0..4, got {shown}")


_SIGNAL_TYPES = {"metric": "Metric", "log": "Log", "activitylog": "Activity Log"}
_SEPARATORS = re.compile(r"[\s_\-]+")
#: The spellings Azure Monitor sends, normalised once below (``re.sub`` per alert was a few percent of a parse)
_KNOWN_SIGNAL_TYPES: dict[str, str | None] = {}


def normalize_signal_type(value: str | None) -> str | None:
    """``"ActivityLog"`` / ``"activity log"`` → ``"Activity Log"``; ``"metric"`` → ``"Metric"``; ``"LOG"`` → ``"Log"``.

    Values outside Metric / Log / Activity Log are returned trimmed but
    otherwise as sent (Azure may add signal types); blank → None.
    """
    if value is None:
        return None
    known = _KNOWN_SIGNAL_TYPES.get(value)
    if known is not None:
        return known
    text = value.strip()
    if not text:
        return None
    squashed = _SEPARATORS.sub("", text).lower()
    return _SIGNAL_TYPES.get(squashed, text)


_KNOWN_SIGNAL_TYPES.update({v: normalize_signal_type(v) for v in ("Metric", "Log", "Activity Log", "ActivityLog", "Security")})


def _monitor_condition(value: object) -> object:
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "fired":
            return "Fired"
        if low == "resolved":
            return "Resolved"
        raise ValueError(f'must be "Fired" or "Resolved", got {value[:40]!r}')
    return value


def _required_text(value: object) -> object:
    if value is None:
        return value  # reported by pydantic as a type error; mapped to "null"
    if not isinstance(value, str):
        raise ValueError(f"must be a non-empty string, got {_kind(value)}")
    value = value.strip()
    if not value:
        raise ValueError("must be a non-empty string")
    if unpaired_surrogate(value):  # RT9-01: the incident key hashes its UTF-8 bytes; Azure Monitor's ids are ASCII
        raise ValueError("must not hold an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape)")
    return value


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _scalar_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise ValueError(f"items must be strings, got {_kind(value)}")


def _text_list(value: object) -> object:
    """null → (); a lone string → (s,); list → its non-null scalars as strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if type(value) is list and _ONLY_STR.issuperset(map(type, value)):
        return tuple(value)  # strings only (the usual): each is its own text
    if isinstance(value, (list, tuple)):
        return tuple(_scalar_text(v) for v in value if v is not None)
    raise ValueError(f"expected an array of strings, got {_kind(value)}")


def _target_list(value: object) -> object:
    """Like :func:`_text_list` but ids must be strings (no numbers)."""
    if value is None:
        return ()
    if isinstance(value, str):
        if value.strip() and not value.strip().strip("/").strip():
            raise ValueError(f"{value[:60]!r} is not a resource id: it has no segment")
        return (value,) if value.strip() else ()
    if type(value) is list and _ONLY_STR.issuperset(map(type, value)):
        ids = tuple(value)
        try:
            canonical_targets(ids)  # kept: the alert's canonical targets are this same call
            return ids  # every id has a segment (canonical_resource_id took it): the loop below would pass
        except ValueError:
            pass  # the loop below names the item
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip().strip("/").strip():
                shown = repr(item)[:60]
                raise ValueError(
                    f"item {index} ({shown}) must be a non-empty resource id string such as "
                    "/subscriptions/<id>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>"
                )
            canonical_resource_id(item)  # the same check the normaliser makes: never a ValueError later
        return tuple(value)
    raise ValueError(f"expected an array of resource id strings, got {_kind(value)}")


def _optional_utc(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_sane_utc(value)


UtcDatetime = Annotated[datetime, BeforeValidator(parse_utc)]
"""An aware UTC datetime parsed with :func:`firestop.alerts.times.parse_utc`."""

SaneUtcDatetime = Annotated[datetime, BeforeValidator(parse_sane_utc)]
"""Like :data:`UtcDatetime`, within the bounds Azure Monitor can send (:func:`firestop.alerts.times.check_sane`)."""

OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(_optional_utc)]
TextTuple = Annotated[tuple[str, ...], BeforeValidator(_text_list)]
TargetTuple = Annotated[tuple[str, ...], BeforeValidator(_target_list)]


class Essentials(BaseModel):
    """Typed ``data.essentials`` (see module docstring for tolerated quirks).

    Attribute names are snake_case; input and JSON output use Azure's
    camelCase names. Datetimes are aware UTC. ``severity`` is an int 0..4.
    ``alert_target_ids`` are kept as sent (canonical ids live on ``Alert``).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        serialize_by_alias=True,
        validate_by_alias=True,
        validate_by_name=False,
        coerce_numbers_to_str=True,
        str_strip_whitespace=False,
    )

    alert_id: Annotated[str, BeforeValidator(_required_text)] = Field(alias="alertId")
    alert_rule: str | None = Field(default=None, alias="alertRule")
    alert_rule_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("alertRuleID", "alertRuleId"),
        serialization_alias="alertRuleID",
    )
    severity: int | None = Field(default=None, alias="severity")
    signal_type: str | None = Field(default=None, alias="signalType")
    monitor_condition: Annotated[MonitorCondition, BeforeValidator(_monitor_condition)] = Field(
        alias="monitorCondition"
    )
    monitoring_service: str | None = Field(default=None, alias="monitoringService")
    alert_target_ids: TargetTuple = Field(
        default=(),
        validation_alias=AliasChoices("alertTargetIDs", "alertTargetIds"),
        serialization_alias="alertTargetIDs",
    )
    configuration_items: TextTuple = Field(default=(), alias="configurationItems")
    origin_alert_id: str | None = Field(default=None, alias="originAlertId")
    fired_date_time: SaneUtcDatetime = Field(alias="firedDateTime")
    resolved_date_time: OptionalUtcDatetime = Field(default=None, alias="resolvedDateTime")
    description: str | None = Field(default=None, alias="description")
    essentials_version: str | None = Field(default=None, alias="essentialsVersion")
    alert_context_version: str | None = Field(default=None, alias="alertContextVersion")
    target_resource_group: str | None = Field(default=None, alias="targetResourceGroup")
    target_resource_type: str | None = Field(default=None, alias="targetResourceType")
    investigation_link: str | None = Field(default=None, alias="investigationLink")

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> int | None:
        return parse_severity(value)



# -- the same validation without the model (the webhook's path) ---------------------------------------------------
#: One problem :func:`check_essentials` found, as pydantic reports it for :class:`Essentials`:
#: ``(loc, type, input, msg)`` — ``loc`` a tuple of the alias read (or the first alias of a missing field), ``type``
#: pydantic's error type (``missing``, ``string_type``, ``literal_error``, ``value_error``), ``input`` the value
#: read (the whole essentials for ``missing``), ``msg`` pydantic's message (``"Value error, …"`` for a ValueError
#: of a before-validator).
Problem = tuple[tuple[str, ...], str, Any, str]

_STRING_TYPE = "Input should be a valid string"
_LITERAL = "Input should be 'Fired' or 'Resolved'"


class _Refused(Exception):
    """A value the model's core (not a before-validator) refuses: ``kind`` and ``msg`` as pydantic names them."""

    def __init__(self, kind: str, msg: str) -> None:
        self.kind = kind
        self.msg = msg


def _text_or_none(value: object) -> str | None:
    """``str | None`` with ``coerce_numbers_to_str``: a number becomes its ``str()`` (pydantic's text of it: ``1.0``,
    ``1e+16``), a boolean or anything else is a ``string_type`` error."""
    if value is None or type(value) is str:
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _Refused("string_type", _STRING_TYPE)


def _required_id(value: object) -> str:
    """``alertId``: :func:`_required_text`, then the model's ``str`` check (null is a ``string_type`` error)."""
    checked = _required_text(value)
    if checked is None:
        raise _Refused("string_type", _STRING_TYPE)
    return checked  # type: ignore[return-value]


def _condition(value: object) -> str:
    """``monitorCondition``: :func:`_monitor_condition`, then the model's ``Literal`` check."""
    checked = _monitor_condition(value)
    if checked == "Fired" or checked == "Resolved":
        return checked  # type: ignore[return-value]
    raise _Refused("literal_error", _LITERAL)


#: :class:`Essentials`'s fields in its order (pydantic reports problems in this order): attribute, the aliases read
#: (first present wins, null included, as ``AliasChoices``), whether required, the check (None: ``str | None``),
#: the default.
_FIELDS: tuple[tuple[str, tuple[str, ...], bool, Any, Any], ...] = (
    ("alert_id", ("alertId",), True, _required_id, None),
    ("alert_rule", ("alertRule",), False, None, None),
    ("alert_rule_id", ("alertRuleID", "alertRuleId"), False, None, None),
    ("severity", ("severity",), False, parse_severity, None),
    ("signal_type", ("signalType",), False, None, None),
    ("monitor_condition", ("monitorCondition",), True, _condition, None),
    ("monitoring_service", ("monitoringService",), False, None, None),
    ("alert_target_ids", ("alertTargetIDs", "alertTargetIds"), False, _target_list, ()),
    ("configuration_items", ("configurationItems",), False, _text_list, ()),
    ("origin_alert_id", ("originAlertId",), False, None, None),
    ("fired_date_time", ("firedDateTime",), True, parse_sane_utc, None),
    ("resolved_date_time", ("resolvedDateTime",), False, _optional_utc, None),
    ("description", ("description",), False, None, None),
    ("essentials_version", ("essentialsVersion",), False, None, None),
    ("alert_context_version", ("alertContextVersion",), False, None, None),
    ("target_resource_group", ("targetResourceGroup",), False, None, None),
    ("target_resource_type", ("targetResourceType",), False, None, None),
    ("investigation_link", ("investigationLink",), False, None, None),
)


_TEXT_TYPES = frozenset({str, type(None)})
#: The names of :data:`_FIELDS` (:class:`Essentials`'s attributes), in order: what :func:`essentials_values` gives.
ESSENTIALS_NAMES: tuple[str, ...] = tuple(field[0] for field in _FIELDS)
#: The text fields (``str | None``) the one-step check reads, by alias, in one C pass (``map(raw.get, …)``): both
#: spellings of the rule id (the one read is chosen after it; a value other than text or null in the other spelling
#: only sends the essentials to the field-by-field check, which gives what the model gives).
_TEXT_ALIASES = ("alertRule", "alertRuleID", "alertRuleId", "signalType", "monitoringService", "originAlertId",
                 "description", "essentialsVersion", "alertContextVersion", "targetResourceGroup",
                 "targetResourceType", "investigationLink")


def check_essentials(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """``data.essentials`` checked as :class:`Essentials` checks it, without building the model.

    The same before-validators run, and what the model's core adds is done here by hand (``str | None`` with
    numbers coerced to text, the ``alertId`` string, the ``monitorCondition`` literal, the first present alias of
    ``AliasChoices``). Unknown keys are not kept (the model keeps them as extras).

    Args:
        raw: the decoded ``data.essentials`` object (JSON values only).

    Returns:
        ``(values, problems)``: ``values`` maps each attribute of :class:`Essentials` to what
        ``Essentials.model_validate(raw).__dict__`` holds for it (when ``problems`` is empty); ``problems`` lists
        what ``ValidationError.errors()`` lists, as :data:`Problem` tuples in the same order.
        ``tests/alerts/test_alerts_intake_alert.py`` holds both equal to the model's on random essentials.
    """
    values = essentials_values(raw)
    if values is not None:
        return dict(zip(ESSENTIALS_NAMES, values)), []  # (zip stops before the canonical targets)
    return checked_in_order(raw)


def essentials_values(raw: dict[str, Any]) -> tuple[Any, ...] | None:
    """:func:`check_essentials` in one step for what Azure Monitor sends (the required fields present, every value
    valid, text fields text or null), as a tuple: the values of :data:`ESSENTIALS_NAMES` in order, then
    ``canonical_targets(alert_target_ids)`` when it was computed to check them (else None). None for anything else:
    :func:`checked_in_order` then checks field by field, in the model's order, to report what the model reports.
    The checks are pure: running them again changes nothing. The webhook's parse
    (:func:`firestop.alerts.parse.parse_intake_alert`) reads the tuple without a dict of fields."""
    if "alertId" in raw and "monitorCondition" in raw and "firedDateTime" in raw:
        texts = tuple(map(raw.get, _TEXT_ALIASES))
        if _TEXT_TYPES.issuperset(map(type, texts)):
            # the usual values are read in line (a Python call each was a few percent of the check); others go
            # through the validators themselves
            get = raw.get
            condition, severity, items, resolved = (raw["monitorCondition"], get("severity"),
                                                    get("configurationItems"), get("resolvedDateTime"))
            targets = raw["alertTargetIDs"] if "alertTargetIDs" in raw else get("alertTargetIds")
            try:
                if type(targets) is list and _ONLY_STR.issuperset(map(type, targets)):
                    target_ids = tuple(targets)
                    # (as _target_list: a ValueError when an id has no segment; else the alert's canonical targets)
                    canonical = canonical_targets(target_ids)
                else:
                    target_ids, canonical = _target_list(targets), None
                # (_required_id's usual answer in line: ASCII text, not blank once stripped — no lone surrogate)
                alert_id = raw["alertId"]
                if not (type(alert_id) is str and alert_id.isascii() and (alert_id := alert_id.strip())):
                    alert_id = _required_id(raw["alertId"])
                return (
                    alert_id,
                    texts[0],
                    texts[1] if "alertRuleID" in raw else texts[2],
                    (_SEVERITIES[severity] if type(severity) is str and severity in _SEVERITIES
                     else parse_severity(severity)),
                    texts[3],
                    condition if condition == "Fired" or condition == "Resolved" else _condition(condition),
                    texts[4],
                    target_ids,
                    (tuple(items) if type(items) is list and _ONLY_STR.issuperset(map(type, items))
                     else _text_list(items)),
                    texts[5],
                    parse_sane_utc(raw["firedDateTime"]),
                    None if resolved is None else _optional_utc(resolved),
                    *texts[6:],
                    canonical,
                )
            except (ValueError, _Refused):
                pass
    return None


def checked_in_order(raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """:func:`check_essentials` field by field in the model's order, every problem listed."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, aliases, required, check, default in _FIELDS:
        alias = aliases[0]
        if alias in raw:
            value = raw[alias]
        elif len(aliases) > 1 and aliases[1] in raw:
            alias = aliases[1]
            value = raw[alias]
        elif required:
            problems.append(((alias,), "missing", raw, "Field required"))
            continue
        else:
            values[name] = default
            continue
        try:
            values[name] = _text_or_none(value) if check is None else check(value)
        except ValueError as exc:
            problems.append(((alias,), "value_error", value, f"Value error, {exc}"))
        except _Refused as exc:
            problems.append(((alias,), exc.kind, value, exc.msg))
    return values, problems

"""``parse_alert``: webhook body → :class:`~firestop.alerts.alert.Alert` or :class:`AlertPayloadError`.

Order of checks (each failure is an :class:`AlertPayloadError`, nothing else
escapes):

1. body decoding and limits (:mod:`firestop.alerts.body`): 413 over 256 KB,
   400 not UTF-8 / not JSON (line, column) / not an object;
2. non-common schemas (:mod:`firestop.alerts.legacy`): 400 naming the schema,
   fix = enable the common alert schema on the webhook action;
3. the common envelope ``{"schemaId": "azureMonitorCommonAlertSchema",
   "data": {"essentials", "alertContext", "customProperties"}}``
   (``alerts-common-schema.md``): 422 naming the field path and the fix;
4. ``essentials`` (:class:`~firestop.alerts.essentials.Essentials`): 422 for a
   missing/invalid ``alertId``, ``monitorCondition``, ``firedDateTime`` or an
   optional field of the wrong type (the webhook's :func:`parse_intake_alert` checks them with
   :func:`~firestop.alerts.essentials.check_essentials`, the model's checks without the model: the same 422);
0. (after decoding) other sources (:mod:`firestop.alerts.sources`): a Defender for Cloud alert in any
   delivery shape or a Sentinel incident is parsed by its source; recognised with fields missing →
   422 naming the format recognised and the fields missing;
5. normalisation (targets, resource type, custom properties, window,
   indicators; an Activity Log "Security" alert is recognised as a Defender alert). ``alertContext`` content never rejects an alert: it is kept raw
   and only read tolerantly.
"""

from __future__ import annotations

import gc
from typing import Any

from orjson import JSONDecodeError
from orjson import loads as _orjson_loads
from pydantic import ValidationError

from firestop.alerts.alert import INTAKE_FIELDS, Alert, IntakeAlert
from firestop.alerts.body import LARGE_BODY_BYTES, MAX_PAYLOAD_BYTES, decode_body
from firestop.alerts.checked import built
from firestop.alerts.errors import AlertPayloadError
from firestop.alerts.essentials import (
    _KNOWN_SIGNAL_TYPES,
    ESSENTIALS_NAMES,
    Essentials,
    Problem,
    checked_in_order,
    essentials_values,
    normalize_signal_type,
)
from firestop.alerts.indicators import extract_indicators
from firestop.alerts.sources import detect, supported_formats
from firestop.alerts.sources.defender import enrich_activity_log_security, is_activity_log_security
from firestop.alerts.legacy import COMMON_SCHEMA_ID, ENABLE_COMMON_SCHEMA_FIX, legacy_schema_error
from firestop.alerts.normalize import _CACHED_CHARS as _TYPE_CACHED_CHARS
from firestop.alerts.normalize import _cached_type_key
from firestop.alerts.normalize import (
    canonical_targets,
    custom_property_text,
    evaluation_window,
    resource_type_of,
)

__all__ = ["parse_alert", "parse_intake_alert"]

_SCHEMA_DOC = "alerts-common-schema.md"

_FIELD_FIXES = {
    "alertId": (
        "Send data.essentials.alertId as the non-empty id Azure Monitor assigns, e.g. "
        "/subscriptions/<id>/providers/Microsoft.AlertsManagement/alerts/<guid>."
    ),
    "monitorCondition": 'Set data.essentials.monitorCondition to "Fired" or "Resolved".',
    "firedDateTime": (
        "Set data.essentials.firedDateTime to the ISO 8601 UTC time the alert fired, such as "
        "2025-04-15T18:17:12.851Z (between 2000 and 2099)."
    ),
    "resolvedDateTime": (
        "Set data.essentials.resolvedDateTime to an ISO 8601 UTC timestamp, or leave it out."
    ),
    "severity": 'Set data.essentials.severity to "Sev0".."Sev4" (or 0..4), or null.',
    "alertTargetIDs": (
        "Send data.essentials.alertTargetIDs as an array of ARM resource id strings, or null."
    ),
}
_REQUIRED = ("alertId", "monitorCondition", "firedDateTime")


def _schema_error(field: str, reason: str, fix: str | None = None) -> AlertPayloadError:
    return AlertPayloadError(
        field,
        reason,
        fix
        or f"Send {field} in the shape the Azure Monitor common alert schema defines "
        f"({_SCHEMA_DOC}), or leave it out if it is optional.",
        http_status=422,
    )


def _essentials_error(exc: ValidationError) -> AlertPayloadError:
    """The 422 for the :class:`Essentials` model's ``ValidationError``."""
    errors = exc.errors(include_url=False, include_context=False)
    return _essentials_problem([(tuple(e["loc"]), e["type"], e.get("input", ...), e["msg"]) for e in errors])


def _essentials_problem(problems: list[Problem]) -> AlertPayloadError:
    """The 422 for what ``data.essentials`` failed (``problems``: pydantic's errors for :class:`Essentials`, as
    :func:`~firestop.alerts.essentials.check_essentials` lists them too): the first problem of a required field,
    else the first problem, named with its fix; the others counted."""
    problems = sorted(problems, key=lambda p: 0 if p[0] and p[0][0] in _REQUIRED else 1)
    loc, kind, value, msg = problems[0]
    loc = tuple(str(part) for part in loc)
    head = loc[0] if loc else ""
    field = ".".join(["data", "essentials", *loc])
    if kind == "missing":
        reason = "required field is missing"
    elif value is None and head in _REQUIRED:
        reason = "required field is null"
    else:
        reason = str(msg).removeprefix("Value error, ")
    if len(problems) > 1:  # named, so one round of fixes is enough (at most 5 names: the count says the rest)
        others = [".".join(["data", "essentials", *(str(part) for part in p[0])]) for p in problems[1:6]]
        reason += (f" (and {len(problems) - 1} more invalid field{'s' if len(problems) > 2 else ''}: {', '.join(others)}"
                   + (", …" if len(problems) > 6 else "") + ")")
    return _schema_error(field, reason, _FIELD_FIXES.get(head))


_ONLY_STR = frozenset({str})
_tuple_new = tuple.__new__
_BOM = b"\xef\xbb\xbf"  # (decode_body strips it: such a body goes there)


def _custom_properties(custom: dict[str, Any]) -> dict[str, str]:
    """``customProperties`` as ``dict[str, str]`` (:func:`custom_property_text` of each value, keys as text): a copy
    at once when every key and value is already a plain string (what Azure Monitor sends)."""
    if not custom:
        return {}
    if _ONLY_STR.issuperset(map(type, custom.values())) and _ONLY_STR.issuperset(map(type, custom)):
        return dict(custom)
    return {str(k): custom_property_text(v) for k, v in custom.items()}


def _object(data: dict[str, Any], key: str, path: str, *, required: bool) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        if required:
            state = "missing" if key not in data else "null"
            raise _schema_error(
                path,
                f"required object is {state}",
                f"Send {path} as a JSON object ({_SCHEMA_DOC}); enable the common alert "
                "schema on the webhook action if the sender is Azure Monitor.",
            )
        return None
    if not isinstance(value, dict):
        raise _schema_error(path, f"expected a JSON object, got {_json_kind(value)}")
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else type(value).__name__


def _check_schema_id(body: dict[str, Any]) -> str:
    if "schemaId" not in body or body["schemaId"] is None:
        raise _schema_error(
            "schemaId",
            "required field is missing; this is not an Azure Monitor common-schema alert, nor any other "
            "supported format (" + "; ".join(supported_formats()[1:]) + ")",
            ENABLE_COMMON_SCHEMA_FIX,
        )
    schema_id = body["schemaId"]
    if schema_id == COMMON_SCHEMA_ID:
        return schema_id  # (as Azure Monitor spells it)
    if not isinstance(schema_id, str):
        raise _schema_error("schemaId", f"expected a string, got {_json_kind(schema_id)}")
    if schema_id.strip().lower() != COMMON_SCHEMA_ID.lower():
        shown = schema_id if len(schema_id) <= 60 else schema_id[:60] + "…"
        raise AlertPayloadError(
            "schemaId",
            f"unrecognised schemaId {shown!r}; only {COMMON_SCHEMA_ID!r} is accepted",
            ENABLE_COMMON_SCHEMA_FIX,
            http_status=400,
        )
    return schema_id


def parse_alert(payload: bytes | str | dict[str, Any], *, keep_context: bool = True) -> Alert:
    """Parse an Azure Monitor webhook body into an :class:`Alert`.

    Args:
        payload: the request body as ``bytes`` (preferred), ``str``, or the
            already-decoded JSON ``dict``.
        keep_context: False cuts :attr:`Alert.context` to :func:`lean_context` (identity keys, an Activity
            Log event's time, metric names) once the window, the indicators and a source's normalisation have read
            it — for callers that read nothing else of it (the webhook: the orchestration input and correlated
            events exclude it; correlation reads the identity keys, coverage the event time). A 256 KB log alert's context
            is ~12,000 lists and strings; kept alive through the request, the cyclic collector walks
            them again and again (more than the decode cost).

    Returns:
        A frozen, JSON round-trippable :class:`Alert` (datetimes aware UTC).

    Raises:
        AlertPayloadError: ``http_status`` 400 (not JSON / not an object /
            non-common schema), 413 (over 256 KB), 422 (common schema with a
            missing or invalid field). Never anything else.
    """
    # The cyclic collector is paused for the whole parse, not only the decode (firestop.alerts.body): a 256 KB
    # body is ~12,000 lists and strings, freed (by reference counting) when _parse returns with the lean
    # context; with the collector running, the collections their allocation triggers walked them first — a
    # fifth of the worst case's parse. Nothing here makes a cycle. Another thread's allocations meanwhile
    # only wait for the next collection; the pause is bounded by the parse (256 KB at most).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _parse(payload, keep_context)
    finally:
        if paused:
            gc.enable()


def parse_intake_alert(payload: bytes | str | dict[str, Any]) -> IntakeAlert:
    """What the webhook parses (``POST /api/alerts``): :func:`parse_alert` with ``keep_context=False``, as an
    :class:`~firestop.alerts.alert.IntakeAlert` — the same values on a plain slotted object, the essentials checked
    by :func:`~firestop.alerts.essentials.check_essentials` (the model's checks, without the model) and nothing
    built through pydantic for a common-schema alert.

    Args:
        payload: as :func:`parse_alert`.

    Returns:
        An IntakeAlert holding what ``parse_alert(payload, keep_context=False)`` holds, ``essentials`` aside
        (``tests/alerts/test_alerts_intake_alert.py`` holds the two equal on the corpus and on random bodies).

    Raises:
        AlertPayloadError: exactly what :func:`parse_alert` raises for ``payload`` (same status, field, reason and
            fix). Never anything else.
    """
    paused = gc.isenabled()  # (as parse_alert: the collector paused for the parse)
    if paused:
        gc.disable()
    try:
        return _parse(payload, False, intake=True)
    finally:
        if paused:
            gc.enable()


def decode_lean(payload: bytes) -> Any:
    """:func:`firestop.alerts.large.decode_lean`, imported at its first call: msgspec loads with the first body of
    :data:`~firestop.alerts.body.LARGE_BODY_BYTES` or more, never on a small alert's path (the CLI's start-up)."""
    from firestop.alerts.large import decode_lean as lean

    return lean(payload)


def _parse(payload: bytes | str | dict[str, Any], keep_context: bool, intake: bool = False) -> Any:
    """:func:`parse_alert` with the collector as the caller left it; ``intake``: :func:`parse_intake_alert`'s
    IntakeAlert (``keep_context`` False) instead of an Alert."""
    # Without the raw context kept, a large log alert's search-result rows are decoded only as far as the
    # indicator scan reads them (firestop.alerts.large: the body without them and its indicators, or None)
    lean = None
    if not keep_context and type(payload) is bytes and len(payload) >= LARGE_BODY_BYTES:
        lean = decode_lean(payload)
    if lean is not None:
        body = lean.body
    else:
        # decode_body's usual case in line (a bytes body within the cap, no BOM, an object): the same orjson.loads
        # (the collector already paused by the caller); anything else, or what orjson refuses, decode_body itself
        # (its checks, errors and fallback decoder)
        body = None
        if type(payload) is bytes and len(payload) <= MAX_PAYLOAD_BYTES and not payload.startswith(_BOM):
            try:
                body = _orjson_loads(payload)
            except JSONDecodeError:
                body = None
        if type(body) is not dict:
            body = decode_body(payload)
    found = detect(body)
    if found is not None:  # Defender for Cloud / Sentinel shapes (firestop.alerts.sources)
        src, recognition = found
        if recognition.missing:
            raise AlertPayloadError(
                recognition.missing[0],
                f"recognised a {recognition.name}, but {', '.join(recognition.missing)} "
                f"{'is' if len(recognition.missing) == 1 else 'are'} missing",
                f"Send the {recognition.name} as the service delivers it, with {', '.join(recognition.missing)}.",
                http_status=422,
            )
        if keep_context:
            return src.parse(body)
        return IntakeAlert.of(_without_context(src.parse(body))) if intake else _without_context(src.parse(body))
    schema_id = body.get("schemaId")
    if schema_id != COMMON_SCHEMA_ID:  # (Azure Monitor's spelling: neither check below has anything to say)
        legacy = legacy_schema_error(body)
        if legacy is not None:
            raise legacy
        schema_id = _check_schema_id(body)

    # each object as _object reads it; the usual plain dict at once (decoded JSON holds no dict subclass)
    data = body.get("data")
    if type(data) is not dict:
        data = _object(body, "data", "data", required=True)
    assert data is not None
    raw_essentials = data.get("essentials")
    if type(raw_essentials) is not dict:
        raw_essentials = _object(data, "essentials", "data.essentials", required=True)
    context = data.get("alertContext")
    if type(context) is not dict:
        context = _object(data, "alertContext", "data.alertContext", required=False) or {}
    custom = data.get("customProperties")
    if type(custom) is not dict:
        custom = _object(data, "customProperties", "data.customProperties", required=False) or {}

    essentials: Essentials | None = None
    # The essentials' values in ESSENTIALS_NAMES order, then their canonical targets when the check computed them
    checked = essentials_values(raw_essentials) if intake else None
    if checked is None:
        if intake:  # the model's checks without the model (firestop.alerts.essentials.check_essentials)
            valid, problems = checked_in_order(raw_essentials)
            if problems:
                raise _essentials_problem(problems)
        else:
            try:
                essentials = Essentials.model_validate(raw_essentials)
            except ValidationError as exc:
                raise _essentials_error(exc) from None
            # the model's values, read from its __dict__ once (each attribute of a pydantic model is read through its
            # __getattr__ hook: a dozen of them were a few percent of a small alert's parse)
            valid = essentials.__dict__
        checked = (*map(valid.__getitem__, ESSENTIALS_NAMES), None)
    (alert_id, rule_name, rule_id, severity, signal_type, monitor_condition, monitoring_service, sent_targets, _items,
     _origin, fired_at, resolved_at, description, _version, _context_version, _group, sent_type, _link,
     target_ids) = checked
    if target_ids is None:
        try:
            target_ids = canonical_targets(sent_targets)
        except ValueError as exc:  # defensive: the essentials' check already took every id
            raise _schema_error("data.essentials.alertTargetIDs", str(exc), _FIELD_FIXES["alertTargetIDs"]) from None
    window_start, window_end = evaluation_window(context)
    # Every value below is already checked: the essentials (by their model or check_essentials), targets canonical, the window
    # and indicators built by normalisers that only give aware UTC datetimes / tuples of str, custom
    # properties str -> str. So the Alert is built without a second validation (firestop.alerts.checked);
    # tests/alerts hold every parsed alert, fuzzed ones included, equal to Alert.model_validate of its dump.
    values = (  # in the order of _VALUE_ORDER (checked against the Alert's fields at import)
        schema_id,
        alert_id,
        rule_name,
        rule_id,
        severity,
        # (normalize_signal_type's own first lookup in line: Metric, Log, Activity Log … as Azure spells them)
        _KNOWN_SIGNAL_TYPES.get(signal_type) or normalize_signal_type(signal_type),
        monitoring_service,
        monitor_condition,
        fired_at,
        resolved_at,
        description,
        target_ids,
        # (resource_type_of's usual answer in line: the first target's type, kept by _type_key's cache; else the call)
        (rtype if target_ids and len(target_ids[0]) <= _TYPE_CACHED_CHARS
         and (rtype := _cached_type_key(target_ids[0])) is not None else resource_type_of(target_ids, sent_type)),
        _custom_properties(custom) if custom else {},
        window_start,
        window_end,
        extract_indicators(context) if lean is None else lean.indicators,
    )
    if not keep_context and not is_activity_log_security(monitoring_service):
        # nothing reads the raw context past this point: the alert is built once, with the lean context
        if intake:  # the named tuple at once, no dict of fields (its length checked as IntakeAlert._make checks it)
            if len(values) != _VALUES:
                raise TypeError(f"IntakeAlert needs {_VALUES} values and a context, got {len(values)}")
            # (lean_context's answer for a plain context holding none of its keys, the usual, without the call)
            lean_values = {} if type(context) is dict and _LEAN_KEYS.isdisjoint(context) else lean_context(context)
            return _tuple_new(IntakeAlert, (*values, lean_values))
        return built(Alert, {**dict(zip(_VALUE_ORDER, values)), "essentials": essentials, "context": lean_context(context)})
    alert = enrich_activity_log_security(
        built(Alert, {**dict(zip(_VALUE_ORDER, values)), "essentials": essentials, "context": context}))
    if keep_context:
        return alert
    return IntakeAlert.of(_without_context(alert)) if intake else _without_context(alert)


#: The Alert's fields :func:`_parse` gives in ``values``, in order: the IntakeAlert's without ``context``.
_VALUE_ORDER = ("schema_id", "alert_id", "rule_name", "rule_id", "severity", "signal_type", "monitoring_service",
                "monitor_condition", "fired_at", "resolved_at", "description", "target_ids", "resource_type",
                "custom_properties", "window_start", "window_end", "indicators")
_VALUES = len(_VALUE_ORDER)
if (*_VALUE_ORDER, "context") != INTAKE_FIELDS:  # a field added to or moved in Alert: _parse's values must follow
    raise ImportError(f"firestop.alerts.parse: values {_VALUE_ORDER} do not follow the Alert's fields {INTAKE_FIELDS}")


#: Context keys an alert keeps without its raw context: its source and the attack identities that correlation
#: reads (:func:`firestop.intake.events.identity_links`, the Graph alert id the Event Grid route fetches).
IDENTITY_CONTEXT_KEYS = ("source", "systemAlertId", "providerAlertId", "providerAlertIds", "graphAlertId")
#: Further context values kept: an Activity Log alert's ``eventTimestamp`` (when the reported activity happened:
#: :func:`firestop.intake.coverage.activity_start`) and a metric alert's metric names (``condition.allOf[].metricName``:
#: :func:`firestop.intake.aftermath.aftermath_of`).
#: A Defender alert's and a Sentinel incident's own ARM id as delivered (strings of at most :data:`_SOURCE_REF_TEXT`
#: characters): where ``FIRESTOP_ALERT_SOURCE_CHECK`` reads it back (:func:`firestop.alerts.source_refs.source_of`).
SOURCE_REF_KEYS = ("alertResourceId", "incidentId")
#: An Activity Log alert's event as delivered (``correlationId``, ``eventDataId``; with ``eventTimestamp``): where the
#: source check reads the event back from the Activity Log (:mod:`firestop.azure.activity_source`, verify13).
ACTIVITY_EVENT_KEYS = ("correlationId", "eventDataId")
LEAN_CONTEXT_KEYS = (*IDENTITY_CONTEXT_KEYS, "eventTimestamp", *ACTIVITY_EVENT_KEYS, "condition", *SOURCE_REF_KEYS)
_LEAN_KEYS = frozenset(LEAN_CONTEXT_KEYS)
_LEAN_TEXT_KEYS = (*IDENTITY_CONTEXT_KEYS, "eventTimestamp", *ACTIVITY_EVENT_KEYS)
_LEAN_LIST = 20
_CONDITION_ONLY = frozenset({"condition"})
_LEAN_TEXT = 256
_SOURCE_REF_TEXT = 1024


def lean_context(context: Any) -> dict[str, Any]:
    """The few values of a raw ``alertContext`` (or a source's normalised context) that intake reads once the
    context is dropped (:data:`LEAN_CONTEXT_KEYS`: strings of at most 256 characters — the :data:`SOURCE_REF_KEYS` ids
    1,024 —, ``providerAlertIds`` and
    ``condition.allOf[].metricName`` cut to 20): small values only, so a 256 KB context leaves nothing large alive."""
    if not isinstance(context, dict):
        return {}
    present = context.keys() & _LEAN_KEYS
    if not present:
        return {}  # (most common-schema contexts: none of these keys)
    lean: dict[str, Any] = {} if present == _CONDITION_ONLY else {  # (a metric alert's context: no text to keep)
        k: context[k] for k in _LEAN_TEXT_KEYS
        if k in present and isinstance(context[k], str) and len(context[k]) <= _LEAN_TEXT}
    ids = context["providerAlertIds"] if "providerAlertIds" in present else None
    if isinstance(ids, list):
        lean["providerAlertIds"] = [v for v in ids[:_LEAN_LIST] if isinstance(v, str) and len(v) <= _LEAN_TEXT]
    for k in SOURCE_REF_KEYS:
        if k in present and isinstance(context[k], str) and len(context[k]) <= _SOURCE_REF_TEXT:
            lean[k] = context[k]
    condition = context["condition"] if "condition" in present else None
    items = condition.get("allOf") if isinstance(condition, dict) else None
    if isinstance(items, list):
        names = [{"metricName": c["metricName"]} for c in items[:_LEAN_LIST]
                 if isinstance(c, dict) and isinstance(c.get("metricName"), str) and len(c["metricName"]) <= _LEAN_TEXT]
        if names:
            lean["condition"] = {"allOf": names}
    return lean


def _without_context(alert: Alert) -> Alert:
    """``alert`` with ``context`` cut to :func:`lean_context` (every other field as it is: nothing to validate
    again)."""
    return built(Alert, {**alert.__dict__, "context": lean_context(alert.context)})

"""mix24: the in-line paths of the webhook's parse answer what the functions they stand for answer — the window bound
read by ``fromisoformat`` (``normalize._utc_or_none`` against ``parse_utc_or_none``), the alert id checked in line in
``essentials_values`` (against ``_required_id``), the first target's resource type (against ``resource_type_of``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.alerts.essentials import _Refused, _required_id, check_essentials, essentials_values
from firestop.alerts.normalize import _utc_or_none, evaluation_window
from firestop.alerts.parse import parse_intake_alert
from firestop.alerts.times import parse_utc_or_none

_TIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                      timezones=st.one_of(st.none(), st.just(timezone.utc), st.timezones()))
_SPELLINGS = st.sampled_from(["iso", "z", "space", "7digits", "locale", "raw"])


def _spelled(when: datetime, how: str) -> object:
    text = when.isoformat()
    if how == "z" and when.tzinfo is not None and when.utcoffset() == timedelta(0):
        return text.replace("+00:00", "Z")
    if how == "space":
        return f"  {text}\t"
    if how == "7digits":
        return text[:19] + ".1234567" + text[26:] if when.microsecond else text[:19] + ".1234567Z"
    if how == "locale":
        return when.strftime("%m/%d/%Y %I:%M:%S %p")
    if how == "raw":
        return when
    return text


@settings(max_examples=400, deadline=None)
@given(_TIMES, _SPELLINGS)
def test_window_bound_as_parse_utc_or_none(when: datetime, how: str) -> None:
    value = _spelled(when, how)
    assert _utc_or_none(value) == parse_utc_or_none(value)
    got = _utc_or_none(value)
    assert got is None or got.tzinfo is not None


@pytest.mark.parametrize("value", ["", " ", "Z", "2025-04-15T18:17:12.851Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
                                   "2099-12-31T23:59:59.9999999Z", "2025-04-15T18:17:12+05:00", "2025-04-15", 0, 1.5,
                                   True, [], {}, "not a time", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_window_bound_edges(value: object) -> None:
    assert _utc_or_none(value) == parse_utc_or_none(value)
    assert evaluation_window({"condition": {"windowStartTime": value, "windowEndTime": value}}) == (
        parse_utc_or_none(value), parse_utc_or_none(value))


def _id_answer(value: object) -> object:
    try:
        return ("ok", _required_id(value))
    except ValueError as exc:
        return ("value", str(exc))
    except _Refused as exc:
        return ("refused", exc.kind, exc.msg)


_IDS = st.one_of(st.text(max_size=30), st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2003ab/\ud800", max_size=8),
                 st.none(), st.integers(), st.booleans())


@settings(max_examples=400, deadline=None)
@given(_IDS)
def test_alert_id_in_line_as_required_id(value: object) -> None:
    raw = {"alertId": value, "monitorCondition": "Fired", "firedDateTime": "2025-04-15T18:17:12.851Z"}
    expected = _id_answer(value)
    values = essentials_values(raw)
    if expected[0] == "ok":
        assert values is not None and values[0] == expected[1]
        assert check_essentials(raw)[0]["alert_id"] == expected[1]
    else:
        assert values is None  # the field-by-field check then names the problem, as before
        assert check_essentials(raw)[1]


@pytest.mark.parametrize("targets", [["/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"],
                                     ["/subscriptions/s"], ["/x/y"], ["/subscriptions/s/resourceGroups/rg/providers/" + "a" * 3000],
                                     []])
def test_resource_type_in_line(targets: list[str]) -> None:
    import json

    from firestop.alerts.normalize import resource_type_of

    body = {"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {
        "alertId": "/a/1", "monitorCondition": "Fired", "firedDateTime": "2025-04-15T18:17:12.851Z",
        "alertTargetIDs": targets, "targetResourceType": "Microsoft.Foo/Bars"}, "alertContext": {}}}
    alert = parse_intake_alert(json.dumps(body).encode())
    assert alert.resource_type == resource_type_of(alert.target_ids, "Microsoft.Foo/Bars")

"""mix24's parse fast paths (merged into rough12 9d3da36), attacked: every refusal of the slow path still holds on
both parses (``parse_alert`` and the webhook's ``parse_intake_alert``), and a fast path gives the slow path's value.
Held: no fix needed (tests/redteam14/README.md, "Tried and held")."""

from __future__ import annotations

import json

import pytest

from firestop.alerts import AlertPayloadError
from firestop.alerts.parse import parse_alert, parse_intake_alert
from firestop.settings import REPO_ROOT

BODY = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text(encoding="utf-8"))


def _with(**essentials) -> dict:
    body = json.loads(json.dumps(BODY))
    body["data"]["essentials"].update(essentials)
    return body


@pytest.mark.parametrize("alert_id", ["", "   ", "\t\n", "\u3000", "\ud800", "x\udfffy", 12, None, [], {"a": 1}, True])
@pytest.mark.parametrize("parse", [parse_alert, parse_intake_alert])
def test_every_alert_id_the_slow_path_refuses_is_refused(parse, alert_id):
    with pytest.raises(AlertPayloadError):
        parse(_with(alertId=alert_id))


@pytest.mark.parametrize("alert_id", ["  /subscriptions/x/providers/Microsoft.AlertsManagement/alerts/a  ", "a\x00b", "é-id"])
def test_an_accepted_alert_id_is_the_same_on_both_parses(alert_id):
    assert parse_alert(_with(alertId=alert_id)).alert_id == parse_intake_alert(_with(alertId=alert_id)).alert_id


@pytest.mark.parametrize("bound", ["1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00",
                                   "9999-12-31T23:59:59Z", "2026-11-29T02:59:00+05:00", "2026-11-29T02:59:00",
                                   "2026-W48-7T02:59:00Z", "not a time", "2026-11-29T02:59:00.1234567Z", 1764385140])
def test_window_bounds_are_what_the_slow_path_reads(bound):
    from firestop.alerts.times import parse_utc_or_none

    body = json.loads(json.dumps(BODY))
    body["data"]["alertContext"]["condition"]["windowStartTime"] = bound
    expected = parse_utc_or_none(bound)
    assert parse_alert(body).window_start == expected
    assert parse_intake_alert(body).window_start == expected

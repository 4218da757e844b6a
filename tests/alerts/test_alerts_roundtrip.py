"""Alert survives JSON (it is Durable orchestration input) and behaves as a value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from firestop.alerts import Alert, parse_alert

DATA = Path(__file__).resolve().parent / "data"
COMPLETE = sorted(
    str(p.relative_to(DATA)) for folder in ("common-schema", "test-actions") for p in (DATA / folder).glob("*.json")
)
FRAGMENTS = sorted(str(p.relative_to(DATA)) for p in (DATA / "context-fragments").glob("*.json"))


def _alerts(load, envelope):
    for rel in COMPLETE:
        yield rel, parse_alert(load(rel))
    for rel in FRAGMENTS:
        yield rel, parse_alert(envelope(load(rel)["alertContext"]))


def test_every_sample_round_trips_through_json(load, envelope) -> None:
    count = 0
    for rel, alert in _alerts(load, envelope):
        dumped = alert.model_dump(mode="json")
        text = json.dumps(dumped)  # must be plain JSON
        assert Alert.model_validate(dumped) == alert, rel
        assert Alert.model_validate(json.loads(text)) == alert, rel
        assert Alert.model_validate_json(alert.model_dump_json()) == alert, rel
        count += 1
    assert count == len(COMPLETE) + len(FRAGMENTS) > 20


def test_essentials_dump_uses_azure_names(load) -> None:
    alert = parse_alert(load("common-schema/metric-platform-static-resolved.json"))
    dumped = alert.model_dump(mode="json")
    assert dumped["essentials"]["alertRuleID"] == alert.rule_id
    assert dumped["essentials"]["firedDateTime"] == "2019-03-22T13:58:24.371321Z"
    assert dumped["fired_at"] == "2019-03-22T13:58:24.371321Z"
    assert dumped["context"] == load("common-schema/metric-platform-static-resolved.json")["data"]["alertContext"]


def test_unknown_essentials_keys_are_kept_through_round_trip(envelope) -> None:
    alert = parse_alert(envelope(newAzureField={"x": 1}, alertRuleId="/rule/b", alertRuleID="/rule/a"))
    assert alert.rule_id == "/rule/a"
    assert alert.essentials.model_extra == {"newAzureField": {"x": 1}, "alertRuleId": "/rule/b"}
    assert Alert.model_validate(alert.model_dump(mode="json")) == alert


def test_alert_is_frozen_and_hashable(envelope) -> None:
    alert = parse_alert(envelope())
    with pytest.raises(ValidationError):
        alert.alert_id = "other"  # type: ignore[misc]
    assert hash(alert) == hash(parse_alert(envelope()))
    assert len({alert, parse_alert(envelope())}) == 1


def test_alert_rejects_unknown_fields_and_bad_values(envelope) -> None:
    dumped = parse_alert(envelope()).model_dump(mode="json")
    with pytest.raises(ValidationError):
        Alert.model_validate({**dumped, "surprise": 1})
    with pytest.raises(ValidationError):
        Alert.model_validate({**dumped, "severity": 7})
    with pytest.raises(ValidationError):
        Alert.model_validate({**dumped, "monitor_condition": "Activated"})


def test_incident_key_is_deterministic_and_case_insensitive(envelope) -> None:
    alert_id = "/subscriptions/S/providers/Microsoft.AlertsManagement/alerts/ABC"
    a = parse_alert(envelope(alertId=alert_id))
    b = parse_alert(envelope(alertId=alert_id.lower(), monitorCondition="Resolved"))
    c = parse_alert(envelope(alertId=alert_id + "D"))
    assert a.incident_key == b.incident_key != c.incident_key
    assert a.incident_key == "inc-" + __import__("hashlib").sha256(alert_id.lower().encode()).hexdigest()[:16]
    assert a.dedupe_key == a.incident_key + "-fired"
    assert b.dedupe_key == b.incident_key + "-resolved" and b.is_resolved


def test_orchestration_input_dump_without_raw_parts_revalidates(load) -> None:
    """firestop.lifecycle.start dumps with exclude={"context", "essentials"}; the
    select-playbook activity rebuilds the Alert from that."""
    alert = parse_alert(load("test-actions/activity-log-administrative.json"))
    slim = alert.model_dump(mode="json", exclude={"context", "essentials"})
    rebuilt = Alert.model_validate(slim)
    assert rebuilt.essentials is None and rebuilt.context == {}
    assert rebuilt.model_dump(exclude={"context", "essentials"}) == alert.model_dump(exclude={"context", "essentials"})
    assert rebuilt.incident_key == alert.incident_key
    assert rebuilt.indicators == alert.indicators


def test_cached_typed_context_does_not_affect_equality_or_dump(load) -> None:
    a = parse_alert(load("test-actions/log-alert-v2.json"))
    b = parse_alert(load("test-actions/log-alert-v2.json"))
    assert a.typed_context.kind == "log_v2"
    assert a.typed_context is a.typed_context  # computed once
    assert a == b
    assert "typed_context" not in a.model_dump()

"""parse_alert builds the Alert and its Indicators without a second validation
(firestop.alerts.checked): what it builds must be exactly what validation gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from firestop.alerts import Alert, Indicators, parse_alert
from firestop.alerts.checked import built

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = sorted(str(p.relative_to(DATA)) for folder in ("common-schema", "test-actions", "context-fragments")
                 for p in (DATA / folder).glob("*.json"))


def _parsed(rel: str, load, envelope) -> Alert:
    body = load(rel)
    return parse_alert(envelope(body["alertContext"]) if rel.startswith("context-fragments") else body)


@pytest.mark.parametrize("rel", SAMPLES)
def test_parsed_alert_is_what_validation_gives(rel, load, envelope) -> None:
    alert = _parsed(rel, load, envelope)
    values = {name: getattr(alert, name) for name in Alert.model_fields}
    validated = Alert.model_validate(values)
    assert validated == alert
    for name in Alert.model_fields:  # same values and types, field for field (== alone is lenient on types)
        mine, theirs = getattr(alert, name), getattr(validated, name)
        assert (type(mine), mine) == (type(theirs), theirs), (rel, name)
    assert alert.model_fields_set == validated.model_fields_set
    assert alert.__pydantic_extra__ is None and alert.__pydantic_private__ is None
    assert alert.model_dump(mode="json") == validated.model_dump(mode="json")
    assert Indicators.model_validate(alert.indicators.model_dump()) == alert.indicators
    if alert.fired_at is not None:
        assert alert.fired_at.utcoffset().total_seconds() == 0
    with pytest.raises(Exception):  # still frozen
        alert.alert_id = "other"  # type: ignore[misc]


def test_built_needs_exactly_the_fields() -> None:
    with pytest.raises(ValueError, match="exactly its fields"):
        built(Indicators, {"caller_ips": ()})
    values = {name: () for name in Indicators.model_fields}
    assert built(Indicators, {**values, "caller_ips": ("203.0.113.7",)}) == Indicators(caller_ips=("203.0.113.7",))

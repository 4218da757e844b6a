"""``checked_essentials`` (the webhook's fast validation of ``data.essentials``) gives exactly what
``Essentials.model_validate`` gives — values and their types, fields set, extras, field order — or None
(the caller then validates with the model, which raises the errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firestop.alerts.essentials import Essentials, checked_essentials

ROOT = Path(__file__).resolve().parents[2]
BODIES = sorted([*(ROOT / "tests" / "alerts" / "data").glob("*/*.json"), *(ROOT / "examples" / "alerts").glob("*.json")])
ESSENTIALS = [e for e in (json.loads(p.read_text(encoding="utf-8")).get("data", {}) for p in BODIES)
              if isinstance(e, dict) and isinstance(e.get("essentials"), dict)]
ESSENTIALS = [d["essentials"] for d in ESSENTIALS]


def _same(fast: Essentials, raw: dict) -> None:
    model = Essentials.model_validate(raw)  # a fast result means the model accepts it too
    assert list(fast.__dict__) == list(model.__dict__)
    for name, value in model.__dict__.items():
        assert (type(fast.__dict__[name]), fast.__dict__[name]) == (type(value), value), name
    assert fast.__pydantic_fields_set__ == model.__pydantic_fields_set__
    assert fast.__pydantic_extra__ == model.__pydantic_extra__
    assert fast.__pydantic_private__ == model.__pydantic_private__
    assert fast == model
    assert fast.model_dump(mode="json") == model.model_dump(mode="json")
    with pytest.raises(Exception):  # frozen, as the model's
        fast.alert_id = "x"  # type: ignore[misc]


def test_corpus_essentials_take_the_fast_path_and_equal_the_model() -> None:
    assert len(ESSENTIALS) >= 15
    for raw in ESSENTIALS:
        fast = checked_essentials(raw)
        assert fast is not None
        _same(fast, raw)


KEYS = ["alertId", "alertRule", "alertRuleID", "alertRuleId", "severity", "signalType", "monitorCondition",
        "monitoringService", "alertTargetIDs", "alertTargetIds", "configurationItems", "originAlertId",
        "firedDateTime", "resolvedDateTime", "description", "essentialsVersion", "alertContextVersion",
        "targetResourceGroup", "targetResourceType", "investigationLink", "alert_id", "severity ", "x"]
VALUES = st.sampled_from([
    None, "", " ", "x", " id ", "Sev3", "sev 0", "Sev9", "4", 3, 5, 3.0, 2.5, True, False, "fired", " Resolved ",
    "Closed", [], ["/subscriptions/a"], ["/subscriptions/a", "/SUBSCRIPTIONS/A/"], ["/"], [" / "], [1], [None],
    "/subscriptions/b", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.1234567+01:00", "1999-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z", "3/22/2019 1:36:31 PM", "Wed, 21 Aug 2019 16:17:47 GMT", "not a time", {"a": 1},
    ["a", 1, 2.5, True, None], 1.0, 10**20,
])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4), st.sampled_from(ESSENTIALS))
def test_fuzzed_essentials_fast_result_equals_the_model(changes: dict, base: dict) -> None:
    raw = {**base, **changes}
    fast = checked_essentials(raw)
    if fast is not None:
        _same(fast, raw)


def test_fallbacks() -> None:
    base = dict(ESSENTIALS[0])
    assert checked_essentials({**base, "alertRuleID": "a", "alertRuleId": "b"}) is None  # two aliases
    assert checked_essentials({**base, "alertRule": 5}) is None  # a number the model coerces
    assert checked_essentials({**base, "severity": "Sev9"}) is None  # the model raises the error
    assert checked_essentials({k: v for k, v in base.items() if k != "alertId"}) is None
    assert checked_essentials([base]) is None  # type: ignore[arg-type]

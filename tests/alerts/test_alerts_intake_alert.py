"""The webhook's parse without pydantic (``parse_intake_alert`` → ``IntakeAlert``, the essentials checked by
``check_essentials``) is the model's parse (``parse_alert(keep_context=False)``, ``Essentials.model_validate``):
the same refusals (status, field, reason, fix) and the same values, on the corpus and on random bodies.

The references are the pydantic paths themselves, run beside the lean ones on each input: a pydantic upgrade that
changes what the model accepts or says fails here."""

from __future__ import annotations

import copy
import importlib.util
import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from firestop.alerts import Alert, AlertPayloadError, Indicators, parse_alert
from firestop.alerts.alert import INTAKE_FIELDS, IntakeAlert, alert_input_json
from firestop.alerts.essentials import Essentials, check_essentials
from firestop.alerts.parse import parse_intake_alert

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "alerts" / "data"
# --import-mode=importlib (pytest.ini): the fuzz test's corpus bases and mutations are loaded by path
_SPEC = importlib.util.spec_from_file_location("alerts_fuzz_cases", Path(__file__).with_name("test_alerts_fuzz.py"))
fuzz = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fuzz)

CORPUS = (sorted(DATA.rglob("*.json")) + sorted((ROOT / "examples" / "alerts").glob("*.json"))
          + sorted((ROOT / "tests" / "alerts" / "samples").rglob("*.json")))

_ALIASES = ["alertId", "alertRule", "alertRuleID", "alertRuleId", "severity", "signalType", "monitorCondition",
            "monitoringService", "alertTargetIDs", "alertTargetIds", "configurationItems", "originAlertId",
            "firedDateTime", "resolvedDateTime", "description", "essentialsVersion", "alertContextVersion",
            "targetResourceGroup", "targetResourceType", "investigationLink", "alert_id", "customKey"]
_VALID = {"alertId": "/subscriptions/a/providers/Microsoft.AlertsManagement/alerts/b", "monitorCondition": "Fired",
          "firedDateTime": "2025-04-15T18:17:12.851Z", "severity": "Sev1", "alertTargetIDs": ["/subscriptions/a"],
          "configurationItems": ["x"], "alertRule": "r", "signalType": "Log"}
_TRICKY = st.sampled_from(["", " ", "Sev3", "sev 4", "Sev9", "3", "Fired", " resolved ", "FIRED", "Closed",
                           "2025-04-15T18:17:12.851Z", "2019-03-22T13:58:24.3713213Z", "3/22/2019 1:36:31 PM",
                           "Wed, 21 Aug 2019 16:17:47 GMT", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z",
                           "2025-04-15T18:17:12+05:30", "/subscriptions/a", "/SUBSCRIPTIONS/A/", "/", " / ", "///",
                           "x\ud800", "é"])
_SCALARS = (st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=20) | _TRICKY)
_VALUES = _SCALARS | st.lists(_SCALARS, max_size=3) | st.dictionaries(st.text(max_size=6), _SCALARS, max_size=2)
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _model(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple]]:
    """What the model gives: its field values, or its errors as check_essentials lists them."""
    try:
        model = Essentials.model_validate(raw)
    except ValidationError as exc:
        return {}, [(tuple(e["loc"]), e["type"], e.get("input", ...), e["msg"])
                    for e in exc.errors(include_url=False, include_context=False)]
    return {name: model.__dict__[name] for name in Essentials.model_fields}, []


def _same_essentials(raw: dict[str, Any]) -> str:
    """check_essentials against the model for ``raw``; the outcome's kind."""
    values, problems = check_essentials(raw)
    expected_values, expected_problems = _model(raw)
    assert problems == expected_problems
    if problems:
        return f"{len(problems)} problem(s)"
    assert values.keys() == expected_values.keys()
    for name, value in values.items():  # same values and types (== alone is lenient: 1 == 1.0 == True)
        assert (type(value), value) == (type(expected_values[name]), expected_values[name]), name
    return "valid"


@PROPERTY
@given(st.dictionaries(st.sampled_from(_ALIASES), _VALUES, max_size=12))
def test_essentials_check_is_the_model_on_random_essentials(raw: dict[str, Any]) -> None:
    event(_same_essentials(raw))


@PROPERTY
@given(st.dictionaries(st.sampled_from(_ALIASES), _VALUES, max_size=3), st.sets(st.sampled_from(sorted(_VALID)), max_size=2))
def test_essentials_check_is_the_model_near_valid_essentials(changes: dict[str, Any], dropped: set[str]) -> None:
    """Valid essentials with a few fields changed or dropped: the one-step path and its fall-back both."""
    raw = {k: v for k, v in _VALID.items() if k not in dropped}
    raw.update(changes)
    event(_same_essentials(raw))


def test_essentials_check_of_every_corpus_essentials() -> None:
    checked = 0
    for path in CORPUS:
        body = json.loads(path.read_text(encoding="utf-8"))
        raw = body.get("data", {}).get("essentials") if isinstance(body.get("data"), dict) else None
        if isinstance(raw, dict):
            checked += _same_essentials(raw) == "valid"
    assert checked >= 18  # every complete common-schema sample of the corpus


def _outcome(parse, payload: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(payload)
    except AlertPayloadError as exc:
        return "refused", exc.as_dict()


def _same_alert(payload: Any) -> str:
    """``parse_intake_alert(payload)`` against ``parse_alert(payload, keep_context=False)``; the outcome's kind."""
    mine = _outcome(parse_intake_alert, copy.deepcopy(payload) if isinstance(payload, dict) else payload)
    theirs = _outcome(lambda p: parse_alert(p, keep_context=False), payload)
    assert mine[0] == theirs[0], (mine, theirs)
    if mine[0] == "refused":
        assert mine[1] == theirs[1]  # status, field, reason, fix, message (and position)
        return f"refused {mine[1]['status']}"
    intake, model = mine[1], theirs[1]
    assert type(intake) is IntakeAlert and isinstance(model, Alert)
    for name in INTAKE_FIELDS:  # same values and types, field for field
        assert (type(getattr(intake, name)), getattr(intake, name)) == (type(getattr(model, name)), getattr(model, name)), name
    assert alert_input_json(intake) == model.model_dump(mode="json", exclude={"context", "essentials"})
    assert intake.to_alert() == model.model_copy(update={"essentials": None})
    assert IntakeAlert.of(model) == intake
    assert _readings(intake) == _readings(model)
    return "accepted"


def _readings(alert: Any) -> list[tuple[str, Any]]:
    """What AlertReadings derives, each as ("ok", value) or ("raised", the exception's type): a reading that
    raises must raise alike on both paths (an alertId with a lone surrogate, once accepted by both and raising
    UnicodeEncodeError here, is now refused by both with a 422: RT9-01)."""
    out = []
    for read in (lambda a: a.incident_key, lambda a: a.dedupe_key, lambda a: a.routed_playbook,
                 lambda a: a.is_resolved, hash, lambda a: a.targets("/subscriptions/a")):
        try:
            out.append(("ok", read(alert)))
        except Exception as exc:  # noqa: BLE001 - compared, not hidden
            out.append(("raised", type(exc)))
    return out


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_corpus_body_parses_the_same(path: Path) -> None:
    raw = path.read_bytes()
    _same_alert(raw)
    _same_alert(raw.decode("utf-8"))


@PROPERTY
@given(st.sampled_from(range(len(fuzz.BASES))), st.data(), st.sampled_from(["dict", "str", "bytes"]))
def test_mutated_corpus_bodies_parse_the_same(index: int, data: st.DataObject, as_type: str) -> None:
    mutated = fuzz._mutate(copy.deepcopy(fuzz.BASES[index]), data)
    text = json.dumps(mutated)
    event(_same_alert(mutated if as_type == "dict" else text if as_type == "str" else text.encode()))


@PROPERTY
@given(st.dictionaries(st.sampled_from(_ALIASES), _VALUES, max_size=12), fuzz.json_values)
def test_random_essentials_in_an_envelope_parse_the_same(essentials: dict[str, Any], context: Any) -> None:
    body = {"schemaId": "azureMonitorCommonAlertSchema",
            "data": {"essentials": {**_VALID, **essentials}, "alertContext": context, "customProperties": None}}
    event(_same_alert(json.dumps(body).encode()))
    event(_same_alert(json.dumps({**body, "data": {**body["data"], "essentials": essentials}}).encode()))


@PROPERTY
@given(st.binary(max_size=120) | st.text(max_size=120))
def test_arbitrary_bodies_are_refused_the_same(payload: Any) -> None:
    _same_alert(payload)


def test_intake_alert_is_frozen_and_compares_by_value() -> None:
    raw = (ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes()
    alert = parse_intake_alert(raw)
    with pytest.raises(AttributeError):
        alert.alert_id = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del alert.alert_id
    with pytest.raises(AttributeError):
        alert.essentials  # noqa: B018 — the intake alert has none
    assert not hasattr(alert, "__dict__")  # slotted
    assert parse_intake_alert(raw) == alert and hash(parse_intake_alert(raw)) == hash(alert)
    other = json.loads(raw)
    other["data"]["essentials"]["alertId"] += "-2"
    assert parse_intake_alert(json.dumps(other)) != alert
    assert alert != parse_alert(raw, keep_context=False)  # a model is not an IntakeAlert (compare the values)
    assert alert != tuple(alert) and tuple(alert) != alert  # nor is a tuple of its values (a named tuple inside)
    assert pickle.loads(pickle.dumps(alert)) == alert and copy.deepcopy(alert) == alert


@pytest.mark.parametrize("moment", [
    datetime(2025, 4, 15, 18, 17, 12, tzinfo=timezone.utc),
    datetime(2025, 4, 15, 18, 17, 12, 851000, tzinfo=timezone.utc),
    datetime(2025, 4, 15, 18, 17, 12, 1, tzinfo=timezone(timedelta(0))),
    datetime(2025, 4, 15, 18, 17, 12, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2025, 4, 15, 18, 17, 12, tzinfo=timezone(timedelta(hours=-8))),
])
def test_input_json_writes_times_as_the_model(moment: datetime) -> None:
    raw = (ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes()
    values = {name: getattr(parse_intake_alert(raw), name) for name in INTAKE_FIELDS}
    values.update(fired_at=moment, resolved_at=moment, window_start=moment, window_end=None,
                  indicators=Indicators(caller_ips=("203.0.113.7",), truncated=("caller_ips",)))
    alert = IntakeAlert(values)
    assert alert_input_json(alert) == alert.to_alert().model_dump(mode="json", exclude={"context", "essentials"})

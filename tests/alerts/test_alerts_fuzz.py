"""Property: parse_alert returns an Alert or raises AlertPayloadError — never anything else.

Inputs are the corpus payloads (complete, legacy, fragments in envelopes) with
random structural mutations, plus random bytes and truncations. When an Alert
comes back it must also round-trip through JSON, give a typed context and
render.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from firestop.alerts import Alert, AlertPayloadError, parse_alert, render_alert_rows

DATA = Path(__file__).resolve().parent / "data"


def _bases() -> list[dict[str, Any]]:
    bases = []
    for folder in ("common-schema", "test-actions", "legacy"):
        for path in sorted((DATA / folder).glob("*.json")):
            bases.append(json.loads(path.read_text(encoding="utf-8")))
    template = json.loads((DATA / "test-actions" / "metric-static-threshold.json").read_text(encoding="utf-8"))
    services = ["Platform", "Log Analytics", "Log Alerts V2", "Activity Log - Administrative", "ServiceHealth",
                "Resource Health", "Simple Log Alert", "Prometheus", "CostAlerts", "SmartDetector", "Application Insights"]
    for i, path in enumerate(sorted((DATA / "context-fragments").glob("*.json"))):
        body = copy.deepcopy(template)
        body["data"]["alertContext"] = json.loads(path.read_text(encoding="utf-8"))["alertContext"]
        body["data"]["essentials"]["monitoringService"] = services[i % len(services)]
        bases.append(body)
    return bases


BASES = _bases()

json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
tricky_strings = st.sampled_from(
    ["", " ", "Sev3", "Sev9", "ActivityLog", "Fired", "resolved", "3/22/2019 1:36:31 PM", "2019-03-22T13:58:24.3713213Z",
     "/subscriptions/x", "/", "//", "[]", "{}", "['A/b']", "True", "null", "1.0", "0.0.0.0", "::1", "not json {"]
)
json_values = st.recursive(
    json_scalars | tricky_strings,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12) | tricky_strings, children, max_size=4),
    max_leaves=12,
)


# Values for the essentials' fields: their validators look at the top level only (a scalar of the right kind,
# a list of scalars, anything else rejected with 422), so one level of nesting reaches every branch; drawing a
# full recursive value for each of up to 13 keys made this the suite's slowest test (hypothesis generating,
# not the parser parsing).
shallow_values = (json_scalars | tricky_strings
                  | st.lists(json_scalars | tricky_strings, max_size=3)
                  | st.dictionaries(st.text(max_size=8) | tricky_strings, json_scalars | tricky_strings, max_size=3))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, prefix + (index,)))
    return out


def _mutate(body: dict[str, Any], data: st.DataObject) -> Any:
    root: Any = body
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = _paths(root)
        path = data.draw(st.sampled_from(paths), label="path")
        op = data.draw(st.sampled_from(["replace", "delete", "add", "stringify"]), label="op")
        if not path:
            if op == "replace":
                root = data.draw(json_values, label="new root")
            continue
        parent = root
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "replace":
            parent[last] = data.draw(json_values, label="value")
        elif op == "delete":
            del parent[last]
        elif op == "stringify":
            parent[last] = json.dumps(parent[last])
        elif op == "add" and isinstance(parent[last], dict):
            parent[last][data.draw(st.text(max_size=12) | tricky_strings, label="key")] = data.draw(json_values, label="value")
        elif op == "add" and isinstance(parent[last], list):
            parent[last].append(data.draw(json_values, label="item"))
    return root


def _check(payload: Any) -> None:
    try:
        alert = parse_alert(payload)
    except AlertPayloadError as err:
        event(f"rejected {err.http_status}")
        assert err.http_status in (400, 413, 422)
        assert err.field and err.reason and err.fix
        assert str(err) == f"{err.field}: {err.reason}. Fix: {err.fix}"
        for leak in ("Traceback", "errors.pydantic.dev", "validation error for", "Value error,"):
            assert leak not in str(err)
        return
    assert isinstance(alert, Alert)
    event(f"accepted {alert.typed_context.kind}")
    dumped = alert.model_dump(mode="json")
    json.dumps(dumped)
    assert Alert.model_validate(dumped) == alert
    assert Alert.model_validate(alert.model_dump(mode="json", exclude={"context", "essentials"})).incident_key == alert.incident_key
    assert alert.typed_context.raw == alert.context
    rows = render_alert_rows(alert)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in rows)
    assert alert.fired_at.tzinfo is not None


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.sampled_from(range(len(BASES))), st.data(), st.sampled_from(["dict", "str", "bytes"]))
def test_mutated_corpus_payloads(index: int, data: st.DataObject, as_type: str) -> None:
    mutated = _mutate(copy.deepcopy(BASES[index]), data)
    if as_type == "dict":
        _check(mutated)
    else:
        text = json.dumps(mutated)
        _check(text if as_type == "str" else text.encode())


@FUZZ
@given(st.sampled_from(range(len(BASES))), st.data())
def test_truncated_and_corrupted_bytes(index: int, data: st.DataObject) -> None:
    raw = json.dumps(BASES[index]).encode()
    cut = data.draw(st.integers(0, len(raw)), label="cut")
    noise = data.draw(st.binary(max_size=8), label="noise")
    at = data.draw(st.integers(0, cut), label="at")
    _check(raw[:at] + noise + raw[at:cut])


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_and_text(payload) -> None:
    _check(payload)


@FUZZ
@given(json_values)
def test_arbitrary_json_values(value) -> None:
    _check(json.dumps(value))
    if isinstance(value, dict):
        _check(value)


@FUZZ
@given(st.dictionaries(st.sampled_from(["alertId", "monitorCondition", "firedDateTime", "severity", "signalType",
                                        "alertTargetIDs", "configurationItems", "resolvedDateTime", "alertRuleID",
                                        "alertRuleId", "monitoringService", "description", "customKey"]), shallow_values),
       json_values, json_values)
def test_arbitrary_essentials_context_and_custom(essentials, context, custom) -> None:
    _check({"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": essentials, "alertContext": context, "customProperties": custom}})

"""A shipped playbook is built from its compiled, validated form without validating it again
(firestop/playbooks/trusted.py, compiled.py): the same playbook as validation gives — every class, value and
behaviour — and no playbook model's validator is built on ``alert handle``'s path; anything else is validated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional, Union

import orjson
import pytest
import yaml
from pydantic import BaseModel, ValidationError

from firestop.alerts import parse_alert
from firestop.playbooks import compiled, loader, select_playbook, trusted
from firestop.playbooks.compiled import SHIPPED_DIR
from firestop.playbooks.models import Parallel, Playbook, Step

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*SHIPPED_DIR.glob("*.yaml"), *SHIPPED_DIR.glob("*.yml")])
ALERTS = sorted((REPO_ROOT / "examples" / "alerts").glob("*.json"))

#: a playbook using every kind of phase item and field the models have (aliases, tagged unions, optional models)
EVERYTHING = """\
name: everything
version: 2
priority: 7
severity: 1
page: [oncall-ai]
match: {rule_names: ["x*"], min_severity: 0, max_severity: 3, custom_properties: {team: ai}}
detect:
  scheduled_query_rules:
    - {name: q1, query: "AzureDiagnostics | summarize n = count()", failing_periods: {evaluations: 2, min_failing: 1}}
  activity_log_alerts:
    - {name: a1, operation_names: [Microsoft.CognitiveServices/accounts/listKeys/action], properties_contain_any: {requestbody: [x]}}
  metric_alerts:
    - {name: m1, metric: AzureOpenAIRequests, dimensions: [ApiName, {name: StatusCode, values: ["401"]}],
       dynamic: {sensitivity: Low}}
    - {name: m2, metric: AzureOpenAIRequests, threshold: 5}
analyze:
  - {id: snap, runbook: evidence.snapshot_logs, with: {lookback_minutes: 30}}
contain:
  - id: lock
    runbook: network.lock
    with: {mode: deny_by_default}
    retry: {max_attempts: 4, first_interval_seconds: 2}
    timeout: 600
    on_failure: rollback
    approval: {mode: required_if, condition: "alert.severity <= 1", approvers: [oid-a], timeout: 60, remind_every: 120,
               on_timeout: escalate, page: [oid-b], two_person: true}
  - parallel:
      - {id: rotate, runbook: keys.rotate, when: "steps.lock.ok", approval: {mode: auto}}
      - {id: unlock-early, undo: lock, when: "alert.severity > 2", approval: {mode: required}}
resolve:
  - {id: unlock, undo: lock, on_failure: abort}
"""


def _exact(a: Any, b: Any, where: str = "$") -> None:
    """``a`` and ``b`` are the same object graph: the same classes (``float`` is not ``int``), values, key order and
    ``model_fields_set``."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, BaseModel):
        assert a.model_fields_set == b.model_fields_set, (where, a.model_fields_set ^ b.model_fields_set)
        assert list(a.__dict__) == list(b.__dict__), where
        for key in a.__dict__:
            _exact(a.__dict__[key], b.__dict__[key], f"{where}.{key}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _exact(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _exact(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


def _behaviour(playbook: Playbook) -> dict[str, Any]:
    """What the incident reads of a playbook, as plain values."""
    steps = playbook.steps()
    return {
        "steps": [(type(s).__name__, s.id) for s in steps],
        "phases": {p: [s.id for s in playbook.steps(p)] for p in ("analyze", "contain", "resolve", "learn")},
        "groups": [[type(i).__name__ for i in getattr(playbook, p)] for p in ("analyze", "contain", "resolve", "learn")],
        "refs": {s.id: sorted(s.referenced_steps()) for s in steps},
        "retry": {s.id: [s.retry.interval(n) for n in range(1, 7)] for s in steps if isinstance(s, Step)},
        "approvals": {s.id: (s.approval.model_dump() if s.approval else None) for s in steps},
        "match_empty": playbook.match.empty,
        "rules": [(type(r).__name__, r.name) for r in playbook.detect.rules()],
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    loader._LOADED.clear()
    yield
    loader._LOADED.clear()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_playbook_is_built_as_validation_builds_it(path):
    raw = path.read_bytes()
    assert compiled.validated(raw) is not None, f"{path.name} has no validated form: run scripts/compile-playbooks"
    built = loader.load_playbook(path)
    validated = Playbook.model_validate(yaml.safe_load(raw.decode("utf-8")))
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert built.model_dump(mode="json", by_alias=True) == validated.model_dump(mode="json", by_alias=True)
    assert _behaviour(built) == _behaviour(validated)
    # what the incident orchestrator validated before: the activity's JSON of the playbook, exactly
    _exact(built, Playbook.model_validate(validated.model_dump(mode="json", by_alias=True)))
    assert loader.playbook_json(built) == validated.model_dump(mode="json", by_alias=True)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_playbook_passed_on_as_json_is_the_same_playbook(path):
    validated = Playbook.model_validate(yaml.safe_load(path.read_text("utf-8")))
    form = loader.playbook_json(loader.load_playbook(path))
    assert compiled.known_form(form) is not None
    _exact(loader.playbook_from_json(form), Playbook.model_validate(form))


def test_every_example_alert_routes_to_the_same_playbook(tmp_path, monkeypatch):
    built = [loader.load_playbook(p) for p in SHIPPED]
    validated = [Playbook.model_validate(yaml.safe_load(p.read_text("utf-8"))) for p in SHIPPED]
    for path in ALERTS:
        alert = parse_alert(path.read_bytes())
        for candidate in (alert, alert.model_copy(update={"custom_properties": {}})):
            one, why = select_playbook(candidate, built)
            other, because = select_playbook(candidate, validated)
            assert (one, why) == (other, because), path.name


def test_every_kind_of_field_is_built_as_validation_builds_it():
    """Beyond the shipped playbooks: undo steps in and out of parallel groups, aliased fields, optional models,
    a metric dimension beside a bare name, a dynamic threshold's default failing periods."""
    doc = yaml.safe_load(EVERYTHING)
    form = compiled.validated_form(doc)
    assert form is not None
    validated = Playbook.model_validate(doc)
    built = trusted.build(Playbook, orjson.loads(orjson.dumps(form)))
    assert built == validated
    assert _behaviour(built) == _behaviour(validated)
    assert isinstance(built.contain[1], Parallel)
    _exact(built, Playbook.model_validate(form))


def test_the_built_playbook_owns_its_values():
    path = SHIPPED_DIR / "leaked-api-key.yaml"
    first = loader.load_playbook(path)
    loader._LOADED.clear()
    first.match.rule_names.append("changed")
    assert "changed" not in loader.load_playbook(path).match.rule_names
    form = loader.playbook_json(first)
    form["name"] = "changed"
    assert loader.playbook_json(first)["name"] == first.name


@pytest.mark.parametrize("change", ["priority", "float", "order", "extra", "runbook"])
def test_json_that_is_not_exactly_a_compiled_form_is_validated(change):
    """A pinned playbook or an activity's result that differs in anything — a value, a type, the key order, a key —
    is validated as before, errors and all."""
    form = loader.playbook_json(loader.load_playbook(SHIPPED_DIR / "leaked-api-key.yaml"))
    step = form["contain"][0]["parallel"][0]
    if change == "priority":
        form["priority"] = 11
    elif change == "float":
        step["retry"]["max_attempts"] = 4.0
    elif change == "order":
        form = dict(reversed(list(form.items())))
    elif change == "extra":
        form["surplus"] = True
    else:
        step["runbook"] = "no.such"
    assert compiled.known_form(form) is None
    if change in ("extra", "runbook"):
        with pytest.raises(ValidationError):
            loader.playbook_from_json(form)
    else:
        _exact(loader.playbook_from_json(form), Playbook.model_validate(form))


def test_a_document_that_does_not_validate_is_compiled_without_a_validated_form(tmp_path):
    """Its YAML document is still compiled (no YAML parser), and the loader validates it: the same errors."""
    (tmp_path / "bad.yaml").write_text("name: bad\ncontain:\n  - id: a\n    runbook: network.lock\n    with: {mode: wide_open}\n")
    (tmp_path / "empty.yaml").write_text("name: empty\nmatch: {rule_names: [x]}\n")  # no step: the loader refuses it
    (tmp_path / "good.yaml").write_text("name: good\ncontain:\n  - id: a\n    runbook: network.lock\n")
    table = compiled.compile_folder(tmp_path)
    by_name = {entry["document"]["name"]: entry for entry in table.values()}
    assert set(by_name) == {"bad", "empty", "good"}
    assert "playbook" not in by_name["bad"] and "playbook" not in by_name["empty"]
    assert by_name["good"]["playbook"] == Playbook.model_validate(by_name["good"]["document"]).model_dump(mode="json", by_alias=True)


def test_a_union_that_cannot_be_told_apart_is_refused_when_planned():
    class A(BaseModel):
        a: int = 0

    class B(BaseModel):
        b: int = 0

    class Ambiguous(BaseModel):
        x: Union[A, B]

    class Mixed(BaseModel):
        y: Optional[Union[A, dict]] = None

    for cls in (Ambiguous, Mixed):
        with pytest.raises(TypeError, match="discriminator"):
            trusted.build(cls, {})


def test_alert_handle_builds_no_playbook_validator(tmp_path):
    """In a fresh interpreter, routing the example alert through every shipped playbook, passing the chosen one on as
    JSON and reading it back (what ``alert handle`` does) leaves every playbook and detection model unbuilt."""
    code = """
import json, sys
from pathlib import Path
from pydantic import BaseModel
from firestop.alerts import parse_alert
from firestop.playbooks import loader, models, detect
alert = parse_alert(Path("examples/alerts/leaked-key.json").read_bytes())
assert loader.routing_blocked(alert, Path("playbooks")) is None
playbook, _, errors = loader.route_playbook(alert, Path("playbooks"))
assert playbook is not None and not errors
again = loader.playbook_from_json(json.loads(json.dumps(loader.playbook_json(playbook))))
assert again == playbook
models.Step.internal("file-record", "records.file", {"record": {}})
built = sorted(c.__name__ for m in (models, detect) for c in vars(m).values()
               if isinstance(c, type) and issubclass(c, BaseModel) and c.__module__ == m.__name__
               and c.__dict__.get("__pydantic_complete__"))
print(json.dumps(built))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FIRESTOP_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == []

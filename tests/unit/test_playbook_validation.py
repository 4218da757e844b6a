"""Each kind of playbook mistake gets its own precise message; nothing crashes the validator."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.playbooks import PlaybookError, load_playbook
from firestop.settings import REPO_ROOT

BASE = {"name": "p", "match": {"rule_names": ["r"]}}

CASES = [
    ({"contain": [{"id": "a", "runbook": "nope.nope"}]}, "contain.0.runbook", "unknown runbook 'nope.nope'"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "with": {"mode": "open"}}]}, "contain.0", "with.mode"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "with": {"colour": 1}}]}, "contain.0", "with.colour: Extra inputs are not permitted"),
    ({"contian": []}, "contian", "Extra inputs are not permitted"),
    # new user 13: the field was named, the fix was not (which keys the format has)
    ({"contian": []}, "contian", "'contian' is not a field here (a typo?); the format: python -m firestop playbook schema"),
    ({"match": {"rule_name": ["r"]}}, "match.rule_name", "the format: python -m firestop playbook schema"),
    ({"name": "Leaked Key"}, "name", "not a valid name"),
    ({"contain": [{"id": "a", "runbook": "keys.rotate"}, {"id": "a", "runbook": "network.lock"}]}, "", "step id 'a' is used twice"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "when": "steps.b.ok"}, {"id": "b", "runbook": "keys.rotate"}]}, "", "reads steps.b, which does not run before it"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "when": "alert.severity <="}]}, "contain.0.when", "expected a value at the end"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "when": "secrets.key1 == 1"}]}, "contain.0.when", "unknown name 'secrets'"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "approval": {"mode": "required_if"}}]}, "contain.0.approval", "needs a condition"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "approval": {"mode": "required", "condition": "true"}}]}, "contain.0.approval", "only used with mode required_if"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "approval": {"on_timeout": "later"}}]}, "contain.0.approval.on_timeout", "'abort', 'proceed' or 'escalate'"),
    ({"match": {"min_severity": 3, "max_severity": 1}}, "match", "min_severity 3 is above max_severity 1"),
    ({"contain": [{"parallel": []}]}, "contain.0.parallel", "at least 1 item"),
    ({"contain": [{"id": "a", "runbook": "network.lock", "retry": {"max_attempts": 0}}]}, "contain.0.retry.max_attempts", "greater than or equal to 1"),
    ({"resolve": [{"id": "u", "undo": "missing"}]}, "", "reads steps.missing"),
]


@pytest.mark.parametrize(("change", "field", "message"), CASES)
def test_each_mistake_has_its_own_message(tmp_path, change, field, message):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**BASE, **change}, sort_keys=False))
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    problems = info.value.problems
    assert any(f == field and message in m for _, f, m in problems), problems
    assert all(line is not None for line, _, _ in problems)


def test_templates_may_fill_required_parameters(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**BASE, "contain": [{"id": "a", "runbook": "network.lock", "with": {"mode": "${{ alert.custom_properties.mode }}"}}]}))
    assert load_playbook(path).contain[0].with_["mode"].startswith("${{")


@pytest.mark.parametrize("text", ["name: empty\nmatch: {}\n", "name: empty\nmatch: {}\ncontain: []\nlearn: []\n"])
def test_a_playbook_without_steps_is_refused_naming_the_field(tmp_path, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["playbook", "validate", str(path)])
    assert result.exit_code == 2 and "contain: the playbook has no steps" in result.output, result.output


def test_cli_validate_reports_file_line_field_and_exit_code(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: p\ncontain:\n  - id: a\n    runbook: keys.rotat\n")
    result = CliRunner().invoke(app, ["playbook", "validate", str(bad), str(REPO_ROOT / "playbooks")])
    assert result.exit_code == 2
    assert f"{bad}:4: contain.0.runbook: unknown runbook 'keys.rotat'" in result.output
    ok = CliRunner().invoke(app, ["playbook", "validate", str(REPO_ROOT / "playbooks"), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["valid"] is True


def test_cli_validate_names_a_problem_without_a_line_as_file_colon_field(tmp_path):
    """A problem no line can be pinned on (two files with one name) reads ``FILE: field: message`` (new user 10: it
    read ``FILE:?: …``, which editors and CI annotators take for a line number)."""
    for stem in ("one", "two"):
        (tmp_path / f"{stem}.yaml").write_text("name: same\ncontain:\n  - id: a\n    runbook: keys.rotate\n")
    result = CliRunner().invoke(app, ["playbook", "validate", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'two.yaml'}: name: 'same' is also the name of" in result.output, result.output
    assert ":?:" not in result.output


def test_cli_schema_and_list():
    runner = CliRunner()
    schema = json.loads(runner.invoke(app, ["playbook", "schema"]).stdout)
    assert schema["title"] == "Firestop playbook" and "contain" in schema["properties"]
    listed = json.loads(runner.invoke(app, ["playbook", "list", "--json"]).stdout)
    leaked = next(p for p in listed if p["name"] == "leaked-api-key")
    assert "keys.rotate" in leaked["steps"]["contain"] and leaked["routes_with"] == "firestop-playbook: leaked-api-key"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 20) | st.sampled_from(["a", "keys.rotate", "network.lock", "required_if", "x-y", "${{ alert.severity }}", "alert.severity <= 1", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "id", "runbook", "with", "when", "contain", "resolve", "parallel", "approval", "mode", "condition", "match", "rule_names", "retry", "undo", "timeout", "on_failure", "max_severity"]),
        children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=json_values)
def test_generated_playbooks_never_crash_the_validator(tmp_path, doc):
    path = tmp_path / "gen.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        load_playbook(path)
    except PlaybookError as exc:
        assert exc.problems and all(isinstance(m, str) and m for _, _, m in exc.problems)


@pytest.mark.parametrize("command", [("playbook", "validate"), ("tabletop", "run")])
def test_an_alert_payload_given_for_a_playbook_or_scenario_is_named_as_one(command, firestop_home):
    """newuser16: ``playbook validate examples/alerts/leaked-key.json`` (and ``tabletop run`` of it) answered
    "name: Field required" and "schemaId: Extra inputs are not permitted: 'schemaId' is not a field here (a typo?)" —
    a typo hunt for a file that is not a playbook at all. One line says what the file is and what takes it."""
    alert = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
    result = CliRunner().invoke(app, [*command, str(alert)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "is an alert payload (Common Alert Schema: schemaId, data)" in text, text
    assert "python -m firestop alert handle" in text and "a typo?" not in text, text

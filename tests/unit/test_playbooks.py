"""Playbook format: loading, precise validation errors, routing."""

from pathlib import Path

import pytest

from firestop.alerts import parse_alert
from firestop.playbooks import PlaybookError, load_playbook, load_playbooks, select_playbook
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_playbooks_load():
    names = [p.name for p in load_playbooks(REPO_ROOT / "playbooks")]
    assert "leaked-api-key" in names


def test_unknown_runbook_is_reported_with_line_and_field(tmp_path):
    path = write(
        tmp_path,
        "name: x\nmatch:\n  rule_names: [a]\ncontain:\n  - id: s1\n    runbook: keys.rotat\n",
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    (line, field, message), = info.value.problems
    assert line == 6
    assert field == "contain.0.runbook"
    assert "unknown runbook 'keys.rotat'" in message and "keys.rotate" in message


def test_bad_runbook_parameter_is_named(tmp_path):
    path = write(
        tmp_path,
        "name: x\ncontain:\n  - id: lock\n    runbook: network.lock\n    with: {mode: sideways}\n",
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    text = str(info.value)
    assert "with.mode" in text and "network.lock" in text


def test_duplicate_step_ids_rejected(tmp_path):
    path = write(
        tmp_path,
        "name: x\ncontain:\n  - id: a\n    runbook: keys.rotate\n  - parallel:\n      - id: a\n        runbook: network.lock\n",
    )
    with pytest.raises(PlaybookError, match="step id 'a' is used twice"):
        load_playbook(path)


def test_unknown_top_level_field_and_bad_yaml(tmp_path):
    with pytest.raises(PlaybookError) as info:
        load_playbook(write(tmp_path, "name: x\nstpes: []\n"))
    assert info.value.problems[0][1] == "stpes" and info.value.problems[0][0] == 2
    with pytest.raises(PlaybookError, match="not valid YAML"):
        load_playbook(write(tmp_path, "name: [x\n", "b.yaml"))


def test_routing_by_custom_property_and_by_match():
    playbooks = load_playbooks(REPO_ROOT / "playbooks")
    alert = parse_alert(EXAMPLE.read_bytes())
    chosen, reason = select_playbook(alert, playbooks)
    assert chosen is not None and chosen.name == "leaked-api-key"
    assert "custom property" in reason

    data = EXAMPLE.read_text().replace('"firestop-playbook": "leaked-api-key"', '"owner": "secops"')
    by_rule, reason = select_playbook(parse_alert(data), playbooks)
    assert by_rule is not None and by_rule.name == "leaked-api-key" and "matched" in reason

    data = EXAMPLE.read_text().replace('"firestop-playbook": "leaked-api-key"', '"firestop-playbook": "nope"')
    none, reason = select_playbook(parse_alert(data), playbooks)
    assert none is None and "nope" in reason


def test_no_match_for_other_resource_types():
    playbooks = load_playbooks(REPO_ROOT / "playbooks")
    data = (
        EXAMPLE.read_text()
        .replace('"firestop-playbook": "leaked-api-key"', '"a": "b"')
        .replace("microsoft.cognitiveservices/accounts/contoso-openai-prod", "microsoft.compute/virtualmachines/vm1")
    )
    chosen, reason = select_playbook(parse_alert(data), playbooks)
    assert chosen is None and "no playbook" in reason


def test_expressions_three_valued_logic_and_null_tests():
    from firestop.playbooks.expressions import condition, render

    scope = {"alert": {"severity": 1, "custom_properties": {}, "indicators": {"caller_ips": ["203.0.113.7"]}}, "steps": {}}
    assert condition("alert.custom_properties.firestop-nsg == null", scope) is True
    assert condition("alert.custom_properties.firestop-nsg != null", scope) is False
    assert condition("alert.custom_properties.owner == 'x'", scope) is None  # unknown, not false
    assert condition("alert.custom_properties.owner == 'x' or alert.severity <= 1", scope) is True
    assert condition("alert.custom_properties.owner == 'x' and alert.severity > 3", scope) is False
    assert condition("not (alert.severity in [0, 1])", scope) is False
    assert render("${{ alert.indicators.caller_ips.0 }}", scope) == "203.0.113.7"
    assert render("${{ alert.indicators.caller_ips }}", scope) == ["203.0.113.7"]
    assert render("ip ${{ alert.nothing }}!", scope) == "ip !"


def test_load_playbook_reuses_a_validated_file_only_while_its_content_is_the_same(tmp_path):
    import shutil

    from firestop.playbooks.loader import PlaybookError, load_playbook
    from firestop.settings import REPO_ROOT

    path = tmp_path / "p.yaml"
    shutil.copyfile(REPO_ROOT / "playbooks" / "leaked-api-key.yaml", path)
    first = load_playbook(path)
    assert load_playbook(path) is first
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: leaked-api-key", "name: leaked-api-key-copy", 1), encoding="utf-8")
    assert load_playbook(path).name == "leaked-api-key-copy"
    path.write_text(text + "\nsurprise: 1\n", encoding="utf-8")
    with pytest.raises(PlaybookError):
        load_playbook(path)

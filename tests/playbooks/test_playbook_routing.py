"""Routing an alert reads every playbook by its runbooks' names and validates only the chosen one in full
(``route_playbook``, issue 18: start-up); it must choose what ``select_playbook`` over ``load_playbooks_lenient``
(every file validated in full) chooses, with the same reason, and name every broken file when nothing is chosen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from firestop.alerts import parse_alert
from firestop.playbooks import PlaybookError, load_playbook, load_playbooks_lenient, route_playbook, routing_blocked, select_playbook

REPO_ROOT = Path(__file__).resolve().parents[2]
LEAKED = REPO_ROOT / "playbooks" / "leaked-api-key.yaml"
ROUTED = parse_alert((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes())  # firestop-playbook: leaked-api-key
ALERT = ROUTED.model_copy(update={"custom_properties": {}})  # chosen by match (rule name, resource type)
BAD_PARAMS = ("          mode: deny_by_default", "          mode: wide_open")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _fallback(priority: int = 50, *, name: str = "leaked-fallback", rule: str = "*leaked*key*") -> str:
    return (f"name: {name}\npriority: {priority}\nmatch:\n  rule_names: [\"{rule}\"]\n"
            "contain:\n  - id: lock\n    runbook: network.lock\n    with: {mode: deny_by_default}\n")


def _full(folder: Path):
    playbooks, errors = load_playbooks_lenient(folder)
    playbook, reason = select_playbook(ALERT, playbooks)
    return playbook, reason, [str(e) for e in errors]


def _routed(folder: Path):
    playbook, reason, errors = route_playbook(ALERT, folder)
    return playbook, reason, [str(e) for e in errors]


@pytest.mark.parametrize("alert", [ROUTED, ALERT], ids=["by-property", "by-match"])
def test_shipped_playbooks_route_as_a_full_read_does(alert):
    folder = REPO_ROOT / "playbooks"
    playbook, reason, errors = route_playbook(alert, folder)
    full, full_errors = load_playbooks_lenient(folder)
    assert (playbook, reason) == select_playbook(alert, full) and errors == full_errors == []
    assert playbook.name == "leaked-api-key"


def test_a_chosen_playbook_with_invalid_parameters_is_an_error_and_the_next_match_wins(tmp_path):
    _write(tmp_path, "a-leaked.yaml", LEAKED.read_text().replace(*BAD_PARAMS))
    _write(tmp_path, "b-fallback.yaml", _fallback())
    playbook, reason, errors = _routed(tmp_path)
    assert (playbook, reason, errors) == _full(tmp_path)
    assert playbook.name == "leaked-fallback" and len(errors) == 1 and "a-leaked.yaml" in errors[0]
    assert "with.mode" in errors[0]


def test_nothing_chosen_names_every_broken_file_even_one_broken_only_in_its_parameters(tmp_path):
    _write(tmp_path, "a-leaked.yaml", LEAKED.read_text().replace(*BAD_PARAMS))
    _write(tmp_path, "b-other.yaml", _fallback(name="other", rule="nothing-fires-this").replace("deny_by_default", "nope"))
    _write(tmp_path, "c-broken.yaml", "name: [oops\n")
    playbook, reason, errors = _routed(tmp_path)
    assert (playbook, reason, errors) == _full(tmp_path)
    assert playbook is None and [e.split(":")[0] for e in errors] == [str(tmp_path / n) for n in ("a-leaked.yaml", "b-other.yaml", "c-broken.yaml")]
    assert "cannot be routed" in routing_blocked(ALERT, tmp_path) and "b-other.yaml" in routing_blocked(ALERT, tmp_path)


def test_a_file_not_chosen_is_checked_by_runbook_name(tmp_path):
    shutil.copy(LEAKED, tmp_path / "a-leaked.yaml")
    _write(tmp_path, "b-typo.yaml", _fallback(name="typo", rule="nothing").replace("network.lock", "network.lok"))
    playbook, _, errors = _routed(tmp_path)
    assert playbook.name == "leaked-api-key" and len(errors) == 1 and "unknown runbook 'network.lok'" in errors[0]
    assert _routed(tmp_path) == _full(tmp_path)


def test_files_sharing_a_name_count_as_a_full_read_counts_them(tmp_path):
    # the first file of the name fails only in its parameters, so the second one is the playbook of that name
    _write(tmp_path, "a-leaked.yaml", LEAKED.read_text().replace(*BAD_PARAMS))
    _write(tmp_path, "b-leaked.yaml", _fallback(name="leaked-api-key"))
    playbook, reason, errors = _routed(tmp_path)
    assert (playbook, reason, errors) == _full(tmp_path)
    assert playbook.name == "leaked-api-key" and playbook.priority == 50


def test_routing_by_custom_property_to_a_playbook_with_invalid_parameters_chooses_none(tmp_path):
    alert = ROUTED
    assert alert.routed_playbook == "leaked-api-key" and ALERT.routed_playbook is None
    _write(tmp_path, "a-leaked.yaml", LEAKED.read_text().replace(*BAD_PARAMS))
    _write(tmp_path, "b-fallback.yaml", _fallback())
    playbook, reason, errors = route_playbook(alert, tmp_path)
    full, full_errors = load_playbooks_lenient(tmp_path)
    assert (playbook, reason) == select_playbook(alert, full) and [str(e) for e in errors] == [str(e) for e in full_errors]
    assert playbook is None and "names no loaded playbook" in reason


def test_names_only_validation_is_never_taken_for_a_full_one(tmp_path):
    path = _write(tmp_path, "a-leaked.yaml", LEAKED.read_text().replace(*BAD_PARAMS))
    assert load_playbook(path, params=False).name == "leaked-api-key"
    with pytest.raises(PlaybookError, match="with.mode"):
        load_playbook(path)

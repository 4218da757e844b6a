"""The shipped playbooks' compiled documents (firestop/playbooks/compiled.py): equal to the YAML, used only for
the exact bytes they were compiled from, and the same playbook or the same errors as the YAML path."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import yaml

from firestop.playbooks import PlaybookError, compiled, loader
from firestop.playbooks.compiled import COMPILED_FILE, SHIPPED_DIR, compile_folder, render, same

SHIPPED = sorted([*SHIPPED_DIR.glob("*.yaml"), *SHIPPED_DIR.glob("*.yml")])


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test validates anew (the loader remembers playbooks by path and content)."""
    loader._LOADED.clear()
    yield
    loader._LOADED.clear()


def test_compiled_json_is_up_to_date_with_the_shipped_yaml():
    """Fails after a shipped playbook is edited until scripts/compile-playbooks is run (the loader meanwhile
    parses the edited file's YAML: nothing is wrong, only slower)."""
    assert COMPILED_FILE.read_bytes() == render(compile_folder()), "run scripts/compile-playbooks"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_playbook_is_compiled_to_what_pyyaml_reads(path):
    raw = path.read_bytes()
    doc = compiled.document(raw)
    assert doc is not None, f"{path.name} is not compiled"
    assert same(doc, yaml.safe_load(raw.decode("utf-8")))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_playbook_loads_the_same_without_its_compiled_form(path, monkeypatch):
    fast = loader.load_playbook(path)
    loader._LOADED.clear()
    monkeypatch.setattr(compiled, "document", lambda raw: None)
    assert loader.load_playbook(path) == fast


def test_the_documents_are_fresh_copies():
    raw = SHIPPED[0].read_bytes()
    first = compiled.document(raw)
    first["name"] = "changed"
    assert compiled.document(raw)["name"] != "changed"


def test_the_table_is_read_once_for_every_document(monkeypatch):
    """compiled.json is decoded once per process, not once per file routed (42 KB each time); every document is
    still its own fresh copy, equal to what PyYAML reads."""
    reads = []
    real = compiled._compiled_bytes
    monkeypatch.setattr(compiled, "_compiled_bytes", lambda: reads.append(1) or real())
    monkeypatch.setattr(compiled, "_table", None)
    docs = [compiled.document(path.read_bytes()) for path in SHIPPED * 2]
    assert len(reads) == 1
    for path, doc in zip(SHIPPED * 2, docs):
        assert same(doc, yaml.safe_load(path.read_text("utf-8")))
    assert docs[0] is not docs[len(SHIPPED)]


def test_a_changed_file_is_read_as_yaml(tmp_path):
    """One more byte (here a comment) is another hash: the file is parsed as YAML, edits and all."""
    source = SHIPPED_DIR / "leaked-api-key.yaml"
    edited = tmp_path / "leaked-api-key.yaml"
    text = source.read_text("utf-8").replace("priority: 10", "priority: 11", 1)
    assert text != source.read_text("utf-8")
    edited.write_text(text, "utf-8")
    assert compiled.document(edited.read_bytes()) is None
    assert loader.load_playbook(edited).priority == 11


def test_a_compiled_document_that_fails_validation_names_the_yaml_line(tmp_path, monkeypatch):
    """When a compiled document is refused (say a runbook's parameters changed under a shipped playbook) the
    problems are the YAML path's, line numbers included."""
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nversion: '1.0'\nmatch:\n  alert_rule: x\ncontain:\n  - id: a\n    runbook: no.such\n",
                    "utf-8")
    with pytest.raises(PlaybookError) as via_yaml:
        loader.load_playbook(path)
    loader._LOADED.clear()
    table = {hashlib.sha256(path.read_bytes()).hexdigest(): {"document": yaml.safe_load(path.read_text("utf-8"))}}
    monkeypatch.setattr(compiled, "_raw", render(table))
    monkeypatch.setattr(compiled, "_table", None)  # split the patched table
    assert compiled.document(path.read_bytes()) is not None
    with pytest.raises(PlaybookError) as via_compiled:
        loader.load_playbook(path)
    assert via_compiled.value.problems == via_yaml.value.problems
    assert any(line is not None for line, _, _ in via_compiled.value.problems)


def test_documents_that_json_would_change_are_not_compiled(tmp_path):
    (tmp_path / "dates.yaml").write_text("name: d\nwhen: 2026-01-01\n", "utf-8")  # a date: JSON has none
    (tmp_path / "keys.yaml").write_text("name: k\n1: one\n", "utf-8")  # a non-string key
    (tmp_path / "fine.yaml").write_text("name: f\nn: 1\nx: 1.0\nb: true\n", "utf-8")
    table = compile_folder(tmp_path)
    assert list(table) == [hashlib.sha256((tmp_path / "fine.yaml").read_bytes()).hexdigest()]


def test_same_tells_types_and_key_order_apart():
    assert same({"a": 1, "b": [1.0, True, None]}, {"a": 1, "b": [1.0, True, None]})
    assert not same({"a": 1}, {"a": 1.0})
    assert not same({"a": 1}, {"a": True})
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not same([1, 2], [1, 2, 3])


def test_a_folder_copied_elsewhere_uses_the_compiled_documents(tmp_path):
    """Keyed by content, not path: a copy of the shipped folder (FIRESTOP_PLAYBOOKS) is served the same way."""
    copy = tmp_path / "playbooks"
    shutil.copytree(SHIPPED_DIR, copy)
    for path in sorted(copy.glob("*.yaml")):
        assert compiled.document(path.read_bytes()) is not None
    assert [p.name for p in loader.load_playbooks(copy)] == [p.name for p in loader.load_playbooks(SHIPPED_DIR)]

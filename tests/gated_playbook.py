"""The shipped leaked-api-key playbook with one of its steps held for an approval, written for a test (tests/e2e's
approval, CLI and HTTP API tests, the console's browser test): the tests differ in the approval, not in the text edit."""

from __future__ import annotations

from pathlib import Path

from firestop.settings import REPO_ROOT


def gated_leaked_key(folder: Path, approval: str, *, step: str = "lock-network", edits: tuple[tuple[str, str], ...] = ()) -> Path:
    """Write ``folder/leaked-api-key.yaml``: the shipped playbook with ``approval: <approval>`` (a YAML flow mapping,
    e.g. ``{mode: required, approvers: [oid-alice], timeout: 900}``) on ``step``, then each ``(old, new)`` of ``edits``
    replaced once. Returns ``folder`` (created), for FIRESTOP_PLAYBOOKS. Raises AssertionError when the playbook has
    no such step or an edit's text."""
    text = (REPO_ROOT / "playbooks" / "leaked-api-key.yaml").read_text("utf-8")
    line = f"      - id: {step}\n"
    assert line in text, f"leaked-api-key has no step {step} in its parallel group"
    text = text.replace(line, f"{line}        approval: {approval}\n")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    folder.mkdir(parents=True)
    (folder / "leaked-api-key.yaml").write_text(text, "utf-8")
    return folder

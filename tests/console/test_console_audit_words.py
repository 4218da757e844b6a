"""The console's latest-audit line speaks the CLI's words, and its empty state names a command that runs."""
from __future__ import annotations

from firestop.console.pages import audit_section


def test_counts_are_words_not_enum_values():
    html = audit_section({"audit_id": "audit-20261129T031702Z-202a", "at": "2026-11-29T03:17:02+00:00",
                          "counts": {"pass": 15, "fail": 14, "not_evaluable": 0}, "new_drift": 0, "fixed": 0, "findings": []})
    assert "15 passed, 14 findings, 0 not evaluable" in html and "not_evaluable" not in html


def test_no_audit_yet_names_audit_run():
    assert "python -m firestop audit run" in audit_section(None)  # `firestop audit` alone only prints its help

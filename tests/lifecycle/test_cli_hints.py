"""The CLI commands handed to a person (firestop.lifecycle.cli_hints): the identity flags follow where the incident lives."""

from __future__ import annotations

from firestop.lifecycle.cli_hints import decide_command, identity_flags, undo_command


def test_flags_per_place():
    assert identity_flags(app_origin="https://fs.azurewebsites.net", sandbox=False) == "--app https://fs.azurewebsites.net"
    assert identity_flags(sandbox=False) == "--azure"
    assert identity_flags(sandbox=True) == identity_flags() == "--as <your object id>"
    assert undo_command("inc-1", app_origin="https://fs.azurewebsites.net") == "python -m firestop incident undo inc-1 --app https://fs.azurewebsites.net"
    assert undo_command("inc-1", sandbox=True) == "python -m firestop incident undo inc-1 --as <your object id>"


def test_decide_names_both_decisions_with_the_same_flags():
    assert decide_command("inc-1", "lock", sandbox=False) == (
        "python -m firestop incident approve inc-1 --step lock --azure   (or: incident reject inc-1 --step lock --azure)")

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


def test_a_sandbox_decide_hint_names_an_approver_to_simulate():
    """New-user trial: ``--as <your object id>`` named no one; on the sandbox it now names the step's first approver,
    else the demo table's approver (README: oid-alice); elsewhere the flags are unchanged."""
    from firestop.lifecycle.cli_hints import SANDBOX_DEMO_APPROVER, stop_command
    from firestop.trust.roles import SANDBOX_TABLE

    assert "approver" in SANDBOX_TABLE["principals"][SANDBOX_DEMO_APPROVER]
    assert decide_command("inc-1", "lock", sandbox=True).startswith(
        "python -m firestop incident approve inc-1 --step lock --as <your object id, e.g. oid-alice>")
    assert "--as <your object id, e.g. oid-carol>" in decide_command("inc-1", "lock", approvers=["oid-carol", "oid-alice"])
    assert "e.g." not in decide_command("inc-1", "lock", app_origin="https://fs.azurewebsites.net", approvers=["oid-carol"])
    assert stop_command("inc-1", sandbox=True) == "python -m firestop incident stop inc-1 --reason '<why>' --as <your object id>"

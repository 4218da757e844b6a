"""Undoing identity.revoke_role_assignment needs roleAssignments/write, which Firestop's role never holds.

Session 13's note: the undo preview of a revoked role assignment did not say that on Azure whoever undoes it must
hold User Access Administrator (or Owner) on the scope, and ``firestop permissions`` (which leaves
roleAssignments/write out of the role, rightly) did not say who then can undo it. Both now name the built-in roles
with their ids (:mod:`firestop.azure.builtin_roles`), and the preview names the restored roles by name too.
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from firestop.azure.builtin_roles import OWNER, USER_ACCESS_ADMINISTRATOR

ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
CHATBOT = "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"  # the sandbox seed's svc-chatbot service principal
NEEDS = (f"needs Microsoft.Authorization/roleAssignments/write on {ACCOUNT} (or a scope above it), which Firestop's role "
         f"never holds: whoever undoes it must hold User Access Administrator ({USER_ACCESS_ADMINISTRATOR}) or Owner "
         f"({OWNER}) there")


def _cli(*args, input=None):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_the_undo_preview_of_a_revoked_role_names_the_roles_that_may_restore_it(firestop_home):
    ran = _cli("runbook", "run", "identity.revoke_role_assignment", "--target", ACCOUNT, "--param", f"principal_id={CHATBOT}",
               "--yes")
    assert ran.exit_code == 0, ran.output
    run_id = re.search(r"runbook undo (manual-\S+)", ran.output).group(1)
    preview = _cli("runbook", "undo", run_id, input="n\n")
    said = " ".join(preview.output.split())
    assert preview.exit_code == 2 and "would undo identity.revoke_role_assignment" in said, said
    assert NEEDS in said
    assert "Cognitive Services OpenAI User (5e0bd9bd-7b93-4f28-af87-19fc36ad61bd) held by ServicePrincipal" in said


def test_the_incident_undo_preview_says_it_too(monkeypatch):
    import io

    from firestop.cli.incident_cmd import _undo_preview
    from firestop.cli.output import console

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))

    with console.capture() as captured, pytest.raises(typer.Exit) as asked:  # answered no: exit 2
        _undo_preview([{"step_id": "revoke-principal", "runbook": "identity.revoke_role_assignment", "target": ACCOUNT,
                        "before": {"assignments": [], "inherited": [], "principal_id": CHATBOT}, "changed": True}],
                      [], "the sandbox tenant")
    assert asked.value.exit_code == 2
    assert NEEDS in " ".join(captured.get().split())


def test_permissions_names_who_may_undo_what_the_role_leaves_out(firestop_main):
    done = firestop_main("permissions", "--sandbox")
    assert done.returncode == 0, done.stderr
    assert "roleAssignments/write" not in done.stdout  # never in the role
    said = " ".join(done.stderr.split())
    assert ("Not in this role: undoing identity.revoke_role_assignment on Azure needs "
            "Microsoft.Authorization/roleAssignments/write on the resource it acted on (or a scope above it)") in said
    assert f"User Access Administrator ({USER_ACCESS_ADMINISTRATOR}) or Owner ({OWNER})" in said

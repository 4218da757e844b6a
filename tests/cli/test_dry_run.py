"""``--dry-run`` on the commands that change the tenant: a 3 a.m. responder types it to see first.

``runbook run X --dry-run`` answered click's "No such option: --dry-run" (exit 2): the dry run was ``runbook plan``,
which a responder does not guess. ``runbook run``, ``runbook undo`` and ``incident undo`` now take ``--dry-run``:
the plan or the preview, nothing asked, nothing changed, exit 0 — with ``--json`` too (no ``--yes`` needed, as
nothing changes), and the command that does it printed last.
"""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from firestop.settings import REPO_ROOT

ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def _cli(*args, input=None):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def _acl_change(firestop_home) -> list:
    """network.lock's planned changes now (empty once the account is locked)."""
    plan = _cli("runbook", "plan", "network.lock", "--target", ACCOUNT, "--json")
    assert plan.exit_code == 0, plan.output
    return json.loads(plan.stdout)["result"]["changes"]


def test_runbook_run_and_undo_dry_run_change_nothing(firestop_home):
    dry = _cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--dry-run")
    said = " ".join(dry.output.split())
    assert dry.exit_code == 0, dry.output
    assert "Would change" in said and f"dry run: nothing was changed; to apply it: python -m firestop runbook run network.lock --target {ACCOUNT}" in said
    dry_json = _cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--dry-run", "--json")  # no --yes needed
    assert dry_json.exit_code == 0 and json.loads(dry_json.stdout)["action"] == "plan", dry_json.output
    assert _acl_change(firestop_home)  # still to do: nothing was applied

    ran = _cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes")
    assert ran.exit_code == 0, ran.output
    run_id = re.search(r"runbook undo (manual-\S+)", ran.output).group(1)
    assert not _acl_change(firestop_home)

    preview = _cli("runbook", "undo", run_id, "--dry-run")
    said = " ".join(preview.output.split())
    assert preview.exit_code == 0 and "would undo network.lock" in said and "Undo this" not in said, said
    assert said.endswith(f"dry run: nothing was changed; to do it: python -m firestop runbook undo {run_id}")
    as_json = _cli("runbook", "undo", run_id, "--dry-run", "--json")
    body = json.loads(as_json.stdout)
    assert as_json.exit_code == 0 and body["dry_run"] is True and body["runbook"] == "network.lock" and not body["release"]
    assert not _acl_change(firestop_home)  # still locked: nothing was undone
    assert _cli("runbook", "undo", run_id, "--yes").exit_code == 0  # and the undo itself is still to do
    assert _acl_change(firestop_home)


def test_incident_undo_dry_run_changes_nothing(firestop_home):
    handled = _cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json")
    incident = json.loads(handled.stdout)["incident_id"]
    assert not _acl_change(firestop_home)

    preview = _cli("incident", "undo", incident, "--as", "oid-bob", "--dry-run")
    said = " ".join(preview.output.split())
    assert preview.exit_code == 0 and "would undo lock-network" in said and "Undo " not in said, said
    assert said.endswith(f"dry run: nothing was changed; to do it: python -m firestop incident undo {incident} --as oid-bob")
    as_json = _cli("incident", "undo", incident, "--as", "oid-bob", "--dry-run", "--json")
    body = json.loads(as_json.stdout)
    assert as_json.exit_code == 0 and body["dry_run"] is True, as_json.output
    assert [a["step_id"] for a in body["actions"]] == ["lock-network"] and [s["step_id"] for s in body["stays"]] == ["rotate-keys"]
    assert not _acl_change(firestop_home)
    done = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert done.exit_code == 0 and [u["step_id"] for u in json.loads(done.stdout)["undone"]] == ["lock-network"], done.output

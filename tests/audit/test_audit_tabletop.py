"""A tabletop scenario's scorecard includes the checklist audit before and after the incident."""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT
from firestop.tabletop.runner import run_scenario


def test_public_network_exposure_scorecard_has_the_audit(tmp_path):
    card = run_scenario(REPO_ROOT / "tabletop" / "scenarios" / "public-network-exposure.yaml", home=tmp_path, run_id="run")
    assert card["result"] == "met"
    audit = card["audit"]
    assert audit["before"]["at"] < audit["after"]["at"]
    changed = {(c["control"], c["resource"]): (c["before"], c["after"]) for c in audit["changed"]}
    # the playbook closed the dev account and turned its key authentication off: the audit says so
    assert changed[("network.public-access", "contoso-openai-dev")] == ("finding", "pass")
    assert changed[("identity.local-auth", "contoso-openai-dev")] == ("finding", "pass")
    assert ("network.public-access", "contoso-openai-prod") not in changed  # prod was never touched
    markdown = open(card["files"]["markdown"], encoding="utf-8").read()
    assert "## Audit before and after" in markdown and "| Public network access off, or restricted to allowed networks | contoso-openai-dev | finding | pass |" in markdown
    requests = json.loads((tmp_path / "tabletop" / "run" / "requests.json").read_text())
    assert not any("PolicyInsights" in r["path"] or "Microsoft.KeyVault/vaults" in r["path"] for r in requests)  # audits read a copy

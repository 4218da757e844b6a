"""RT3-05 (fixed; regression test): deployment.content_filter moves a deployment to *any* existing RAI policy the alert names
(``firestop-rai-policy``; the deployment from the ModelDeploymentName dimension) — a weaker one included — and verifies it as "stricter content filter". A content-abuse
alert sent with the function key takes production's gpt-4o off the strict custom policy (Low thresholds + the
security team's blocklist) onto Microsoft.DefaultV2, with no approval, recorded as containment."""

from __future__ import annotations

import json
from pathlib import Path

from tests.redteam3.inprocess import firestop

ROOT = Path(__file__).parents[2]
PROD = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
        "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


_cli = firestop  # the CLI in this process (tests/redteam3/inprocess.py)


def test_a_content_abuse_alert_cannot_move_a_deployment_to_a_weaker_filter(tmp_path):
    home = tmp_path / "home"
    strict = _cli(home, "runbook", "run", "deployment.content_filter", "--target", PROD, "--param", "deployment=gpt-4o",
                  "--param", "policy=contoso-strict", "--yes", "--json")
    assert strict.returncode == 0, strict.stderr + strict.stdout
    alert = json.loads((ROOT / "examples/alerts/content-abuse.json").read_text())
    alert["data"]["essentials"]["alertId"] += "-rt3"
    # the rule names the deployment by its ModelDeploymentName dimension, the policy by a custom property
    alert["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"].append({"name": "ModelDeploymentName", "value": "gpt-4o"})
    alert["data"]["customProperties"].update({"firestop-rai-policy": "Microsoft.DefaultV2"})
    out = _cli(home, "alert", "handle", "-", "--json", stdin=json.dumps(alert))
    assert out.returncode in (0, 3), out.stderr
    incident = json.loads(out.stdout)
    step = next(a for a in incident.get("actions") or incident["timeline_so_far"]
                if (a.get("step_id") or a.get("step")) == "tighten-filter")
    assert not step.get("changed") and step.get("outcome", "failed") == "failed", step
    assert "weaker" in json.dumps(step) and "contoso-blocklist" in json.dumps(step), step
    shown = _cli(home, "runbook", "plan", "deployment.content_filter", "--target", PROD, "--param", "deployment=gpt-4o",
                 "--param", "policy=Microsoft.DefaultV2", "--json")  # a plan (dry-run) refuses it too
    assert shown.returncode == 2 and "contoso-strict" in shown.stdout + shown.stderr, shown.stdout + shown.stderr

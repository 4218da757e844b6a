"""RT3-01 (regression): an attacker-triggerable low-severity alert (a blocked jailbreak prompt) makes Firestop close
*every* open Sentinel incident whose entities name the account — incidents about other, unrelated attacks
included — as TruePositive "Contained by Firestop", owner Firestop. Detection suppression without any key. Fixed: only the incident holding this attack's alert is closed;
one merely naming the account gets at most a comment."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.redteam3.inprocess import firestop

ROOT = Path(__file__).parents[2]
PROD = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
        "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
WS = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
      "Microsoft.OperationalInsights/workspaces/law-contoso-sec")
OTHER = WS + "/providers/Microsoft.SecurityInsights/incidents/99999999-aaaa-4bbb-8ccc-dddddddddddd"


_cli = firestop  # the CLI in this process (tests/redteam3/inprocess.py)


def _seed_with_unrelated_incident(tmp_path: Path) -> Path:
    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    spec["sentinel"]["incidents"].append({
        "workspace": "law-contoso-sec", "name": OTHER.rsplit("/", 1)[-1], "number": 4300,
        "title": "Credential theft: account key used from an unknown country (needs a responder)",
        "severity": "High", "status": "New", "created": "2026-11-29T01:00:00Z",
        "alerts": [], "entities": [{"name": "x1", "kind": "AzureResource", "properties": {"resourceId": PROD}}]})
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_blocked_jailbreak_alert_does_not_close_an_unrelated_sentinel_incident(tmp_path):
    from firestop.azure.sentinel import SentinelClient
    from firestop.sandbox import Tenant

    home = tmp_path / "home"
    Tenant.open(home / "sandbox", seed=_seed_with_unrelated_incident(tmp_path)).save()
    out = _cli(home, "alert", "handle", str(ROOT / "examples/alerts/defender-jailbreak.json"), "--json")
    assert out.returncode == 0, out.stderr
    tenant = Tenant.open(home / "sandbox")
    props = SentinelClient(tenant.credential, transport=tenant.transport).get_incident(OTHER)["properties"]
    # the unrelated high-severity incident must stay open for a responder
    assert props["status"] == "New", (props["status"], props.get("classification"), props.get("owner"))
    # while the incident that holds this Defender alert (seeded #4211, providerAlertId) is closed
    own = OTHER.rsplit("/", 1)[0] + "/8d2f1c3e-4b5a-4c6d-9e7f-0a1b2c3d4e5f"
    assert SentinelClient(tenant.credential, transport=tenant.transport).get_incident(own)["properties"]["status"] == "Closed"

"""RT3-02 (regression): with only the alert sender's credential (the function key: POST /api/alerts or /api/events; here the
same parse + intake path through ``alert handle -``), a forged Defender/Sentinel payload makes Firestop
*resolve a different, real Defender alert* (any systemAlertId in the target's resource group — another alert
type, severity High) and *close any Sentinel incident by its ARM id* (entities never checked against the
target), as TruePositive, owner Firestop. The payload chose what Firestop writes back to; fixed: both are re-read from Azure and must belong to
the incident's target (and alert type) before anything is written."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from tests.redteam3.inprocess import firestop

ROOT = Path(__file__).parents[2]
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
PROD = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
WS = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.OperationalInsights/workspaces/law-contoso-sec"
OTHER_INCIDENT = WS + "/providers/Microsoft.SecurityInsights/incidents/99999999-aaaa-4bbb-8ccc-dddddddddddd"
OTHER_ALERT = "2516935104388888888_aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


_cli = firestop  # the CLI in this process (tests/redteam3/inprocess.py)


def _home(tmp_path: Path) -> Path:
    from firestop.sandbox import Tenant
    from firestop.sandbox.seed import read_seed_file

    spec = read_seed_file()
    # a real, unrelated, HIGH Defender alert on the same account (credential theft) — must stay Active
    theft = copy.deepcopy(spec["security"]["alerts"][0])
    theft.update(name=OTHER_ALERT, alert_type="AI.Azure_CredentialTheftAttempt", severity="High",
                 display_name="Credential theft attempt on an Azure OpenAI deployment")
    spec["security"]["alerts"].append(theft)
    # a real, unrelated Sentinel incident whose entities do not even name the account
    spec["sentinel"]["incidents"].append({
        "workspace": "law-contoso-sec", "name": OTHER_INCIDENT.rsplit("/", 1)[-1], "number": 4300,
        "title": "Suspicious sign-ins to the finance subscription", "severity": "High", "status": "New",
        "created": "2026-11-29T01:00:00Z", "alerts": [], "entities": []})
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(spec, sort_keys=False))
    home = tmp_path / "home"
    Tenant.open(home / "sandbox", seed=seed).save()
    return home


def test_forged_defender_alert_does_not_resolve_another_alert(tmp_path):
    from azure.mgmt.security import SecurityCenter
    from firestop.sandbox import Tenant

    home = _home(tmp_path)
    body = json.loads((ROOT / "examples/alerts/defender-jailbreak.json").read_text())
    body["properties"]["systemAlertId"] = body["name"] = OTHER_ALERT  # the victim alert's id; type stays "jailbreak"
    out = _cli(home, "alert", "handle", "-", "--json", stdin=json.dumps(body))
    assert out.returncode == 0, out.stderr
    resolve = next(a for a in json.loads(out.stdout)["actions"] if a["step_id"] == "resolve-defender-alert")
    # the credential-theft alert (High) must not be resolved by a jailbreak playbook: the step is refused
    assert resolve.get("ok") is False and not resolve.get("changed"), resolve
    tenant = Tenant.open(home / "sandbox")
    sc = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    assert sc.alerts.get_resource_group_level("rg-ai-prod", "westeurope", OTHER_ALERT).status == "Active"


def test_forged_sentinel_body_does_not_close_an_unrelated_incident(tmp_path):
    from firestop.azure.sentinel import SentinelClient
    from firestop.sandbox import Tenant

    home = _home(tmp_path)
    body = json.loads((ROOT / "examples/alerts/sentinel-incident-jailbreak.json").read_text())
    body["object"]["id"] = OTHER_INCIDENT
    body["object"]["name"] = OTHER_INCIDENT.rsplit("/", 1)[-1]
    out = _cli(home, "alert", "handle", "-", "--json", stdin=json.dumps(body))
    assert out.returncode == 0, out.stderr
    tenant = Tenant.open(home / "sandbox")
    props = SentinelClient(tenant.credential, transport=tenant.transport).get_incident(OTHER_INCIDENT)["properties"]
    assert props["status"] == "New", (props["status"], props.get("classification"), props.get("owner"))

"""verify12 item 1 (medium): an Azure Monitor alert's dimensions were believed once the alert was confirmed.

Attacker: anyone holding the alerts webhook key who knows a real alert id of the last 24 h and posts it first.
Alerts Management keeps no dimension values, so the genuine ``aoai-content-abuse`` alert (fired, held by Alerts
Management) re-posted with ``CallerIPAddress`` = 198.51.100.10 — inside the NSG's own ``allow-https-from-gateway``
198.51.100.0/24 — was confirmed, and ``block-caller`` denied the gateway at priority 100 with nobody approving
(PoC on 04bd7c9: confirmed, the deny rule written). Fixed: the rule's own query is re-run over the window that fired
(:mod:`firestop.azure.monitor_source`) and a split must hold the delivered dimensions above the threshold.
"""

from __future__ import annotations

import json

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery, timeline_of

RAW = (REPO_ROOT / "examples" / "alerts" / "content-abuse.json").read_bytes()
GATEWAY_IP = "198.51.100.10"
NSG = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
       "Microsoft.Network/networkSecurityGroups/nsg-ai-apps")


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _fire_genuine(env) -> None:
    fire_genuine(env, RAW)  # Azure Monitor fired it (and holds its rule)


def _run(env, body: dict, server, app) -> tuple[list, list]:
    incident = post_delivery(env, server, app, body)["id"]
    return confirm_checks(env, incident), timeline_of(env, incident)


def _deny_rules(env, ip: str) -> list[dict]:
    nsg = env.tenant.resource(NSG)
    return [r for r in (nsg.get("properties") or {}).get("securityRules") or []
            if (r.get("properties") or {}).get("access") == "Deny"
            and ip in json.dumps(r.get("properties") or {})]


def _with_dimension(name: str, value: str) -> dict:
    body = json.loads(RAW)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [{"name": name, "value": value}]
    return body


def test_the_real_alert_naming_the_gateway_ip_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    checks, _ = _run(env, _with_dimension("CallerIPAddress", GATEWAY_IP), server, app)
    assert checks and checks[0][0] == "not confirmed", checks
    assert "no split with the delivered dimensions" in checks[0][1], checks
    assert _deny_rules(env, GATEWAY_IP) == []  # the gateway is not blocked: block-caller waits for a responder


def test_the_real_alert_with_an_added_deployment_dimension_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    body = json.loads(RAW)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"].append(
        {"name": "ModelDeploymentName", "value": "text-embedding-3-large"})
    checks, _ = _run(env, body, server, app)
    assert checks and checks[0][0] == "not confirmed", checks


def test_the_genuine_alert_is_confirmed_and_its_caller_blocked(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    checks, _ = _run(env, json.loads(RAW), server, app)
    assert [c[0] for c in checks] == ["ok"], checks
    assert _deny_rules(env, "203.0.113.200")  # block-caller ran without an approval

"""RT14-02: a Defender alert confirmed at its source still acted on what the *delivery* said about it.

Attacker: anyone holding the alerts webhook key who knows a real Defender for AI alert on the account (its
systemAlertId, type, severity and time: a Sentinel comment, a portal screenshot, a ticket) and posts it before the
relay does — or a real alert whose genuine delivery never reaches Firestop. verify11's check compares resources,
alertType, severity, time and status, but the playbooks act on the indicators the delivery carries
(``ai-denial-of-wallet`` throttles ``indicators.deployments[0]`` with no approval; ``ai-risky-service-principal``
revokes ``indicators.principal_ids[0]``): the genuine denial-of-wallet alert on ``gpt-4o``, posted naming
``text-embedding-3-large``, was confirmed and throttled the other production deployment at once (and left the one
under attack alone). A Sentinel incident's entities were not compared either.

Fixed: the indicators a step can act on (caller IPs, principals, deployments, applications, end users, user agents)
must each be among the source's own — the Defender alert's entities and extended properties, the Sentinel incident's
entities (``Incidents_ListEntities``) — read the same way (:func:`firestop.alerts.sources.security_alert.indicators_of`).
"""

from __future__ import annotations

import copy
import json

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import ACCOUNT, post, served, what_intake_did# noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("check_on")

EXAMPLES = REPO_ROOT / "examples" / "alerts"
DOW = json.loads((EXAMPLES / "defender-denial-of-wallet.json").read_text(encoding="utf-8"))
RISKY = json.loads((EXAMPLES / "defender-risky-service-principal.json").read_text(encoding="utf-8"))
GPT4O = ACCOUNT + "/deployments/gpt-4o"
EMBEDDINGS = ACCOUNT + "/deployments/text-embedding-3-large"
SVC_CHATBOT = "7c1e4b2a-9d3f-4e6a-8b5c-2f0d1a3e4c5b"  # the production app's service principal (default tenant)


@pytest.fixture
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def start(served, body: dict) -> str:  # noqa: F811
    env, server, app = served
    response = post(app, server, json.dumps(body).encode())
    assert response.status_code == 202, response.get_body()
    return what_intake_did(response)["id"]


def test_the_real_dow_alert_naming_another_deployment_throttles_nothing(served):  # noqa: F811
    env, _, _ = served
    before = env.tenant.resource(EMBEDDINGS)
    body = copy.deepcopy(DOW)
    body["properties"]["extendedProperties"]["Deployment name"] = "text-embedding-3-large"
    incident_id = start(served, body)
    env.host.run_until_idle()
    status = env.host.get_status(incident_id)
    assert env.tenant.resource(EMBEDDINGS) == before, "the deployment the source never named was throttled"
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert "alert not confirmed at its source" in pending.get("why", ""), (status.runtime_status, pending)
    assert "deployments differ" in pending["why"], pending["why"]


def test_the_real_access_anomaly_naming_another_principal_is_not_confirmed(served):  # noqa: F811
    env, _, _ = served
    body = copy.deepcopy(RISKY)
    for entity in body["properties"]["entities"]:
        if entity.get("type") == "account":
            entity["aadUserId"] = SVC_CHATBOT
    incident_id = start(served, body)
    env.host.run_until_idle()
    checks = [e for e in (env.host.get_status(incident_id).custom_status or {}).get("timeline") or []
              if e.get("step") == "confirm alert at source"]
    status = env.host.get_status(incident_id)
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert "principal_ids differ" in pending.get("why", ""), (status.runtime_status, pending, checks)


def test_the_genuine_alerts_are_still_confirmed(served):  # noqa: F811
    env, _, _ = served
    before = env.tenant.resource(GPT4O)
    incident_id = start(served, DOW)
    env.host.run_until_idle(advance_timers=True)
    output = env.host.get_status(incident_id).output
    assert output["status"] == "contained", output.get("reason")
    assert env.tenant.resource(GPT4O) != before


def test_sentinel_compare_refuses_an_entity_the_incident_does_not_hold():
    from datetime import datetime, timezone

    from firestop.alerts import parse_alert
    from firestop.alerts.alert import alert_input_json
    from firestop.azure.security_source import compare_sentinel

    body = json.loads((EXAMPLES / "sentinel-incident-jailbreak.json").read_text(encoding="utf-8"))
    genuine = alert_input_json(parse_alert(json.dumps(body).encode()))
    incident = body.get("object") or body
    props = incident["properties"]
    entities = props.get("relatedEntities") or []
    alerts = props.get("alerts") or []
    now = datetime.fromisoformat(props["createdTimeUtc"].replace("Z", "+00:00")[:26] + "+00:00"
                                 if "+" not in props["createdTimeUtc"] else props["createdTimeUtc"]).astimezone(timezone.utc)
    assert compare_sentinel(genuine, incident, alerts, entities, now) is None
    forged_body = copy.deepcopy(body)
    forged_props = (forged_body.get("object") or forged_body)["properties"]
    forged_props["relatedEntities"] = [e for e in entities] + [{"kind": "Ip", "properties": {"address": "203.0.113.250"}}]
    forged = alert_input_json(parse_alert(json.dumps(forged_body).encode()))
    assert "203.0.113.250" in forged["indicators"]["caller_ips"]
    why = compare_sentinel(forged, incident, alerts, entities, now)
    assert why is not None and "caller_ips differ" in why, why

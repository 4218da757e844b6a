"""Issue 14's must-show: a Defender jailbreak alert on one deployment, the Sentinel incident holding it and a Policy
state change on the same account each lead to the right playbook and together make one incident; the Sentinel
incident gets its comments and is closed, the Defender alert resolved — through the real Functions (``/api/alerts``,
``/api/events``), the local durable host, and the real SDK clients (azure-mgmt-security, the Sentinel REST client)
on the sandbox.

Each signal is handled to the end before the next arrives (the hard case: the first incident has already ended)."""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT

from .test_intake_eventgrid import PROD, SUB, _policy_event, endpoint, intake_of  # noqa: F401  (fixture)
from tests.e2e.test_webhook import what_intake_did

EXAMPLES = REPO_ROOT / "examples" / "alerts"


def _record(env, incident: str) -> dict:
    from firestop.records.store import filed_record

    return filed_record(env.settings, incident)


def test_defender_alert_its_sentinel_incident_and_a_policy_change_make_one_incident(endpoint):
    env, call = endpoint
    defender = json.loads((EXAMPLES / "defender-jailbreak.json").read_text())
    first = call("post_alert", "alerts", defender)
    assert first.status_code == 202 and what_intake_did(first)["outcome"] == "started"
    incident = what_intake_did(first)["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    handled = _record(env, incident)
    assert handled["playbook"]["name"] == "ai-jailbreak" and handled["status"] == "resolved"  # blocked at source

    # the Sentinel incident holding that Defender alert arrives after the incident ended: recorded onto it
    sentinel_body = json.loads((EXAMPLES / "sentinel-incident-jailbreak.json").read_text())
    second = call("post_alert", "alerts", sentinel_body)
    assert second.status_code == 202 and what_intake_did(second)["outcome"] == "recorded", second.get_body()
    assert what_intake_did(second)["correlatedTo"] == incident

    # a Policy state change on the same account (Event Grid): its own playbook runs, as a part of the same incident
    policy = call("post_events", "events", [_policy_event("evt-attack-1", PROD)])
    accepted = intake_of(policy)
    assert policy.status_code == 200 and accepted[0]["outcome"] == "started"
    part = accepted[0]["incident"]
    assert part != incident
    env.host.run_until_idle(part, advance_timers=True)
    part_record = _record(env, part)
    assert part_record["playbook"]["name"] == "public-network-exposure" and part_record["part_of"] == incident
    assert any(a["runbook"] == "network.lock" and a["ok"] for a in part_record["actions"])  # its containment ran

    # one incident: every other incident is a part of it, and its record holds all three signals
    roots = [i.instance_id for i in env.host.list_instances()
             if i.name == "incident_orchestrator" and not (_record(env, i.instance_id) or {}).get("part_of")]
    assert roots == [incident]
    record = _record(env, incident)
    assert record["alert"]["alert_id"].startswith("Microsoft.Security/alerts/")
    after = {e["alert_id"]: e for e in record["correlated_after_close"]}
    sentinel_alert = [a for a in after if a.startswith("Microsoft.SecurityInsights/incidents/")]
    policy_alert = [a for a in after if a.startswith("Microsoft.EventGrid/events/")]
    assert len(sentinel_alert) == 1 and len(policy_alert) == 1 and record["correlated_count"] == 2
    system_alert_id = defender["properties"]["systemAlertId"].lower()
    assert after[sentinel_alert[0]]["links"] == [f"defender:{system_alert_id}"]  # identity link: the Defender alert it holds
    assert after[policy_alert[0]]["part"] == part and record["parts"][0]["incident_id"] == part
    assert [e["step"] for e in record["timeline"][-2:]] == ["alert joined after close", "part started"]
    from typer.testing import CliRunner

    from firestop.cli.main import app

    listed = CliRunner().invoke(app, ["incident", "list", "--json"])  # the responder's list names the part's incident
    assert listed.exit_code == 0, listed.output
    assert {r["incident_id"]: r["part_of"] for r in json.loads(listed.stdout)} == {incident: None, part: incident}

    # write-back through the real clients: the Sentinel incident has its comments and is Closed, the alert Resolved
    from azure.mgmt.security import SecurityCenter
    from firestop.azure.sentinel import SentinelClient

    si = SentinelClient(env.tenant.credential, transport=env.tenant.transport)
    sentinel_id = sentinel_body["object"]["id"]
    props = si.get_incident(sentinel_id)["properties"]
    assert (props["status"], props["classification"]) == ("Closed", "TruePositive")
    assert [c["name"] for c in si.list_comments(sentinel_id)] == [f"firestop-{incident}-{p}" for p in ("analyze", "contain", "close")]
    sc = SecurityCenter(env.tenant.credential, SUB, transport=env.tenant.transport)
    statuses = {a.alert_type: a.status for a in sc.alerts.list_by_resource_group("rg-ai-prod")}
    assert statuses["AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"] == "Resolved"


def test_a_decoy_of_another_route_only_adds_a_line_it_never_holds_the_containment(endpoint):
    """The red team's decoy, at intake level: the leaked-key alert after a public-network-exposure decoy on the same
    account starts its own incident (its own playbook at once), noted as a part of the decoy's incident."""
    env, call = endpoint
    decoy = json.loads((EXAMPLES / "public-network-exposure.json").read_text())
    decoy["data"]["essentials"]["alertTargetIDs"] = [PROD.lower()]
    decoy["data"]["customProperties"] = {"firestop-playbook": "public-network-exposure"}  # a playbook route: it can anchor
    started = what_intake_did(call("post_alert", "alerts", decoy))
    leak = call("post_alert", "alerts", json.loads((EXAMPLES / "leaked-key.json").read_text()))
    body = what_intake_did(leak)
    assert what_intake_did(leak)["outcome"] == "started" and "correlatedTo" not in body
    assert body["id"] != started["id"] and body["partOf"] == started["id"]
    env.host.run_until_idle(body["id"], advance_timers=True)
    record = _record(env, body["id"])
    assert record["playbook"]["name"] == "leaked-api-key" and record["status"] == "contained"
    assert any(a["runbook"] == "keys.rotate" and a["ok"] for a in record["actions"])


def test_graph_alert_created_is_fetched_by_id_through_msgraph_and_routes_like_its_defender_alert(endpoint):
    """Microsoft.Graph.AlertCreated (the docs' sample, with the sandbox's alert id): the alert is fetched through
    msgraph-sdk (GET /v1.0/security/alerts_v2/{id} on the sandbox), normalised, routed to ai-jailbreak; being the
    Defender alert itself (providerAlertId), the Defender REST delivery afterwards is a duplicate of it."""
    from pathlib import Path

    env, call = endpoint
    sample = json.loads((Path(__file__).parent / "samples" / "eventgrid" / "graph-alert-created.cloudevents.json").read_text())
    sample["data"]["resourceData"]["id"] = "da2516935104399999999_5f0c2e8a"
    answer = call("post_events", "events", sample, content_type="application/cloudevents+json")
    body = intake_of(answer)
    assert answer.status_code == 200 and body[0]["outcome"] == "started", body
    incident = body[0]["incident"]
    env.host.run_until_idle(incident, advance_timers=True)
    record = _record(env, incident)
    assert record["playbook"]["name"] == "ai-jailbreak"
    assert record["alert"]["alert_id"] == "Microsoft.Security/alerts/2516935104399999999_5f0c2e8a-3b1d-4c7e-9a6f-1d2e3f4a5b6c"
    assert record["alert"]["indicators"]["caller_ips"] == ["203.0.113.66"]  # only the fetched alert's evidence names it
    again = call("post_alert", "alerts", json.loads((EXAMPLES / "defender-jailbreak.json").read_text()))
    assert what_intake_did(again)["outcome"] == "duplicate" and what_intake_did(again)["id"] == incident
    missing = dict(sample, id="another-event")
    missing["data"] = {**sample["data"], "resourceData": {"id": "no-such-alert"}}
    refused = call("post_events", "events", [missing], content_type="application/cloudevents-batch+json")
    assert refused.status_code == 400 and json.loads(refused.get_body())["error"] == "events[0].data.resourceData.id"


def test_the_event_grid_example_files_parse():
    from firestop.alerts.sources.eventgrid import event_alert
    from firestop.intake.eventgrid import read_delivery

    folder = REPO_ROOT / "examples" / "events"
    for name, media, kinds in (("policy-noncompliant.eventgrid.json", "application/json", ["eventgrid:eventgrid"]),
                               ("jailbreak-attack.cloudevents.json", "application/cloudevents-batch+json",
                                ["eventgrid:cloudevents", "eventgrid:cloudevents"])):
        delivery = read_delivery((folder / name).read_bytes(), media)
        alerts = [event_alert(e, cloud_events=delivery.cloud_events) for e in delivery.events]
        assert [a.schema_id for a in alerts] == kinds and all(a.targets(PROD) or a.context.get("graphAlertId") for a in alerts)

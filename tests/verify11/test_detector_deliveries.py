"""verify11: what the sandbox's Defender for AI detector raises — and Sentinel makes an incident of — is confirmed at
its source: the workflow automation's REST alert and the automation rule's incident relay, parsed as the webhook parses
them, read back through azure-mgmt-security / the Sentinel ARM pipeline over the tenant's transport."""

from __future__ import annotations

import json
from datetime import timedelta

from firestop.alerts.parse import parse_intake_alert
from firestop.azure.clients import ClientFactory
from firestop.azure.security_source import confirm_defender, confirm_sentinel
from firestop.lifecycle.start import incident_input
from firestop.sandbox import Tenant
from firestop.sandbox.core.clock import parse_utc

APP = "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b"


def _relayed() -> tuple[Tenant, ClientFactory, dict]:
    tenant = Tenant.load()
    tenant.realtime_factor = 0.0
    tenant.clock.set(parse_utc("2026-11-29T04:00:00Z"))
    tenant.evaluate_alerts()  # the detector starts here
    tenant._state.doc["security"]["sentinel_relay"] = {"url": "https://relay.example/api/alerts", "delay": 5.0}  # noqa: SLF001
    start = tenant.clock.now()
    for i in range(3):
        tenant.data_plane_call(at=start + timedelta(seconds=10 * i), account="contoso-openai-prod", ip="203.0.113.66",
                               principal=APP, tag="attack", prompt_kind="credential_theft")
    notes = []
    for _ in range(30):
        tenant.clock.advance(10)
        notes.extend(tenant.evaluate_alerts())
    factory = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    by_schema = {}
    for note in notes:
        if note.kind == "defender":
            alert = parse_intake_alert(json.dumps(note.payload).encode())
            by_schema[alert.schema_id] = incident_input(alert, received_at=tenant.clock.now(), sandbox=True, source_check=True)
    return tenant, factory, by_schema


def test_the_detectors_alert_and_sentinels_incident_of_it_are_confirmed():
    tenant, factory, inputs = _relayed()
    assert set(inputs) == {"defender:rest", "sentinel:incident"}, inputs.keys()
    defender = inputs["defender:rest"]
    assert defender["source_check"] == "defender"
    found = confirm_defender(factory.security, defender["alert"], defender["source_ref"], tenant.clock.now())
    assert found == {"confirmed": True, "why": found["why"]} and "found at its source" in found["why"]
    incident = inputs["sentinel:incident"]
    assert incident["source_check"] == "sentinel"
    found = confirm_sentinel(factory.sentinel(), incident["alert"], incident["source_ref"], tenant.clock.now())
    assert found["confirmed"] is True, found


def test_a_day_later_the_same_deliveries_are_not_a_reason_to_contain():
    tenant, factory, inputs = _relayed()
    tenant.clock.advance(25 * 3600)
    defender, incident = inputs["defender:rest"], inputs["sentinel:incident"]
    assert "not within 24 h" in confirm_defender(factory.security, defender["alert"], defender["source_ref"], tenant.clock.now())["why"]
    assert "not within 24 h" in confirm_sentinel(factory.sentinel(), incident["alert"], incident["source_ref"], tenant.clock.now())["why"]

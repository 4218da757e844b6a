"""RT17-05 (attacker D — whoever writes a Microsoft Graph security alert's content: the author of a Microsoft Sentinel
analytics rule or a Defender XDR custom detection, whose alert title and entities come from the rule and the rows it
matched; medium): a Graph security alert from *any* provider was routed by its title or detector id and acted on with
no source check.

``POST /api/events`` fetches the alert a Graph ``AlertCreated`` event names (genuine at Graph) and normalises it
(:mod:`firestop.alerts.sources.graph`): the alert type is ``detectorId``, else the title, and playbooks match it by
their ``rule_names`` globs (``*leaked*key*``, ``*public-network*`` …) like any rule name. With
``FIRESTOP_ALERT_SOURCE_CHECK=on`` only Defender, Sentinel, Azure Monitor and Policy deliveries are checked
(:func:`firestop.alerts.source_refs.source_of`): a Graph alert has no check at all and contains at once. Graph
proves that *some* provider raised the alert, not that Defender for Cloud detected an attack on the account: an alert
of ``serviceSource`` ``microsoftSentinel`` titled "aoai-leaked-key-usage (triage)", with the production account as
its Azure resource evidence, rotated both production keys and locked the network, nobody approving.

PoC (main 2fcae0a): keys rotated, ``defaultAction`` Deny. Fixed: with the source check on, a Graph alert that Defender
for Cloud did not raise (``serviceSource`` ``microsoftDefenderForCloud`` with a ``providerAlertId``) is not confirmed
(source ``graph``, no check for it): nothing acts until a responder decides it genuine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401 (fixture)

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "eventgrid" / "graph-alert-created.cloudevents.json"
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
GRAPH_ID = "sn8f2c1d0e-5b7a-4c3d-9e1f-2a3b4c5d6e7f"


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _raise_in_graph(env, **fields) -> None:
    """The provider raises the alert: Graph holds it (as the sandbox's Graph room keeps alerts)."""
    from firestop.sandbox.graph.models import graph_state

    alert = {"id": GRAPH_ID, "providerAlertId": "8f2c1d0e-5b7a-4c3d-9e1f-2a3b4c5d6e7f", "serviceSource": "microsoftSentinel",
             "detectionSource": "scheduledAlerts", "title": "aoai-leaked-key-usage (triage)", "severity": "high",
             "status": "new", "createdDateTime": "2026-11-29T03:10:00Z", "firstActivityDateTime": "2026-11-29T03:00:00Z",
             "lastActivityDateTime": "2026-11-29T03:09:00Z",
             "evidence": [{"@odata.type": "#microsoft.graph.security.azureResourceEvidence", "resourceId": ACCOUNT}], **fields}
    with env.tenant._exclusive() as state:
        graph_state(state.doc)["alerts"][GRAPH_ID.lower()] = alert
        env.tenant._save_locked()


def _network(env) -> str | None:
    return ((env.tenant.resource(ACCOUNT).get("properties") or {}).get("networkAcls") or {}).get("defaultAction")


def test_a_graph_alert_another_provider_raised_does_not_contain_on_its_own(endpoint):  # noqa: F811
    env, call = endpoint
    _raise_in_graph(env)
    keys, network = env.tenant.issued_key_values(), _network(env)
    event = json.loads(SAMPLE.read_text())
    event["id"] = "ev-rt17-05"
    event["data"] = {**event["data"], "resourceData": {"id": GRAPH_ID}, "resource": f"security/alerts_v2/{GRAPH_ID}"}
    answer = call("post_events", "events", [event], content_type="application/cloudevents-batch+json")
    assert answer.status_code in (200, 202), answer.get_body()
    env.host.run_until_idle()
    assert env.tenant.issued_key_values() == keys, "the production keys were rotated"
    assert _network(env) == network, "the production account's network was locked"


def test_which_graph_alerts_the_check_holds():
    """Another provider's alert is held for a responder (source ``graph``); Graph's copy of a Defender for Cloud alert
    is not held, as before; with the check off nothing is checked."""
    from firestop.alerts.source_refs import GRAPH, GRAPH_DEFENDER, source_of
    from firestop.alerts.sources.graph import graph_alert

    base = {"id": GRAPH_ID, "createdDateTime": "2026-11-29T03:10:00Z", "title": "aoai-leaked-key-usage",
            "evidence": [{"@odata.type": "#microsoft.graph.security.azureResourceEvidence", "resourceId": ACCOUNT}]}
    sentinel = graph_alert({**base, "serviceSource": "microsoftSentinel", "providerAlertId": "p-1"})
    defender = graph_alert({**base, "serviceSource": "microsoftDefenderForCloud", "providerAlertId": "p-2",
                            "detectorId": "AI.Azure_Jailbreak.ContentFiltering.BlockedAttempt"})
    unnamed = graph_alert({**base, "serviceSource": "microsoftDefenderForCloud"})  # no providerAlertId: not that alert
    assert source_of(sentinel, True) == (GRAPH, None)
    assert source_of(unnamed, True) == (GRAPH, None)
    assert source_of(defender, True) == (GRAPH_DEFENDER, None)  # trust16: its age is bounded
    assert source_of(sentinel, False) == (None, None)

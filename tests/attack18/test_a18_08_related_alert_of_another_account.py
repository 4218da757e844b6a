"""A18-08: RT20-07's "a hand-made Sentinel incident is never confirmed" bypassed with a genuine alert of another
resource related to it.

Attacker: a Microsoft Sentinel Contributor (RT20-07's), who may create incidents and bookmarks and relate them — and
relate an existing alert to an incident (Incident Relations REST 2024-03-01 ``relatedResourceId``; Learn "Relate
alerts to incidents in Microsoft Sentinel", preview: "add alerts to manually created incidents", "you can add alerts
from Microsoft Defender for Cloud"). RT20-07 refuses an incident holding no alert and RT20-08 one whose alerts carry no Defender AI
type, but the targets were checked against the union of the alerts' resources **and** the incident's AzureResource
entities — which a related bookmark's entity mapping gives. A hand-made incident holding a genuine Defender AI alert of
the dev account, with a bookmark naming the production account, was confirmed for production: the playbook of that
alert's type ran there with no responder (here ai-suspicious-user-agent: it closes the incident and resolves the genuine
Defender alert, the dev account's, as contained).

Fix (:func:`firestop.azure.security_source.compare_sentinel`): when the incident's alerts name resources, every target
must be one of theirs; the entities count only for alerts that name none (verify11's entity-only alert). Fails before:
confirmed (None).
"""

from __future__ import annotations

from firestop.azure.security_source import compare_sentinel
from tests.verify11.test_compare_units import NOW, incident

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
PROD = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
TYPE = "AI.Azure_AccessFromSuspiciousUserAgent"
#: the genuine Defender alert of the dev account, related to the hand-made incident
DEV_ALERT = [{"properties": {"alertType": TYPE, "resourceIdentifiers": [{"type": "AzureResource", "azureResourceId": DEV}]}}]
#: the entity a related bookmark gives (its entity mapping names the production account)
BOOKMARK = [{"kind": "AzureResource", "properties": {"resourceId": PROD}}]


def _delivery(*targets: str) -> dict:
    return {"target_ids": [t.lower() for t in targets], "rule_name": TYPE, "severity": 2,
            "fired_at": "2026-11-29T03:00:00Z", "monitor_condition": "Fired", "indicators": {"alert_types": [TYPE]}}


def test_a_target_only_a_bookmark_names_is_not_confirmed_beside_an_alert_of_another_account():
    for targets in ((PROD,), (DEV, PROD)):
        why = compare_sentinel(_delivery(*targets), incident(), DEV_ALERT, BOOKMARK, NOW)
        assert why is not None and "resource identifiers differ" in why, why  # before: None (confirmed)
        assert PROD.lower() in why


def test_the_alerts_own_resource_is_still_confirmed():
    assert compare_sentinel(_delivery(DEV), incident(), DEV_ALERT, BOOKMARK, NOW) is None
    dev_entity = [{"kind": "AzureResource", "properties": {"resourceId": DEV}}]
    assert compare_sentinel(_delivery(DEV), incident(), DEV_ALERT, dev_entity, NOW) is None

"""The sandbox relay's deliveries, as the audit's proof sees them (defender18).

:func:`relay_raised_alerts` keeps, for each Defender for Cloud alert the tenant holds that its enabled workflow
automations deliver to Firestop *by the trigger URI they call* (:func:`firestop.sandbox.security.automations.delivering`)
— not one an alerts suppression rule dismissed as it was raised (suppress18) —
the receipt Firestop's ``POST /api/alerts`` keeps when the relay posts it (:mod:`firestop.records.defender_receipts`,
with the app's seal key, in the records store of ``FIRESTOP_HOME``). The seed's alerts were raised before the test's
tenant existed: this is "the relay delivered them then". An automation whose ``uri`` was pointed elsewhere delivers
nothing here, so nothing is kept for its alerts. The end-to-end path itself (detector → relay → the real webhook) is
``test_d18_relay_proof.py``'s.
"""

from __future__ import annotations

from azure.mgmt.security import SecurityCenter


#: Before the seed's alerts (2026-11-29): Firestop was keeping receipts when they were raised.
KEPT_SINCE = "2026-11-01T00:00:00Z"


def receipts_kept_since(when: str = KEPT_SINCE) -> str:
    """File the app's since-marker at ``when`` (review18, R18-02: alerts generated before it, with no receipt, are not
    judged): this app has kept receipts since then. Returns the marker's time."""
    from firestop.records import defender_receipts
    from firestop.records.store import records_store
    from firestop.settings import Settings
    from firestop.trust.seal import load_seal_key

    store, key = records_store(Settings.from_env()), load_seal_key()
    defender_receipts.mark_since(store, when, key)
    return defender_receipts.keeping_since(store, key)


def relay_raised_alerts(tenant) -> list[str]:
    """Keep the receipts of the alerts ``tenant``'s automations deliver; returns their names (``systemAlertId``).
    Firestop kept receipts since before the seed's alerts (:func:`receipts_kept_since`)."""
    from firestop.records import defender_receipts
    from firestop.records.store import records_store
    from firestop.sandbox.security.automations import delivering
    from firestop.settings import Settings
    from firestop.trust.seal import load_seal_key

    receipts_kept_since()
    security = SecurityCenter(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    store, key = records_store(Settings.from_env()), load_seal_key()
    kept = []
    for alert in security.alerts.list():
        with tenant._exclusive() as state:  # noqa: SLF001 — where the sandbox's relay posts this alert type
            to = delivering(state, alert.alert_type)
            # suppress18: an alert a suppression rule dismissed as it was raised was relayed nowhere
            dismissed = {s.get("alert") for s in state.doc.get("security", {}).get("detector", {}).get("suppressed", [])}
        if to and alert.id.lower() not in dismissed:
            defender_receipts.keep(store, defender_receipts.alert_key(alert.name),
                                   tenant.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), key,
                                   alert_type=alert.alert_type,
                                   resources=[r.azure_resource_id for r in alert.resource_identifiers or []
                                              if getattr(r, "azure_resource_id", None)])
            kept.append(alert.name)
    return kept

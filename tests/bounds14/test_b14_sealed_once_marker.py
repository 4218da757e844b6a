"""bounds14 item 2: the once-marker is sealed; an unsealed or mis-sealed one names no incident.

Attacker: a principal with Storage Blob Data write on the records store (no Firestop role). The once-marker
(``source-confirmed/<sha256 of "alert id|Fired">.json``, RT13) was unsealed: R12-02 and A12-01 checked only the shape of
the incident id it names and that the incident was opened by this alert id. A marker planted before the genuine alert's
check — naming a plain, plausible incident id — made the genuine alert's check answer "this alert was already confirmed
for incident 'inc-…'", and the ``alert.genuine`` card told the responder it was "a second delivery" of an alert
"already confirmed and handled as incident inc-…" (with the command to show it): the advice to reject the genuine
alert. A marker overwritten after the genuine check (the prefix can be listed) with a copy of another alert's names an
incident too.

Fixed: a marker carries the app's seal (purpose ``source-once-marker``, bound to its name — the alert id and condition,
or the policy state — covering the incident id and the run's received time); an unsealed or mis-sealed one is read as
absent (no incident named, Resolved routed by the resource's slot) and, where it holds the name a claim needs, the
delivery waits with the code ``marker_unsealed`` (advice: look the alert up at its source), never naming what it says.
"""

from __future__ import annotations

import json

import pytest

from firestop.azure.alerts_management import CLAIM_PURPOSE, ClaimRefused, claim, claim_name, claimed_by
from firestop.source_reasons import Reason
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, post_delivery
from tests.verify12.test_v12_forged_dimensions import RAW, _fire_genuine

KEY = SealKey("bounds14-marker-test-key-0123456789abcdef", "test")
ALERT = {"alert_id": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/b14-marker", "monitor_condition": "Fired"}
PLAUSIBLE = "inc-20261205-abc123"


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _write(store, name: str, doc: dict) -> None:
    store.create(name, json.dumps(doc).encode(), "application/json")


def test_a_claim_writes_a_sealed_marker_that_names_its_incident(tmp_path):
    store = LocalStore(tmp_path)
    assert claim(store, ALERT, "inc-1", "2026-12-05T03:00:00Z", key=KEY) is None
    assert claim(store, ALERT, "inc-1", "2026-12-05T03:00:00Z", key=KEY) is None  # retried: the same bytes
    assert claimed_by(store, claim_name(ALERT), KEY) == "inc-1"
    again = claim(store, ALERT, "inc-2", "2026-12-05T03:05:00Z", key=KEY)
    assert isinstance(again, ClaimRefused) and again.code is Reason.ALREADY_CONFIRMED and "'inc-1'" in again


def _written_seal(tmp_path, incident_id: str, received_at: str) -> str:
    """The seal of the marker :func:`claim` writes for that incident run (in a store of its own)."""
    other = LocalStore(tmp_path / "elsewhere")
    assert claim(other, ALERT, incident_id, received_at, key=KEY) is None
    return json.loads(other.read(claim_name(ALERT)))["seal"]


@pytest.mark.parametrize("how", ["unsealed", "other key", "copied from another alert", "incident edited",
                                 "received edited", "boundary moved", "not an object", "nested"])
def test_an_unsealed_or_mis_sealed_marker_names_no_incident(tmp_path, how):
    store = LocalStore(tmp_path)
    name = claim_name(ALERT)
    other_name = claim_name({**ALERT, "alert_id": ALERT["alert_id"] + "-other"})
    doc = {"incident_id": PLAUSIBLE, "received_at": "2026-12-05T03:00:00Z"}
    digest = json.dumps([PLAUSIBLE, "2026-12-05T03:00:00Z"], separators=(",", ":"))
    planted: object = {
        "unsealed": doc,
        "other key": {**doc, "seal": SealKey("another-apps-key-0123456789abcdef", "t").sign(CLAIM_PURPOSE, name, digest)},
        "copied from another alert": {**doc, "seal": KEY.sign(CLAIM_PURPOSE, other_name, digest)},
        "incident edited": {**doc, "incident_id": "inc-other", "seal": KEY.sign(CLAIM_PURPOSE, name, digest)},
        "received edited": {**doc, "received_at": "2026-12-05T04:00:00Z", "seal": KEY.sign(CLAIM_PURPOSE, name, digest)},
        # the marker the app wrote for incident "inc-x|a" received "b", re-split as incident "inc-x" received "a|b"
        "boundary moved": {"incident_id": "inc-x", "received_at": "a|b", "seal": _written_seal(tmp_path, "inc-x|a", "b")},
        "not an object": [PLAUSIBLE],
        "nested": None,
    }[how]
    if planted is None:
        store.create(name, b"[" * 100_000)
    else:
        _write(store, name, planted)
    assert claimed_by(store, name, KEY) is None
    refused = claim(store, ALERT, "inc-genuine", "2026-12-05T03:01:00Z", key=KEY)
    assert isinstance(refused, ClaimRefused) and refused.code is Reason.MARKER_UNSEALED, refused
    assert PLAUSIBLE not in refused and "inc-other" not in refused and name in refused


def test_a_planted_marker_does_not_tell_the_responder_the_genuine_alert_is_a_redelivery(served):  # noqa: F811
    """Fails before bounds14: the genuine alert's check said "already confirmed for incident 'inc-20261205-abc123'"
    (the card: "a second delivery of it … incident show inc-20261205-abc123")."""
    from firestop.lifecycle.cli_hints import unconfirmed_hint
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    env, server, app = served
    _fire_genuine(env)
    genuine = json.loads(RAW)
    alert_id = genuine["data"]["essentials"]["alertId"]
    _write(records_store(get_settings()), claim_name({"alert_id": alert_id, "monitor_condition": "Fired"}),
           {"incident_id": PLAUSIBLE, "received_at": "2026-12-05T02:59:00Z"})  # the storage writer, before the alert
    incident = post_delivery(env, server, app, genuine)["id"]
    checks = confirm_checks(env, incident)
    assert [c[0] for c in checks] == ["not confirmed"] and PLAUSIBLE not in checks[0][1], checks
    status = env.host.get_status(incident)
    pending = (status.custom_status or {}).get("pending_approval") or {}
    assert pending.get("reason_code") == Reason.MARKER_UNSEALED, pending
    hint = unconfirmed_hint({"pending_approval": pending, "timeline_so_far": (status.custom_status or {}).get("timeline")})
    assert PLAUSIBLE not in hint and "second delivery" not in hint, hint


def test_the_genuine_confirmation_still_routes_its_resolved_delivery(served):  # noqa: F811
    """The sealed marker the genuine check writes is believed (variants13 item 3 still holds)."""
    from firestop.functions.intake_call import confirmed_incident_sync

    env, server, app = served
    _fire_genuine(env)
    genuine = json.loads(RAW)
    incident = post_delivery(env, server, app, genuine)["id"]
    assert [c[0] for c in confirm_checks(env, incident)] == ["ok"]
    assert confirmed_incident_sync(genuine["data"]["essentials"]["alertId"]) == incident

"""Red team 2: an alert id crafted to be another route's correlation key takes that route's slot id.

``incident_key_for(alert_id)`` and ``slot_id(key)`` are both ``inc-`` + 16 hex of SHA-256 of a string the
sender controls: a targetless alert whose ``alertId`` is ``<account id>#playbook:leaked-api-key`` starts
its incident under the id the leaked-key alert's slot uses first, so the real leaked-key alert *joins* it.
"""

from __future__ import annotations

import copy
import json
import time

from firestop.alerts import parse_alert
from firestop.intake.correlation import CorrelationKey, alert_keys
from tests.trust.test_redteam_correlation import ALERTS, GUARD_S, _rotated, call, incidents_listed, served  # noqa: F401


def test_a_crafted_alert_id_does_not_take_the_leaked_key_slot(served):
    base, home = served
    leak = json.loads((ALERTS / "leaked-key.json").read_text())
    decoy = copy.deepcopy(leak)
    decoy["data"]["essentials"]["alertId"] = alert_keys(parse_alert(leak), CorrelationKey.RESOURCE)[0]
    decoy["data"]["essentials"]["alertTargetIDs"] = []
    decoy["data"]["customProperties"] = {"firestop-playbook": "public-network-exposure"}
    status, started = call(f"{base}/api/alerts", method="POST", body=decoy)
    assert status == 202, started
    status, joined = call(f"{base}/api/alerts", method="POST", body=leak)
    assert status == 202
    listed = incidents_listed(base)  # a responder's view: two incidents, the leaked key's not joined to the decoy
    assert len({row["incident_id"] for row in listed}) == 2, listed
    deadline = time.monotonic() + GUARD_S
    while not _rotated(home):  # bounded
        assert time.monotonic() < deadline, "keys.rotate never applied"
        time.sleep(0.2)

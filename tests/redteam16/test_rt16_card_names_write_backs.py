"""RT16-04: the ``alert.genuine`` card did not name the write-backs to the source that approving lets run.

Attacker: anyone holding the alerts webhook key, re-posting the real Sentinel incident 4211 (or the real Defender
jailbreak alert) with one fact changed: not confirmed, it waits for one ``alert.genuine`` decision. leftovers12 item
3 lists on that card what approving lets act (``pending_approval.held_steps``: each contain/resolve step with its
targets), so the approver judges what a forged alert would do. But approving also releases the learn phase's
write-backs that RT15-04 holds back while the alert is undecided — ``sentinel-close`` (closes the SOC's incident as
TruePositive "Resolved by Firestop") and ``resolve-defender-alert`` (resolves the Defender alert) — and the card
named neither: for ``ai-jailbreak`` it listed only a comment, so an approver who read "a comment" closed the SOC's
open case. Fixed: the card also lists the learn steps ``_held_back`` would hold (mutating, not evidence), with
their targets and conditions.
"""

from __future__ import annotations

import copy

import pytest

from firestop.lifecycle.incident import GENUINE_STEP
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_unconfirmed_closes_source import JAILBREAK
from tests.verify11.test_defender_source_check import check_on, start  # noqa: F401 (fixture)
from tests.verify11.test_sentinel_source_check import INCIDENT

pytestmark = pytest.mark.usefixtures("check_on")


def _card(served, body: dict) -> dict:  # noqa: F811
    env, _, _ = served
    incident_id = start(served, body)
    env.host.run_until_idle()
    pending = env.host.get_status(incident_id).custom_status["pending_approval"]
    assert pending["step"] == GENUINE_STEP
    return pending["held_steps"]


def test_the_card_names_closing_the_sentinel_incident(served):  # noqa: F811
    body = copy.deepcopy(INCIDENT)
    body["object"]["properties"]["severity"] = "High"  # the real incident 4211, one fact changed: not confirmed
    held = _card(served, body)
    assert any(k.startswith("sentinel-close (sentinel.close_incident)") for k in held), held


def test_the_card_names_resolving_the_defender_alert(served):  # noqa: F811
    body = copy.deepcopy(JAILBREAK)
    body["properties"]["severity"] = "High"
    held = _card(served, body)
    assert any(k.startswith("resolve-defender-alert (defender.resolve_alert)") for k in held), held
    assert not any(k.startswith("snapshot-logs") for k in held), held  # evidence is not held: not on the card

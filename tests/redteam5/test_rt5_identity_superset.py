"""RT5-04: one shared identity link was enough to record an alert onto a held incident, whatever else it named.

``covered_by`` answered "identity-linked" when the alert and the incident shared *any* link. A Sentinel incident that
holds the Defender alert the incident handled **and another Defender alert** (new activity: another
``systemAlertId``, after the containment) was recorded as "the attack already contained", and the other alert's
activity was never contained. Expected: identity-linked only when every identity the alert names is the incident's;
otherwise the alert is judged by its times (here: its activity went on after containment → new incident)."""

from __future__ import annotations

import copy
import json

from firestop.alerts import parse_alert
from firestop.intake.coverage import covered_by
from firestop.settings import REPO_ROOT

SENTINEL = json.loads((REPO_ROOT / "examples" / "alerts" / "sentinel-incident-jailbreak.json").read_text())
HANDLED = "2516935104399999999_5f0c2e8a-3b1d-4c7e-9a6f-1d2e3f4a5b6c"


def _incident_props(body: dict) -> dict:
    return (body.get("object") or body)["properties"]


def test_rt5_04_a_sentinel_incident_holding_another_defender_alert_too_is_not_identity_covered():
    record = {"incident_id": "inc-1", "status": "contained", "contained_at": "2026-11-29T03:00:00+00:00",
              "alert": {"alert_id": "Microsoft.Security/alerts/" + HANDLED}}
    only_handled = parse_alert(json.dumps(SENTINEL).encode(), keep_context=False)
    assert "names defender:" in covered_by(only_handled, record)  # the handled alert alone: the same attack

    body = copy.deepcopy(SENTINEL)
    props = _incident_props(body)
    second = copy.deepcopy(props["alerts"][0])
    second["properties"]["providerAlertId"] = "2516935104300000097_rt5-04-new"
    second["properties"]["systemAlertId"] = "8c7b6a5d-rt5-04"
    props["alerts"].append(second)
    props["firstActivityTimeUtc"], props["lastActivityTimeUtc"] = "2026-11-29T02:50:00Z", "2026-11-29T03:20:00Z"
    both = parse_alert(json.dumps(body).encode(), keep_context=False)
    assert covered_by(both, record) is None

"""RT16-03: a planted check verdict ended the genuine alert's own incident unchecked.

Attackers: the webhook-key holder of variants13 item 2 together with a principal holding Storage Blob Data write on
Firestop's storage (no Firestop role). A forged alert opens the resource's incident; the genuine one, arriving while
its source check runs, joins it and its own variant waits for that run's verdict, which the check's activity keeps
in the records store (``source-checked/<sha256 of "incident id|received_at">.json`` = ``{"confirmed": bool}``,
``firestop.records.check_verdicts``). Nothing told Firestop's verdict from anyone's: a blob ``{"confirmed": true}``
written there (first — create-if-absent then kept it — or over the real one: the writer lists the prefix) made the
genuine variant end ``joined``, never checked, 203.0.113.200 not blocked, while the forged incident waited for a
responder.

Fixed: the verdict carries the app's seal (purpose ``source-check-verdict``, bound to the run, covering the answer);
one without a valid seal reads as no answer, so the variant checks itself after its bound, as when no verdict came.
joins14 (merged into rough14 b11bb52 meanwhile) has the forged incident start its pending joins from its own check,
so a planted "confirmed" no longer ends them; intake still reads the verdict to start a variant at once, so a planted
"not confirmed" split a genuine burst: the seal keeps both out (the last test).
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.variants13.test_v13_joined_while_checked import _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _plant(env, incident: str, body: bytes) -> None:
    """The storage writer's blob at the verdict's name (no Firestop code: the store as any writer sees it)."""
    from firestop.records.check_verdicts import verdict_name
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    received_at = str(env.host.get_status(incident).input["received_at"])
    records_store(get_settings()).create(verdict_name(incident, received_at), body, "application/json")


@pytest.mark.parametrize("planted", [b'{"confirmed": true}', b'{"confirmed": true, "seal": "v1.k.x"}'],
                         ids=["unsealed", "bad-seal"])
def test_a_planted_verdict_does_not_end_the_genuine_alerts_incident(served, planted):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    genuine = _posted(server, app, json.loads(RAW))
    assert genuine.get("correlatedTo") == forged, genuine
    _plant(env, forged, planted)
    env.host.run_until_idle(advance_timers=True)
    own = _variant_of(json.loads(RAW))
    output = env.host.get_status(own).output
    assert output["status"] != "joined", output["reason"]
    assert confirm_outcomes(env, own) == ["ok"], output
    assert _deny_rules(env, "203.0.113.200")  # contained automatically


def test_a_planted_not_confirmed_does_not_split_a_genuine_burst(served):  # noqa: F811
    """joins14 (merged into rough14 after this was found) has intake read the verdict to start a joining alert's
    variant at once when it says "not confirmed": a planted ``{"confirmed": false}`` on a genuine incident split its
    burst — each alert that joined it during its check got an incident and a source check of its own. Sealed, the
    planted blob is no verdict: the burst stays one incident."""
    env, server, app = served
    _fire_genuine(env)
    first = _posted(server, app, json.loads(RAW))["id"]
    _plant(env, first, b'{"confirmed": false}')
    other = _forged()  # another alert id of the burst
    assert _posted(server, app, other).get("correlatedTo") == first
    env.host.run_until_idle(advance_timers=True)
    assert confirm_outcomes(env, first) == ["ok"] and _deny_rules(env, "203.0.113.200")
    assert _variant_of(other) not in {i.instance_id for i in env.host.list_instances()}

"""R12-02: a planted once-marker routed a Resolved delivery of another alert to any incident.

Attackers: the webhook-key holder with a principal holding Storage Blob Data write on Firestop's storage. variants13's
``_to_confirmed`` sends a Resolved delivery to the incident the alert's once-marker (``source-confirmed/<sha256 of
"alert id|Fired">``, unsealed since RT13) names, and passed that name to the Durable SDK unchecked (redteam16,
noticed): a marker planted for a made-up alert id naming an open incident of *another* resource (or an id with
``?``/``#``/``%`` that the SDK puts into its management URL unescaped) let a forged Resolved delivery reach it — as
``resolved`` in that incident's timeline — which the slot routing never allows (the delivery's own resource).

Fixed: the marker's incident id must be a valid instance id (``firestop.boundary.instance_id_problem``) and the
incident it names must have been opened by this very alert id (its input's ``alert.alert_id``: the incident a
claim wrote the marker for, or a variant of it); otherwise the marker is ignored (routed as without the check).
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import post_delivery, timeline_of
from tests.variants13.test_v13_resolved_goes_to_the_confirmed import _resolved
from tests.verify12.test_v12_forged_dimensions import RAW, _fire_genuine

_post = partial(post_delivery, statuses=(200, 202))
OTHER_ALERT = ("/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.AlertsManagement/alerts/"
               "0badc0de-0000-4000-8000-000000000001")
OTHER_TARGET = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/elsewhere/providers/"
                "Microsoft.CognitiveServices/accounts/not-the-one")


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _plant_marker(alert_id: str, incident_id: str) -> None:
    from firestop.azure.alerts_management import claim_name
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    records_store(get_settings()).create(claim_name({"alert_id": alert_id, "monitor_condition": "Fired"}),
                                         json.dumps({"incident_id": incident_id}).encode(), "application/json")


def _other_resolved() -> dict:
    body = _resolved(json.loads(RAW))
    body["data"]["essentials"]["alertId"] = OTHER_ALERT
    body["data"]["essentials"]["alertTargetIDs"] = [OTHER_TARGET]
    return body


def test_a_planted_marker_does_not_route_another_alerts_resolved(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    waiting = _post(env, server, app, _forged())["id"]  # open (not confirmed: waits for a responder)
    assert str(env.host.get_status(waiting).runtime_status).endswith(("Running", "Pending"))
    _plant_marker(OTHER_ALERT, waiting)
    answer = _post(env, server, app, _other_resolved())
    assert answer.get("id") != waiting, answer
    assert not [e for e in timeline_of(env, waiting) if e.get("step") == "alert resolved"]


@pytest.mark.parametrize("planted", ["inc-x?showHistory=true", "inc-x#frag", "inc-%41", ".."])
def test_a_planted_marker_id_out_of_shape_is_not_sent(served, planted):  # noqa: F811
    env, server, app = served
    from firestop.functions.intake_call import confirmed_incident_sync

    _plant_marker(OTHER_ALERT, planted)
    assert confirmed_incident_sync(OTHER_ALERT) is None
    answer = _post(env, server, app, _other_resolved())
    assert answer.get("status") != "resolved", answer


def test_alert_handle_ignores_a_planted_marker_too(firestop_home, monkeypatch):
    """The same decision in ``alert handle`` (``firestop.cli.incidents._confirmed_holder``): the marker's incident
    must have been opened by this alert id."""
    import uuid

    from typer.testing import CliRunner

    from firestop.cli.main import app
    from firestop.settings import REPO_ROOT

    def cli(*args):
        return CliRunner().invoke(app, list(args))

    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    genuine = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
    other = json.loads(genuine.read_text())
    essentials = other["data"]["essentials"]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + f"/{uuid.uuid4()}"  # never fired
    essentials["originAlertId"] = essentials["alertId"].rsplit("/", 1)[1]
    forged = firestop_home.parent / "forged.json"
    forged.write_text(json.dumps(other))
    waiting = json.loads(cli("alert", "handle", str(forged), "--json").stdout)["incident_id"]
    resolved = json.loads(genuine.read_text())
    _plant_marker(resolved["data"]["essentials"]["alertId"], waiting)
    resolved["data"]["essentials"]["monitorCondition"] = "Resolved"
    resolved["data"]["essentials"]["resolvedDateTime"] = resolved["data"]["essentials"]["firedDateTime"]
    path = firestop_home.parent / "resolved.json"
    path.write_text(json.dumps(resolved))
    answer = cli("alert", "handle", str(path), "--json")
    assert json.loads(answer.stdout).get("incident_id") != waiting, answer.output


def test_a_deeply_nested_planted_marker_is_no_marker(served):  # noqa: F811
    """R12-04: ``confirmed_incident_sync`` caught ValueError, not RecursionError: a marker of 100,000 nested ``[``
    answered every Resolved delivery of that alert 503 (Azure Monitor retries, then drops it). Now: no marker."""
    env, server, app = served
    from firestop.azure.alerts_management import claim_name
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    records_store(get_settings()).create(claim_name({"alert_id": OTHER_ALERT, "monitor_condition": "Fired"}),
                                         b"[" * 100_000, "application/json")
    _post(env, server, app, _other_resolved())  # 200/202, not 503

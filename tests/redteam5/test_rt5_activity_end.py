"""RT5-01: a *new* Defender alert about activity that went on after the containment is recorded onto the held
incident, and nothing is contained again.

``firestop.intake.coverage.covered_by`` judges "older activity" by the alert's **start** only. A Defender for Cloud
alert's ``startTimeUtc`` is when the activity it reports began and ``endTimeUtc`` when the last of it was seen
(Defender REST ``Alert`` 2022-01-01; Sentinel ``firstActivityTimeUtc``/``lastActivityTimeUtc``, Graph
``firstActivityDateTime``/``lastActivityDateTime`` alike). A second denial-of-wallet alert (volume anomaly) (another
``systemAlertId``, another caller IP) whose activity began ten minutes before the first incident's containment and
was still going fifteen minutes *after* it — the containment did not take — is "covered" (``recorded``): the
attacker keeps the account for the whole correlation window (an hour by default) and no responder is paged.
Expected: an alert whose reported activity ended after the containment completed is new activity (``started``,
``follows`` the held incident)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

from firestop.settings import REPO_ROOT
from tests.intake.test_intake_eventgrid import endpoint  # noqa: F401  (fixture)
from tests.e2e.test_webhook import what_intake_did

DEFENDER = json.loads((REPO_ROOT / "examples" / "alerts" / "defender-denial-of-wallet.json").read_text())


def _z(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _second(start: datetime, end: datetime, generated: datetime, system_id: str = "2516935104300000099_rt5-01") -> dict:
    body = copy.deepcopy(DEFENDER)
    props = body["properties"]
    body["id"] = body["id"].rsplit("/", 1)[0] + "/" + system_id
    body["name"] = props["systemAlertId"] = system_id
    props["startTimeUtc"], props["endTimeUtc"] = _z(start), _z(end)
    props["timeGeneratedUtc"] = props["processingEndTimeUtc"] = _z(generated)
    props["entities"][1]["address"] = props["extendedProperties"]["Source IP"] = "198.51.100.201"
    return body


def _contained(env, call) -> tuple[str, datetime]:
    from firestop.records.store import filed_record

    first = call("post_alert", "alerts", DEFENDER)
    assert what_intake_did(first)["outcome"] == "started", first.get_body()
    incident = what_intake_did(first)["id"]
    env.host.run_until_idle(incident, advance_timers=True)
    record = filed_record(env.settings, incident)
    assert record["status"] == "contained", record["status"]
    return incident, datetime.fromisoformat(record["contained_at"])


def test_rt5_01_activity_that_went_on_after_containment_is_contained_again(endpoint):
    env, call = endpoint
    incident, contained = _contained(env, call)
    clock = env.clients.clock
    clock.set(contained + timedelta(minutes=20))
    answer = call("post_alert", "alerts", _second(contained - timedelta(minutes=10), contained + timedelta(minutes=15), clock.now()))
    body = json.loads(answer.get_body())
    assert what_intake_did(answer)["outcome"] == "started", body
    assert what_intake_did(answer)["id"] != incident and what_intake_did(answer).get("follows") == incident


def test_rt5_01_activity_that_ended_before_containment_is_still_recorded(endpoint):
    env, call = endpoint
    incident, contained = _contained(env, call)
    clock = env.clients.clock
    clock.set(contained + timedelta(minutes=20))
    answer = call("post_alert", "alerts", _second(contained - timedelta(minutes=10), contained - timedelta(minutes=1), clock.now()))
    body = json.loads(answer.get_body())
    assert what_intake_did(answer)["outcome"] == "recorded", body
    assert what_intake_did(answer)["correlatedTo"] == incident


def test_rt5_01_sentinel_and_graph_last_activity_count_a_log_window_end_does_not():
    from firestop.alerts import parse_alert
    from firestop.alerts.sources.graph import graph_alert
    from firestop.intake.coverage import activity_end, covered_by

    sentinel = json.loads((REPO_ROOT / "examples" / "alerts" / "sentinel-incident-jailbreak.json").read_text())
    graph = {"id": "da-rt5", "createdDateTime": "2026-11-29T03:20:00Z", "firstActivityDateTime": "2026-11-29T02:50:00Z",
             "lastActivityDateTime": "2026-11-29T03:15:00Z", "serviceSource": "microsoftDefenderForCloud",
             "providerAlertId": "2516935104300000098_rt5", "title": "t"}
    record = {"incident_id": "inc-1", "status": "contained", "contained_at": "2026-11-29T03:00:00+00:00", "alert": {"alert_id": "x"}}
    for alert in (graph_alert(graph), parse_alert(json.dumps(_with_times(sentinel)).encode(), keep_context=False)):
        assert activity_end(alert) is not None and covered_by(alert, record) is None  # went on after 03:00: new activity
        assert covered_by(alert, {**record, "contained_at": "2026-11-29T03:30:00+00:00"})  # all of it before: covered
    leaked = parse_alert((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_bytes(), keep_context=False)
    assert activity_end(leaked) is None  # a Log Alerts V2 window ends when the rule ran: the start decides (known limit)


def _with_times(body: dict) -> dict:
    body = copy.deepcopy(body)
    incident = body.get("object") or body
    incident["properties"]["firstActivityTimeUtc"] = "2026-11-29T02:50:00Z"
    incident["properties"]["lastActivityTimeUtc"] = "2026-11-29T03:15:00Z"
    return body

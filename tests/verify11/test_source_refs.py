"""verify11: a delivered Defender alert id or Sentinel incident id reaches a URL path only in its exact shape (no
other segment, no dot segment, no control character, no query, nothing around it)."""

from __future__ import annotations

import json

import pytest

from firestop.alerts import parse_alert
from firestop.alerts.source_refs import check_defender_alert_id, check_sentinel_incident_id, source_of
from firestop.settings import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "alerts"
DEFENDER_ID = json.loads((EXAMPLES / "defender-jailbreak.json").read_text())["id"]
INCIDENT_ID = json.loads((EXAMPLES / "sentinel-incident-jailbreak.json").read_text())["object"]["id"]


def test_the_delivered_ids_are_accepted_as_they_are():
    assert check_defender_alert_id(DEFENDER_ID) == ("11111111-2222-3333-4444-555555555555", "rg-ai-prod", "westeurope",
                                                    "2516935104399999999_5f0c2e8a-3b1d-4c7e-9a6f-1d2e3f4a5b6c")
    sub_level = "/subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Security/locations/westeurope/alerts/a1"
    assert check_defender_alert_id(sub_level)[1] is None
    assert check_sentinel_incident_id(INCIDENT_ID) == INCIDENT_ID


@pytest.mark.parametrize("tail", ["..", ".", "a/../b", "a/b", "a%2fb", "a\r\nHost: evil", "a\tb", "a\x00b", "a\x7fb", "a?x=1",
                                  "a#f", "a\n", " a"])
def test_a_defender_alert_name_with_more_than_a_name_is_refused(tail):
    with pytest.raises(ValueError):
        check_defender_alert_id(DEFENDER_ID.rsplit("/", 1)[0] + "/" + tail)


@pytest.mark.parametrize("value", [None, 42, "", DEFENDER_ID + "/resolve", DEFENDER_ID.replace("/locations/westeurope", "/locations/west europe"),
                                   DEFENDER_ID.replace("rg-ai-prod", ".."), " " + DEFENDER_ID, DEFENDER_ID + "\n",
                                   "https://evil.example" + DEFENDER_ID])
def test_other_defender_ids_are_refused(value):
    with pytest.raises(ValueError):
        check_defender_alert_id(value)


@pytest.mark.parametrize("value", [INCIDENT_ID + "/alerts", INCIDENT_ID + "\n", INCIDENT_ID.rsplit("/", 1)[0] + "/..",
                                   INCIDENT_ID.rsplit("/", 1)[0] + "/a%2f", INCIDENT_ID.replace("law-contoso-sec", "law\r\nx"),
                                   INCIDENT_ID.rsplit("/", 1)[-1], None])
def test_other_sentinel_ids_are_refused(value):
    with pytest.raises(ValueError):
        check_sentinel_incident_id(value)


def test_source_of_names_the_source_and_the_checked_id():
    defender = parse_alert(json.loads((EXAMPLES / "defender-jailbreak.json").read_text()))
    assert source_of(defender, True) == ("defender", DEFENDER_ID)
    assert source_of(defender, False) == (None, None)
    incident = parse_alert(json.loads((EXAMPLES / "sentinel-incident-jailbreak.json").read_text()))
    assert source_of(incident, True) == ("sentinel", INCIDENT_ID)
    body = json.loads((EXAMPLES / "defender-jailbreak.json").read_text())
    body["id"] = DEFENDER_ID.rsplit("/", 1)[0] + "/.."
    assert source_of(parse_alert(body), True) == ("defender", None)  # checked, not read: not confirmed
    monitor = parse_alert(json.loads((EXAMPLES / "leaked-key.json").read_text()))
    assert source_of(monitor, True) == (None, None)  # firestop.lifecycle.start writes azure-monitor for it

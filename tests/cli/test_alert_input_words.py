"""``alert handle``'s refusals of what is not one alert speak to a command line, not to an HTTP sender (new-user
trial: empty stdin or a YAML file said "Post the alert … (Content-Type: application/json)", and an Event Grid array
said "body is a JSON array" without pointing to /api/events). The HTTP intake keeps its wording."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EVENTS = REPO_ROOT / "examples" / "events"


def handle(*args: str, input: bytes | None = None):
    return CliRunner().invoke(app, ["alert", "handle", *args], input=input, catch_exceptions=False)


@pytest.mark.parametrize("name", ["policy-noncompliant.eventgrid.json", "jailbreak-attack.cloudevents.json"])
def test_an_event_delivery_is_pointed_to_the_events_route(firestop_home, name):
    result = handle(str(EVENTS / name), "--json")
    said = json.loads(result.stdout)["error"]
    assert result.exit_code == 2 and "event delivery" in said and "POST /api/events" in said and "Content-Type" not in said


@pytest.mark.parametrize("given, expected", [
    (b"", "FILE: stdin is empty"),
    (b"   \n", "FILE: stdin is empty"),
    (b"kind: alert\nid: 1\n", "FILE: stdin: the payload is not valid JSON"),
    (b"[1, 2]", "FILE: stdin: the payload is a JSON array"),
])
def test_stdin_that_is_not_one_alert_object_is_worded_for_the_cli(firestop_home, given, expected):
    result = handle("-", input=given)
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and said.startswith(f"error: {expected}"), said
    assert "Post the alert" not in said and "Content-Type" not in said and "Traceback" not in result.output


def test_a_yaml_file_names_the_file_and_the_fix(firestop_home, tmp_path):
    path = tmp_path / "alert.yaml"
    path.write_text("schemaId: azureMonitorCommonAlertSchema\n")
    said = " ".join(handle(str(path)).stderr.split())
    assert f"FILE: {path}: the payload is not valid JSON" in said and "YAML is not read" in said and "leaked-key.json" in said


def test_the_http_intake_keeps_its_wording():
    from firestop.alerts import AlertPayloadError, parse_alert

    with pytest.raises(AlertPayloadError) as caught:
        parse_alert(b"[]")
    assert "Content-Type: application/json" in caught.value.fix

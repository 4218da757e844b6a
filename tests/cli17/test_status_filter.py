"""cli17: ``incident list --status nothing_to_contain`` was accepted and could match nothing — it is alert handle's
answer for a Resolved alert, which opens no incident. Only statuses an incident can have are accepted; the refusal
says why and lists them, exit 2 (fails before: exit 0, "No incidents with status nothing_to_contain"). The HTTP API's
``status`` filter refuses it the same way (400, was 200 and an empty list)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"}, catch_exceptions=False)


def test_nothing_to_contain_is_refused_naming_the_statuses_that_exist(firestop_home):
    from firestop.lifecycle.view import INCIDENT_STATUSES

    refused = cli("incident", "list", "--status", "nothing_to_contain")
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert "--status: 'nothing_to_contain' is what alert handle answers for a Resolved alert" in said, said
    listed = said.split("use one of: ", 1)[1]
    assert set(listed.replace(",", " ").split()) == set(INCIDENT_STATUSES) and "nothing_to_contain" not in listed
    as_json = cli("incident", "list", "--status", "nothing_to_contain", "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["exit_code"] == 2
    typo = cli("incident", "list", "--status", "contianed")
    assert typo.exit_code == 2 and "'contianed' is not an incident status" in typo.output


def test_every_status_accepted_is_one_an_incident_can_have():
    from firestop.lifecycle.outcome import EXIT_CODES
    from firestop.lifecycle.view import INCIDENT_STATUSES, NOTHING_TO_CONTAIN

    assert NOTHING_TO_CONTAIN not in INCIDENT_STATUSES
    assert set(EXIT_CODES) | {"awaiting_approval", "running", "terminated", "failed"} == set(INCIDENT_STATUSES)


from tests.e2e.test_http_api import api  # noqa: E402,F401 — the responders' API on a sandbox (a fixture)


def test_the_api_refuses_nothing_to_contain_as_the_cli_does(api):  # noqa: F811
    status, body = api.call("list_incidents_http", "GET", "incidents", params={"status": "nothing_to_contain"})
    assert status == 400 and body["error"] == "status", body
    assert "Resolved alert" in body["reason"] and "nothing_to_contain" not in body["fix"] and "awaiting_approval" in body["fix"]

"""RT9-02: an incident id holding ``%`` named *another* id in each store. The HTTP API checks a route's incident id
(:func:`firestop.boundary.instance_id_problem`) and reads the Durable status with it — the durable-functions SDK puts
the id into the management URL unescaped, where ``%34`` is decoded to ``4`` — so ``inc-…7%34`` (sent as
``/api/incidents/inc-…7%2534/undo``) reached the real ``inc-…74`` instance, while the records store and the ledger
looked the alias up by its own name: no record filed under it, so the view was the orchestration's output (the
incident as first contained, before any undo) and the checks that read the newest filed record (RT8-03's
``still_newest``, "already undone") found nothing. A responder undid an incident already undone a second time —
the state from before the containment restored again over whatever was set since — and the alias got a record
and ledger of its own; a reader saw "contained" for an incident that was undone. Fixed: ``%`` is not an incident id
character (no Firestop id has one): 400 on every route, as ``/`` and ``?`` are."""

from __future__ import annotations

import pytest

from tests.trust.conftest import INCIDENT, api, handled_home  # noqa: F401 — the fixtures

ALIAS = INCIDENT[:-1] + "%" + format(ord(INCIDENT[-1]), "x")  # inc-…7%34: '4' escaped


def _undo(api, incident_id):  # noqa: F811
    return api.call("undo_http", "POST", f"incidents/{incident_id}/undo", who="oid-bob", body={"step": "lock-network"},
                    route={"incident_id": incident_id})


def test_an_undone_incident_is_not_undone_again_through_a_percent_alias(api):  # noqa: F811
    status, body = _undo(api, INCIDENT)
    assert status == 200 and body["undone"][0]["ok"], body
    status, body = _undo(api, ALIAS)
    assert status == 400, (status, body)  # before: 200, the undo run again from the incident's first record
    assert body["error"] == "incident_id", body


@pytest.mark.parametrize("function, suffix", [("get_incident_http", ""), ("undo_preview_http", "/undo"),
                                              ("ledger_verify_http", "")])
def test_a_percent_in_an_incident_id_is_refused_on_every_route(api, function, suffix):  # noqa: F811
    route = "ledgers" if function == "ledger_verify_http" else "incidents"
    status, body = api.call(function, "GET", f"{route}/{ALIAS}{suffix}", who="oid-bob", route={"incident_id": ALIAS})
    assert status == 400, body

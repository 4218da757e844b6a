"""A13-07 (attacker C — Storage Blob Data write on the records account, no Firestop role; medium): a record planted
at an incident's predictable name before its alert fires is what every view shows, and the real record is never
filed.

Incident ids are the alert's slot (``inc-33906e911c7aff74`` for the leaked-key example), and a record is
``<incident id>.json`` in the records store. A writer files ``{"incident_id": …, "status": "false_positive"}`` there
first (a new blob: WORM does not stop it). The genuine alert is then contained (the network locked), but
``records.file`` finds "revision 1" filed with other content and refuses to replace it (``conflict``), so the real
record — timeline, actions, before-states — is never filed; ``alert handle`` prints ``Incident … — false_positive``
and ``incident list``/``show`` show the planted status. Pre-existing (main 2fcae0a behaves the same); bounds14's
sealed once-markers/verdicts/audits do not cover records.

Fixed (records16; xfail strict before): views believe a filed record only when its filing is sealed on the
incident's ledger (:func:`firestop.records.store.believed_filing`), and ``records.file`` files beside an object it did
not seal, under a name derived from the app's seal key (``<incident>.r1-<16 hex>.json``,
:func:`firestop.records.store.keyed_record_name`). Both stores: tests/runbooks/test_planted_names.py.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
INCIDENT = "inc-33906e911c7aff74"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a13_07_a_record_planted_before_the_alert_is_not_the_incidents_record(firestop_home):
    records = firestop_home / "records"
    records.mkdir(parents=True, exist_ok=True)
    (records / f"{INCIDENT}.json").write_text(json.dumps({"incident_id": INCIDENT, "status": "false_positive"}))
    cli("alert", "handle", str(EXAMPLE))
    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "contained", shown

"""RT3-03 (fixed; regression test): an undo from the web console (re-opens the network a containment closed) is filed in the incident's
record and ledger without *who* did it: the record says "undone by a responder", the ledger entry carries no
requested_by. Only a log line names the caller. Every other decision (approve/reject/stop) is sealed with `by`."""

from __future__ import annotations

from tests.console.test_console_routes import INCIDENT, call, token_of
from tests.console.conftest import api, handled_home  # noqa: F401


def test_console_undo_names_the_responder_in_record_and_ledger(api, firestop_home):
    status, _, page = call(api, "console_undo_confirm", f"console/incidents/{INCIDENT}/undo", who="oid-bob", route={"incident_id": INCIDENT})
    assert status == 200
    status, _, _ = call(api, "console_undo", f"console/incidents/{INCIDENT}/undo", who="oid-bob", method="POST",
                        form={"csrf": token_of(page), "confirm": "undo"}, route={"incident_id": INCIDENT}, headers={"Origin": api.server.base_url})
    assert status == 303
    revision = (firestop_home / "records" / f"{INCIDENT}.rev2.json").read_text()
    ledger = "".join(p.read_text() for p in (firestop_home / "ledger").rglob("*") if p.is_file() and INCIDENT in str(p))
    assert "oid-bob" in revision and "oid-bob" in ledger

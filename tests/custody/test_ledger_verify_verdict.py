"""leftovers11: ``ledger verify`` worded by a structured verdict, the count a break is "after" is the entries that
verified, and a ledger written without a seal key says Firestop believes none of it — in ``ledger verify`` and in the
incident's record.

Before: "BROKEN after N entries" counted the entry that broke the chain; a ledger whose entries all chain but carry no
seal (written before the app had its key) read "ledger BROKEN after 3 entries", and the record said nothing; the CLI
chose its wording by matching the problems' text."""

from __future__ import annotations

import json

from runbooks.ledger import Ledger, verify_chain
from tests.trust.conftest import ACCOUNT


def _three(ledger: Ledger, incident: str = "inc-v") -> None:
    for n in range(3):
        ledger.append(incident, kind="action", runbook="network.lock", action="apply", step_id=f"s{n}", target=ACCOUNT,
                      at=f"2026-12-01T00:0{n}:00+00:00", data={"ok": True})


def test_broken_after_counts_the_entries_that_verified(firestop_home, firestop_main):
    from firestop.trust.seal import load_seal_key

    load_seal_key(firestop_home)
    ledger = Ledger(firestop_home / "ledger", seal_home=firestop_home, sealing=True)
    _three(ledger)
    path = ledger.path("inc-v")
    lines = path.read_text().splitlines()
    del lines[1]  # the second entry removed: the third (sealed, ours) no longer chains
    path.write_text("\n".join(lines) + "\n")
    check = ledger.verify("inc-v")
    assert check.broken and check.verdict == "broken" and check.verified == 1 and check.entries == 2
    out = json.loads(firestop_main("ledger", "verify", "inc-v", "--json").stdout)
    assert out["verdict"] == "broken" and out["verified"] == 1
    said = " ".join(firestop_main("ledger", "verify", "inc-v").stdout.split())
    assert said.startswith("ledger BROKEN after 1 entries that verified: line 2"), said


def test_a_ledger_written_without_a_key_says_firestop_believes_none_of_it(firestop_home, firestop_main):
    from firestop.trust.seal import load_seal_key

    _three(Ledger(firestop_home / "ledger"))  # appended while the app held no seal key
    load_seal_key(firestop_home)  # now it has one
    out = json.loads(firestop_main("ledger", "verify", "inc-v", "--json").stdout)
    assert out["verdict"] == "unsealed" and out["entries"] == 3 and out["sealed"] == 0, out
    done = firestop_main("ledger", "verify", "inc-v")
    said = " ".join(done.stdout.split())
    assert done.returncode == 3 and "BROKEN" not in said, said
    assert said.startswith("ledger chain intact over 3 entries, head ") and "Firestop believes none of them" in said
    assert "before this app had its seal key" in said


def test_the_record_says_when_its_ledger_holds_unsealed_entries():
    from datetime import datetime, timezone

    from firestop.lifecycle.timeline import LEDGER_UNSEALED, IncidentDoc

    doc = IncidentDoc(incident_id="inc-v", alert={}, received_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
                      sandbox=True, exercise=False)
    doc.ledger_head = {"entries": 3, "head": "h", "unsealed": 3}
    [entry] = [e for e in doc.timeline if e["outcome"] == LEDGER_UNSEALED]
    assert entry["detail"].startswith("all 3 of 3 entries on the incident's ledger carry no seal of this app")
    assert "believes none of them" in entry["detail"]
    older = IncidentDoc(incident_id="inc-v", alert={}, received_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
                        sandbox=True, exercise=False)
    older.ledger_head = {"entries": 3, "head": "h"}  # an activity result recorded before the field: replays as it ran
    assert older.timeline == []


def test_the_ledger_head_activity_counts_unsealed_entries(firestop_home, monkeypatch):
    from firestop.functions.activities import ledger_head
    from firestop.trust.seal import load_seal_key

    _three(Ledger(firestop_home / "ledger"))
    load_seal_key(firestop_home)
    assert ledger_head({"incident_id": "inc-v"})["unsealed"] == 3
    _three(Ledger(firestop_home / "ledger", seal_home=firestop_home, sealing=True), "inc-w")
    assert "unsealed" not in ledger_head({"incident_id": "inc-w"})

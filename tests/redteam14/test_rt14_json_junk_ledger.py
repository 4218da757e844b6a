"""RT14-01: leftovers10 made a line that is not an entry harmless — but only a line that is not a JSON *object*.

Attacker: a principal with Storage Blob Data write on the ledger container and no Firestop role (WORM allows protected
appends). Incident ids are predictable (``slot_id``), so the ledger of the next incident on an account can be created
in advance. A planted JSON object — ``{}``, an entry-shaped object that does not chain, or a chain-valid unsealed
entry naming another incident (its hash is a plain SHA-256 anyone can compute) — was still "broken" (or "belongs to
another incident") to ``Ledger.append``: the before-state marker, every action entry and the record entry refused,
so ``network.lock`` did not act and nothing was filed — the DoS leftovers10 set out to close.

Fixed: to an append, a line the app did not seal for this incident (or a copy of an earlier line) that does not chain
is junk like a non-JSON line (skipped, named by ``ledger verify``, never believed); the ledger's owner is the first
entry the app sealed. A real break (a sealed entry of this incident edited, removed or reordered) still refuses.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from runbooks.ledger import GENESIS, Ledger, canonical, entry_hash, verify_chain
from tests.trust.conftest import ACCOUNT, INCIDENT, handle_example


def _chained(incident_id: str, seq: int = 1, prev: str = GENESIS) -> bytes:
    entry = {"seq": seq, "at": "2026-11-29T03:00:00Z", "incident_id": incident_id, "kind": "action",
             "runbook": "network.lock", "action": "apply", "step_id": "lock-network", "target": ACCOUNT,
             "data": {}, "prev": prev}
    entry["hash"] = entry_hash(entry)
    return canonical(entry) + b"\n"


PLANTED = {
    "empty object": b"{}\n",
    "entry-shaped, wrong seq": _chained(INCIDENT, seq=7),
    "entry-shaped, wrong prev": _chained(INCIDENT, prev=hashlib.sha256(b"x").hexdigest()),
    "chain-valid, another incident": _chained("inc-someone-else"),
    "made-up seal": canonical({"seq": 9, "incident_id": INCIDENT, "seal": "v1.AAAA", "hash": "0" * 64}) + b"\n",
}


@pytest.mark.parametrize("junk", list(PLANTED.values()), ids=list(PLANTED))
def test_a_planted_json_object_stops_neither_containment_nor_filing(firestop_home, junk):
    (firestop_home / "ledger").mkdir(parents=True)
    (firestop_home / "ledger" / f"{INCIDENT}.jsonl").write_bytes(junk)  # before the incident exists
    incident, account = handle_example(firestop_home)
    assert incident["status"] == "contained", incident.get("reason")
    assert account["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert not incident.get("record_error"), incident["record_error"]
    assert (firestop_home / "records" / f"{INCIDENT}.json").is_file()
    ledger = Ledger.of(__import__("firestop.settings", fromlist=["Settings"]).Settings.from_env(home=firestop_home))
    check = ledger.check(INCIDENT)
    assert not check.broken, check  # skipped and named, or a chain-valid entry without the app's seal
    assert check.unreadable == [1] or check.entries == len(ledger.entries(INCIDENT)), check
    assert not ledger.verify(INCIDENT).ok  # ledger verify says so (exit 3)
    kinds = {e.get("kind") for e in ledger.entries(INCIDENT) if ledger.sealed(e, on=INCIDENT)}
    assert {"marker", "action", "record"} <= kinds, kinds


def test_a_real_break_still_refuses_appends(tmp_path):
    """A sealed entry of this incident removed from the middle (possible only without WORM) still stops appends."""
    from firestop.settings import Settings

    ledger = Ledger.of(Settings.from_env(home=tmp_path))
    for n in range(3):
        ledger.append("inc-a", kind="action", runbook="network.lock", action="apply", step_id=f"s{n}", target=ACCOUNT,
                      at="2026-11-29T03:00:00Z", data={})
    path = tmp_path / "ledger" / "inc-a.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[2])  # the second entry removed
    with pytest.raises(ValueError, match="broken"):
        ledger.append("inc-a", kind="action", runbook="network.lock", action="apply", step_id="s3", target=ACCOUNT,
                      at="2026-11-29T03:00:00Z", data={})


def test_a_copied_sealed_line_is_skipped_not_a_break(tmp_path):
    """A sealed line of this ledger appended again by a blob writer (a replay) does not stop appends either."""
    from firestop.settings import Settings

    ledger = Ledger.of(Settings.from_env(home=tmp_path))
    ledger.append("inc-a", kind="action", runbook="network.lock", action="apply", step_id="s0", target=ACCOUNT,
                  at="2026-11-29T03:00:00Z", data={})
    path = tmp_path / "ledger" / "inc-a.jsonl"
    with path.open("ab") as out:
        out.write(path.read_bytes())
    entry = ledger.append("inc-a", kind="action", runbook="network.lock", action="apply", step_id="s1", target=ACCOUNT,
                          at="2026-11-29T03:00:00Z", data={})
    assert entry["seq"] == 2
    check = ledger.check("inc-a")
    assert check.unreadable == [2] and not check.broken, check
    assert verify_chain(ledger.lines("inc-a")).broken  # (without the seal key nothing tells a copy: a break)

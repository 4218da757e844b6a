"""leftovers10 (RT13 "Noticed"): one junk line on an incident's ledger stopped its containment and its record.

Attacker: a principal with Storage Blob Data write on the ledger container and no Firestop role. Incident ids are
predictable (``slot_id``), so the ledger of the next incident on an account can be created in advance with a line
that is not an entry (``x``), and WORM keeps it. ``Ledger.append`` refused a broken chain, so the before-state
marker (``network.lock``), every action entry and ``records.file``'s record entry failed; readers raised on the line.

Fixed: a line that is not an entry is skipped by appends (chained over), readers and verify — named by verify
(``ledger verify`` exit 3) and on the incident's timeline, never believed. Any other break still refuses appends.
"""

from __future__ import annotations

import json

import pytest

from runbooks.ledger import Ledger, canonical, verify_chain
from tests.trust.conftest import ACCOUNT, INCIDENT, handle_example


@pytest.mark.parametrize("junk", [b"x\n", b"{not json\n", b"[1, 2]\n", b"junk without a newline"])
def test_junk_planted_on_the_next_incidents_ledger_stops_neither_containment_nor_filing(firestop_home, junk):
    (firestop_home / "ledger").mkdir(parents=True)
    (firestop_home / "ledger" / f"{INCIDENT}.jsonl").write_bytes(junk)  # before the incident exists
    incident, account = handle_example(firestop_home)
    assert incident["incident_id"] == INCIDENT
    assert incident["status"] == "contained", incident.get("reason")
    assert account["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert not incident.get("record_error"), incident["record_error"]
    assert (firestop_home / "records" / f"{INCIDENT}.json").is_file()
    flagged = [e for e in incident["timeline"] if e["outcome"] == "unreadable ledger lines"]
    assert len(flagged) == 1 and "line 1" in flagged[0]["detail"], incident["timeline"][-3:]
    assert incident["ledger_head"]["unreadable"] == 1
    lines = (firestop_home / "ledger" / f"{INCIDENT}.jsonl").read_text().splitlines()
    check = verify_chain(lines)
    assert not check.ok and not check.broken and check.unreadable == [1], check
    assert check.entries == len(lines) - 1 >= 3  # every entry after the junk chains on
    kinds = {e["kind"] for e in Ledger(firestop_home / "ledger").entries(INCIDENT)}
    assert {"marker", "action", "record"} <= kinds, kinds


def _apply_junk_undo(ledger: Ledger) -> None:
    """``inc-junk``'s ledger: an apply, a planted line that is not JSON, then the undo (appended over it)."""
    ledger.append("inc-junk", kind="action", runbook="network.lock", action="apply", step_id="s1", target=ACCOUNT,
                  at="2026-12-01T00:00:00+00:00", data={"ok": True})
    with open(ledger.path("inc-junk"), "ab") as fh:
        fh.write(b"planted\n")
    ledger.append("inc-junk", kind="action", runbook="network.lock", action="undo", step_id="s1", target=ACCOUNT,
                  at="2026-12-01T00:01:00+00:00", data={"ok": True})


def test_ledger_verify_exits_3_naming_the_junk_line(firestop_home, firestop_main):
    ledger = Ledger(firestop_home / "ledger")
    _apply_junk_undo(ledger)
    done = firestop_main("ledger", "verify", "inc-junk", "--json")
    out = json.loads(done.stdout)
    assert done.returncode == 3 and out["ok"] is False and out["entries"] == 2, (done.stdout, done.stderr)
    assert any("line 2" in p and "not JSON" in p for p in out["problems"]), out


def test_ledger_verify_of_a_sealed_chain_with_only_junk_says_the_chain_holds(firestop_home, firestop_main):
    """newuser10: a junk line on an otherwise intact, sealed ledger read "ledger BROKEN": the chain runs over it
    (verify_chain), so the text says the chain holds, names the lines nobody wrote through Firestop and where to look.
    Exit 3 still. An edited entry is out of the sealed chain (redteam14: skipped like a planted one): the text never
    calls that ledger intact and says to compare with the blob's earlier versions."""
    from firestop.trust.seal import load_seal_key

    load_seal_key(firestop_home)  # the app's key, generated into FIRESTOP_HOME as the CLI does
    ledger = Ledger(firestop_home / "ledger", seal_home=firestop_home, sealing=True)
    _apply_junk_undo(ledger)
    out = json.loads(firestop_main("ledger", "verify", "inc-junk", "--json").stdout)
    text = firestop_main("ledger", "verify", "inc-junk")
    assert text.returncode == 3, text.stderr
    said = " ".join(text.stdout.split())
    assert said.startswith(f"ledger chain intact over 2 entries, head {out['head']}; but it holds lines Firestop "
                           "did not write: line 2: not JSON"), said
    assert "BROKEN" not in said and "StorageWrite" in said
    path = ledger.path("inc-junk")
    with open(path, "r+b") as fh:  # an edited entry: out of the chain, never "intact"
        body = fh.read().replace(b'"undo"', b'"apply"')
        fh.seek(0)
        fh.write(body)
        fh.truncate()
    edited = firestop_main("ledger", "verify", "inc-junk")
    said = " ".join(edited.stdout.split())
    assert edited.returncode == 3 and said.startswith("ledger: 1 sealed entry chain, head "), said
    assert "line 3 (seq 2): an entry out of the chain" in said and "earlier versions" in said, said
    assert "intact" not in said, said


def test_other_breaks_still_refuse_appends_and_many_junk_lines_are_counted(firestop_home):
    ledger = Ledger(firestop_home / "ledger")
    entry = ledger.append("inc-b", kind="action", runbook="r", action="apply", step_id="s", target=None,
                          at="2026-12-01T00:00:00+00:00", data={})
    path = ledger.path("inc-b")
    path.write_bytes(b"x\n" * 25 + path.read_bytes())
    check = verify_chain(path.read_text().splitlines())
    assert check.unreadable == list(range(1, 26)) and len(check.problems) == 11 and "15 more" in check.problems[-1]
    assert check.entries == 1 and not check.broken
    path.write_bytes(path.read_bytes() + canonical({**entry, "data": {"edited": True}}) + b"\n")  # seq 1 again: a break
    with pytest.raises(ValueError, match="is broken"):
        ledger.append("inc-b", kind="action", runbook="r", action="undo", step_id="s", target=None,
                      at="2026-12-01T00:01:00+00:00", data={})


def test_junk_on_a_manual_run_ledger_and_epoch_neither_hides_a_run_nor_refuses_every_undo(tmp_path):
    """The same for manual runs: junk on a ``manual-<day>`` ledger made every undo on any target raise (the
    reliance check read the ledger), and a junk epoch planted before Firestop wrote one (``ValueError: not an epoch
    Firestop wrote``) did too. Now the junk is skipped (the epoch is not believed: every ledger is read whole, bounded)
    and a run on the target still relies on the incident's state."""
    from datetime import timedelta

    from firestop.lifecycle.undo import UndoReliedOn
    from firestop.settings import Settings
    from runbooks.manual_runs import EPOCH_NAME
    from tests.lifecycle.test_manual_index import RECEIVED, _run, _undo

    settings = Settings.from_env(home=tmp_path)
    ledger = Ledger.of(settings)
    ledger.store.create(EPOCH_NAME, b"junk", "application/json")  # first: the blob writer's
    day = (RECEIVED + timedelta(days=1)).date().isoformat()
    ledger.store.append(f"manual-{day}.jsonl", b"junk\n", at=0)  # the day's ledger, before any run
    _undo(settings)  # nothing on the target: no refusal (before: ValueError)
    run_id, answer = _run(settings, RECEIVED + timedelta(days=1), ACCOUNT, changed=False)
    assert "error" not in answer["result"]["artifacts"]["ledger"], answer["result"]["artifacts"]
    with pytest.raises(UndoReliedOn, match=run_id):
        _undo(settings)


def test_a_planted_entrys_own_fields_are_named_bounded_and_escaped(firestop_home):
    """A planted line's ``seq`` (or an evidence path) is an outsider's value of any size: a problem names it cut to a
    few characters with control characters escaped (no key here, so the line counts and its breaks are named)."""
    ledger = Ledger(firestop_home / "ledger")
    ledger.append("inc-junk", kind="action", runbook="network.lock", action="apply", step_id="s1", target=ACCOUNT,
                  at="2026-12-01T00:00:00+00:00", data={"ok": True})
    planted = {"seq": "\x1b[2J" + "9" * 100_000, "prev": "x", "hash": "y", "kind": "evidence",
               "data": {"path": "\x1b]8;;" + "p" * 100_000}}
    with open(ledger.path("inc-junk"), "a") as fh:
        fh.write(json.dumps(planted) + "\n")
    check = verify_chain(ledger.path("inc-junk").read_text().splitlines(), evidence=lambda path: None)
    said = "; ".join(check.problems)
    assert not check.ok and "seq" in said and "evidence file" in said, said
    assert len(said) < 2_000 and "\x1b" not in said, said[:300]

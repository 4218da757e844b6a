"""seal17: rotating the seal key without hiding the past (firestop.trust.seal's ring, firestop.trust.keyring, the
``seal-key`` CLI noun).

Before: the seal key could only be replaced, and replacing it hid everything it had sealed — ``ledger verify`` of a
past incident exit 3 ("Firestop believes none of them"), ``incident undo`` refused ("carries no seal of this app"), a
ledger moved under the old key was no longer found (appends began a new, unchained object). The first test failed
before this change at its first rotation; the moved-ledger and marker tests failed before at their asserts after the
key change (the current key's names only).
"""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from firestop.settings import REPO_ROOT

ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"


def _cli(*args, input=None):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def _kids_of_seals(path) -> list[str]:
    """The key id of each ledger entry's seal, in order."""
    return [json.loads(line)["seal"].split(".")[1] for line in path.read_text().splitlines() if line.strip()]


def _secrets(home) -> list[str]:
    """Every seal key the home holds now (current and retired): what no output may carry."""
    found = (home / "seal-key").read_text().split()
    retired = home / "seal-key.retired"
    return found + (retired.read_text().split() if retired.exists() else [])


def _locked(home) -> bool:
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox").resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"


def test_after_rotation_a_past_incident_is_believed_and_undone_and_new_entries_carry_the_new_key(firestop_home):
    handled = json.loads(_cli("alert", "handle", str(EXAMPLE), "--json").stdout)
    incident = handled["incident_id"]
    assert handled["status"] == "contained" and _locked(firestop_home)
    old = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    keys_before = _secrets(firestop_home)
    shown_before = json.loads(_cli("incident", "show", incident, "--json").stdout)

    rotated = _cli("seal-key", "rotate", "--as", "oid-admin", "--json")
    assert rotated.exit_code == 0, rotated.output
    body = json.loads(rotated.stdout)
    assert body["rotated"] is True and body["was"] == old and body["kid"] != old and body["retired"] == [old]
    assert (firestop_home / "seal-key.retired").stat().st_mode & 0o077 == 0

    verified = _cli("ledger", "verify", incident, "--json")
    assert verified.exit_code == 0, verified.output  # every entry the retired key sealed is still believed
    shown = json.loads(_cli("incident", "show", incident, "--json").stdout)
    assert shown["status"] == "contained"

    undone = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert undone.exit_code == 0, undone.output
    assert [u["step_id"] for u in json.loads(undone.stdout)["undone"]] == ["lock-network"]
    assert not _locked(firestop_home)

    kids = _kids_of_seals(firestop_home / "ledger" / f"{incident}.jsonl")
    before = shown_before["record_files"]["ledger"]["seq"]  # the entries written before the rotation
    assert set(kids[:before]) == {old} and kids[before:] and set(kids[before:]) == {body["kid"]}
    assert _cli("ledger", "verify", incident).exit_code == 0
    shown = json.loads(_cli("incident", "show", incident, "--json").stdout)
    assert shown["record_files"]["revision"] == 2, shown["record_files"]  # the undo's filing, under the new key

    # no key (the old, the new) in any output of the noun
    outputs = rotated.output + _cli("seal-key", "show", "--json").output + _cli("seal-key", "show").output
    for secret in {*keys_before, *_secrets(firestop_home)}:
        assert secret not in outputs


def test_an_entry_sealed_with_a_dropped_key_is_not_believed(firestop_home):
    incident = json.loads(_cli("alert", "handle", str(EXAMPLE), "--json").stdout)["incident_id"]
    old = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    dry = _cli("seal-key", "retire", old, "--as", "oid-admin", "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["dropped"] is False
    assert _cli("ledger", "verify", incident).exit_code == 0  # the dry run changed nothing
    assert _cli("seal-key", "retire", old, "--as", "oid-admin", "--json").exit_code == 2  # --json needs --yes
    dropped = _cli("seal-key", "retire", old, "--as", "oid-admin", "--yes", "--json")
    assert dropped.exit_code == 0 and json.loads(dropped.stdout)["retired"] == [], dropped.output

    verified = json.loads(_cli("ledger", "verify", incident, "--json").stdout)
    assert verified["sealed"] == 0 and verified["entries"] > 0, verified
    refused = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert refused.exit_code == 3 and "carries no seal of this app" in json.loads(refused.stdout)["error"]
    assert _locked(firestop_home)  # nothing was undone


def test_the_ring_seals_with_the_current_key_and_checks_with_the_key_a_seal_names(firestop_home):
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import SealKey, SealKeyRing, check_delivery_token, delivery_id, delivery_token, load_seal_key

    first = load_seal_key(firestop_home)
    # (seal18, RT20-01: a history purpose — what a retired key still opens; a live one, an incident input, it does not)
    sealed_before = first.sign("audit", "inc-1", "0" * 64)
    live_before = first.sign("incident", "inc-1", "0" * 64)
    token = delivery_token(delivery_id("a1", "Fired"), key=first)
    rotate(firestop_home)
    ring = load_seal_key(firestop_home)
    assert isinstance(ring, SealKeyRing) and [k.kid for k in ring.retired] == [first.kid] and ring.kid != first.kid
    assert ring.sign("incident", "inc-1", "0" * 64).split(".")[1] == ring.kid  # new seals: the current key
    ok, reason = ring.check("audit", "inc-1", "0" * 64, sealed_before)
    assert ok and first.kid in reason
    assert not ring.check("audit", "inc-2", "0" * 64, sealed_before)[0]  # still bound to what it sealed
    ok, reason = ring.check("incident", "inc-1", "0" * 64, live_before)
    assert not ok and "retired key" in reason and first.kid in reason  # never a new command
    # decision: a status token handed out before the rotation answers while its key is retired, not once dropped
    assert check_delivery_token(delivery_id("a1", "Fired"), token, key=ring)[0]
    dropped = SealKeyRing(ring.current)
    assert not check_delivery_token(delivery_id("a1", "Fired"), token, key=dropped)[0]
    ok, reason = dropped.check("audit", "inc-1", "0" * 64, sealed_before)
    assert not ok and "another key" in reason
    other = SealKey("o" * 40, "test")
    ok, reason = ring.check("audit", "inc-1", "0" * 64, other.sign("audit", "inc-1", "0" * 64))
    assert not ok and "does not hold" in reason and ring.kid in reason and first.kid in reason


def test_the_ring_is_bounded_and_a_full_ring_refuses_to_rotate(firestop_home):
    from firestop.trust.keyring import RingFull, rotate
    from firestop.trust.seal import MAX_RETIRED_KEYS, SealKeyError, load_seal_key

    for _ in range(MAX_RETIRED_KEYS):
        rotate(firestop_home)
    ring = load_seal_key(firestop_home)
    assert len(ring.retired) == MAX_RETIRED_KEYS == 3
    with pytest.raises(RingFull) as refused:
        rotate(firestop_home)
    assert ring.retired[-1].kid in str(refused.value)  # names the oldest to retire
    assert load_seal_key(firestop_home).kid == ring.kid  # nothing changed
    full = _cli("seal-key", "rotate", "--as", "oid-admin", "--json")
    assert full.exit_code == 2 and "retire" in json.loads(full.stdout)["error"]
    # a ring file holding one more (edited by hand) is refused, naming the file, never a key
    extra = "x" * 43
    path = firestop_home / "seal-key.retired"
    path.write_text(path.read_text() + extra + "\n")
    with pytest.raises(SealKeyError) as too_many:
        load_seal_key(firestop_home)
    assert "at most 3" in str(too_many.value) and extra not in str(too_many.value)
    for secret in _secrets(firestop_home):
        assert secret not in str(too_many.value)


def test_retired_keys_from_the_setting_and_their_errors_name_the_setting_not_the_value(firestop_home):
    from firestop.settings import check_environment
    from firestop.trust.seal import SealKey, SealKeyError, load_seal_key

    current, old = "c" * 43, "r" * 43
    ring = load_seal_key(firestop_home, {"FIRESTOP_SEAL_KEY": current, "FIRESTOP_SEAL_KEY_RETIRED": f" {old}\n"})
    assert ring.kid == SealKey(current, "x").kid and [k.kid for k in ring.retired] == [SealKey(old, "x").kid]
    assert current not in repr(ring) and old not in repr(ring)
    with pytest.raises(SealKeyError) as bad:
        load_seal_key(firestop_home, {"FIRESTOP_SEAL_KEY": current, "FIRESTOP_SEAL_KEY_RETIRED": f"{old} short-key"})
    assert "FIRESTOP_SEAL_KEY_RETIRED" in str(bad.value) and "short-key" not in str(bad.value) and old not in str(bad.value)
    problems = dict(check_environment({"FIRESTOP_SEAL_KEY_RETIRED": f"{old} short-key"}, on_azure=False))
    assert "retired key 2" in problems["FIRESTOP_SEAL_KEY_RETIRED"] and "short-key" not in problems["FIRESTOP_SEAL_KEY_RETIRED"]
    # the noun writes nothing where the ring is in settings: it says which setting to change
    os.environ["FIRESTOP_SEAL_KEY"] = current
    try:
        refused = _cli("seal-key", "rotate", "--as", "oid-admin", "--json")
    finally:
        del os.environ["FIRESTOP_SEAL_KEY"]
    assert refused.exit_code == 2 and "FIRESTOP_SEAL_KEY_RETIRED" in json.loads(refused.stdout)["error"]
    assert current not in refused.output and not (firestop_home / "seal-key.retired").exists()


def test_only_an_admin_rotates_or_retires(firestop_home):
    assert _cli("seal-key", "show").exit_code == 0  # creates the key
    kid = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    for args in (("rotate",), ("retire", "0123abcd", "--yes")):
        for who in ((), ("--as", "oid-bob")):
            refused = _cli("seal-key", *args, *who, "--json")
            assert refused.exit_code == 2, refused.output
    assert json.loads(_cli("seal-key", "show", "--json").stdout) == {
        "kid": kid, "origin": "file", "retired": [], "max_retired": 3, "where": str(firestop_home)}
    assert _cli("seal-key", "retire", kid, "--as", "oid-admin", "--yes").exit_code == 2  # the current key: rotate first
    assert _cli("seal-key", "retire", "not-a-kid", "--as", "oid-admin", "--yes").exit_code == 2


def test_a_crash_between_the_two_writes_leaves_the_ring_whole_and_a_rerun_finishes(firestop_home):
    from firestop.trust import keyring
    from firestop.trust.seal import load_seal_key

    first = load_seal_key(firestop_home)
    sealed = first.sign("audit", "inc-1", "0" * 64)  # (a history purpose: seal18, RT20-01)
    real = keyring._replace
    calls = []

    def crash_on_second(path, text):
        calls.append(path.name)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies between the retired file and the key file
        real(path, text)

    keyring._replace = crash_on_second
    try:
        with pytest.raises(KeyboardInterrupt):
            keyring.rotate(firestop_home)
    finally:
        keyring._replace = real
    assert calls == ["seal-key.retired", "seal-key"]
    ring = load_seal_key(firestop_home)
    assert ring.kid == first.kid and ring.retired == () and ring.check("audit", "inc-1", "0" * 64, sealed)[0]
    done = keyring.rotate(firestop_home)
    assert done["was"] == first.kid and done["retired"] == [first.kid]
    assert load_seal_key(firestop_home).check("audit", "inc-1", "0" * 64, sealed)[0]
    assert not [p for p in firestop_home.iterdir() if p.name.startswith(".seal-key.") and p.name != ".seal-key.lock"]


def test_a_ledger_moved_under_a_retired_key_is_still_read_and_appended_to(firestop_home):
    from runbooks.ledger import Ledger
    from firestop.trust.keyring import rotate

    incident = "inc-0123456789abcdef"
    folder = firestop_home / "ledger"
    (folder / f"{incident}.jsonl").mkdir(parents=True)  # the plain name cannot be appended to: the ledger moves
    ledger = Ledger(folder, seal_home=firestop_home, sealing=True)
    ledger.append(incident, kind="evidence", runbook="evidence.test", action="apply", step_id="s1", target=None,
                  at="2026-12-05T08:00:00+00:00", data={"n": 1})
    moved = ledger.moved_name(incident)
    assert (folder / moved).exists()
    rotate(firestop_home)

    assert ledger.moved_name(incident) == moved  # found under the retired key (before: the new key's name)
    ledger.append(incident, kind="evidence", runbook="evidence.test", action="apply", step_id="s2", target=None,
                  at="2026-12-05T08:01:00+00:00", data={"n": 2})
    entries = ledger.entries(incident)
    assert [e["kind"] for e in entries] == ["move", "evidence", "evidence"]
    assert [e["seq"] for e in entries] == [1, 2, 3] and all(ledger.sealed(e, on=incident) for e in entries)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{incident}.jsonl", moved])


def test_the_sealed_lines_marker_keeps_its_time_across_a_rotation_and_a_drop(firestop_home):
    from runbooks import manual_runs
    from runbooks.ledger import canonical
    from firestop.storage.local import LocalStore
    from firestop.trust.keyring import retire, rotate
    from firestop.trust.seal import load_seal_key

    store = LocalStore(firestop_home / "ledger")
    first = load_seal_key(firestop_home)
    name = manual_runs.sealed_lines_name(first)
    since = "2026-01-02T03:04:05+00:00"
    store.create(name, canonical({"since": since, "seal": first.sign(manual_runs.INDEX_SEAL_PURPOSE, name, since)}),
                 "application/json")
    rotate(firestop_home)
    ring = load_seal_key(firestop_home)
    assert manual_runs._sealed_since(store, ring).isoformat() == since  # read under the retired key's name
    assert manual_runs.reseal_marker(store, ring) is True
    assert manual_runs.reseal_marker(store, ring) is False  # once
    retire(firestop_home, first.kid)
    dropped = load_seal_key(firestop_home)
    assert dropped.retired == () and manual_runs._sealed_since(store, dropped).isoformat() == since


def test_keyed_record_names_are_looked_up_under_every_key(firestop_home):
    from firestop.records.store import keyed_record_name, keyed_record_names
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    first = load_seal_key(firestop_home)
    rotate(firestop_home)
    ring = load_seal_key(firestop_home)
    names = keyed_record_names(ring, "inc-1", 2, "json")
    assert names == [keyed_record_name(ring.current, "inc-1", 2, "json"), keyed_record_name(first, "inc-1", 2, "json")]
    assert keyed_record_name(ring, "inc-1", 2, "json") == names[0]  # new filings: the current key's name


def test_retired_keys_are_secrets_for_logs_and_tabletop_children(firestop_home):
    from firestop.functions.tabletop_timer import SCRUBBED_ENV
    from firestop.telemetry.logs import _redact
    from firestop.telemetry.start import SECRET_SETTINGS, start_telemetry

    assert "FIRESTOP_SEAL_KEY_RETIRED" in SECRET_SETTINGS and "FIRESTOP_SEAL_KEY_RETIRED" in SCRUBBED_ENV
    one, two = "k1" + "a" * 41, "k2" + "b" * 41
    start_telemetry({"FIRESTOP_SEAL_KEY_RETIRED": f"{one} {two}"})
    line = _redact(f"value={one}; other {two}")
    assert one not in line and two not in line


def test_a_dry_run_rotation_writes_nothing(firestop_home):
    assert _cli("seal-key", "show").exit_code == 0  # the key exists
    before = {p.name: p.read_bytes() for p in firestop_home.iterdir() if p.is_file()}
    dry = _cli("seal-key", "rotate", "--as", "oid-admin", "--dry-run", "--json")
    body = json.loads(dry.stdout)
    assert dry.exit_code == 0 and body["dry_run"] is True and body["rotated"] is False and body["kid"] is None
    assert {p.name: p.read_bytes() for p in firestop_home.iterdir() if p.is_file()} == before

"""Ledger9 hole 1: the ledger's action entries were an unkeyed chain, and undo believed them.

Attacker: a principal with Storage Blob Data write on the ledger container and no Firestop role (RT10/RT11's). The
ledger (:mod:`runbooks.ledger`) is a SHA-256 hash chain anyone can extend: read the blob, build the next entry on its
head, append. The ledger store's WORM policy (protected appends) keeps what is appended, so a planted entry is there
for good. Two uses of it:

* a planted ``undo … ok`` (``released: true``) entry for a manual run that found an incident's lock in place hid the
  run from the reliance check (:func:`runbooks.manual_runs.manual_runs_since`), and the incident's Undo reopened the
  account under it (200, defaultAction Allow);
* a planted second ``apply`` entry for a manual run (the same ``after``, a ``before`` of public access plus the
  attacker's IP rule) chose what the run's undo (``runbook undo``) wrote to Azure.

Fixed: every entry Firestop appends carries the app's seal (HMAC under the seal key, bound to ``<incident>/<seq>``,
over the entry's SHA-256 without its hash); an unsealed ``undo`` never lifts reliance, an unsealed ``apply`` is never
restored from, and a run whose only apply is unsealed (altered, or written before seals) refuses its undo (409).
"""

from __future__ import annotations

import json

from runbooks.ledger import GENESIS, Ledger, canonical, entry_hash
from tests.trust.conftest import ACCOUNT, INCIDENT, SUB, api, handled_home  # noqa: F401 — fixtures

ATTACKER_IP = "198.51.100.66"
DEV = SUB + "/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"


def _manual_run(api, target: str) -> dict:
    status, run = api.call("run_runbook_http", "POST", "runbooks/network.lock", who="oid-bob", route={"name": "network.lock"},
                           body={"target": target, "params": {"mode": "deny_by_default"}, "mode": "run"})
    assert status == 200 and run["ok"], run
    return run


def _attacker_ledger(firestop_home) -> Ledger:
    """The ledger store as a blob writer reaches it: no Firestop code, no seal key."""
    return Ledger(firestop_home / "ledger")


def test_a_planted_undo_entry_does_not_hide_a_manual_run_from_the_reliance_check(api, firestop_home):  # noqa: F811
    run = _manual_run(api, ACCOUNT)  # after the incident: finds its lock in place, so it relies on it
    assert run["apply"]["result"]["changed"] is False, run
    day, step = run["run_id"].split("/")
    _attacker_ledger(firestop_home).append(day, kind="action", runbook="network.lock", action="undo", step_id=step,
                                           target=ACCOUNT, at=run["apply"]["finished_at"],
                                           data={"ok": True, "changed": False, "released": True,
                                                 "summary": "released", "requested_by": "oid-mallory"})
    status, body = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT},
                            body={"step": "lock-network"})
    acls = api.env.tenant.resource(ACCOUNT)["properties"]["networkAcls"]
    assert status == 409 and run["run_id"] in body["reason"], (status, body, acls)
    assert acls["defaultAction"] == "Deny"


def test_a_planted_apply_entry_does_not_choose_what_a_manual_undo_restores(api, firestop_home):  # noqa: F811
    run = _manual_run(api, DEV)
    assert run["apply"]["result"]["changed"] is True, run
    day, step = run["run_id"].split("/")
    genuine = [e for e in Ledger(firestop_home / "ledger").entries(day) if e["kind"] == "action" and e["step_id"] == step and e["action"] == "apply"][0]
    forged = json.loads(json.dumps(genuine["data"]))
    forged["before"] = {**forged["before"], "publicNetworkAccess": "Enabled",
                        "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": ATTACKER_IP}], "virtualNetworkRules": []}}
    _attacker_ledger(firestop_home).append(day, kind="action", runbook="network.lock", action="apply", step_id=step,
                                           target=DEV, at=genuine["at"], data=forged)
    status, body = api.call("manual_run_http", "GET", f"runbook-runs/{day}/{step}", who="oid-bob",
                            route={"day": day, "step": step})
    assert status == 200 and ATTACKER_IP not in json.dumps(body), body  # the preview shows the sealed apply's before
    status, body = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob",
                            route={"day": day, "step": step}, body={})
    acls = api.env.tenant.resource(DEV)["properties"].get("networkAcls") or {}
    assert ATTACKER_IP not in json.dumps(acls), (status, body, acls)
    assert status == 200 and body["undo"]["ok"], body


def test_an_altered_apply_entry_refuses_the_manual_undo(api, firestop_home):  # noqa: F811
    """Where the store keeps no immutability policy (Azurite, a folder) the writer may rewrite the ledger whole, with a
    chain that verifies: the altered apply's seal no longer matches, and the undo refuses naming it (409)."""
    run = _manual_run(api, DEV)
    day, step = run["run_id"].split("/")
    path = firestop_home / "ledger" / f"{day}.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    prev = GENESIS
    for entry in entries:
        if entry["kind"] == "action" and entry["step_id"] == step and entry["action"] == "apply":
            entry["data"]["before"] = {**entry["data"]["before"], "publicNetworkAccess": "Enabled",
                                       "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": ATTACKER_IP}]}}
        entry["prev"] = prev
        entry["hash"] = prev = entry_hash(entry)
    path.write_bytes(b"".join(canonical(e) + b"\n" for e in entries))
    assert Ledger(firestop_home / "ledger").verify(day).ok  # the chain alone cannot tell
    status, body = api.call("manual_run_undo_http", "POST", f"runbook-runs/{day}/{step}/undo", who="oid-bob",
                            route={"day": day, "step": step}, body={})
    acls = api.env.tenant.resource(DEV)["properties"].get("networkAcls") or {}
    assert ATTACKER_IP not in json.dumps(acls), (status, body, acls)
    assert status == 409 and "seal" in body["reason"] and step in body["reason"], (status, body)


def test_ledger_verify_names_a_planted_entry_instead_of_calling_the_ledger_intact(api, firestop_home):  # noqa: F811
    """newuser9: a planted entry with a correct hash chain but no seal was reported "ledger intact" (exit 0), although
    nothing in Firestop believes it. The check now names it by seq; the app's own entries still verify intact."""
    from firestop.settings import Settings

    run = _manual_run(api, DEV)
    day, step = run["run_id"].split("/")
    ledger = Ledger.of(Settings.from_env())
    before = ledger.verify(day)
    assert before.ok and before.problems == [], before
    _attacker_ledger(firestop_home).append(day, kind="action", runbook="network.lock", action="undo", step_id=step,
                                           target=DEV, at=run["apply"]["finished_at"],
                                           data={"ok": True, "changed": False, "released": True, "summary": "released"})
    after = ledger.verify(day)
    assert not after.ok and after.entries == before.entries + 1, after
    assert f"seq {before.entries + 1}" in after.problems[-1] and "without this app's seal" in after.problems[-1], after


def test_ledger_verify_names_a_sealed_entry_copied_from_another_ledger(api, firestop_home):  # noqa: F811
    """A ledger's first entry (prev = GENESIS) copied whole into another incident's ledger keeps a valid seal — bound
    to its own incident — and a valid hash chain; it names the other incident, so it is not this ledger's."""
    from firestop.settings import Settings

    run = _manual_run(api, DEV)
    day = run["run_id"].split("/")[0]
    ledger = Ledger.of(Settings.from_env())
    first = ledger.path(day).read_text().splitlines()[0]
    ledger.path("inc-copied").write_text(first + "\n")
    check = ledger.verify("inc-copied")
    assert not check.ok and "seq 1" in check.problems[-1], check


def test_ledger_verify_names_a_planted_line_that_is_json_but_not_an_entry(firestop_home):
    """attack14: a blob writer appending a JSON line that is not an object (``1``, ``[]``, ``"x"``) made verify_chain
    raise AttributeError (``ledger verify`` a traceback, ``append`` an unexpected error) instead of naming the line."""
    for planted in (b"1\n", b"[]\n", b'"x"\n', b"null\n"):
        ledger = Ledger(firestop_home / "ledger")
        (firestop_home / "ledger").mkdir(parents=True, exist_ok=True)
        (firestop_home / "ledger" / "inc-planted.jsonl").write_bytes(planted)
        check = ledger.verify("inc-planted")
        assert not check.ok and "line 1" in check.problems[0], (planted, check)

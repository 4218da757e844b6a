"""RT20-03: dropping a retired seal key hid an undo's record revision, and the incident was undone a second time.

``incident undo`` files revision 2 of the record, sealed under the key current then (K2); revision 1 (the
containment) was sealed under K1. After a second rotation, ``seal-key retire K2`` (K2 suspected exposed, K1 kept for
undo as the README advises) made revision 2 unbelieved: records.file fell back to revision 1, ``incident show`` said
``contained`` (not undone) and ``incident undo`` offered and performed the undo again. A responder who had locked the
account again by hand (the lock's own settings) had it reopened by a second undo built on the stale revision — what
RT8-03 fixed for a race. The README promised that after a drop "incident undo refuses" ("carries no seal of this
app"): it did only when *every* revision was the dropped key's.

Fixed: keys leave the ring oldest first (:func:`firestop.trust.keyring.retire`): K2 alone is refused (exit 2, naming
K1 and both fixes) and ``--with-older`` drops K2 with K1, so no older revision can decide again. The first test failed
before the fix (retire exit 0, then the second undo reopened the account)."""

from __future__ import annotations

import json

from tests.seal17.test_seal_rotation import ACCOUNT, EXAMPLE, _cli, _locked


def _lock_by_hand(home) -> None:
    """A responder re-locks the account in the portal, to exactly the settings the incident's lock set."""
    from firestop.sandbox import Tenant

    tenant = Tenant.open(home / "sandbox")
    doc = tenant._state.doc  # noqa: SLF001 — stand in for a change made in the portal
    (key,) = [k for k in doc["resources"] if k.lower() == ACCOUNT.lower()]
    doc["resources"][key]["properties"]["networkAcls"]["defaultAction"] = "Deny"
    tenant.save()


def _undone_then_rotated(home) -> tuple[str, str, str]:
    """(incident, K1's id, K2's id): contained under K1, undone under K2, then K3 made current."""
    incident = json.loads(_cli("alert", "handle", str(EXAMPLE), "--json").stdout)["incident_id"]
    k1 = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0  # K1 retired, K2 current
    undone = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert undone.exit_code == 0 and not _locked(home), undone.output
    k2 = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0  # K3 current, K2 and K1 retired
    return incident, k1, k2


def test_dropping_the_key_of_an_undo_revision_alone_is_refused_and_the_undo_is_not_offered_again(firestop_home):
    incident, k1, k2 = _undone_then_rotated(firestop_home)
    refused = _cli("seal-key", "retire", k2, "--as", "oid-admin", "--yes", "--json")
    assert refused.exit_code == 2, refused.output  # before: 0, K2 dropped while K1 stayed
    error = json.loads(refused.stdout)["error"]
    assert k1 in error and "--with-older" in error and f"seal-key retire {k1}" in error, error
    assert json.loads(_cli("seal-key", "show", "--json").stdout)["retired"] == [k2, k1]  # nothing dropped

    _lock_by_hand(firestop_home)
    again = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert _locked(firestop_home), "a second undo of the same step reopened the account a responder locked by hand"
    assert again.exit_code != 0, again.output
    shown = json.loads(_cli("incident", "show", incident, "--json").stdout)
    assert shown["containment"] is not None, shown["containment"]  # the undo's revision is still the record


def test_with_older_drops_the_key_and_every_older_one_and_then_no_undo_is_believed(firestop_home):
    incident, k1, k2 = _undone_then_rotated(firestop_home)
    dry = _cli("seal-key", "retire", k2, "--with-older", "--as", "oid-admin", "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["dropped_kids"] == [k2, k1], dry.output
    assert json.loads(_cli("seal-key", "show", "--json").stdout)["retired"] == [k2, k1]
    dropped = _cli("seal-key", "retire", k2, "--with-older", "--as", "oid-admin", "--yes")
    assert dropped.exit_code == 0 and f"and the older {k1}" in dropped.output, dropped.output
    assert json.loads(_cli("seal-key", "show", "--json").stdout)["retired"] == []

    _lock_by_hand(firestop_home)
    refused = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    # refused (no revision it can believe as the newest: exit 2 "changed since this undo read it" or 3 "no seal")
    assert refused.exit_code in (2, 3), refused.output
    assert _locked(firestop_home)


def test_the_oldest_retired_key_leaves_alone(firestop_home):
    _, k1, k2 = _undone_then_rotated(firestop_home)
    dropped = _cli("seal-key", "retire", k1, "--as", "oid-admin", "--yes", "--json")
    assert dropped.exit_code == 0 and json.loads(dropped.stdout)["dropped_kids"] == [k1], dropped.output
    assert json.loads(_cli("seal-key", "show", "--json").stdout)["retired"] == [k2]

"""RT20-03: dropping a retired seal key hides an undo's record revision, and the incident is undone a second time.

``incident undo`` files revision 2 of the record, sealed under the key current then (K2); revision 1 (the
containment) was sealed under K1. After a second rotation, ``seal-key retire K2`` (K2 suspected exposed, K1 kept for
undo as the README advises) makes revision 2 unbelieved: records.file falls back to revision 1, ``incident show``
says ``contained`` (not undone) and ``incident undo`` offers and performs the undo again. A responder who locked the
account again by hand meanwhile (the lock's own settings) has it reopened by a second undo built on the stale
revision — what RT8-03 fixed for a race. The README promises that after a drop "incident undo refuses" ("carries no
seal of this app"): it does only when *every* revision was sealed by the dropped key."""

from __future__ import annotations

import json

import pytest

from tests.seal17.test_seal_rotation import ACCOUNT, EXAMPLE, _cli, _locked


def _lock_by_hand(home) -> None:
    """A responder re-locks the account in the portal, to exactly the settings the incident's lock set."""
    from firestop.sandbox import Tenant

    tenant = Tenant.open(home / "sandbox")
    doc = tenant._state.doc  # noqa: SLF001 — stand in for a change made in the portal
    (key,) = [k for k in doc["resources"] if k.lower() == ACCOUNT.lower()]
    doc["resources"][key]["properties"]["networkAcls"]["defaultAction"] = "Deny"
    tenant.save()


@pytest.mark.xfail(strict=True, reason="RT20-03: after dropping the key of the undo's revision, the incident is undone again")
def test_dropping_the_key_of_an_undo_revision_does_not_offer_the_undo_again(firestop_home):
    incident = json.loads(_cli("alert", "handle", str(EXAMPLE), "--json").stdout)["incident_id"]
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0  # K1 retired, K2 current
    undone = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert undone.exit_code == 0 and not _locked(firestop_home), undone.output
    k2 = json.loads(_cli("seal-key", "show", "--json").stdout)["kid"]
    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0  # K3 current, K2 and K1 retired
    assert _cli("seal-key", "retire", k2, "--as", "oid-admin", "--yes").exit_code == 0

    _lock_by_hand(firestop_home)
    assert _locked(firestop_home)
    again = _cli("incident", "undo", incident, "--as", "oid-bob", "--yes", "--json")
    assert _locked(firestop_home), "a second undo of the same step reopened the account a responder locked by hand"
    assert again.exit_code != 0, again.output

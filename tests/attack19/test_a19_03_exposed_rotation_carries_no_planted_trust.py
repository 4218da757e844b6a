"""attack19 A19-03: ``seal-key rotate`` carried every rule trust the outgoing key had sealed (A18-03's carry) — also the
ones its thief planted. The README's reason to rotate is a suspected exposure; whoever copied FIRESTOP_HOME/seal-key
and can write the records container (Storage Blob Data) seals ``action: trust`` for their own alert rule, ``by``
an admin's object id, while the key is current. The rotation then sealed it anew under the *new* key
(``resealed_from``), so the follow-up the CLI itself prints ("After a suspected exposure: … retire <old> --with-older")
left the planted trust standing: the attacker's rule acted unattended under a key they never held.

Fix: ``seal-key rotate --exposed`` carries no trust (each shows ``re-trust`` until an admin trusts it again: the
safe side), and the rotation's text tells an exposure's rotation to use it. Fails before the fix (``--exposed`` is
no option: exit 2, the planted trust carried by the only rotation there was)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.infra import trusted_rules as tr
from tests.attack18.test_a18_03_retired_key_forges_standing_trust import ATTACKERS_RULE


def _cli(*args: str):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_an_exposed_keys_planted_trust_does_not_survive_its_rotation_and_retirement(firestop_home):
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.seal import load_seal_key

    store = records_store(get_settings())
    exposed = load_seal_key(firestop_home).current  # copied by the attacker, who plants a trust "by" an admin
    assert tr.trust_rule(store, ATTACKERS_RULE, by="oid-admin", at="2026-12-05T00:00:00Z", key=exposed)[1]
    rotated = _cli("seal-key", "rotate", "--exposed", "--as", "oid-admin", "--json")
    assert rotated.exit_code == 0, rotated.output
    done = json.loads(rotated.output)
    assert done["rotated"] is True and done["resealed_trusts"] == 0 and done["exposed"] is True
    ring = load_seal_key(firestop_home)
    assert tr.trust_state(store, ATTACKERS_RULE, key=ring) == "rekey"  # re-trust: an admin decides again
    assert tr.is_trusted(store, ATTACKERS_RULE, key=ring) is False
    retired = _cli("seal-key", "retire", exposed.kid, "--with-older", "--yes", "--as", "oid-admin", "--json")
    assert retired.exit_code == 0, retired.output
    assert tr.is_trusted(store, ATTACKERS_RULE, key=load_seal_key(firestop_home)) is False


def test_the_rotation_text_tells_an_exposure_to_rotate_with_exposed(firestop_home):
    shown = _cli("seal-key", "rotate", "--as", "oid-admin")
    assert shown.exit_code == 0, shown.output
    assert "--exposed" in shown.output
    shown = _cli("seal-key", "rotate", "--exposed", "--as", "oid-admin")
    assert shown.exit_code == 0, shown.output
    assert "not carried" in shown.output

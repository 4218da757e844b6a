"""joins18 (review 18, "Pending joins across a rotation"): an alert accepted with a 202 and kept as a pending join
(its alert id's incident awaited its source check) holds an incident input sealed with the key current then. Started
after a seal key rotation, ``start_pending_joins`` refused it as a retired key's live purpose (seal18, RT20-01): the
genuine alert was never started — a note in the parent incident, a log warning — and "loses nothing already
accepted" did not hold. Now such an input (well formed, naming a retired key of the ring, its MAC right under it) is
never re-sealed: its variant starts with an input re-derived from its alert alone, as intake builds a variant (current
key, its own source check, nothing pinned carried over), counted apart (``rederived``) and noted. Anything else stays
refused.

Each test: a forged alert opens the resource's incident (its check pending), the genuine alert joins it (kept as a
pending join under key K1); the rotation K1 → K2 happens after the forged incident's seal was verified, just before
its pending joins are listed (a hook on the status read ``start_pending_joins`` makes first); its check ends "not
confirmed". The first two tests fail before this change (the variant was refused: never started).
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.variants13.test_v13_joined_while_checked import _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine

PINNED = {"name": "pinned-by-the-kept-input", "steps": []}
OTHER_DIGEST = "ab" * 32


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _rotate_before_listing(monkeypatch, home, extra=None) -> dict:
    """Rotate the seal key (``python -m firestop seal-key rotate``'s function) when ``start_pending_joins`` first
    reads its incident's status — after the incident's seal was verified under the old key — calling
    ``extra(old_ring)`` first (to keep another pending join under the old key). Returns what it saw."""
    import firestop.intake.accept as accept
    from firestop.infra.trusted_rules import reseal_trusts
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.keyring import rotate
    from firestop.trust.seal import load_seal_key

    seen: dict = {}
    original = accept.published_not_confirmed

    def hooked(status):
        if not seen:
            old = load_seal_key(home)
            if extra is not None:
                extra(old)
            # as `seal-key rotate` does: the rule trusts standing now are carried to the new key (A18-03)
            assert rotate(home, carry=lambda ring: reseal_trusts(records_store(get_settings()), ring))["rotated"] is True
            seen.update(old=old, new=load_seal_key(home))
        return original(status)

    monkeypatch.setattr(accept, "published_not_confirmed", hooked)
    return seen


def _keep(env, incident: str, ring, digest: str, variant: str, sealed) -> None:
    """Keep ``sealed`` as a pending join of ``incident``'s run, its name sealed with ``ring`` (as intake keeps one)."""
    from firestop.records import pending_joins
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    received_at = str(env.host.get_status(incident).input["received_at"])
    assert pending_joins.keep(records_store(get_settings()), incident, received_at, digest, variant, sealed, ring) is True


def _instances(env) -> set[str]:
    return {i.instance_id for i in env.host.list_instances()}


def _kept_input(env, forged: str, own: str) -> dict:
    from firestop.records.pending_joins import pending
    from firestop.records.store import records_store
    from firestop.settings import get_settings
    from firestop.trust.seal import load_seal_key

    received_at = str(env.host.get_status(forged).input["received_at"])
    kept = dict(pending(records_store(get_settings()), forged, received_at, load_seal_key()).kept)
    return kept[own]


def test_a_pending_join_kept_before_a_rotation_starts_under_the_current_key(served, firestop_home, monkeypatch):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    assert _posted(server, app, json.loads(RAW)).get("correlatedTo") == forged  # joined: kept under K1
    own = _variant_of(json.loads(RAW))
    seen = _rotate_before_listing(monkeypatch, firestop_home)
    env.host.run_until_idle(advance_timers=True)
    assert seen, "start_pending_joins never ran"
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    assert own in _instances(env), env.host.get_status(forged).output["notes"]  # before: refused, never started
    status = env.host.get_status(own)
    started_with = status.input
    assert started_with["seal"].split(".")[1] == seen["new"].kid != seen["old"].kid  # the current key sealed it
    assert started_with["variant_of"] == forged and started_with.get("source_check")
    assert confirm_outcomes(env, own) == ["ok"], status.output.get("reason")  # its own check, under K2
    assert _deny_rules(env, "203.0.113.200")  # contained as any new delivery of that alert would be
    from firestop.records.store import filed_record

    record = filed_record(env.settings, own)  # its record filed
    assert record and record["alert"]["alert_id"] == started_with["alert"]["alert_id"]
    notes = env.host.get_status(forged).output["notes"]
    assert any("1 variant(s) started" in n for n in notes), notes
    assert any("1 of the variant(s) started were kept before a seal key rotation" in n for n in notes), notes
    assert not any("not sealed for the variant they name" in n for n in notes), notes


def test_a_retired_key_pending_join_carrying_a_pinned_playbook_gets_none(served, firestop_home, monkeypatch):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    assert _posted(server, app, json.loads(RAW)).get("correlatedTo") == forged
    own = _variant_of(json.loads(RAW))
    pinned = own[: -16] + OTHER_DIGEST[:16]
    kept_before = _kept_input(env, forged, own)

    def keep_pinned(old):  # the same alert, its input pinning a playbook, sealed with the (then current) K1
        from firestop.trust.seal import Purpose, seal

        document = {k: v for k, v in kept_before.items() if k != "seal"}
        document.update(incident_id=pinned, playbook=PINNED, requested_by="mallory")
        _keep(env, forged, old, OTHER_DIGEST, pinned, seal(Purpose.INCIDENT, document, binding=pinned, key=old))

    seen = _rotate_before_listing(monkeypatch, firestop_home, keep_pinned)
    env.host.run_until_idle(advance_timers=True)
    assert seen
    assert pinned in _instances(env), env.host.get_status(forged).output["notes"]
    status = env.host.get_status(pinned)  # before: refused, never started
    started_with = status.input
    assert "playbook" not in started_with and started_with.get("requested_by") in (None, "automation")
    assert started_with["seal"].split(".")[1] == seen["new"].kid
    assert started_with["alert"]["alert_id"] == kept_before["alert"]["alert_id"]
    assert confirm_outcomes(env, pinned) == ["ok"]  # checked at its source on its own, the routed playbook's
    assert "pinned-by-the-kept-input" not in json.dumps(status.output)
    notes = env.host.get_status(forged).output["notes"]
    assert any("2 of the variant(s) started were kept before a seal key rotation" in n for n in notes), notes


def test_a_pending_join_sealed_under_an_unknown_key_is_still_refused(served, firestop_home, monkeypatch):  # noqa: F811
    from firestop.trust.seal import SealKey, SealKeyRing

    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    assert _posted(server, app, json.loads(RAW)).get("correlatedTo") == forged
    own = _variant_of(json.loads(RAW))
    planted = own[: -16] + OTHER_DIGEST[:16]
    kept_before = _kept_input(env, forged, own)
    unknown = SealKey("joins18-a-key-this-app-never-held-0123456789", "test")

    def keep_forged(old):
        from firestop.trust.seal import Purpose, seal

        document = {k: v for k, v in kept_before.items() if k != "seal"}
        forged_input = seal(Purpose.INCIDENT, {**document, "incident_id": planted, "playbook": PINNED},
                            binding=planted, key=SealKeyRing(unknown))
        # its name sealed by the app (the input is what is forged: the name alone starts nothing)
        _keep(env, forged, old, OTHER_DIGEST, planted, forged_input)
        # and one whose seal names the retired key but whose MAC is not that key's: junk, refused too
        junk = dict(forged_input, seal=f"v1.{old.kid}.{forged_input['seal'].split('.')[2]}")
        _keep(env, forged, old, "cd" * 32, own[: -16] + "cd" * 8, junk)

    seen = _rotate_before_listing(monkeypatch, firestop_home, keep_forged)
    env.host.run_until_idle(advance_timers=True)
    assert seen
    assert planted not in _instances(env) and own[: -16] + "cd" * 8 not in _instances(env)
    assert own in _instances(env)  # the genuine one, kept before the rotation, re-derived and started
    notes = env.host.get_status(forged).output["notes"]
    assert any("2 pending join(s) in the records store were not sealed" in n for n in notes), notes
    assert any("1 of the variant(s) started were kept before a seal key rotation" in n for n in notes), notes

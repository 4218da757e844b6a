"""RT16-05 (medium; noticed by red team 16 at 01:21, fixed after): planted blobs crowded a genuine pending join out.

Attacker: a principal with Storage Blob Data write on Firestop's storage (no Firestop role), beside the webhook-key
holder whose forged alert opened the resource's incident. A genuine alert arriving while that incident's source
check ran was kept as a pending join (``pending-joins/<sha256 of "incident id|received_at">/<digest>.json``,
joins14); the forged incident, not confirmed, starts the variants of its pending joins — the first
``MAX_STARTS`` (2,000) names of the folder in order, junk counted. 2,000 blobs named ``000….json`` planted there
pushed the genuine join into ``left`` (a note): never checked, never contained.

Fixed: a pending join's name carries the app's seal (purpose ``pending-join``, bound to the run, covering the
digest); the incident counts only sealed names and skips anything else unread.
"""

from __future__ import annotations

import json

from firestop.records import pending_joins
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey

INCIDENT, RECEIVED = "aoai-incident-1", "2026-12-05T01:00:00Z"
KEY = SealKey("rt16-05-test-seal-key-0123456789abcdef", "test")


def _store(tmp_path):
    return LocalStore(tmp_path / "records")


def _plant(store, name: str) -> None:
    """The storage writer's blob (no Firestop code: the store as any writer sees it)."""
    store.create(pending_joins.folder(INCIDENT, RECEIVED) + name,
                 json.dumps({"variant_id": "aoai-planted-v0", "input": {"x": 1}}).encode(), "application/json")


def test_planted_names_do_not_crowd_the_genuine_pending_join_out(tmp_path, monkeypatch):
    monkeypatch.setattr(pending_joins, "MAX_STARTS", 5)  # the same read bound, smaller: 2,000 in production
    store = _store(tmp_path)
    for i in range(8):
        _plant(store, f"{i:032x}.json")  # sorts before any hex digest starting with a letter or a higher digit
    genuine = "f" * 64
    assert pending_joins.keep(store, INCIDENT, RECEIVED, genuine, "aoai-incident-1-vffffffffffffffff",
                              {"sealed": "input"}, KEY)
    found = pending_joins.pending(store, INCIDENT, RECEIVED, KEY)
    assert found.kept == [("aoai-incident-1-vffffffffffffffff", {"sealed": "input"})] and found.left == 0


def test_a_name_with_a_made_up_or_copied_seal_is_skipped(tmp_path):
    store = _store(tmp_path)
    digest = "a" * 64
    pending_joins.keep(store, INCIDENT, RECEIVED, digest, "aoai-incident-1-vaaaaaaaaaaaaaaaa", {"sealed": "input"}, KEY)
    real = store.names(pending_joins.folder(INCIDENT, RECEIVED))[0].rsplit("/", 1)[1]
    seal = real[len("a" * 32) + 1:-len(".json")]
    _plant(store, f"{'b' * 32}.{seal}.json")  # the genuine name's seal copied onto another digest
    _plant(store, f"{'c' * 32}.v1.{KEY.kid}.{'A' * 43}.json")  # a made-up MAC
    other = SealKey("another-apps-seal-key-0123456789abcdef", "test")
    pending_joins.keep(store, INCIDENT, RECEIVED, "d" * 64, "aoai-incident-1-vdddddddddddddddd", {"o": 1}, other)
    found = pending_joins.pending(store, INCIDENT, RECEIVED, KEY)
    assert found.kept == [("aoai-incident-1-vaaaaaaaaaaaaaaaa", {"sealed": "input"})] and found.left == 0
    # sealed for this run only: another run of the same instance id reads none of them
    assert pending_joins.pending(store, INCIDENT, "2026-12-05T02:00:00Z", KEY) == pending_joins.Pending([], 0, 0)


def test_the_same_content_kept_twice_is_one_join(tmp_path):
    store = _store(tmp_path)
    args = (store, INCIDENT, RECEIVED, "e" * 64, "aoai-incident-1-veeeeeeeeeeeeeeee", {"sealed": "input"}, KEY)
    assert pending_joins.keep(*args) is True and pending_joins.keep(*args) is False
    assert len(pending_joins.pending(store, INCIDENT, RECEIVED, KEY).kept) == 1

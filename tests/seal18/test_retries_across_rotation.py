"""seal18, item 4 (what else a retry across a seal key rotation did twice or refused).

- The once-marker of a confirmed source alert (RT13, bounds14: ``claim``): a claim retried by the same incident run
  (an activity runs at least once: a worker lost after the claim, before its result was kept) writes the same bytes
  and is no refusal — unless the key was rotated in between: its seal, and so its bytes, changed, and the retry read
  its own marker as "already confirmed for incident <itself>" — the incident's genuine alert waited for a responder.
  Now a marker sealed for this very run (by any key of the ring) is the run's own claim. Fails before.
- A pending join (joins14) kept again across a rotation (the same delivery repeated) is a second blob, one under each
  key's seal; the readers counted both (two starts of one variant, two of MAX_STARTS). Now one per content digest.
  Fails before.
- A manual-run index moved under a key since retired got its later lines in a second moved object (the current
  key's); they now go where it went, as a ledger's do (seal17). Fails before.
"""

from __future__ import annotations

from firestop.azure.alerts_management import ClaimRefused, claim, claim_name, claimed_by
from firestop.source_reasons import Reason
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey, SealKeyRing

K1 = SealKey("seal18-retry-key-one-0123456789abcdefghijkl", "test")
K2 = SealKey("seal18-retry-key-two-0123456789abcdefghijkl", "test")
ALERT = {"alert_id": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/seal18", "monitor_condition": "Fired"}
AT = "2026-12-05T03:00:00Z"


def test_a_claim_retried_across_a_rotation_is_the_runs_own(tmp_path):
    store = LocalStore(tmp_path)
    assert claim(store, ALERT, "inc-1", AT, key=K1) is None
    rotated = SealKeyRing(K2, (K1,))
    assert claim(store, ALERT, "inc-1", AT, key=rotated) is None  # before: "already confirmed for incident 'inc-1'"
    assert claimed_by(store, claim_name(ALERT), rotated) == "inc-1"
    # another incident, or another run of the same instance id, is still refused
    other = claim(store, ALERT, "inc-2", AT, key=rotated)
    assert isinstance(other, ClaimRefused) and other.code is Reason.ALREADY_CONFIRMED and "'inc-1'" in other
    later = claim(store, ALERT, "inc-1", "2026-12-05T04:00:00Z", key=rotated)
    assert isinstance(later, ClaimRefused) and later.code is Reason.ALREADY_CONFIRMED
    # K1 dropped: the marker is no longer told from a planted one (README: what a dropped key costs) — fail safe
    dropped = claim(store, ALERT, "inc-1", AT, key=SealKeyRing(K2))
    assert isinstance(dropped, ClaimRefused) and dropped.code is Reason.MARKER_UNSEALED


def test_a_pending_join_kept_again_across_a_rotation_is_one(tmp_path):
    from firestop.records import pending_joins

    store = LocalStore(tmp_path)
    digest, variant = "ab" * 16, "inc-1-v" + "ab" * 8
    sealed_input = {"incident_id": variant, "seal": "v1.00000000.x"}
    assert pending_joins.keep(store, "inc-1", AT, digest, variant, sealed_input, K1) is True
    rotated = SealKeyRing(K2, (K1,))
    pending_joins.keep(store, "inc-1", AT, digest, variant, sealed_input, rotated)  # the same delivery, repeated
    assert len(store.names(pending_joins.folder("inc-1", AT))) == 2  # one blob under each key's seal
    found = pending_joins.pending(store, "inc-1", AT, rotated)
    assert found.kept == [(variant, sealed_input)] and found.left == 0 and found.unreadable == 0  # before: twice
    other = "cd" * 16, "inc-1-v" + "cd" * 8
    pending_joins.keep(store, "inc-1", AT, other[0], other[1], sealed_input, rotated)
    assert [v for v, _ in pending_joins.pending(store, "inc-1", AT, rotated).kept] == [variant, other[1]]


def test_a_manual_run_index_moved_under_a_retired_key_is_appended_to_where_it_went(tmp_path):
    """A manual-run index moved (R16-07: its plain name planted as something that cannot be appended to) under a key
    since retired: later lines went on in a second moved object, the current key's (read by index_objects, but one
    index in three objects, a second move recorded nowhere). Now they go where the index went. Fails before."""
    from runbooks import manual_runs

    store = LocalStore(tmp_path)
    target = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/"
              "Microsoft.CognitiveServices/accounts/a1")
    name = manual_runs.index_name(target)
    (tmp_path / name).mkdir(parents=True)  # the plain object cannot be appended to (a planted block blob on Azure)
    manual_runs.index_manual_run(store, "manual-2026-12-05", "cli-run-1", "network.lock", target,
                                 "2026-12-05T03:00:00+00:00", key=K1)
    first = manual_runs.moved_index_name(name, K1)
    assert (tmp_path / first).is_file()
    rotated = SealKeyRing(K2, (K1,))
    manual_runs.index_manual_run(store, "manual-2026-12-05", "cli-run-2", "network.lock", target,
                                 "2026-12-05T03:05:00+00:00", key=rotated)
    assert not (tmp_path / manual_runs.moved_index_name(name, K2)).exists()  # before: a second moved object
    lines = (tmp_path / first).read_text().splitlines()
    assert [line.split('"run_id":"')[1].split('"')[0] for line in lines] == ["manual-2026-12-05/cli-run-1",
                                                                             "manual-2026-12-05/cli-run-2"]

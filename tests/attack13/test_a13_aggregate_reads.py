"""attack13: bounds14's reads are bounded one at a time — what a reader holds across many reads was not.

Attacker C: Storage Blob Data write on the records account, no Firestop role. Each test plants several objects, each
just under its kind's bound (so every single read is allowed), at names Firestop reads in one pass, and measures the
peak of traced memory while Firestop reads them the way it does. bounds14's premise — "never read whole into
memory" past the bound — holds per read; the pass held every object it read until the end.
"""

from __future__ import annotations

from pathlib import Path

from tests.runbooks.conftest import Sandbox
from tests.traced_memory import peak as _peak


def _plant(path: Path, size: int, head: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # written in place, as a storage writer's Put Blob
        fh.write(head + b" " * (size - len(head)))


def test_a13_01_planted_revisions_are_hashed_one_at_a_time(tmp_path):
    """A13-01: ``records.file`` (plan and apply, every incident's record filing) read every ``<incident>.revN.json``
    and kept all their bytes in a list before hashing them: N planted revisions of just under 8 MiB held N × 8 MiB
    (incident ids are predictable: an alert's slot). Now each is hashed as read and dropped: one read's bound."""
    from firestop.records.store import RECORD_READ_LIMIT

    sandbox = Sandbox(tmp_path)
    records = sandbox.settings.records_dir
    planted = 6
    for n in range(2, 2 + planted):
        _plant(records / f"inc-a13.rev{n}.json", RECORD_READ_LIMIT - 1, b'{"incident_id": "inc-a13"}')
    record = {"incident_id": "inc-a13", "status": "contained", "reason": "r", "alert": {}, "timeline": [], "actions": []}
    answer, peak = _peak(lambda: sandbox.run("records.file", "plan", target=None, params={"record": record},
                                             incident_id="inc-a13"))
    assert isinstance(answer, dict), answer
    assert peak < RECORD_READ_LIMIT * 3 // 2, f"{peak:,} bytes traced for {planted} planted revisions"


def test_a13_02_pending_joins_are_started_one_read_at_a_time(tmp_path):
    """A13-02: ``start_pending_joins`` took ``pending(...).kept`` — every kept variant input at once — before starting
    any: a webhook-key holder's distinct posts while a forged incident's check runs (up to MAX_STARTS = 2,000; the
    window is up to 7 minutes since variants14 retries a check that could not check, and the forger can provoke the
    throttling) are each a sealed input of up to a 256 KiB delivery's size (a 200 KB description: a 201 KB input),
    so one pass held ~500 MB. Here 40 of 256 KiB; the activity's pass (``Scan``) now holds one at a time."""
    import hashlib

    from firestop.records import pending_joins
    from firestop.storage.local import LocalStore
    from firestop.trust.seal import SealKey

    key = SealKey("attack13-test-seal-key-0123456789abcdef", "test")
    store = LocalStore(tmp_path / "records")
    incident, received = "aoai-incident-a13", "2026-12-05T03:00:00Z"
    count, size = 40, 256 * 1024
    for i in range(count):
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        pending_joins.keep(store, incident, received, digest, f"{incident}-v{digest[:16]}",
                           {"alert": {"description": f"{i:04d}" + "x" * size}, "variant_of": incident}, key)

    def activity_pass() -> int:  # what start_pending_joins iterates, each input dropped before the next
        scan = getattr(pending_joins, "Scan", None)
        listed = scan(store, incident, received, key) if scan is not None else pending_joins.pending(store, incident, received, key).kept
        seen = 0
        for _variant, sealed in listed:
            seen += isinstance(sealed, dict)
        return seen

    answer, peak = _peak(activity_pass)
    assert answer == count, answer
    assert peak < 8 * size, f"{peak:,} bytes traced to start {count} pending joins of {size:,} bytes"

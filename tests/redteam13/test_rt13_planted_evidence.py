"""RT13-04 (medium): evidence planted before the incident was adopted as Firestop's and sealed on its ledger.

The evidence runbooks keep one JSONL item per step and target at a name known in advance —
``<incident>/<step>-<kind>-<resource name>-<8 hex of the resource ID>.jsonl`` with a manifest entry
``<incident>/manifest/<file>.json`` — and incident ids are predictable (:func:`firestop.intake.correlation.slot_id`).
Both objects are "written once; the first one stands" (a crashed try's collection is the evidence): a principal with
Storage Blob Data write and no Firestop role (creating blobs is allowed under WORM) created them first, and the
snapshot — of the diagnostic logs of that principal's own abuse — kept *its* rows: ``write_jsonl`` adopted the planted
file on ``AlreadyExists`` (and a planted manifest entry was returned as filed, or reused by ``existing_item``), hashed
it, and the app sealed that hash into the incident's ledger and record ("kept N log rows, sha256 …"), where
``ledger verify`` reports it intact.

Fixed: an existing file or manifest entry is adopted only when it is the same collection (the same bytes; a manifest
entry naming the same file and hash); otherwise the collection is kept beside it, under a name carrying its own
SHA-256. An item is reused by a retry only when a sealed ``evidence`` entry of this incident's ledger names it, and
``verify`` counts only such an entry as "on the ledger".
"""

from __future__ import annotations

import hashlib
import json

from tests.runbooks.conftest import ACCOUNT, sandbox  # noqa: F401 — the fixture

FAKE = b'{"callerIpAddress": "10.0.0.1", "operationName": "nothing to see"}\n'


def _names(sb) -> tuple[str, str]:
    from runbooks.evidence import evidence_name

    plan = sb.run("evidence.snapshot_config", "plan")
    assert plan["ok"], plan
    name = evidence_name("arm-config", ACCOUNT)
    return name, f"step-{name}.jsonl"


def test_a_planted_evidence_file_is_not_adopted(sandbox):  # noqa: F811
    from firestop.evidence.store import EvidenceStore

    name, filename = _names(sandbox)
    store = EvidenceStore.of(sandbox.settings).store
    store.create(f"inc-test/{filename}", FAKE, "application/x-ndjson")
    answer = sandbox.run("evidence.snapshot_config", "apply")
    assert answer["ok"], answer
    item = answer["result"]["artifacts"]["evidence"]
    assert item["sha256"] != hashlib.sha256(FAKE).hexdigest()  # before: the planted rows, sealed as Firestop's
    kept = EvidenceStore.of(sandbox.settings).read("inc-test", item["path"])
    assert kept is not None and b"nothing to see" not in kept and hashlib.sha256(kept).hexdigest() == item["sha256"]
    assert store.read(f"inc-test/{filename}") == FAKE  # the planted object is left as it is (WORM), not used


def test_a_planted_manifest_entry_is_neither_returned_nor_reused(sandbox):  # noqa: F811
    from firestop.evidence.store import EvidenceStore

    name, filename = _names(sandbox)
    store = EvidenceStore.of(sandbox.settings).store
    fake_file = "step-planted.jsonl"
    store.create(f"inc-test/{fake_file}", FAKE, "application/x-ndjson")
    entry = {"name": name, "path": fake_file, "sha256": hashlib.sha256(FAKE).hexdigest(), "size_bytes": len(FAKE),
             "collected_at": "2026-12-04T10:00:00+00:00", "collected_by": "evidence.snapshot_config", "step_id": "step",
             "rows": 1, "source": {}}
    store.create(f"inc-test/manifest/{fake_file}.json", json.dumps(entry).encode(), "application/json")  # reuse bait
    # and under the name Firestop files its own entry at (before: returned as filed by a concurrent try)
    store.create(f"inc-test/manifest/{filename}.json", json.dumps(entry).encode(), "application/json")
    answer = sandbox.run("evidence.snapshot_config", "apply")
    assert answer["ok"] and not answer["result"]["artifacts"].get("reused"), answer  # before: reused the planted item
    item = answer["result"]["artifacts"]["evidence"]
    assert item["path"] not in (fake_file, filename) and item["sha256"] != entry["sha256"]
    again = sandbox.run("evidence.snapshot_config", "apply")  # the retry reuses Firestop's own, not the bait
    assert again["ok"] and again["result"]["artifacts"].get("reused") and again["result"]["artifacts"]["evidence"] == item


def test_a_retry_reuses_firestops_own_item(sandbox):  # noqa: F811
    first = sandbox.run("evidence.snapshot_config", "apply")
    again = sandbox.run("evidence.snapshot_config", "apply")
    assert again["ok"] and again["result"]["artifacts"].get("reused"), again
    assert again["result"]["artifacts"]["evidence"] == first["result"]["artifacts"]["evidence"]
    verified = sandbox.run("evidence.snapshot_config", "verify", applied=again["result"])
    assert verified["ok"] and all(c["ok"] for c in verified["result"]["checks"]), verified

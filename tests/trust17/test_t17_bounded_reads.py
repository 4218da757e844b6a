"""trust17 item 3: reads bounded by what the app filed, not by what a records-store writer planted.

Attacker C (Storage Blob Data write on the records container, no seal key) plants objects at an incident's
predictable names. ``records.file`` (plan and apply: every incident's filing, and an undo's revision) read every listed
``<incident>.revN.json`` and every look-alike keyed name ``<incident>.r<N>-<16 hex>.json`` (A13-01 made each read
drop its bytes, not fewer reads): N planted objects, N reads of up to 8 MiB each. Now it reads only the two names the
app can file each *sealed* revision under and the plain name of the revision it files (R16-03's rule for the views),
and keeps the newest sealed revision found. Reads counted at the store (``LocalStore.read``); before (main 8830437)
the plan below read 1 + 2 × PLANTS objects.
"""

from __future__ import annotations

import hashlib
import json

from firestop.storage.local import LocalStore
from tests.runbooks.test_planted_names import EXAMPLE, INCIDENT, PLANTED, cli

PLANTS = 40


def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real_read = LocalStore.read

    def counted(self, name, limit=None):
        if name.startswith(INCIDENT):
            reads.append(name)
        return real_read(self, name, limit)

    monkeypatch.setattr(LocalStore, "read", counted)
    return reads


def test_records_file_reads_the_sealed_revisions_names_only(firestop_home, monkeypatch):
    from firestop.records.store import filed_record, record_json
    from firestop.settings import get_settings
    from runbooks.dispatch import execute

    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"
    records = firestop_home / "records"
    for i in range(PLANTS):  # later revisions and look-alike keyed names of revision 1, none sealed
        (records / f"{INCIDENT}.rev{2 + i}.json").write_bytes(PLANTED)
        (records / f"{INCIDENT}.r1-{i:016x}.json").write_bytes(PLANTED)
    record = filed_record(get_settings(), INCIDENT)
    revised = {**record, "status": "undone"}
    request = {"runbook": "records.file", "step_id": "file-record", "incident_id": INCIDENT,
               "params": {"record": revised, "revision_of": hashlib.sha256(record_json(record)).hexdigest()}}

    reads = _count_reads(monkeypatch)
    planned = execute({**request, "action": "plan"})
    assert planned.get("ok"), planned.get("error")
    # revision 1's plain name (sealed bytes) and revision 2's plain name (taken: is it this document?) — the keyed
    # name of revision 1 was never filed, so it is not listed and not read
    assert sorted(reads) == sorted([f"{INCIDENT}.json", f"{INCIDENT}.rev2.json"]), f"{len(reads)} reads: {reads[:6]}"

    reads.clear()
    applied = execute({**request, "action": "apply"})
    assert applied.get("ok"), applied.get("error")
    assert applied["result"]["artifacts"]["revision"] == 2  # filed beside the planted rev2, under its keyed name
    assert len(reads) <= 2, f"{len(reads)} reads: {reads[:6]}"
    assert filed_record(get_settings(), INCIDENT)["status"] == "undone"

    reads.clear()  # the same document again: the newest sealed revision (2, at its keyed name) is found, nothing filed
    again = execute({**request, "action": "apply"})
    assert again.get("ok") and again["result"]["changed"] is False, again
    assert len(reads) <= 4, f"{len(reads)} reads: {reads[:6]}"

"""R16-03: records16's readers (``firestop.records.store.believed_filing``: every view of a finished incident, each
row of ``incident list`` / ``GET /api/incidents``) read *every* listed object named like a keyed filing of a sealed
revision — ``<incident>.r1-<any 16 hex>.json`` — until one holds the sealed bytes. Only one such name can be the app's
(``keyed_record_name``: derived from the seal key); a Storage Blob Data writer who plants N names at the revision made
each view read N objects (up to ``RECORD_READ_LIMIT``, 8 MiB, each) before the real record. Before records16 a view
read one object however many were planted."""

from __future__ import annotations

import json

from firestop.storage.local import LocalStore
from tests.runbooks.test_planted_names import EXAMPLE, INCIDENT, cli

PLANTS = 50


def test_a_view_reads_the_plain_name_and_the_keyed_name_only(firestop_home, monkeypatch):
    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"
    records = firestop_home / "records"
    for i in range(PLANTS):  # look-alike keyed names at the sealed revision, sorted before and after the plain name
        (records / f"{INCIDENT}.r1-{i:016x}.json").write_bytes(b'{"incident_id": "%s", "status": "x"}' % INCIDENT.encode())

    from firestop.records.store import filed_record
    from firestop.settings import get_settings

    reads: list[str] = []
    real_read = LocalStore.read

    def counted(self, name, limit=None):
        if name.startswith(INCIDENT):
            reads.append(name)
        return real_read(self, name, limit)

    monkeypatch.setattr(LocalStore, "read", counted)
    assert filed_record(get_settings(), INCIDENT)["status"] == "contained"
    assert len(reads) <= 2, f"{len(reads)} reads for one view: {reads[:5]}"
    assert json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["status"] == "contained"

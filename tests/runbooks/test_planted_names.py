"""records16: objects planted at an incident's predictable names before it writes them, on both stores (a folder
under FIRESTOP_HOME and Azurite's Blob service).

Attacker: Storage Blob Data Contributor on Firestop's storage account (not the app's seal key), who computes the
incident id of a known alert (its slot) and creates blobs at its names first.

- A13-07 (tests/attack13/test_a13_planted_record.py): a record planted at ``<incident>.json`` was the incident's
  record in every view and the real one was refused filing (``conflict``). Now views believe a filing only when it is
  sealed on the incident's ledger, and the real record is filed beside the planted one under a name derived from the
  app's key (``<incident>.r1-<16 hex>.json``).
- note13: an object at an incident's ledger name that cannot be appended to — a *block* blob (Append Block answers
  ``InvalidBlobType``; WORM forbids deleting it), locally a folder — made every append fail: the before-state marker
  could not be kept, so nothing was contained, and nothing was ledgered. Now the ledger moves to a name derived from
  the app's key (``<incident>.m-<16 hex>.jsonl``), the move recorded as its first entry; readers, ``location`` and the
  ``manual-<day>`` listing follow it.
"""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

from .conftest import azurite_connection

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
INCIDENT = "inc-33906e911c7aff74"  # the leaked-key example's slot: what any reader of the alert rule can compute
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
PLANTED = json.dumps({"incident_id": INCIDENT, "status": "false_positive"}).encode()


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


class Folder:
    """The local store: objects are files under FIRESTOP_HOME/<kind>."""

    def __init__(self, home):
        self.home = home

    def plant(self, kind: str, name: str, data: bytes) -> None:
        path = self.home / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def plant_unappendable(self, kind: str, name: str) -> None:  # a folder: no file can be appended there
        (self.home / kind / name).mkdir(parents=True)

    def names(self, kind: str) -> list[str]:
        folder = self.home / kind
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class Blobs:
    """Azurite's Blob service: one container per kind, written with the SDK as a Storage Blob Data writer would."""

    def __init__(self, endpoint: str, containers: dict[str, str]):
        from azure.storage.blob import BlobServiceClient

        self.service = BlobServiceClient.from_connection_string(azurite_connection(endpoint))
        self.containers = containers

    def _container(self, kind: str):
        container = self.service.get_container_client(self.containers[kind])
        if not container.exists():
            container.create_container()
        return container

    def plant(self, kind: str, name: str, data: bytes) -> None:  # a *block* blob, the SDK's default
        self._container(kind).upload_blob(name, data)

    def plant_unappendable(self, kind: str, name: str) -> None:  # a tiny *block* blob: Append Block is InvalidBlobType
        self.plant(kind, name, b"x")

    def names(self, kind: str) -> list[str]:
        return sorted(b.name for b in self._container(kind).list_blobs())


@pytest.fixture(params=["folder", "azurite"])
def store(request, firestop_home, monkeypatch):
    if request.param == "folder":
        return Folder(firestop_home)
    endpoint = request.getfixturevalue("azurite_blob_endpoint")
    suffix = uuid.uuid4().hex[:12]
    containers = {kind: f"{kind}-{suffix}" for kind in ("records", "evidence", "ledger")}
    monkeypatch.setenv("FIRESTOP_STORAGE_BLOB_URL", endpoint)
    for kind, name in containers.items():
        monkeypatch.setenv(f"FIRESTOP_{kind.upper()}_CONTAINER", name)
    return Blobs(endpoint, containers)


def test_a_record_planted_at_the_incidents_name_is_not_its_record_and_the_real_one_is_filed_beside_it(store):
    """Failed before records16 on both stores: ``incident show`` said ``false_positive`` (the planted status) and
    ``records.file`` was refused (conflict), so no record of the contained incident was filed."""
    store.plant("records", f"{INCIDENT}.json", PLANTED)
    handled = cli("alert", "handle", str(EXAMPLE), "--json")
    view = json.loads(handled.stdout)
    assert view["status"] == "contained", view.get("error")

    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "contained" and shown["timeline"], shown.get("status")
    listed = json.loads(cli("incident", "list", "--json").stdout)
    rows = listed if isinstance(listed, list) else listed.get("incidents", [])
    assert [row.get("status") for row in rows if row.get("incident_id") == INCIDENT] == ["contained"]

    # the real record: beside the planted one, under a keyed name, sealed on the ledger, and what the views point at
    names = store.names("records")
    keyed = [n for n in names if n.startswith(f"{INCIDENT}.r1-") and n.endswith(".json")]
    assert f"{INCIDENT}.json" in names and len(keyed) == 1, names
    assert keyed[0][: -len(".json")] + ".md" in names
    assert shown["record_files"]["json_path"].endswith(keyed[0]), shown["record_files"]

    from firestop.records.store import filed_record
    from firestop.settings import get_settings
    from runbooks.records import sealed_filings

    assert filed_record(get_settings(), INCIDENT)["status"] == "contained"
    assert list(sealed_filings(get_settings(), INCIDENT)) == [1]


def test_a_record_planted_at_the_next_revisions_name_neither_stops_the_revision_nor_stands_for_it(store):
    """An undo's revision (``rev2``) planted first: the revision is filed beside it and the views show the undo's
    record, not the planted one (before records16: the planted rev2 was the newest word, and the undo refused)."""
    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"
    store.plant("records", f"{INCIDENT}.rev2.json", PLANTED)
    assert json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["status"] == "contained"

    from firestop.records.store import filed_record, record_json
    from firestop.settings import get_settings
    from runbooks.dispatch import execute

    record = filed_record(get_settings(), INCIDENT)
    import hashlib

    revised = {**record, "status": "undone"}
    answer = execute({"runbook": "records.file", "action": "apply", "step_id": "file-record", "incident_id": INCIDENT,
                      "params": {"record": revised, "revision_of": hashlib.sha256(record_json(record)).hexdigest()}})
    assert answer.get("ok"), answer.get("error")
    assert answer["result"]["artifacts"]["revision"] == 2
    assert filed_record(get_settings(), INCIDENT)["status"] == "undone"
    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "undone" and shown["record_files"]["revision"] == 2
    assert [n for n in store.names("records") if n.startswith(f"{INCIDENT}.r2-") and n.endswith(".json")]


def test_records_filed_at_the_plain_name_read_as_before(store):
    """Old data: an incident filed with nothing planted keeps its plain names (``<incident>.json``) and reads the same."""
    assert json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)["status"] == "contained"
    names = store.names("records")
    assert f"{INCIDENT}.json" in names and not [n for n in names if ".r1-" in n]
    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "contained" and shown["record_files"]["json_path"].endswith(f"{INCIDENT}.json")


def test_a_block_blob_at_the_ledger_name_does_not_stop_containment_the_ledger_moves(store):
    """Failed before records16 on both stores: every append to ``<incident>.jsonl`` failed (Azurite: InvalidBlobType;
    locally: a folder), so network.lock kept no before-state marker and did not act (the network stayed open), and
    the incident ended ``failed``."""
    store.plant_unappendable("ledger", f"{INCIDENT}.jsonl")
    view = json.loads(cli("alert", "handle", str(EXAMPLE), "--json").stdout)

    from firestop.sandbox import Tenant
    from firestop.settings import get_settings
    from runbooks.ledger import Ledger

    acls = Tenant.open(get_settings().home / "sandbox").resource(ACCOUNT)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny" and view["status"] == "contained", view.get("error")

    ledger = Ledger.of(get_settings())
    moved = ledger.moved_name(INCIDENT)
    assert moved and moved != f"{INCIDENT}.jsonl" and moved in store.names("ledger")
    entries = ledger.entries(INCIDENT)
    assert entries[0]["kind"] == "move" and entries[0]["data"]["from"] == f"{INCIDENT}.jsonl"
    assert entries[0]["data"]["to"] == moved and [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert {"marker", "action", "record"} <= {e["kind"] for e in entries}
    assert all(ledger.sealed(e, on=INCIDENT) for e in entries)
    assert ledger.location(INCIDENT).endswith(moved)

    verified = json.loads(cli("ledger", "verify", INCIDENT, "--json").stdout)
    # every entry chains and is sealed; the plant's own bytes (Azurite's "x") are named as a line Firestop did not write
    assert verified["verdict"] in ("intact", "junk") and verified["sealed"] == verified["entries"] == len(entries), verified
    assert verified["location"].endswith(f"/{moved}")  # the logical location: store and name, never a path (cli17)
    shown = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "contained"


def test_a_block_blob_at_a_manual_days_ledger_name_neither_stops_a_run_nor_hides_it_from_an_undo(store):
    """``manual-<day>``: a manual run on the day of a planted unappendable ledger is ledgered (moved), and an earlier
    incident's undo still finds it relying on the state (the day's listing follows the move). Failed before: the
    append raised (InvalidBlobType / a folder)."""
    from datetime import datetime, timezone

    from firestop.lifecycle.undo import UndoReliedOn, later_reliance
    from firestop.settings import get_settings
    from runbooks.ledger import Ledger

    day = datetime(2026, 1, 3, 4, 0, tzinfo=timezone.utc)
    store.plant_unappendable("ledger", f"manual-{day.date()}.jsonl")
    ledger = Ledger.of(get_settings())
    ledger.append(f"manual-{day.date()}", kind="action", runbook="network.lock", action="apply",
                  step_id="cli-run-040000-abcd", target=ACCOUNT, at=day.isoformat(), data={"ok": True, "changed": True})
    assert [e["kind"] for e in ledger.entries(f"manual-{day.date()}")] == ["move", "action"]
    assert ledger.moved_name(f"manual-{day.date()}") in store.names("ledger")
    with pytest.raises(UndoReliedOn, match="cli-run-040000-abcd"):
        later_reliance(get_settings(), "inc-aaaaaaaaaaaaaaaa", {"received_at": "2026-01-01T03:00:00+00:00"},
                       [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}])

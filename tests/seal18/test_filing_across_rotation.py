"""seal18, item 2: filing a record is idempotent across the seal key's ring.

A record's plain name taken by an object Firestop did not seal (A13-07) makes ``records.file`` file it under a name
derived from the seal key (``<incident>.r<N>-<16 hex>.json``/``.md``). When the attempt failed after the objects were
created — the ledger entry that seals the filing not written (a fault, a crash: the step is retried), or the JSON not
written after the Markdown — and the key was rotated before the retry, the retry filed the record again under the new
key's name: two copies of one revision, the first never sealed. Now the retry finds its own earlier objects under the
ring's keys and files there (the store's create of the same bytes is a no-op). Both tests fail before (two keyed JSON
or Markdown objects of revision 1).
"""

from __future__ import annotations

import json

import pytest

from firestop.azure.errors import RunbookError
from firestop.storage import StoreError
from tests.runbooks.conftest import Sandbox

INCIDENT = "inc-test"
RECORD = {"incident_id": INCIDENT, "status": "contained", "reason": "1 containment step applied and verified",
          "alert": {"rule_name": "aoai-leaked-key-prod", "target_ids": []}, "holds": [], "does_not_hold": [],
          "metrics": {}, "timeline": [], "actions": []}


@pytest.fixture
def sandbox(tmp_path):
    box = Sandbox(tmp_path)
    records = box.settings.records_dir
    records.mkdir(parents=True)
    (records / f"{INCIDENT}.json").write_text(json.dumps({"incident_id": INCIDENT, "status": "false_positive"}))
    return box


def _keyed(records, ext: str) -> list[str]:
    return sorted(p.name for p in records.glob(f"{INCIDENT}.r1-*.{ext}"))


def _file(box: Sandbox) -> dict:
    return box.run("records.file", "apply", target=None, params={"record": RECORD})


def _filed_once_and_believed(box: Sandbox, first_json: list[str], first_md: list[str]) -> None:
    from firestop.records.store import believed_filing

    records = box.settings.records_dir
    assert _keyed(records, "json") == first_json and _keyed(records, "md") == first_md  # no second copy
    revision, name, record = believed_filing(box.settings, INCIDENT)
    assert (revision, name, record["status"]) == (1, first_json[0], "contained")
    sealed = [e for e in _ledger(box) if e["kind"] == "record"]
    assert len(sealed) == 1 and sealed[0]["data"]["name"] == first_json[0]
    again = _file(box)
    assert again["ok"] and not again["result"]["changed"]
    applied = again["result"]
    assert box.run("records.file", "verify", target=None, params={"record": RECORD}, applied=applied)["ok"]


def _ledger(box: Sandbox) -> list[dict]:
    from runbooks.ledger import Ledger

    return Ledger.of(box.settings).entries(INCIDENT)


def test_a_filing_whose_ledger_entry_failed_is_filed_once_when_retried_after_a_rotation(sandbox, monkeypatch):
    import runbooks.records as records_runbook
    from firestop.trust.keyring import rotate

    def ledger_down(ctx, **kwargs):
        raise RunbookError("transient", "ledger: the store did not answer")

    monkeypatch.setattr(records_runbook, "append_ledger", ledger_down)
    failed = _file(sandbox)
    assert not failed["ok"] and failed["error"]["kind"] == "transient", failed
    records = sandbox.settings.records_dir
    first_json, first_md = _keyed(records, "json"), _keyed(records, "md")
    assert len(first_json) == 1 and len(first_md) == 1
    monkeypatch.undo()

    rotate(sandbox.settings.home)
    retried = _file(sandbox)
    assert retried["ok"] and retried["result"]["changed"], retried
    assert retried["result"]["artifacts"]["json_path"].endswith(first_json[0])
    _filed_once_and_believed(sandbox, first_json, first_md)


def test_a_filing_cut_between_its_markdown_and_its_json_is_filed_once_when_retried_after_a_rotation(sandbox, monkeypatch):
    from firestop.storage.local import LocalStore
    from firestop.trust.keyring import rotate

    real = LocalStore.create

    def json_down(self, name, data, content_type="application/octet-stream"):
        if name.startswith(f"{INCIDENT}.r1-") and name.endswith(".json"):
            raise StoreError("transient", f"{name}: the store did not answer")
        return real(self, name, data, content_type)

    monkeypatch.setattr(LocalStore, "create", json_down)
    failed = _file(sandbox)
    assert not failed["ok"] and failed["error"]["kind"] == "transient", failed
    records = sandbox.settings.records_dir
    first_md = _keyed(records, "md")
    assert _keyed(records, "json") == [] and len(first_md) == 1
    monkeypatch.undo()

    rotate(sandbox.settings.home)
    retried = _file(sandbox)
    assert retried["ok"] and retried["result"]["changed"], retried
    first_json = [first_md[0][: -len(".md")] + ".json"]
    _filed_once_and_believed(sandbox, first_json, first_md)

"""R17-02: a record filed under its key-derived name (an object was planted at its plain name, A13-07) before a seal
key rotation could not be refiled after it. seal17 looks keyed names up under every key of the ring
(``keyed_record_names``: views, ``verify``), but trust17's bounded ``FileRecord._decide`` (merged beside it) reads
only the *current* key's keyed name: the revision the retired key filed is not found, the custody check calls it
missing, and ``incident undo`` of that incident fails ("sealed filing ... no longer holds"), though the record is
there, sealed, and ``incident show`` reads it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
INCIDENT = "inc-33906e911c7aff74"  # the example's incident (tests/attack13/test_a13_planted_record.py)
ACCOUNT = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/contoso-openai-prod")


def _cli(*args):
    from firestop.cli.main import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _locked(home) -> bool:
    from firestop.sandbox import Tenant

    return Tenant.open(home / "sandbox").resource(ACCOUNT)["properties"]["networkAcls"]["defaultAction"] == "Deny"


def test_a_record_filed_under_a_retired_keys_name_is_refiled_by_undo(firestop_home):
    records = firestop_home / "records"
    records.mkdir(parents=True, exist_ok=True)
    (records / f"{INCIDENT}.json").write_text(json.dumps({"incident_id": INCIDENT, "status": "false_positive"}))
    handled = json.loads(_cli("alert", "handle", str(EXAMPLE), "--json").stdout)
    assert handled["incident_id"] == INCIDENT and handled["status"] == "contained" and _locked(firestop_home)
    keyed = [p.name for p in records.glob(f"{INCIDENT}.r1-*.json")]
    assert len(keyed) == 1, sorted(p.name for p in records.iterdir())  # filed beside the planted object

    assert _cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    shown = json.loads(_cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["status"] == "contained", shown  # the view finds it under the retired key's name

    undone = _cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes", "--json")
    assert undone.exit_code == 0, undone.output
    assert not _locked(firestop_home)
    shown = json.loads(_cli("incident", "show", INCIDENT, "--json").stdout)
    assert shown["record_files"]["revision"] == 2, shown["record_files"]


def test_without_a_rotation_the_keyed_record_is_refiled_as_before(firestop_home):  # guard
    records = firestop_home / "records"
    records.mkdir(parents=True, exist_ok=True)
    (records / f"{INCIDENT}.json").write_text(json.dumps({"incident_id": INCIDENT, "status": "false_positive"}))
    _cli("alert", "handle", str(EXAMPLE))
    undone = _cli("incident", "undo", INCIDENT, "--as", "oid-bob", "--yes", "--json")
    assert undone.exit_code == 0, undone.output
    assert json.loads(_cli("incident", "show", INCIDENT, "--json").stdout)["record_files"]["revision"] == 2

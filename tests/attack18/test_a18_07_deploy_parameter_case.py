"""A18-07: ``infra deploy``'s seal-key guards read parameter names case-sensitively; ARM reads them case-insensitively.

Who: whoever writes the deployment's parameters file (a pipeline variable, an operator rotating by hand). deploy18's
guard refuses a later deployment that gives a new ``sealKey`` without ``sealKeyRetired`` (the stored key would leave
the ring: every ledger entry, record revision, status link and rule trust it sealed stops verifying). ARM matches a
parameters file's names to the template's without regard to case (the sandbox's engine models it: ``_lookup``), but
the guard looked up ``"sealKey"`` and ``"sealKeyRetired"`` exactly: ``"SealKey"`` deployed a new key with nothing
refused, and an empty ``"SealKeyRetired"`` was neither dropped as "keep" nor seen as given. (``vaultName`` alike.)

Fix: :func:`firestop.infra.deploy.deploy` folds the parameters' names onto the template's declared spelling before
any guard reads them (two given names alike but for case are refused, naming both). Fails before: deployed (exit 0).
"""

from __future__ import annotations

import json

import pytest

from tests.infra.test_infra_deploy_cli import deploy


@pytest.mark.parametrize("spelling", ["SealKey", "SEALKEY", "sealkey"])
def test_a_new_seal_key_spelt_in_another_case_is_refused_like_sealkey(firestop_home, tmp_path, spelling):
    from firestop.settings import REPO_ROOT

    assert deploy().exit_code == 0
    doc = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    doc["parameters"].pop("sealKey", None)
    doc["parameters"][spelling] = {"value": "new-" + "n" * 40}
    path = tmp_path / "rotate.parameters.json"
    path.write_text(json.dumps(doc))
    refused = deploy("--parameters", str(path), "--json")
    assert refused.exit_code == 2, refused.output  # before: 0, the stored key dropped from the ring
    assert "sealKeyRetired" in json.loads(refused.stdout)["error"] and "n" * 40 not in refused.output


def test_two_names_alike_but_for_case_are_refused(firestop_home, tmp_path):
    from firestop.settings import REPO_ROOT

    doc = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    doc["parameters"]["sealkeyretired"] = {"value": "none"}
    doc["parameters"]["sealKeyRetired"] = {"value": "old-" + "o" * 40}
    path = tmp_path / "twice.parameters.json"
    path.write_text(json.dumps(doc))
    refused = deploy("--parameters", str(path), "--json")
    assert refused.exit_code == 2, refused.output
    error = json.loads(refused.stdout)["error"]
    assert "sealkeyretired" in error and "sealKeyRetired" in error and "o" * 40 not in refused.output


def test_a_value_the_app_refuses_is_refused_whatever_the_name_s_case(firestop_home, tmp_path):
    """newuser18's check of the values the app refuses at start read names exactly too: ``PUBLICURL`` with a
    non-https origin was deployed (the app then would not start)."""
    from firestop.settings import REPO_ROOT

    doc = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    doc["parameters"]["PUBLICURL"] = {"value": "http://firestop.example.com"}
    path = tmp_path / "origin.parameters.json"
    path.write_text(json.dumps(doc))
    refused = deploy("--parameters", str(path), "--json")
    assert refused.exit_code == 2, refused.output
    assert "FIRESTOP_PUBLIC_URL" in json.loads(refused.stdout)["error"]

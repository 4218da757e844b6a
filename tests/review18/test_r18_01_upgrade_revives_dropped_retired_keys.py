"""R18-01 (high): deploy18 × an upgrade. Before deploy18 the template wrote ``FIRESTOP_SEAL_KEY_RETIRED`` as ``''``
whenever a deployment left ``sealKeyRetired`` empty — the documented way to drop the retired keys ("a deployment
without it leaves FIRESTOP_SEAL_KEY_RETIRED empty, which drops them"; after a suspected exposure: "deploy
sealKeyRetired without it", which for the last retired key *is* empty) — and then wrote no secret, so the vault's
``firestop-seal-key-retired`` kept the dropped keys. deploy18 always points the setting at that secret and, with the
parameter left out, keeps what the vault holds: the first deployment of the new version put the dropped (exposed)
key back into the ring, where it opens every history purpose again (ledger entries, filings, trusted-rule events,
audits: RT20-01's list), without a word.

Fails on rough18 (897fb61): exit 0, ``"kept"``, the site's setting a reference to the dropped key.
"""

from __future__ import annotations

import json

from tests.infra.test_infra_deploy_cli import _tenant, deploy

DROPPED = "dropped-after-exposure-" + "k" * 40


def _as_an_older_version_left_it(home) -> dict:
    """The vault secret still holds a key an earlier deployment wrote; the last deployment (an older template, with
    ``sealKeyRetired`` left empty) set the app setting to ``''``: the running app has no retired key."""
    tenant = _tenant(home)
    deployed = tenant._state.doc["deployed_resources"]  # noqa: SLF001 — as ARM holds it
    (secret,) = [r for k, r in deployed.items() if k.endswith("/secrets/firestop-seal-key-retired")]
    secret["properties"]["value"] = DROPPED
    (site,) = [r for r in deployed.values() if r["type"] == "Microsoft.Web/sites"]
    for setting in site["properties"]["siteConfig"]["appSettings"]:
        if setting["name"] == "FIRESTOP_SEAL_KEY_RETIRED":
            setting["value"] = ""
    tenant.save()
    return site


def _setting(home) -> str:
    deployed = _tenant(home)._state.doc["deployed_resources"]  # noqa: SLF001
    (site,) = [r for r in deployed.values() if r["type"] == "Microsoft.Web/sites"]
    return next(s["value"] for s in site["properties"]["siteConfig"]["appSettings"]
                if s["name"] == "FIRESTOP_SEAL_KEY_RETIRED")


def test_an_upgrade_deploy_does_not_revive_retired_keys_the_running_app_dropped(firestop_home):
    assert deploy().exit_code == 0
    _as_an_older_version_left_it(firestop_home)
    again = deploy("--json")
    # the ring the app runs with has no retired key: the deployment must not change that on its own
    assert again.exit_code == 2, (again.output, _setting(firestop_home))
    error = json.loads(again.stdout)["error"]
    assert "sealKeyRetired" in error and DROPPED not in again.output
    assert _setting(firestop_home) == ""  # nothing deployed


def test_giving_none_then_deploys_and_the_ring_has_no_retired_key(firestop_home):
    """The way out the refusal names: ``sealKeyRetired=none`` writes the secret anew (guard: also passes on rough18)."""
    from firestop.settings import REPO_ROOT

    assert deploy().exit_code == 0
    _as_an_older_version_left_it(firestop_home)
    doc = json.loads((REPO_ROOT / "infra" / "azuredeploy.parameters.json").read_text())
    doc["parameters"]["sealKeyRetired"] = {"value": "none"}
    path = firestop_home.parent / "none.parameters.json"
    path.write_text(json.dumps(doc))
    done = deploy("--parameters", str(path), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["seal_key_retired"] == "given"
    deployed = _tenant(firestop_home)._state.doc["deployed_resources"]  # noqa: SLF001
    (secret,) = [r for k, r in deployed.items() if k.endswith("/secrets/firestop-seal-key-retired")]
    assert secret["properties"]["value"] == "none"


def test_a_deploy_of_an_app_already_on_the_reference_keeps_the_vaults_keys(firestop_home):
    """Guard: the normal later deployment (the setting already the reference) still keeps what the vault holds."""
    assert deploy().exit_code == 0
    again = deploy("--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["seal_key_retired"] == "kept"
    assert _setting(firestop_home).startswith("@Microsoft.KeyVault(")

"""R17-06: trust17 made ``monitoring.alert-rules`` count the four Defender-only playbooks as fed only when
``FIRESTOP_DEFENDER_RELAY`` names the Logic App a workflow automation exports to — but the template had no way to set
it. A Microsoft.Web/sites deployment's ``siteConfig.appSettings`` is the app's whole settings list, so a value set by
hand (``az functionapp config appsettings set``) is gone at the next deployment of the template, and the high control
fails again in every correct deployment (the "finding people learn to ignore" trust17's predecessor removed). The
template carries it from a parameter, as every other setting the app needs on Azure."""

from __future__ import annotations

import json

from firestop.settings import REPO_ROOT


def test_the_template_sets_the_defender_relay_from_a_parameter():
    template = json.loads((REPO_ROOT / "infra" / "azuredeploy.json").read_text())
    site = next(r for r in template["resources"] if r["type"] == "Microsoft.Web/sites")
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    assert settings.get("FIRESTOP_DEFENDER_RELAY") == "[parameters('defenderRelay')]", sorted(settings)
    parameter = template["parameters"]["defenderRelay"]
    assert parameter["type"] == "string" and parameter["defaultValue"] == ""  # empty: the setting's own default (none)


def test_an_empty_relay_is_no_relay():  # guard: the empty value the template writes by default names no Logic App
    from firestop.settings import check_environment

    assert not [p for p in check_environment({"FIRESTOP_DEFENDER_RELAY": ""}, on_azure=False)
                if p[0] == "FIRESTOP_DEFENDER_RELAY"]

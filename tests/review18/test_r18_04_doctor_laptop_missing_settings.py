"""R18-04 (low): deploy18's ``doctor`` settings check adds every setting the template always writes that the
environment lacks (``app_settings.missing_on_azure``), "missing; … redeploy the template (a hand edit removed it, or the
app was deployed with an older template)" — whenever ``--azure`` is given. ``doctor --azure`` is also run from a laptop
(README: "the first group is about the laptop: it says so"), whose environment never holds the Function App's
settings: there it named ~30 settings and told the operator to redeploy a deployment that is fine. ``function_app.py``'s
own ``log_missing_on_azure`` only looks on App Service (``WEBSITE_SITE_NAME`` / ``WEBSITE_INSTANCE_ID``); doctor now does
the same.

Fails on rough18 (897fb61): the laptop's check is a problem naming ``FIRESTOP_ROLES`` … "redeploy the template".
"""

from __future__ import annotations

from firestop.infra.app_settings import FROM_TEMPLATE
from firestop.infra.doctor import check_settings


def _laptop() -> dict[str, str]:
    """An operator's shell: what ``check_environment(on_azure=True)`` requires, nothing of the Function App's."""
    from firestop.settings import SETTINGS

    env = {"PATH": "/usr/bin", "HOME": "/home/operator"}
    for setting in SETTINGS:  # the required-on-Azure ones, valid (the laptop's own check: pre-existing, unchanged)
        if setting.required == "azure":
            env[setting.name] = {"FIRESTOP_SEAL_KEY": "x" * 43}.get(setting.name, "00000000-0000-4000-8000-000000000001")
    return env


def test_doctor_azure_from_a_laptop_does_not_ask_to_redeploy_for_the_apps_settings():
    env = _laptop()
    found = check_settings(env, on_azure=True)
    redeploy = [p for p in found.get("problems") or [] if "redeploy the template" in p["problem"]]
    assert redeploy == [], [p["setting"] for p in redeploy]


def test_doctor_inside_the_app_still_names_a_missing_template_setting():
    """Guard (passes on rough18 too): on App Service the check names a setting the template writes that is missing."""
    env = {**_laptop(), "WEBSITE_SITE_NAME": "firestop-abc", "WEBSITE_INSTANCE_ID": "0" * 64}
    found = check_settings(env, on_azure=True)
    named = {p["setting"] for p in found.get("problems") or [] if "redeploy the template" in p["problem"]}
    assert "FIRESTOP_ROLES" in named and named <= set(FROM_TEMPLATE)

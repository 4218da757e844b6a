"""RT14-04: an Azure Monitor alert confirmed at its source still took its step targets from the delivery.

Attacker: anyone holding the alerts webhook key who knows a real alert id of the last 24 h and posts it first.
verify9/RT13 compare the alert (target, rule, time, severity, signal, condition) and its ``firestop-playbook`` route
with the rule's, but the other ``firestop-*`` custom properties are step targets and parameters
(``content-abuse``: ``block-caller`` on ``firestop-nsg``; ``tighten-filter`` to ``firestop-rai-policy``;
``anomalous-usage``: ``firestop-nsg``): the genuine content-abuse alert re-posted with another ``firestop-nsg`` was
confirmed. Fixed: every ``firestop-*`` custom property must be that of one of the rule's notifications carrying that
route (``compare_route``).
"""

from __future__ import annotations

import json

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery

RAW = (REPO_ROOT / "examples" / "alerts" / "content-abuse.json").read_bytes()
OTHER_NSG = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-shared/providers/"
             "Microsoft.Network/networkSecurityGroups/nsg-shared-services")


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _fire_genuine(env) -> None:
    fire_genuine(env, RAW)  # Azure Monitor fired it (and holds its rule)


def _checks(env, body: dict, server, app) -> list:
    return confirm_checks(env, post_delivery(env, server, app, body)["id"])


@pytest.mark.parametrize("change", [
    lambda props: props.update({"firestop-nsg": OTHER_NSG}),
    lambda props: props.update({"Firestop-RAI-Policy": "contoso-permissive"}),
])
def test_the_real_alert_with_other_step_targets_is_not_confirmed(served, change):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    body = json.loads(RAW)
    change(body["data"]["customProperties"])
    checks = _checks(env, body, server, app)
    assert checks and checks[0][0] == "not confirmed", checks
    assert "differs from the alert rule's" in checks[0][1], checks


def test_the_genuine_alert_is_still_confirmed(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    checks = _checks(env, json.loads(RAW), server, app)
    assert [c[0] for c in checks] == ["ok"], checks

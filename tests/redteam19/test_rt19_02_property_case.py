"""RT19-02: a ``firestop-*`` custom property's *key case* or *surrounding spaces* pass the source check but not the
playbook's conditions — the refused-only signal is dropped and account-wide containment runs unapproved.

The source check compares a delivery's ``firestop-*`` properties with the rule's as the loader reads them: keys
case-insensitive, values stripped (``_firestop_properties``, replaced by ``_firestop_entries``). The incident input
keeps the delivered map as sent, and the playbook's approval conditions look the property up by its exact key and
compare the exact value (``alert.custom_properties.firestop-signal == 'failed-requests'``,
:func:`firestop.playbooks.expressions._resolve`). So the real alert of a 401 storm — which the outsider who sent it
makes fire — re-posted first with ``Firestop-Signal`` (or ``"failed-requests "``) is confirmed, and ``lock-network``
(deny by default) and ``rotate-keys`` run at once instead of waiting for a responder (red team 18's 401 storm,
metric16's split: "outsiders must not trigger account-wide containment"). The same holds for
``firestop-metric-signal: refused-calls`` on the platform-metric rule.

Attacker: the alerts webhook key and the alert's id (an Azure Reader holds both), posted before Azure Monitor's own
delivery, as verify12's.
"""

from __future__ import annotations

import json

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam19.outcomes import step_outcomes
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery


def _genuine() -> dict:
    """The refused-calls detection's alert (401/403 storm from one caller, ``firestop-signal: failed-requests``)."""
    body = json.loads((REPO_ROOT / "examples" / "alerts" / "anomalous-usage.json").read_bytes())
    condition = body["data"]["alertContext"]["condition"]
    condition["allOf"] = condition["allOf"][:1]
    body["data"]["customProperties"]["firestop-signal"] = "failed-requests"
    return body



@pytest.mark.parametrize("key, value", [("Firestop-Signal", "failed-requests"), ("firestop-signal", "failed-requests ")],
                         ids=["key-case", "value-space"])
def test_rt19_02_the_refused_signal_spelled_otherwise_still_waits_for_a_responder(served, monkeypatch,  # noqa: F811
                                                                                   hand_fired_rules_trusted, key, value):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    genuine = _genuine()
    fire_genuine(env, json.dumps(genuine))
    forged = json.loads(json.dumps(genuine))
    del forged["data"]["customProperties"]["firestop-signal"]
    forged["data"]["customProperties"][key] = value
    incident = post_delivery(env, server, app, forged)["id"]
    steps, checks = step_outcomes(env, incident), confirm_checks(env, incident)
    assert "done" not in steps.get("lock-network", []) and "done" not in steps.get("rotate-keys", []), (checks, steps)


def test_rt19_02_the_genuine_refused_signal_waits(served, monkeypatch, hand_fired_rules_trusted):  # noqa: F811
    """The control: as delivered, the account-wide steps wait for a responder."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    env, server, app = served
    genuine = _genuine()
    fire_genuine(env, json.dumps(genuine))
    incident = post_delivery(env, server, app, genuine)["id"]
    steps, checks = step_outcomes(env, incident), confirm_checks(env, incident)
    assert [c[0] for c in checks] == ["ok"], checks
    assert "done" not in steps.get("lock-network", []) and "done" not in steps.get("rotate-keys", []), steps

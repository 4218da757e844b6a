"""RT15-03: a forged alert with a made-up alert id, posted before the genuine one, still held the genuine alert.

Attacker: anyone holding the alerts webhook key; they need no real alert id, only the production account's resource
id and the rule name (both in every alert the team sees, and predictable). verify12 item 2 gave a delivery of the
*same* alert id with other content an incident of its own while the first was not confirmed at its source, but
correlation joins alerts of one route on one resource into the open incident whatever their ids: a forged
``aoai-content-abuse`` delivery (a made-up alert id, not confirmed, waiting for ``alert.genuine``) made the relay's
genuine delivery of the real alert *join* it (``correlatedTo``), never checked at its source, so 203.0.113.200 was not
blocked automatically — reposted every approval timeout, the forger kept the account's containment manual. Fixed
(``firestop.intake.accept``): with the source check on, an alert with another alert id does not join an open incident
that is not confirmed at its source (or not yet checked): it opens its own, checked on its own (``_variant`` with the
same bound per alert id, keyed by its own alert id).
"""

from __future__ import annotations

import json
from functools import partial
import uuid

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


_post = partial(post_delivery, statuses=(200, 202))  # a retried delivery is answered 200
_confirm_outcome = confirm_outcomes


def _forged() -> dict:
    body = json.loads(RAW)
    essentials = body["data"]["essentials"]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + f"/{uuid.uuid4()}"  # never fired
    essentials["originAlertId"] = essentials["alertId"].rsplit("/", 1)[1]
    return body


def test_a_forged_alert_with_a_made_up_id_does_not_swallow_the_genuine_one(served):  # noqa: F811
    env, server, app = served
    forged = _post(env, server, app, _forged())["id"]
    assert _confirm_outcome(env, forged) == ["not confirmed"]
    _fire_genuine(env)
    genuine = _post(env, server, app, json.loads(RAW))
    assert genuine["id"] != forged and genuine.get("correlatedTo") != forged, genuine
    assert _confirm_outcome(env, genuine["id"]) == ["ok"]
    assert _deny_rules(env, "203.0.113.200")  # contained automatically
    again = _post(env, server, app, json.loads(RAW))  # Azure's retry of the genuine delivery: no third incident
    assert again["id"] == genuine["id"] or again.get("correlatedTo") == genuine["id"], again


def test_a_second_alert_joins_an_incident_confirmed_at_its_source(served):  # noqa: F811
    """Correlation as before once the open incident is confirmed: another alert of the attack joins it."""
    env, server, app = served
    _fire_genuine(env)
    genuine = _post(env, server, app, json.loads(RAW))["id"]
    assert _confirm_outcome(env, genuine) == ["ok"]
    other = _post(env, server, app, _forged())
    assert other["id"] == genuine or other.get("correlatedTo") == genuine, other


def test_a_forged_alert_of_another_rule_routed_to_the_same_playbook_does_not_swallow_the_genuine_one(served):  # noqa: F811
    """Routed by ``firestop-playbook`` (leaked-key), alerts of any rule share the slot: the forger need not even name
    the real rule."""
    from firestop.alerts import parse_alert
    from firestop.sandbox.alertsmanagement.models import payload_of
    from tests.e2e.test_webhook import ACCOUNT, alert_body

    env, server, app = served
    forged = json.loads(alert_body())
    forged["data"]["essentials"]["alertRule"] = "made-up-rule"
    forged = _post(env, server, app, forged)["id"]
    assert _confirm_outcome(env, forged) == ["not confirmed"]
    keys = dict(env.tenant.account_keys(ACCOUNT))
    body = alert_body()
    assert env.tenant.fire_alert(payload_of(parse_alert(body)))  # Azure Monitor fired the genuine one
    genuine = _post(env, server, app, json.loads(body))
    assert genuine["id"] != forged and genuine.get("correlatedTo") != forged, genuine
    assert _confirm_outcome(env, genuine["id"]) == ["ok"]
    assert dict(env.tenant.account_keys(ACCOUNT)) != keys  # rotated automatically


def test_forged_alerts_with_made_up_ids_cannot_use_up_the_genuine_alerts_incidents(served):  # noqa: F811
    """Review after red team 15: variants were numbered from the open (forged) incident's id, so all alert ids shared
    its MAX_VARIANTS; three more forged posts with made-up ids filled them and the genuine alert then joined the
    forged incident unchecked. Now a variant is keyed by the arriving alert's own id."""
    env, server, app = served
    forged = _post(env, server, app, _forged())["id"]
    assert _confirm_outcome(env, forged) == ["not confirmed"]
    more = [_post(env, server, app, _forged())["id"] for _ in range(3)]  # verify12's bound (3 per alert id)
    assert forged not in more and all(_confirm_outcome(env, i) == ["not confirmed"] for i in more)
    _fire_genuine(env)
    genuine = _post(env, server, app, json.loads(RAW))
    assert genuine["id"] not in [forged, *more] and genuine.get("correlatedTo") not in [forged, *more], genuine
    assert _confirm_outcome(env, genuine["id"]) == ["ok"]
    assert _deny_rules(env, "203.0.113.200")  # contained automatically

"""variants13 item 1 (medium): forged deliveries of the genuine alert's own id used up its variants.

Attacker: anyone holding the alerts webhook key (every action-group receiver URL carries it) who knows a real alert
id. verify12 gave a delivery of the same alert id with other content an incident of its own while the first was not
confirmed at its source, but at most 3 (``<incident key>-v1`` .. ``-v3``): three forged deliveries posted before the
relay's took them, and the genuine delivery then joined (or was a duplicate of) a forged incident, never checked, so
203.0.113.200 was not blocked automatically. Each of those forged incidents also waited for a responder.

Fixed (``firestop.intake.accept._variant``, ``firestop.lifecycle.incident``): a variant is keyed by its delivery's
content digest (``<incident key>-v<16 hex>``), so no other content can hold it; a variant its check finds not
confirmed ends at once (it names the incident the responder decides in: ``variant_of``) instead of waiting too. So a
forger posting N differing deliveries makes one incident that waits (the first), N short-lived ones (one source
check each, a record each), and the genuine delivery is still checked and contained.
"""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_outcomes, post_delivery
from tests.verify12.test_v12_forged_dimensions import GATEWAY_IP, RAW, _deny_rules, _fire_genuine, _with_dimension


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


_post = partial(post_delivery, statuses=(200, 202))  # a retried delivery is answered 200
FORGED = 12  # ≫ the 3 variants verify12 allowed


def _incidents(env, *statuses: str) -> list[str]:
    """Incident instances (no step-group children, no entities) with one of ``statuses`` (any when none)."""
    return [s.instance_id for s in env.host.list_instances(runtime_status=list(statuses) or None)
            if s.instance_id.startswith("inc-") and ":" not in s.instance_id]


def test_many_forged_deliveries_of_the_genuine_id_do_not_cost_its_containment(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = [_post(env, server, app, _with_dimension("CallerIPAddress", f"198.51.100.{n}"))["id"]
              for n in range(10, 10 + FORGED)]
    assert len(set(forged)) == FORGED  # each content checked on its own (one incident, one source check each)
    assert all(confirm_outcomes(env, i) == ["not confirmed"] for i in forged)
    # bounded: only the first forged incident waits for a responder; the others ended after their check
    assert _incidents(env, "Running", "Pending") == [forged[0]]
    genuine = _post(env, server, app, json.loads(RAW))
    assert genuine["id"] not in forged and genuine.get("correlatedTo") not in forged, genuine
    assert confirm_outcomes(env, genuine["id"]) == ["ok"]
    assert _deny_rules(env, "203.0.113.200")  # contained automatically
    assert _deny_rules(env, GATEWAY_IP) == [] and not any(_deny_rules(env, f"198.51.100.{n}") for n in range(10, 22))
    again = _post(env, server, app, json.loads(RAW))  # Azure's retry of the genuine delivery: no other incident
    assert again["id"] == genuine["id"], again
    repost = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.11"))  # a forged one again
    assert repost["id"] == forged[1], repost  # its own variant's duplicate: no new check
    assert len(_incidents(env)) == FORGED + 1


def test_a_variant_not_confirmed_ends_naming_the_incident_that_waits(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    first = _post(env, server, app, _with_dimension("CallerIPAddress", GATEWAY_IP))["id"]
    second = _post(env, server, app, _with_dimension("CallerIPAddress", "198.51.100.77"))["id"]
    assert second != first
    record = env.host.get_status(second).output
    assert record["status"] == "needs_responder" and first in record["reason"], record["reason"]
    assert env.host.get_status(first).runtime_status in ("Running", "Pending")  # the responder decides there

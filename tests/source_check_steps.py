"""Steps the source-check tests share (tests/redteam14, tests/redteam15, tests/verify12): post a delivery to the
served webhook and run the local host until idle, read an incident's timeline and its "confirm alert at source"
outcomes, and have the sandbox's Azure Monitor fire an alert first (so it is held at its source, with its rule)."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.test_webhook import post, what_intake_did

CONFIRM_STEP = "confirm alert at source"


def post_delivery(env: Any, server: Any, app: Any, body: dict, statuses: tuple[int, ...] = (202,)) -> dict:
    """POST ``body`` to the alerts webhook, assert its status is one of ``statuses``, run the host until idle and
    return what intake did (:func:`tests.e2e.test_webhook.what_intake_did`, the request's log line: ``id`` the
    incident, ``correlatedTo`` when it joined one; the 202 itself names no incident since intake16)."""
    answer = post(app, server, json.dumps(body).encode())
    assert answer.status_code in statuses, answer.get_body()
    env.host.run_until_idle()
    return what_intake_did(answer)


def timeline_of(env: Any, incident: str) -> list[dict]:
    """The incident's timeline: its custom status's while it waits, its output's once it ended."""
    status = env.host.get_status(incident)
    ended = status.output if isinstance(status.output, dict) else {}
    return ended.get("timeline") or (status.custom_status or {}).get("timeline") or []


def confirm_checks(env: Any, incident: str) -> list[tuple[str, str]]:
    """(outcome, detail) of each source check in the incident's timeline."""
    return [(e["outcome"], e.get("detail", "")) for e in timeline_of(env, incident) if e.get("step") == CONFIRM_STEP]


def fire_genuine(env: Any, raw: bytes | str) -> None:
    """The sandbox's Azure Monitor fires the alert ``raw`` is a delivery of (it then holds the alert and its rule)."""
    from firestop.alerts import parse_alert
    from firestop.sandbox.alertsmanagement.models import payload_of

    assert env.tenant.fire_alert(payload_of(parse_alert(raw)))


def through_check_retries(env: Any, incident: str) -> None:
    """Let each further try of ``incident``'s source check fall due (variants14: a check that could not check for a
    passing reason is tried again after :data:`firestop.lifecycle.incident.CHECK_WAITS`), running it after each —
    only those timers, not a decision's timeout after them."""
    from datetime import timedelta

    from firestop.lifecycle.incident import CHECK_WAITS

    for wait in CHECK_WAITS:
        env.host.clock.set(env.host.clock.now() + timedelta(seconds=wait))
        env.host.run_until_idle(incident)


def confirm_outcomes(env: Any, incident: str) -> list[str]:
    """The outcome of each source check in the incident's timeline (``"ok"``, ``"not confirmed"``)."""
    return [outcome for outcome, _ in confirm_checks(env, incident)]


def trust_rule_of(tenant: Any, payload: dict, by: str = "oid-admin") -> None:
    """RT17-01: an admin trusts the alert rule ``payload`` (a Common Alert Schema alert the tenant fired) names, as the
    tenant holds it now (its state, not a GET: a test's armed faults stay for the check), sealed with the app's key
    (:func:`firestop.infra.trusted_rules.trust_rule`). For the suites that test the source check's other parts on
    hand-made rules (registered by ``fire_alert``, none of them a playbook's detection)."""
    from firestop.infra.trusted_rules import trust_rule
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    rule_id = ((payload.get("data") or {}).get("essentials") or {}).get("alertRuleID")
    if not rule_id:
        return
    import copy

    from firestop.sandbox.monitor.models import get

    with tenant._exclusive() as state:  # noqa: SLF001 - as Azure holds it, without the transport's armed faults
        rule = copy.deepcopy(get(state, rule_id))
    if rule is None:
        return
    trust_rule(records_store(get_settings()), rule, by=by, at="2026-12-05T00:00:00Z")


def trusting_hand_fired_rules(monkeypatch: Any) -> None:
    """Every rule a ``Tenant.fire_alert`` registers or names is trusted by an admin right after it fires (see
    :func:`trust_rule_of`): these suites predate RT17-01 and test what the check compares beyond the rule's trust."""
    from firestop.sandbox import Tenant

    fire = Tenant.fire_alert

    def fire_and_trust(self, payload):
        found = fire(self, payload)
        if found and isinstance(payload, dict) and ((payload.get("data") or {}).get("essentials") or {}).get("alertRuleID"):
            trust_rule_of(self, payload)
        return found

    monkeypatch.setattr(Tenant, "fire_alert", fire_and_trust)

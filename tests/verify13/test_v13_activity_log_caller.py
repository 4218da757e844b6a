"""verify13 item 1 (medium): an Activity Log alert's caller, claims and client IP were believed once the alert was.

Attacker: anyone holding the alerts webhook key who knows a real activity log alert of the last 24 h and posts it
first. Alerts Management confirms the alert id, rule and target, but the principal ``revoke-principal`` removes and
the caller IP come from the delivery's ``claims`` / ``caller`` / ``httpRequest``: the genuine
``aoai-suspicious-key-access`` alert (listKeys by d4c3b2a1-…) re-posted naming another principal's object id was
confirmed (PoC on e322e3e: ``confirm alert at source: ok``), so that principal's role assignments were the ones a
responder was asked to remove as for a confirmed alert. Fixed: the event the delivery names is read back from the
Activity Log (:mod:`firestop.azure.activity_source`) and must name every caller, principal and IP delivered.
"""

from __future__ import annotations

import json

import pytest

from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery

RAW = (REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json").read_bytes()
GENUINE_OID = "d4c3b2a1-6e5f-4a7b-9c8d-0e1f2a3b4c5d"
OTHER_OID = "0f1e2d3c-4b5a-4697-8877-665544332211"  # another principal (say, the key-management group's admin)


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _forged(**changes) -> dict:
    body = json.loads(RAW)
    context = body["data"]["alertContext"]
    claims = json.loads(context["claims"])
    for key, value in changes.items():
        if key == "oid":
            claims["http://schemas.microsoft.com/identity/claims/objectidentifier"] = value
        elif key == "ipaddr":
            claims["ipaddr"] = value
        else:
            context[key] = value
    context["claims"] = json.dumps(claims)
    return body


def _activity_reads(env) -> list:
    """The Activity Log reads the sandbox answered (its request log keeps no query strings)."""
    return [r for r in env.tenant.requests if r.operation == "activityLogs.list"]


def _check(env, server, app, body: dict) -> list[tuple[str, str]]:
    fire_genuine(env, RAW)  # Azure Monitor fired it (and holds its rule and the event it reports)
    return confirm_checks(env, post_delivery(env, server, app, body)["id"])


def test_the_real_alert_naming_another_principal_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    checks = _check(env, server, app, _forged(oid=OTHER_OID, caller=OTHER_OID))
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "does not name the delivered principal" in checks[0][1] and OTHER_OID in checks[0][1], checks


def test_the_real_alert_naming_another_caller_ip_is_not_confirmed(served):  # noqa: F811
    env, server, app = served
    checks = _check(env, server, app, _forged(ipaddr="198.51.100.10"))
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "caller IP '198.51.100.10'" in checks[0][1], checks


def test_a_correlation_id_that_is_no_guid_is_never_sent(served):  # noqa: F811
    env, server, app = served
    checks = _check(env, server, app, _forged(correlationId="x' or correlationId eq '1"))
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "not a GUID" in checks[0][1], checks
    assert _activity_reads(env) == []  # nothing was asked of the Activity Log


def test_another_event_of_the_same_caller_does_not_stand_in(served):  # noqa: F811
    """The delivery names an event that is not the one the alert reports (another eventDataId): not found."""
    env, server, app = served
    checks = _check(env, server, app, _forged(eventDataId="0a0b0c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"))
    assert [c[0] for c in checks] == ["not confirmed"], checks
    assert "holds no event" in checks[0][1], checks


def test_the_genuine_alert_is_confirmed_at_its_event(served):  # noqa: F811
    env, server, app = served
    checks = _check(env, server, app, json.loads(RAW))
    assert [c[0] for c in checks] == ["ok"], checks
    assert _activity_reads(env), "the Activity Log was read"

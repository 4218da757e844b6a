"""What the webhook keeps per process (hot23) still follows what it was kept from.

* ``POST /api/alerts`` keeps the modules it calls into, not their functions: a function replaced on its module after
  the first webhook (a monkeypatch here; a timer in bench/hot_breakdown.py) is the one the next webhook calls, and
  a changed setting (the correlation window, the seal key) takes effect at the next webhook;
* ``CorrelationSettings.from_env`` keeps the settings of the last two values only while they are unchanged, and
  never keeps a failure;
* a redelivery is answered from the memo (its created time kept as a datetime) only while its incident keeps the
  created time the memo holds.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import azure.functions as func
import pytest

from firestop.intake.correlation import KEY_ENV, WINDOW_ENV, CorrelationConfigError, CorrelationSettings
from tests.e2e.test_webhook import what_intake_did

ALERT = "examples/alerts/public-network-exposure.json"


@pytest.fixture
def webhook(firestop_home):
    from pathlib import Path

    from firestop.cli.wiring import function_app, sandbox_environment
    from firestop.runtime import ManagementServer, invoke_http_function
    from tests.e2e.test_webhook import invoke_seen

    body = (Path(__file__).resolve().parents[2] / ALERT).read_bytes()
    env = sandbox_environment()
    with ManagementServer(env.host) as server:
        app = function_app()

        def post(payload: bytes = body):
            request = func.HttpRequest(method="POST", url="http://localhost:7071/api/alerts",
                                       headers={"content-type": "application/json"}, body=payload)
            return invoke_seen(app, "post_alert", request, server=server)

        yield env, post, body
    env.close()


def test_a_function_replaced_after_the_first_webhook_is_the_one_the_next_webhook_calls(webhook, monkeypatch):
    import firestop.trust.seal as seal

    env, post, body = webhook
    first = post()
    assert first.status_code == 202, first.get_body()  # the modules are kept from here on

    def broken(*args, **kwargs):
        raise seal.SealKeyError("FIRESTOP_SEAL_KEY is unusable (test)")

    monkeypatch.setattr(seal, "load_seal_key", broken)
    again = post(body.replace(b'"alertId": "', b'"alertId": "other-'))
    assert again.status_code == 503 and what_intake_did(again)["outcome"] == "unavailable"
    assert "FIRESTOP_SEAL_KEY" in json.loads(again.get_body())["reason"]


def test_a_changed_correlation_setting_answers_at_the_next_webhook(webhook, monkeypatch):
    env, post, body = webhook
    assert post().status_code == 202
    monkeypatch.setenv(KEY_ENV, "no-such-key")
    refused = post(body.replace(b'"alertId": "', b'"alertId": "second-'))
    assert refused.status_code == 503 and KEY_ENV in json.loads(refused.get_body())["reason"]
    monkeypatch.delenv(KEY_ENV)
    assert post(body.replace(b'"alertId": "', b'"alertId": "third-')).status_code == 202


def test_correlation_settings_follow_their_values_and_never_keep_a_failure():
    first = CorrelationSettings.from_env({})
    assert CorrelationSettings.from_env({}) is first  # unchanged values: the same frozen settings
    assert CorrelationSettings.from_env({WINDOW_ENV: "60"}).window_seconds == 60.0
    assert CorrelationSettings.from_env({WINDOW_ENV: "60", KEY_ENV: "subscription"}).key.value == "subscription"
    for _ in range(2):  # a bad value is refused every time, never answered from what was kept
        with pytest.raises(CorrelationConfigError):
            CorrelationSettings.from_env({WINDOW_ENV: "-1"})
    assert CorrelationSettings.from_env({}) == first and CorrelationSettings.from_env({}).window_seconds == 3600.0


class _Status:
    def __init__(self, created: datetime) -> None:
        self.created_time = created
        self.runtime_status = "Running"

    def __bool__(self) -> bool:
        return True


class _Client:
    """What accept_alert's memo check reads: get_status of the remembered incident."""

    task_hub_name = "hub"

    def __init__(self, created: datetime) -> None:
        self.created = created

    async def get_status(self, instance_id: str, show_input: bool = False):
        return _Status(self.created)


def test_the_memo_answers_a_redelivery_only_while_its_incident_keeps_its_created_time():
    import asyncio

    from firestop.intake import accept as accept_module
    from firestop.intake.accept import Outcome, OutcomeKind, _Call, _remember, _remembered

    accept_module.clear_caches()
    created = datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=timezone.utc)
    client = _Client(created)
    call = _Call(client, created, CorrelationSettings(), "incident", lambda *a, **k: {}, "scope", dedupe_key="inc-1-fired")
    outcome = Outcome(OutcomeKind.CORRELATED, "inc-open", correlated_to="inc-open")
    _remember(call, None, outcome, created)
    assert asyncio.run(_remembered(call, None)) is outcome
    client.created = created + timedelta(microseconds=1)  # replaced since (purged and started again)
    assert asyncio.run(_remembered(call, None)) is None
    assert asyncio.run(_remembered(call, None)) is None  # and forgotten
    accept_module.clear_caches()

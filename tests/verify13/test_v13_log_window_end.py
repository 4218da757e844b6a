"""verify13 item 3 (low): a log search alert's query was re-run until 60 s *after* the alert started.

Azure Monitor runs a log search rule's query over ``windowSize`` ending at its evaluation, before it creates the
alert (``startDateTime``): no row after ``startDateTime`` was counted by the rule. The re-run (verify12) went
``WINDOW_SLACK_SECONDS`` past it, so a caller with 25 filtered requests in the window (threshold: more than 30) and
10 more in the minute after the alert fired was confirmed as the genuine ``aoai-content-abuse`` alert's caller
(PoC on e322e3e: confirmed) — and block-caller would deny it. The slack stays before the window only (the evaluation
runs up to a minute before the alert is created: :data:`firestop.azure.monitor_source.WINDOW_SLACK_SECONDS`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from firestop.azure import monitor_source as M
from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.source_check_steps import confirm_checks, fire_genuine, post_delivery

RAW = (REPO_ROOT / "examples" / "alerts" / "content-abuse.json").read_bytes()
FIRED = datetime(2026, 11, 29, 2, 20, 3, 504000, tzinfo=timezone.utc)  # the example's firedDateTime
OTHER_IP = "198.51.100.77"
APP = "3f1e9a7b-2c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _filtered_calls(env, n: int, at: datetime) -> None:
    for i in range(n):
        assert 400 == env.tenant.data_plane_call(account="contoso-openai-prod", ip=OTHER_IP, principal=APP,
                                                 content_filtered=True,
                                              at=at + timedelta(seconds=i))


def test_rows_after_the_alert_started_do_not_confirm_a_caller(served):  # noqa: F811
    env, server, app = served
    fire_genuine(env, RAW)
    _filtered_calls(env, 25, FIRED - timedelta(minutes=8))  # in the rule's window: 25, not more than 30
    _filtered_calls(env, 10, FIRED + timedelta(seconds=20))  # after the alert started: the rule never saw them
    body = json.loads(RAW)
    body["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [{"name": "CallerIPAddress", "value": OTHER_IP}]
    checks = confirm_checks(env, post_delivery(env, server, app, body)["id"])
    assert [c[0] for c in checks] == ["not confirmed"], checks


def test_the_rerun_window_ends_where_the_alert_started():
    start, end = M.log_timespan(FIRED, 900.0)
    assert end == FIRED and start == FIRED - timedelta(seconds=900 + M.WINDOW_SLACK_SECONDS)

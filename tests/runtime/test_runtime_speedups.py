"""The memoised SDK timestamp parser returns exactly what dateutil returns."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta, timezone

from dateutil.parser import parse as dateutil_parse
from hypothesis import given
from hypothesis import strategies as st

from firestop.runtime import speedups
from firestop.runtime.history import format_timestamp

SDK = importlib.import_module("azure.durable_functions.models.history.HistoryEvent")
STATUS = importlib.import_module("azure.durable_functions.models.DurableOrchestrationStatus")


def setup_module() -> None:
    speedups.install()


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(timezone.utc)))
def test_same_result_as_dateutil_for_host_timestamps(when):
    text = format_timestamp(when)
    assert SDK.dt_parse(text) == dateutil_parse(text)
    assert SDK.dt_parse(text) == dateutil_parse(text)  # second call: from the memo
    assert SDK.dt_parse(text).tzinfo.utcoffset(None) == timedelta(0)


def test_other_forms_are_passed_through_unmemoised():
    for text in ["2024-05-24T12:00:01+02:00", "2024-05-24T12:00:01.5-05:30", "2024-05-24", "May 24 2024 12:00"]:
        assert SDK.dt_parse(text) == dateutil_parse(text)
    before = SDK.dt_parse.cache_info().currsize
    SDK.dt_parse("2024-05-24")  # no zone: dateutil fills in from today, so never memoised
    SDK.dt_parse("2024-05-24", dayfirst=True)
    assert SDK.dt_parse.cache_info().currsize == before


def test_install_is_idempotent_and_reversible():
    speedups.install()
    memoised = SDK.dt_parse
    speedups.install()
    assert SDK.dt_parse is memoised and speedups.installed()
    speedups.uninstall()
    assert SDK.dt_parse is dateutil_parse and STATUS.dt_parse is dateutil_parse and not speedups.installed()
    speedups.install()
    assert speedups.installed()


def test_the_clients_status_answers_share_the_memo():
    speedups.install()
    assert STATUS.dt_parse is SDK.dt_parse
    created, updated = "2026-11-29T03:20:00.123456Z", "2026-11-29T03:21:07.5+00:00"
    status = STATUS.DurableOrchestrationStatus.from_json(
        {"name": "incident", "instanceId": "i1", "createdTime": created, "lastUpdatedTime": updated,
         "runtimeStatus": "Running"})
    assert status.created_time == dateutil_parse(created) and status.last_updated_time == dateutil_parse(updated)
    hits = SDK.dt_parse.cache_info().hits
    STATUS.DurableOrchestrationStatus.from_json({"instanceId": "i1", "createdTime": created, "runtimeStatus": "Running"})
    assert SDK.dt_parse.cache_info().hits == hits + 1

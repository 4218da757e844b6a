"""The alert evaluator's shortcuts answer what the plain computations answer.

``due_times`` returns early when nothing is due, ``duration_seconds`` and the KQL parse are kept per text,
``kind_of`` is a table lookup, and ``_scope_tables`` tests a row's time before its resource: each is checked
against the computation it replaced, on the edges (an evaluation exactly at ``now``, fractional periods, texts
that are not durations, a query that does not parse, a row whose time cannot be hashed).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from firestop.sandbox.core.clock import due_times
from firestop.sandbox.core.state import FORMAT, TenantState
from firestop.sandbox.logs.kql import KqlSyntaxError, run_query
from firestop.sandbox.monitor import evaluate, models

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _due_times_plain(last, now, period_s, *, cap):
    k = math.floor((last - EPOCH).total_seconds() / period_s) + 1
    out = []
    while len(out) < cap:
        t = EPOCH + timedelta(seconds=k * period_s)
        if t > now:
            break
        out.append(t)
        k += 1
    return out


def test_due_times_is_the_plain_loop_on_edges_and_random_instants():
    rng = random.Random(26)
    start = datetime(2026, 11, 29, 3, 14, 40, tzinfo=UTC)
    cases = []
    for period in (60.0, 300.0, 900.0, 0.5, 7.3, 86400.0):
        for _ in range(300):
            last = start + timedelta(microseconds=rng.randrange(-10**10, 10**10))
            cases.append((last, last + timedelta(microseconds=rng.randrange(0, int(period * 3e6))), period))
        boundary = EPOCH + timedelta(seconds=math.floor((start - EPOCH).total_seconds() / period) * period + period)
        for delta in (-1, 0, 1):  # an evaluation a microsecond before, exactly at, and a microsecond after now
            cases.append((boundary - timedelta(seconds=period), boundary + timedelta(microseconds=delta), period))
    for last, now, period in cases:
        assert due_times(last, now, period, cap=5) == _due_times_plain(last, now, period, cap=5), (last, now, period)
    exactly = cases[-2]
    assert due_times(exactly[0], exactly[1], exactly[2], cap=5) == [exactly[1]]


def test_due_times_still_refuses_a_naive_now():
    with pytest.raises(TypeError):
        due_times(datetime(2026, 1, 1, tzinfo=UTC), datetime(2020, 1, 1), 60.0, cap=5)


@pytest.mark.parametrize("text", ["PT5M", "pt5m", "P1DT2H3M4S", "PT0S", "P", "PT", "5M", "", None, 300, "PT5M ",
                                  "P1D" + "T1H" * 30, "x" * 100_000, {"a": 1}])
def test_duration_seconds_is_the_pattern_each_time(text):
    def plain(value):
        match = models._DURATION.match(str(value or ""))
        if not match or not any(match.groups()):
            return None
        d, h, m, s = (int(g or 0) for g in match.groups())
        return float(((d * 24 + h) * 60 + m) * 60 + s)

    assert models.duration_seconds(text) == plain(text)
    assert models.duration_seconds(text) == plain(text)  # kept or not, the same answer


def test_kind_of_is_case_insensitive_and_none_for_other_types():
    for kind, rtype in models.KINDS.items():
        assert models.kind_of({"type": rtype.upper()}) == kind
        assert models.kind_of({"type": rtype.lower()}) == kind
    assert models.kind_of({"type": "Microsoft.Insights/somethingElse"}) is None
    assert models.kind_of({}) is None


TABLE = {"Req": {"columns": [{"name": "TimeGenerated", "type": "datetime"}, {"name": "Ip", "type": "string"}],
                 "rows": [["2026-11-29T03:00:00Z", "203.0.113.77"], ["2026-11-29T03:01:00Z", "198.51.100.10"]]}}
NOW = datetime(2026, 11, 29, 3, 14, 40, tzinfo=UTC)


def test_a_kept_parse_gives_the_same_answer_over_other_tables_and_errors_every_time():
    text = "Req | where Ip == '203.0.113.77' | project Ip"
    assert run_query(text, TABLE, NOW).rows == [["203.0.113.77"]]
    other = {"Req": {"columns": TABLE["Req"]["columns"], "rows": [["2026-11-29T03:02:00Z", "203.0.113.77"]] * 3}}
    assert run_query(text, other, NOW).rows == [["203.0.113.77"]] * 3
    assert run_query(text, TABLE, NOW).rows == [["203.0.113.77"]]
    for _ in range(2):
        with pytest.raises(KqlSyntaxError):
            run_query("Req | where (", TABLE, NOW)


def test_scope_tables_reads_a_window_of_the_resources_rows_even_past_a_row_whose_time_cannot_be_hashed():
    account = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a"
    other = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b"
    workspace_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w"
    columns = [{"name": "TimeGenerated", "type": "datetime"}, {"name": "_ResourceId", "type": "string"}]
    rows = [["2026-11-29T03:10:00Z", account.upper()], ["2026-11-29T02:00:00Z", account],
            [["not", "hashable"], other], ["2026-11-29T03:11:00Z", other]]
    doc = {"format": FORMAT, "workspaces": {"w": {"resource_id": workspace_id, "customer_id": "c", "tables": {"T": {"columns": columns, "rows": rows}}}},
           "monitor": {f"{account}/providers/microsoft.insights/diagnosticsettings/d".lower(): {
               "id": f"{account}/providers/Microsoft.Insights/diagnosticSettings/d", "type": models.KINDS["diagnosticSettings"],
               "properties": {"workspaceId": workspace_id, "logs": [{"category": "RequestResponse", "enabled": True}]}}}}
    state = TenantState(doc)
    tables, customer = evaluate._scope_tables(state, [account], NOW, 15 * 60)
    assert customer == "c"
    assert tables["T"]["rows"] == [rows[0]]


def test_the_router_picks_the_route_a_try_of_every_route_picks():
    """Router.match tries only the routes of the request's method and '/' count: on a path made from every
    template (placeholders filled, one empty optional, case changed, a slash added or dropped), the route it
    picks is the first of all routes, most literal first, that matches."""
    import re

    from firestop.sandbox.core.rooms import all_routes
    from firestop.sandbox.core.router import Router
    from firestop.sandbox.core.wire import SandboxRequest

    router = Router(all_routes())

    def every(request):
        for route in router.routes:
            params = route.match(request)
            if params is not None:
                return route, params
        return None, {}

    tried = matched = 0
    for route in router.routes:
        host = re.sub(r"\{\w+\??\}", "h1", route.host)
        base = re.sub(r"\{\w+\}", "n1", route.path)
        for path in {re.sub(r"\{\w+\?\}", "v1", base), re.sub(r"\{\w+\?\}", "", base), base.upper(),
                     base + "/", base.rsplit("/", 1)[0]}:
            for method in (route.method, "GET"):
                request = SandboxRequest(method, f"https://{host}{path or '/'}", {})
                found = router.match(request)
                assert found == every(request), (method, host, path)
                tried, matched = tried + 1, matched + (found[0] is not None)
    assert tried > 1000 and matched > len(router.routes)

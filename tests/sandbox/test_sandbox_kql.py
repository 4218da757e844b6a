"""The pure KQL engine (tokenizer + parser + evaluator), without HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firestop.sandbox.logs.kql import KqlSemanticError, KqlSyntaxError, run_query
from firestop.sandbox.logs.kql.lexer import tokenize

UTC = timezone.utc
NOW = datetime(2026, 11, 29, 3, 14, 40, tzinfo=UTC)
T = {
    "Req": {
        "columns": [
            {"name": "TimeGenerated", "type": "datetime"},
            {"name": "Ip", "type": "string"},
            {"name": "Status", "type": "string"},
            {"name": "Ms", "type": "long"},
            {"name": "Op", "type": "string"},
        ],
        "rows": [
            ["2026-11-29T03:00:00Z", "203.0.113.77", "200", 900, "ChatCompletions_Create"],
            ["2026-11-29T03:01:00Z", "203.0.113.77", "401", 5, "ChatCompletions_Create"],
            ["2026-11-29T03:02:00Z", "198.51.100.10", "200", 400, "Embeddings_Create"],
            ["2026-11-29T03:06:00Z", "203.0.113.77", "429", 7, "ChatCompletions_Create"],
            ["2026-11-29T03:12:00Z", "198.51.100.10", "200", None, "Completions: Create v2"],
        ],
    }
}


def q(text, time_range=None):
    result = run_query(text, T, NOW, time_range)
    return result.columns, result.rows


def test_where_equality_and_projection():
    cols, rows = q('Req | where Ip == "198.51.100.10" | project Op, Ms')
    assert cols == [("Op", "string"), ("Ms", "long")]
    assert rows == [["Embeddings_Create", 400], ["Completions: Create v2", None]]


@pytest.mark.parametrize(
    "predicate, expected",
    [
        ('Ip != "203.0.113.77"', 2),
        ('Op =~ "chatcompletions_create"', 3),
        ('Op == "chatcompletions_create"', 0),
        ('Op !~ "chatcompletions_create"', 2),
        ('Status in ("401", "429")', 2),
        ('Status !in ("401", "429")', 3),
        ('Op in~ ("EMBEDDINGS_CREATE")', 1),
        ('Op has "create"', 5),  # terms split on '_', ':' and spaces
        ('Op has "creat"', 0),  # has needs a whole term
        ('Op contains "creat"', 5),
        ('Op !has "embeddings"', 4),
        ('Op startswith "chat"', 3),
        ("Ms > 400", 1),
        ("Ms >= 400", 2),
        ("Ms < 10", 2),
        ("Ms <= 5", 1),
        ("Ms between (5 .. 400)", 3),
        ("Ms !between (5 .. 400)", 1),  # the null row matches neither
        ('Ms > 100 and Ip == "203.0.113.77"', 1),
        ('Ms > 800 or Status == "429"', 2),
        ('not(Status == "200")', 2),
        ("TimeGenerated > datetime(2026-11-29T03:05:00Z)", 2),
        ("TimeGenerated >= ago(10m)", 2),
        ("TimeGenerated < now() - 10m", 3),
        ("isnull(Ms)", 1),
        ("toint(Status) >= 400", 2),
    ],
)
def test_where_predicates(predicate, expected):
    _, rows = q(f"Req | where {predicate} | project Op")
    assert len(rows) == expected


def test_take_limit_and_count():
    assert len(q("Req | take 2")[1]) == 2
    assert len(q("Req | limit 10")[1]) == 5
    assert q("Req | count") == ([("Count", "long")], [[5]])


def test_order_by_defaults_to_descending_with_nulls_last():
    _, rows = q("Req | order by Ms | project Ms")
    assert [r[0] for r in rows] == [900, 400, 7, 5, None]
    _, rows = q("Req | sort by Ms asc | project Ms")
    assert [r[0] for r in rows] == [None, 5, 7, 400, 900]


def test_multi_key_sort():
    _, rows = q("Req | order by Ip asc, TimeGenerated desc | project Ip, Status")
    assert rows == [["198.51.100.10", "200"], ["198.51.100.10", "200"], ["203.0.113.77", "429"], ["203.0.113.77", "401"], ["203.0.113.77", "200"]]


def test_summarize_count_by_two_columns():
    cols, rows = q("Req | summarize count() by Ip, Status | order by count_ desc, Status asc")
    assert cols == [("Ip", "string"), ("Status", "string"), ("count_", "long")]
    assert rows[0] == ["198.51.100.10", "200", 2]
    assert sorted(map(tuple, rows)) == [("198.51.100.10", "200", 2), ("203.0.113.77", "200", 1), ("203.0.113.77", "401", 1), ("203.0.113.77", "429", 1)]


def test_summarize_aggregates_names_and_bin():
    cols, rows = q("Req | summarize n = count(), dcount(Status), max(Ms), avg(Ms) by bin(TimeGenerated, 5m) | order by TimeGenerated asc")
    assert cols == [("TimeGenerated", "datetime"), ("n", "long"), ("dcount_Status", "long"), ("max_Ms", "long"), ("avg_Ms", "real")]
    assert [r[0] for r in rows] == [datetime(2026, 11, 29, 3, m, tzinfo=UTC) for m in (0, 5, 10)]
    assert rows[0][1:4] == [3, 2, 900]
    assert rows[2][3] is None and rows[2][4] is None


def test_summarize_without_by_on_no_rows_gives_one_row():
    assert q('Req | where Ip == "none" | summarize count()')[1] == [[0]]


def test_extend_top_distinct():
    cols, rows = q("Req | extend slow = Ms > 100 | where slow | project Op")
    assert len(rows) == 2
    _, rows = q("Req | top 2 by Ms | project Ms")
    assert rows == [[900], [400]]
    _, rows = q("Req | top 2 by Ms asc | project Ms")
    assert rows == [[None], [5]]  # top sorts like order by: ascending puts nulls first
    cols, rows = q("Req | distinct Ip")
    assert cols == [("Ip", "string")] and sorted(rows) == [["198.51.100.10"], ["203.0.113.77"]]


def test_time_range_filters_before_the_query():
    window = (datetime(2026, 11, 29, 3, 1, tzinfo=UTC), datetime(2026, 11, 29, 3, 6, tzinfo=UTC))
    assert q("Req | count", window)[1] == [[2]]  # start inclusive, end exclusive


def test_comments_and_verbatim_strings():
    _, rows = q('Req // the table\n| where Op == @"Completions: Create v2" // exact\n| project Ms')
    assert rows == [[None]]


def test_datetime_output_keeps_timezone():
    _, rows = q("Req | take 1 | project TimeGenerated")
    assert rows[0][0] == datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "Req | where",
        "Req | where Ms >",
        'Req | where Ip == "unterminated',
        "Req | take ten",
        "Req | mv-expand Ip",
        "Req | join (Req) on Ip",
        "let x = 1; Req",
        "Req | where Ms > 1 | project",
        "Req | where Ms in (1, 2",
        "Req | order Ms",
        "",
    ],
)
def test_syntax_outside_the_subset_is_rejected(text):
    with pytest.raises(KqlSyntaxError):
        run_query(text, T, NOW)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Nope | take 1", "Nope"),
        ('Req | where ip == "x"', "ip"),
        ("Req | where Status == 200", "Cannot compare values of types string and long"),
        ("Req | where base64_decode_tostring(Op) == \"x\"", "base64_decode_tostring"),  # not in the subset
        ("Req | where count() > 1", "summarize"),
        ("Req | summarize foo() by Ip", "foo"),
        ("Req | where Ms", "boolean"),
        ("Req | where Ms has \"1\"", "tostring"),
        ("Req | where datetime(not-a-date) > now()", "not-a-date"),
    ],
)
def test_semantic_errors(text, fragment):
    with pytest.raises(KqlSemanticError) as err:
        run_query(text, T, NOW)
    assert fragment in err.value.message


def test_tokenizer_kinds():
    kinds = [(t.kind, t.value) for t in tokenize('T | where a !in~ ("x") and b > 5m and c == 1.5 and d == datetime(2026-01-01)')]
    assert ("IDENT", "!in~") in kinds
    assert ("TIMESPAN", 300.0) in kinds
    assert ("NUMBER", 1.5) in kinds
    assert ("DATETIME", "2026-01-01") in kinds
    assert kinds[-1] == ("EOF", None)


# ---------------------------------------------------------------- properties
values = st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), max_size=40)


def _table(xs):
    return {"N": {"columns": [{"name": "x", "type": "long"}], "rows": [[x] for x in xs]}}


@settings(max_examples=60, deadline=None)
@given(xs=values, n=st.integers(-1000, 1000))
def test_where_count_matches_python(xs, n):
    result = run_query(f"N | where x > {n} | count", _table(xs), NOW)
    assert result.rows == [[sum(1 for x in xs if x is not None and x > n)]]


@settings(max_examples=60, deadline=None)
@given(xs=values)
def test_order_asc_is_sorted_with_nulls_first(xs):
    rows = run_query("N | order by x asc", _table(xs), NOW).rows
    got = [r[0] for r in rows]
    assert got == [None] * xs.count(None) + sorted(x for x in xs if x is not None)


@settings(max_examples=60, deadline=None)
@given(xs=values, k=st.integers(0, 50))
def test_take_never_returns_more_than_asked(xs, k):
    rows = run_query(f"N | take {k}", _table(xs), NOW).rows
    assert [r[0] for r in rows] == xs[:k]


@settings(max_examples=60, deadline=None)
@given(xs=values)
def test_summarize_counts_partition_the_rows(xs):
    rows = run_query("N | summarize count() by x", _table(xs), NOW).rows
    assert sum(r[1] for r in rows) == len(xs)
    assert {r[0]: r[1] for r in rows} == {x: xs.count(x) for x in set(xs)}


def test_parse_json_reads_a_property_of_a_json_column():
    """``tostring(parse_json(properties_s).modelDeploymentName)`` as Azure OpenAI rules read the RequestResponse
    row's properties; a missing property or non-JSON text is null (empty after tostring); a string has no members."""
    tables = {"AzureDiagnostics": {"columns": [{"name": "properties_s", "type": "string"}], "rows": [
        ['{"objectId":"e7d9","modelDeploymentName":"gpt-4o"}'], ['{"objectId":""}'], ["not json"]]}}
    result = run_query("AzureDiagnostics | extend d = tostring(parse_json(properties_s).modelDeploymentName), "
                       "o = tostring(todynamic(properties_s).objectId) | project d, o", tables, NOW)
    assert result.rows == [["gpt-4o", "e7d9"], ["", ""], ["", ""]]
    with pytest.raises(KqlSemanticError, match="needs a dynamic value"):
        run_query("AzureDiagnostics | extend d = properties_s.modelDeploymentName", tables, NOW)

"""The indicator scan keeps the first MAX_INDICATORS of each kind and stops reading rows past them."""

from __future__ import annotations

from firestop.alerts.indicators import MAX_INDICATORS, extract_indicators


class CountingRows(list):
    """Rows that count how many of them were read."""

    read = 0

    def __iter__(self):
        for row in super().__iter__():
            CountingRows.read += 1
            yield row


def test_the_scan_stops_once_every_kind_it_reads_is_past_the_cap():
    rows = CountingRows([f"198.18.{i // 250}.{i % 250}", f"op-{i % 3}"] for i in range(5000))
    context = {"SearchResults": {"tables": [{"columns": [{"name": "CallerIPAddress"}, {"name": "OperationName"}],
                                             "rows": rows}]}}
    CountingRows.read = 0
    found = extract_indicators(context)
    assert found.caller_ips == tuple(f"198.18.{i // 250}.{i % 250}" for i in range(MAX_INDICATORS))
    assert found.operation_names == ("op-0", "op-1", "op-2")  # not past the cap: read to the end
    assert found.truncated == ("caller_ips",)
    assert CountingRows.read == 5000


def test_a_table_of_ips_alone_is_read_only_up_to_the_cap():
    rows = CountingRows([f"198.18.{i // 250}.{i % 250}"] for i in range(5000))
    CountingRows.read = 0
    found = extract_indicators({"SearchResults": {"tables": [{"columns": [{"name": "ClientIP"}], "rows": rows}]}})
    assert len(found.caller_ips) == MAX_INDICATORS and found.truncated == ("caller_ips",)
    assert CountingRows.read == MAX_INDICATORS + 1


def test_under_the_cap_nothing_is_marked_truncated():
    found = extract_indicators({"claims": '{"ipaddr": "203.0.113.7"}', "operationName": "x"})
    assert found.caller_ips == ("203.0.113.7",) and found.truncated == ()

"""The fast paths of indicator extraction give exactly what the plain rules give.

Large log alert V1 payloads carry thousands of search-result rows, so the
extractor classifies each column once, skips caller-IP values it has already
seen, and recognises canonical dotted-quad IPv4 with a regex before falling
back to ``ipaddress``. These properties pin that the shortcuts change nothing.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from firestop.alerts import Indicators
from firestop.alerts.indicators import _ip_or_none, _squash, extract_indicators


def _slow_ip(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


octet = st.integers(0, 300).map(str) | st.sampled_from(["00", "01", "007", "٣", "1٢", "", " 1", "+1", "-0"])
dotted = st.lists(octet, min_size=3, max_size=5).map(".".join)


@given(dotted | st.text(max_size=20) | st.ip_addresses().map(str))
def test_the_ipv4_fast_path_agrees_with_ipaddress(text):
    assert _ip_or_none(text) == _slow_ip(text)


names = st.sampled_from(["CallerIPAddress", "callerIpAddress_s", "ClientIP", "OperationName", "Caller", "PrincipalId",
                         "Computer", "TimeGenerated", "ipaddr"])
cells = st.sampled_from(["203.0.113.7", "203.0.113.7", "10.0.0.***", "::1", "op/read", "", None, 7, "a@b.c", "1.2.3.4, 5.6.7.8"])


@given(st.lists(names, min_size=1, max_size=5), st.lists(st.lists(cells, max_size=6), max_size=12))
def test_search_results_give_what_reading_every_cell_by_name_gives(columns, rows):
    context = {"SearchResults": {"tables": [{"columns": [{"name": n} for n in columns], "rows": rows}]}}
    cell_by_cell = {"Dimensions": [{"name": n, "value": v} for row in rows for n, v in zip(columns, row)]}
    assert extract_indicators(context) == extract_indicators(cell_by_cell)
    assert isinstance(extract_indicators(context), Indicators)


def test_squash_is_cached_and_unchanged():
    assert _squash(" CallerIPAddress_s ") == "calleripaddress" == _squash("caller_ip_address")
    assert _squash.cache_info().maxsize == 4096


_OCTET_TEXT = st.sampled_from(["0", "00", "01", "9", "10", "99", "100", "199", "200", "249", "250", "255", "256", "260",
                               "300", "999", "1000", "", " 1", "1 ", "+1", "-1", "٣", "1\n", "0x1", "a"])


@given(st.lists(_OCTET_TEXT, min_size=0, max_size=6).map(".".join) | st.text(alphabet="0123456789.\n ", max_size=18))
def test_plain_ipv4_check_is_the_pattern(text: str) -> None:
    from firestop.alerts.indicators import _IPV4, _is_plain_ipv4

    assert _is_plain_ipv4(text) == bool(_IPV4.fullmatch(text))
    assert _is_plain_ipv4(text) == (text.count(".") == 3 and _slow_ip(text) == text and ":" not in text)

"""The intake hot path's short cuts give what the general code gives: the one-step UTC time read, the severity
look-up, the string-list checks of configurationItems / alertTargetIDs, the cached canonical targets and the
key-gated indicator scan (random inputs of every shape, held against the general code itself)."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from firestop.alerts import essentials, indicators, normalize, times
from firestop.alerts.parse import lean_context


def _outcome(fn, value):
    try:
        return ("ok", fn(value))
    except ValueError as exc:
        return ("error", str(exc))


_TIMES = ["2025-04-15T18:17:12.851Z", " 2025-04-15T18:17:12Z ", "2025-04-15T18:17:12+00:00", "2025-04-15T18:17:12-00:00",
          "2025-04-15T18:17:12+05:30", "2025-04-15T18:17:12", "1999-12-31T23:59:59.999999Z", "2000-01-01T00:00:00Z",
          "2099-12-31T23:59:59.999999Z", "2100-01-01T00:00:00Z", "2100-01-01T04:00:00+05:00", "0001-01-01T00:00:00Z",
          "9999-12-31T23:59:59Z", "2019-03-22T13:58:24.3713213Z", "3/22/2019 1:36:31 PM", "Wed, 21 Aug 2019 16:17:47 GMT",
          "", "  ", "nope", "2025-13-01T00:00:00Z", None, 5, datetime(2025, 1, 1), datetime(2025, 1, 1, tzinfo=timezone.utc)]


def test_one_step_utc_read_is_parse_utc_then_check_sane() -> None:
    def general(value):
        return times.check_sane(times.parse_utc(value))

    for value in _TIMES:
        fast, slow = _outcome(times.parse_sane_utc, value), _outcome(general, value)
        assert fast == slow, value
        if fast[0] == "ok":
            assert fast[1].tzinfo is timezone.utc or fast[1].utcoffset().total_seconds() == 0


def test_severity_look_up_is_the_pattern() -> None:
    values = [f"Sev{i}" for i in range(6)] + ["sev3", " Sev2", "Sev 1", "3", "", None, 0, 4, 5, 2.0, True, "Critical"]
    for value in values:
        found = _outcome(essentials.parse_severity, value)
        if isinstance(value, str) and value in essentials._SEVERITIES:
            assert found == ("ok", int(value[3]))
        else:
            essentials._SEVERITIES, saved = {}, essentials._SEVERITIES
            try:
                assert _outcome(essentials.parse_severity, value) == found, value
            finally:
                essentials._SEVERITIES = saved


_IDS = ["/subscriptions/a", "/SUBSCRIPTIONS/A/", " /subscriptions/b/resourceGroups/rg ", "/", "///", " / ", "/ / /", "",
        "x", "é", 5, None]


@pytest.mark.parametrize("seed", range(3))
def test_string_lists_and_cached_targets_are_the_general_code(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        value = [rng.choice(_IDS) for _ in range(rng.randrange(0, 4))]
        # the per-item loop of _target_list / _text_list is what a list with a non-string takes
        general_targets = _outcome(lambda v: essentials._target_list(tuple(v)), value)  # a tuple skips the short cut
        assert _outcome(essentials._target_list, value) == general_targets, value
        general_texts = _outcome(lambda v: essentials._text_list(tuple(v)), value)
        assert _outcome(essentials._text_list, value) == general_texts, value
        if all(isinstance(v, str) for v in value):
            assert _outcome(normalize.canonical_targets, value) == _outcome(normalize._targets, tuple(value))
            assert _outcome(normalize.canonical_targets, value) == _outcome(normalize._targets, tuple(value))  # cached


def test_indicators_and_lean_context_ignore_only_keys_they_never_read() -> None:
    """A context's other keys change nothing; a context with only such keys names nothing."""
    base = {"claims": '{"ipaddr": "10.0.0.1", "oid": "o-1"}', "caller": "u@x", "operationName": "op",
            "condition": {"allOf": [{"dimensions": [{"name": "CallerIPAddress", "value": "10.0.0.2"}]}]},
            "systemAlertId": "s-1", "source": "defender:x"}
    noise = {f"k{i}": {"claims": "x", "caller": "nobody"} for i in range(5)}
    assert indicators.extract_indicators({**base, **noise}) == indicators.extract_indicators(base)
    assert indicators.extract_indicators(noise) == indicators.Indicators()
    assert lean_context({**base, **noise}) == lean_context(base) == {"systemAlertId": "s-1", "source": "defender:x"}
    assert lean_context(noise) == {}

"""The intake's pure-function caches keep only small arguments (bounds7): a sender holding the function key could
otherwise pin ~1 GB with 4,096 distinct 256 KiB target ids or rule names. A long argument is computed uncached, and
the answer is the same either way."""

from __future__ import annotations

from firestop.alerts import normalize
from firestop.intake import correlation as corr
from firestop.intake.correlation import CorrelationKey

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
ACCOUNT = SUB + "/resourceGroups/rg1/providers/Microsoft.CognitiveServices/accounts/"


def _grows(cache, call) -> int:
    """How many times ``call`` went through ``cache`` (hits + misses: 0 = computed without it, never stored;
    currsize alone would not grow on a full cache)."""
    before = cache.cache_info()
    call()
    after = cache.cache_info()
    return (after.hits + after.misses) - (before.hits + before.misses)


def test_type_key_long_id_not_cached_same_answer():
    long_id = ACCOUNT + "a" * 5000
    short_id = ACCOUNT + "bounds7-short"
    assert _grows(normalize._cached_type_key, lambda: normalize._type_key(long_id)) == 0
    assert normalize._type_key(long_id) == normalize._parse_type_key(long_id) == "microsoft.cognitiveservices/accounts"
    assert _grows(normalize._cached_type_key, lambda: normalize._type_key(short_id)) == 1
    assert normalize.resource_type_of((long_id,), None) == normalize.resource_type_of((short_id,), None)


def test_rule_route_long_rule_not_cached_same_answer():
    name = "R" * 3000
    assert _grows(corr._cached_rule_route, lambda: corr._rule_route("rid-bounds7", name)) == 0
    assert corr._rule_route("rid-bounds7", name) == corr._cached_rule_route("rid-bounds7", name)
    assert corr._rule_route("rid-bounds7", name) == 'rule:["rid-bounds7", "' + "r" * 3000 + '"]'
    assert _grows(corr._cached_rule_route, lambda: corr._rule_route("rid-bounds7", "short")) == 1


def test_sorted_routed_keys_bound_counts_route_per_target():
    route = "rule:" + "x" * 300
    small = (ACCOUNT + "small-bounds7",)
    assert _grows(corr._cached_sorted_routed_keys,
                  lambda: corr._sorted_routed_keys(small, CorrelationKey.RESOURCE, route)) == 1
    # 8 short targets, each key carrying the 300-character route: 8 x ~400 > 2,048 characters kept per entry
    many = tuple(ACCOUNT + f"m{i}-bounds7" for i in range(8))
    assert _grows(corr._cached_sorted_routed_keys,
                  lambda: corr._sorted_routed_keys(many, CorrelationKey.RESOURCE, route)) == 0
    long_target = (ACCOUNT + "l" * 4000,)
    got = corr._sorted_routed_keys(long_target, CorrelationKey.RESOURCE, route)
    assert corr.correlation_keys(long_target, CorrelationKey.RESOURCE)
    assert got == corr._cached_sorted_routed_keys(long_target, CorrelationKey.RESOURCE, route)
    assert corr._sorted_routed_keys(many, CorrelationKey.RESOURCE, route) == \
        corr._compute_sorted_routed_keys(many, CorrelationKey.RESOURCE, route)
    assert _grows(corr._cached_sorted_routed_keys,
                  lambda: corr._sorted_routed_keys(long_target, CorrelationKey.RESOURCE, "rule:[]")) == 0


def test_candidate_keys_and_slot_id_long_not_cached_same_answer():
    long_target = (ACCOUNT + "c" * 4000,)
    assert _grows(corr._cached_candidate_keys,
                  lambda: corr._candidate_keys(long_target, CorrelationKey.RESOURCE_GROUP)) == 0
    assert corr._candidate_keys(long_target, CorrelationKey.RESOURCE_GROUP) == {(SUB + "/resourceGroups/rg1").lower()}
    assert _grows(corr._cached_candidate_keys,
                  lambda: corr._candidate_keys((ACCOUNT + "c-bounds7",), CorrelationKey.RESOURCE_GROUP)) == 1
    long_key = "k" * 2000
    assert _grows(corr._cached_slot_id, lambda: corr.slot_id(long_key, 2)) == 0
    assert corr.slot_id(long_key, 2) == corr._cached_slot_id(long_key, 2)
    assert corr.slot_id(long_key).startswith("inc-") and corr.slot_id(long_key, 2) == corr.slot_id(long_key) + "-g2"
    assert _grows(corr._cached_slot_id, lambda: corr.slot_id("k-bounds7")) == 1

"""Pure correlation rules: keys, window, choice among open incidents, settings from the environment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firestop.intake import (
    DEFAULT_WINDOW_SECONDS,
    KEY_ENV,
    WINDOW_ENV,
    CorrelationConfigError,
    CorrelationKey,
    CorrelationSettings,
    OpenIncident,
    correlation_keys,
    find_incident,
)

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
ACCOUNT = f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
OTHER_IN_RG = f"{SUB}/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dr"
OTHER_RG = f"{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
OTHER_SUB = "/subscriptions/99999999-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/x"
NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)
DEFAULT = CorrelationSettings()


def incident(iid: str, *targets: str, age_s: float = 60.0) -> OpenIncident:
    return OpenIncident(iid, NOW - timedelta(seconds=age_s), tuple(targets))


# -- keys ----------------------------------------------------------------------
def test_resource_key_is_the_case_insensitive_canonical_id():
    keys = correlation_keys([ACCOUNT.upper() + "/", " " + ACCOUNT.lower()], CorrelationKey.RESOURCE)
    assert keys == {ACCOUNT.lower()}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (CorrelationKey.RESOURCE_GROUP, {f"{SUB}/resourcegroups/rg-ai-prod"}),
        (CorrelationKey.SUBSCRIPTION, {SUB}),
        (CorrelationKey.NONE, set()),
    ],
)
def test_wider_keys_cut_the_id_to_its_scope(key, expected):
    assert correlation_keys([ACCOUNT, OTHER_IN_RG], key) == expected


def test_ids_without_the_needed_scope_give_no_key():
    assert correlation_keys([SUB], CorrelationKey.RESOURCE_GROUP) == frozenset()
    assert correlation_keys(["/not/an/arm/id"], CorrelationKey.SUBSCRIPTION) == frozenset()
    assert correlation_keys(["", "/", 7, None], CorrelationKey.RESOURCE) == frozenset()
    assert correlation_keys([SUB], CorrelationKey.RESOURCE) == {SUB}  # Service Health targets the subscription


# -- choosing ------------------------------------------------------------------
def test_an_open_incident_on_the_same_resource_is_joined_whatever_the_case():
    keys = correlation_keys([ACCOUNT.lower()], CorrelationKey.RESOURCE)
    match = find_incident(keys, [incident("inc-a", OTHER_RG), incident("inc-b", ACCOUNT.upper())], now=NOW, settings=DEFAULT)
    assert match is not None and match.instance_id == "inc-b"


def test_other_resources_do_not_correlate_under_the_resource_key():
    keys = correlation_keys([ACCOUNT], CorrelationKey.RESOURCE)
    assert find_incident(keys, [incident("inc-a", OTHER_IN_RG), incident("inc-b", OTHER_SUB)], now=NOW, settings=DEFAULT) is None


def test_the_resource_group_key_joins_siblings_but_not_other_groups():
    settings = CorrelationSettings(key=CorrelationKey.RESOURCE_GROUP)
    keys = correlation_keys([ACCOUNT], settings.key)
    assert find_incident(keys, [incident("inc-a", OTHER_IN_RG)], now=NOW, settings=settings).instance_id == "inc-a"
    assert find_incident(keys, [incident("inc-b", OTHER_RG)], now=NOW, settings=settings) is None


def test_the_window_bounds_the_age_of_the_open_incident():
    keys = correlation_keys([ACCOUNT], CorrelationKey.RESOURCE)
    settings = CorrelationSettings(window_seconds=600)
    assert find_incident(keys, [incident("inc-a", ACCOUNT, age_s=600)], now=NOW, settings=settings) is not None
    assert find_incident(keys, [incident("inc-a", ACCOUNT, age_s=600.001)], now=NOW, settings=settings) is None
    # created "in the future" (clock skew between worker and store) counts as age 0
    assert find_incident(keys, [incident("inc-a", ACCOUNT, age_s=-30)], now=NOW, settings=settings) is not None


def test_the_default_window_is_sixty_minutes():
    assert DEFAULT.window_seconds == DEFAULT_WINDOW_SECONDS == 3600
    keys = correlation_keys([ACCOUNT], CorrelationKey.RESOURCE)
    assert find_incident(keys, [incident("inc-a", ACCOUNT, age_s=3599)], now=NOW, settings=DEFAULT) is not None
    assert find_incident(keys, [incident("inc-a", ACCOUNT, age_s=3601)], now=NOW, settings=DEFAULT) is None


def test_the_oldest_matching_incident_wins_then_the_smallest_id():
    keys = correlation_keys([ACCOUNT], CorrelationKey.RESOURCE)
    found = [incident("inc-c", ACCOUNT, age_s=10), incident("inc-b", ACCOUNT, age_s=20), incident("inc-a", ACCOUNT, age_s=20)]
    assert find_incident(keys, found, now=NOW, settings=DEFAULT).instance_id == "inc-a"


def test_the_alerts_own_incident_and_turned_off_correlation_never_match():
    keys = correlation_keys([ACCOUNT], CorrelationKey.RESOURCE)
    assert find_incident(keys, [incident("inc-own", ACCOUNT)], now=NOW, settings=DEFAULT, exclude="inc-own") is None
    assert find_incident(keys, [incident("inc-a", ACCOUNT)], now=NOW, settings=CorrelationSettings(window_seconds=0)) is None
    assert find_incident(keys, [incident("inc-a", ACCOUNT)], now=NOW, settings=CorrelationSettings(key=CorrelationKey.NONE)) is None
    assert find_incident(frozenset(), [incident("inc-a", ACCOUNT)], now=NOW, settings=DEFAULT) is None


def test_naive_created_times_are_taken_as_utc():
    keys = correlation_keys([ACCOUNT], CorrelationKey.RESOURCE)
    naive = OpenIncident("inc-a", (NOW - timedelta(seconds=3000)).replace(tzinfo=None), (ACCOUNT,))
    assert find_incident(keys, [naive], now=NOW, settings=DEFAULT) is not None


@given(
    st.lists(st.tuples(st.sampled_from([ACCOUNT, OTHER_IN_RG, OTHER_RG, ACCOUNT.upper()]), st.floats(-100, 8000)), max_size=8),
    st.sampled_from(list(CorrelationKey)),
    st.floats(0, 7200),
)
def test_the_choice_is_order_independent_and_only_ever_a_valid_match(rows, key, window):
    settings = CorrelationSettings(window_seconds=window, key=key)
    found = [incident(f"inc-{i}", target, age_s=age) for i, (target, age) in enumerate(rows)]
    keys = correlation_keys([ACCOUNT], key)
    match = find_incident(keys, found, now=NOW, settings=settings)
    assert match == find_incident(keys, list(reversed(found)), now=NOW, settings=settings)
    valid = [c for c in found if (NOW - c.created_time).total_seconds() <= window
             and not keys.isdisjoint(correlation_keys(c.target_ids, key)) and settings.enabled]
    assert (match is None) == (not valid)
    if match is not None:
        assert match.created_time == min(c.created_time for c in valid)


# -- settings ------------------------------------------------------------------
def test_settings_from_the_environment():
    assert CorrelationSettings.from_env({}) == CorrelationSettings(3600.0, CorrelationKey.RESOURCE)
    assert CorrelationSettings.from_env({WINDOW_ENV: " 900 ", KEY_ENV: "Resource_Group"}) == CorrelationSettings(
        900.0, CorrelationKey.RESOURCE_GROUP
    )
    assert not CorrelationSettings.from_env({WINDOW_ENV: "0"}).enabled
    assert not CorrelationSettings.from_env({KEY_ENV: "none"}).enabled


@pytest.mark.parametrize(
    ("env", "named"),
    [({WINDOW_ENV: "an hour"}, WINDOW_ENV), ({WINDOW_ENV: "-1"}, WINDOW_ENV), ({WINDOW_ENV: "nan"}, WINDOW_ENV),
     ({WINDOW_ENV: "inf"}, WINDOW_ENV), ({KEY_ENV: "tenant"}, KEY_ENV)],
)
def test_bad_settings_are_refused_naming_the_setting_and_the_fix(env, named):
    with pytest.raises(CorrelationConfigError) as err:
        CorrelationSettings.from_env(env)
    assert named in str(err.value)
    assert ("3600" in str(err.value)) if named == WINDOW_ENV else ("resource_group" in str(err.value))

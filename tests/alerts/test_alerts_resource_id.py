"""firestop.resource_id: canonical form, case-insensitive comparison, parsing, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firestop.resource_id import (
    ResourceId,
    canonical_resource_id,
    parse,
    resource_id_key,
    same_resource,
)

AOAI = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-AI/providers/Microsoft.CognitiveServices/accounts/AOAI-prod"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (AOAI, AOAI),
        ("  " + AOAI + "/  ", AOAI),
        (AOAI.lstrip("/"), AOAI),
        ("///" + AOAI.lstrip("/") + "//", AOAI),
        ("/subscriptions/<subscription ID>", "/subscriptions/<subscription ID>"),
    ],
)
def test_canonical_keeps_case_and_fixes_slashes(raw: str, canonical: str) -> None:
    assert canonical_resource_id(raw) == canonical


@pytest.mark.parametrize("bad", ["", "   ", "/", "///", None, 7])
def test_canonical_rejects_empty_or_non_string(bad) -> None:
    with pytest.raises(ValueError, match="resource id"):
        canonical_resource_id(bad)


def test_key_and_same_resource_are_case_insensitive() -> None:
    lower = AOAI.lower()
    upper = AOAI.upper() + "/"
    assert resource_id_key(upper) == lower
    assert same_resource(lower, upper)
    assert not same_resource(AOAI, AOAI.replace("AOAI-prod", "AOAI-dev"))


@pytest.mark.parametrize(
    ("raw", "expected", "type_key"),
    [
        (
            AOAI,
            ResourceId(AOAI, "11111111-1111-1111-1111-111111111111", "rg-AI", "Microsoft.CognitiveServices", "accounts", "AOAI-prod"),
            "microsoft.cognitiveservices/accounts",
        ),
        (
            AOAI + "/deployments/gpt-4o",
            ResourceId(AOAI + "/deployments/gpt-4o", "11111111-1111-1111-1111-111111111111", "rg-AI", "Microsoft.CognitiveServices", "accounts/deployments", "gpt-4o"),
            "microsoft.cognitiveservices/accounts/deployments",
        ),
        (
            "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm/providers/Microsoft.Insights/diagnosticSettings/ds",
            ResourceId(
                "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm/providers/Microsoft.Insights/diagnosticSettings/ds",
                "s", "rg", "Microsoft.Insights", "diagnosticSettings", "ds",
            ),
            "microsoft.insights/diagnosticsettings",
        ),
        (
            "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1",
            ResourceId("/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1", "s", None, "Microsoft.AlertsManagement", "alerts", "a1"),
            "microsoft.alertsmanagement/alerts",
        ),
        ("/subscriptions/s", ResourceId("/subscriptions/s", "s", None, None, None, "s"), "microsoft.resources/subscriptions"),
        (
            "subscriptions/s/resourceGroups/rg/",
            ResourceId("/subscriptions/s/resourceGroups/rg", "s", "rg", None, None, "rg"),
            "microsoft.resources/resourcegroups",
        ),
    ],
)
def test_parse(raw: str, expected: ResourceId, type_key: str) -> None:
    parsed = parse(raw)
    assert parsed == expected
    assert parsed.type_key == type_key
    assert str(parsed) == expected.id
    assert parsed.key == expected.id.lower()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("garbage", "must start with /subscriptions/"),
        ("/resourceGroups/rg", "must start with /subscriptions/"),
        ("/subscriptions", "must start with /subscriptions/"),
        ("/subscriptions/s//resourceGroups/rg", "empty segment"),
        ("/subscriptions/s/resourceGroups", "'resourceGroups' is not followed by a name"),
        ("/subscriptions/s/resourceGroups/rg/providers", "'providers' is not followed by a namespace"),
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage", "not followed by a resource type"),
        ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts", "'storageAccounts' is not followed by a name"),
        ("/subscriptions/s/resourceGroups/rg/foo/bar", "expected 'providers' or 'resourceGroups'"),
        ("", "empty"),
    ],
)
def test_parse_rejects_malformed_with_expected_form(bad: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse(bad)
    assert message in str(info.value)
    if bad:
        assert "expected the form /subscriptions/" in str(info.value)


def test_parse_result_is_frozen() -> None:
    with pytest.raises(AttributeError):
        parse(AOAI).name = "other"  # type: ignore[misc]


# ARM resource names are ASCII.
segment = st.text(st.sampled_from("abcXYZ019-_.()"), min_size=1, max_size=12)


@given(segment, segment, segment, segment, segment)
def test_parse_roundtrip_property(sub: str, rg: str, ns: str, typ: str, name: str) -> None:
    rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{typ}/{name}"
    parsed = parse(rid)
    assert (parsed.subscription, parsed.resource_group, parsed.namespace, parsed.type, parsed.name) == (sub, rg, ns, typ, name)
    assert parse(rid.upper()).key == parsed.key
    assert canonical_resource_id(canonical_resource_id(rid)) == rid


@given(st.text(max_size=80))
def test_parse_only_raises_value_error(text: str) -> None:
    try:
        parsed = parse(text)
    except ValueError:
        return
    assert parsed.id == canonical_resource_id(text)

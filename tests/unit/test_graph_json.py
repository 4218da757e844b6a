"""firestop.azure.graph.field: a member of Graph's JSON read as msgraph's model reads it (kiota's JsonParseNode),
so the Entra runbooks and the Graph alert fetch, which read the JSON instead of the model, see the same values."""

from __future__ import annotations

from datetime import datetime, timezone

from firestop.azure.graph import field


def test_members_of_the_right_type_are_read_and_any_other_is_none():
    body = {"id": "sp-1", "displayName": 7, "accountEnabled": False, "appId": None, "tags": ["a"],
            "signInSessionsValidFromDateTime": "2026-11-29T03:14:40Z", "short": "2026"}
    assert field(body, "id", "str") == "sp-1"
    assert field(body, "displayName", "str") is None  # a number where Graph sends a string: None, as on the model
    assert field(body, "accountEnabled", "bool") is False
    assert field({"accountEnabled": "false"}, "accountEnabled", "bool") is None
    assert field(body, "appId", "str") is None and field(body, "missing", "str") is None
    assert field(body, "signInSessionsValidFromDateTime", "datetime") == datetime(2026, 11, 29, 3, 14, 40, tzinfo=timezone.utc)
    assert field(body, "short", "datetime") is None
    assert field(None, "id", "str") is None and field(["id"], "id", "str") is None  # not an object: nothing is read


def test_enum_members_map_to_the_models_enum():
    from msgraph.generated.models.risk_state import RiskState

    assert field({"riskState": "confirmedCompromised"}, "riskState", "enum", RiskState) is RiskState.ConfirmedCompromised
    assert field({}, "riskState", "enum", RiskState) is None

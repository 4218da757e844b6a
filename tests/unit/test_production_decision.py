"""RT20-09: whether an account is production (``target.production``, what the shipped playbooks' production approvals
read) is Firestop's own decision — FIRESTOP_NON_PRODUCTION_ACCOUNTS — and a tag can only add approvals, never remove
one. Before tags18 there was no such decision: the playbooks compared ``target.tags.environment`` alone (these tests
could not import it)."""

from __future__ import annotations

import pytest

from firestop.analysis import account_facts, is_production
from firestop.playbooks.expressions import condition
from firestop.settings import Settings, SettingsError, check_environment

SUB = "11111111-2222-3333-4444-555555555555"
DEV = f"/subscriptions/{SUB}/resourceGroups/rg-ai-dev/providers/Microsoft.CognitiveServices/accounts/contoso-openai-dev"
LISTED = (DEV.lower(),)
CONDITION = "target.production != false"  # the shipped playbooks' approval condition


def _account(tags: dict | None) -> dict:
    return {"id": DEV, "kind": "OpenAI", "location": "swedencentral", "tags": tags, "properties": {}}


@pytest.mark.parametrize("tags", [{"environment": "staging"}, {"environment": "development"}, {}, None])
def test_an_unlisted_account_is_production_whatever_its_tags_say(tags):
    assert is_production(DEV, tags or {}) is True
    assert account_facts(_account(tags))["production"] is True


@pytest.mark.parametrize("tags", [{"environment": "staging"}, {}, None, {"owner": "team-a"}])
def test_a_listed_account_is_not_production(tags):
    assert is_production(DEV, tags or {}, LISTED) is False
    assert account_facts(_account(tags), LISTED)["production"] is False


@pytest.mark.parametrize("tags", [{"environment": "production"}, {"Environment": "Production "}, {"env": "prod"},
                                  {"ENV": "PRODUCTION", "environment": "staging"}])
def test_a_production_tag_keeps_a_listed_account_production(tags):
    assert is_production(DEV, tags, LISTED) is True


def test_listed_ids_compare_case_insensitively_without_a_trailing_slash():
    assert is_production(DEV.upper() + "/", {}, LISTED) is False
    other = DEV.replace("contoso-openai-dev", "contoso-openai-dev2")
    assert is_production(other, {}, LISTED) is True  # a prefix is not the account


@pytest.mark.parametrize(("facts", "asks"), [({"production": True}, True), ({"production": False}, False),
                                             ({}, None), ({"type": "x", "error": "forbidden"}, None)])
def test_the_condition_asks_unless_firestop_decided_not_production(facts, asks):
    """None is "cannot be decided", which an approval's required_if treats as required (fail closed)."""
    assert condition(CONDITION, {"target": {"id": DEV, "tags": {}, **facts}}) is asks


def test_the_setting_names_a_wrong_id_with_the_fix(monkeypatch, tmp_path):
    problems = dict(check_environment({"FIRESTOP_NON_PRODUCTION_ACCOUNTS": f"{DEV}, rg-ai-dev/contoso-openai-dev"},
                                      on_azure=True))
    problem = problems["FIRESTOP_NON_PRODUCTION_ACCOUNTS"]
    assert "'rg-ai-dev/contoso-openai-dev'" in problem and "Microsoft.CognitiveServices/accounts/<name>" in problem
    assert "FIRESTOP_NON_PRODUCTION_ACCOUNTS" not in dict(check_environment(
        {"FIRESTOP_NON_PRODUCTION_ACCOUNTS": f"{DEV},{DEV.upper()}/"}, on_azure=True))
    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path))
    monkeypatch.setenv("FIRESTOP_NON_PRODUCTION_ACCOUNTS", f" {DEV.upper()}/ ,")
    assert Settings.from_env().non_production_accounts == LISTED
    monkeypatch.setenv("FIRESTOP_NON_PRODUCTION_ACCOUNTS", "contoso-openai-dev")
    with pytest.raises(SettingsError, match="FIRESTOP_NON_PRODUCTION_ACCOUNTS"):
        Settings.from_env()

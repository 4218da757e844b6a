"""Scenario files: validation errors name file, line and field; overrides of the default tenant."""

from __future__ import annotations

import pytest

from firestop.tabletop import ScenarioError, load_scenario
from firestop.tabletop.runner import build_tenant, merge_overrides

from .conftest import ACCOUNT, EXAMPLE, leaked_key


def problems(path) -> list[tuple]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    return info.value.problems


def test_valid_scenario_loads_with_paths_relative_to_the_file(write_scenario, tmp_path):
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "a.json").write_text(EXAMPLE.read_text())
    path = write_scenario({"name": "rel", "alerts": [{"file": "alerts/a.json", "at": 5}], "expect": {"status": "contained"}})
    scenario = load_scenario(path)
    assert scenario.resolve("alerts/a.json") == tmp_path / "alerts" / "a.json"
    assert scenario.alerts[0].at == 5 and len(scenario.expect) == 1 and scenario.expect[0].alert == 0


def test_unknown_field_is_reported_with_its_line(write_scenario):
    path = write_scenario(
        "name: typo\n"
        "alerts:\n"
        f"  - file: {EXAMPLE}\n"
        "expect:\n"
        "  status: contained\n"
        "  contained_whithin: 30\n"
    )
    (line, field, message) = problems(path)[0]
    # as written: expect is one mapping here, so no index (session 13's note: "expect.0.contained_whithin")
    assert (line, field) == (6, "expect.contained_whithin") and "not permitted" in message.lower()


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"alerts": [{"at": 0}]}, "alerts.0", "exactly one of file"),
        ({"alerts": [{"file": "nope.json"}]}, "alerts.0.file", "does not exist"),
        ({"alerts": [{"payload": {"schemaId": "azureMonitorCommonAlertSchema", "data": {}}}]}, "alerts.0.payload", "not a usable alert"),
        ({"alerts": [{"file": str(EXAMPLE), "at": 10, "fired": 20}]}, "alerts.0", "after the alert is received"),
        ({"faults": {"scripted": [{"operation": "accounts.explode", "status": 500}]}}, "faults.scripted.0.operation", "unknown sandbox operation"),
        ({"faults": {"scripted": [{"operation": "accounts.get", "status": 200}]}}, "faults.scripted.0.status", "greater than or equal to 400"),
        ({"faults": {"lro": [{"operation": "accounts.get", "seconds": 5}]}}, "faults.lro.0.operation", "starts no long-running operation"),
        ({"responder": [{"step": "x", "decision": "maybe", "by": "a"}]}, "responder.0.decision", "'approve' or 'reject'"),
        ({"expect": {"alert": 3}}, "", "scenario has 1 alert(s)"),
        ({"expect": {"status": "fine"}}, "expect.status", "contained"),  # one mapping: named as written, no index
        ({"expect": [{"status": "contained"}, {"status": "fine"}]}, "expect.1.status", "contained"),  # a list: its index
        ({"expect": {"contained_within": "soon"}}, "expect.contained_within", "valid number"),
        ({"expect": {"forbidden": [{"runbook": "keys.rotate", "operation": "accounts.get"}]}}, "expect.forbidden.0", "exactly one of runbook"),
        ({"expect": {"forbidden": [{"runbook": "keys.nope"}]}}, "expect.forbidden.0.runbook", "unknown runbook"),
        ({"playbooks": "no-such-dir"}, "playbooks", "not a directory"),
        ({"tenant": {"seed": "missing.yaml"}}, "tenant.seed", "does not exist"),
        ({"tenant": {"role": {"Actions": "everything"}}}, "tenant.role", "Actions"),
        # a union (one role or a list of them): one problem at the field as written, no pydantic member label
        ({"tenant": {"role": 5}}, "tenant.role", "a valid dictionary, or a valid list"),
        ({"tenant": {"role": [5]}}, "tenant.role.0", "valid dictionary"),
        ({"tenant": {"overrides": {"accounts": [{"name": "contoso-openai-prod", "properties": "x"}]}}}, "tenant.overrides", "does not build a tenant"),
        ({"name": "Not A Name"}, "name", "pattern"),
        ({"alerts": []}, "", "give alerts (Common Alert Schema payloads) or attack"),
        ({"attack": [{"kind": "requests", "account": "contoso-openai-prod"}]}, "attack.0", "exactly one of key"),
        ({"attack": [{"kind": "list_keys", "account": "contoso-openai-prod"}]}, "attack.0", "give the principal"),
        ({"attack": [{"kind": "requests", "account": "contoso-openai-prod", "apim": "apim-contoso-ai"}]}, "attack.0", "need both apim"),
        ({"attack": [{"kind": "requests", "account": "contoso-openai-prod", "apim": "apim-contoso-ai", "apim_subscription": "s",
                      "key": "key1"}]}, "attack.0", "not key or principal"),
        ({"attack": [{"kind": "list_keys", "account": "nope", "principal": "p"}]}, "attack.0.account", "no account 'nope'"),
        ({"attack": [{"kind": "requests", "account": "a", "key": "key1", "per_minute": 600, "duration": 21600}]}, "", "at most 20000"),
    ],
)
def test_each_mistake_is_named(write_scenario, changes, field, words):
    found = problems(write_scenario(leaked_key(**changes)))
    assert any(f == field and words.lower() in m.lower() for _, f, m in found), found


def test_no_field_is_named_with_an_index_or_a_label_the_file_does_not_have(write_scenario):
    found = problems(write_scenario(leaked_key(tenant={"role": [5]}, expect={"contained_within": -1})))
    assert sorted(f for _, f, _ in found) == ["expect.contained_within", "tenant.role.0"], found


def test_yaml_syntax_and_non_mapping(write_scenario):
    (line, field, message) = problems(write_scenario("name: [unclosed\n"))[0]
    assert "not valid YAML" in message
    (line, field, message) = problems(write_scenario("- just a list\n"))[0]
    assert "mapping" in message


def test_merge_overrides_merges_mappings_and_named_lists():
    base = {"a": {"b": 1, "c": [1, 2]}, "items": [{"name": "x", "v": 1, "w": {"k": 1}}, {"name": "y", "v": 2}]}
    over = {"a": {"c": [3]}, "items": [{"name": "X", "w": {"j": 2}}, {"name": "z", "v": 3}]}
    assert merge_overrides(base, over) == {
        "a": {"b": 1, "c": [3]},
        "items": [{"name": "x", "v": 1, "w": {"k": 1, "j": 2}}, {"name": "y", "v": 2}, {"name": "z", "v": 3}],
    }
    assert base["items"][0] == {"name": "x", "v": 1, "w": {"k": 1}}  # pure


def test_inline_overrides_and_clock_shape_the_tenant(write_scenario):
    path = write_scenario(leaked_key(tenant={
        "clock": "2026-11-29T05:00:00Z",
        "overrides": {"accounts": [{"name": "contoso-openai-prod", "properties": {"disableLocalAuth": True}}],
                      "latency": {"accounts.update.lro": 42}},
    }))
    tenant = build_tenant(load_scenario(path))
    assert tenant.clock.now().isoformat() == "2026-11-29T05:00:00+00:00"
    props = tenant.resource(ACCOUNT)["properties"]
    assert props["disableLocalAuth"] is True and props["networkAcls"]["defaultAction"] == "Allow"  # rest kept
    assert tenant.latency["accounts.update.lro"] == 42 and tenant.latency["accounts.get"] == 0.2
    assert tenant.state_dir is None  # in memory only

"""rules16: ``rules check`` / ``rules trust`` of a rule Azure answers 404 for. Before, a new user's first try on a
fresh sandbox (which holds no alert rule) answered "RULE_ID: no alert rule … (Azure answered 404)" and nothing more:
no id form, no way to list rules, no way to get one. Now the hint gives the form and, in the sandbox, the rules it
holds (bounded) or — when none — the command that registers one and the id it registers; with --azure, the az
commands that list them."""

from __future__ import annotations

import json

from tests.rules14.test_rules_trust_cli import cli

SUB = "11111111-2222-3333-4444-555555555555"
MISSING = f"/subscriptions/{SUB}/resourceGroups/rg-ai-prod/providers/microsoft.insights/scheduledqueryrules/nope"
FORM = "<scheduledQueryRules|metricAlerts|activityLogAlerts>/<name>"


def test_a_fresh_sandbox_says_how_to_get_a_rule_and_that_way_works(firestop_home):
    from firestop.cli.rules_cmd import EXAMPLE

    for args in (("rules", "check", MISSING), ("rules", "trust", MISSING, "--as", "oid-admin")):
        result = cli(*args, "--json")
        assert result.exit_code == 2, result.output
        error = json.loads(result.stdout)["error"]
        assert FORM in error and "this sandbox holds no alert rule yet" in error, error
        assert f"alert handle {EXAMPLE[0]}, then rules check {EXAMPLE[1]}" in error, error
    # the way it names works: the example registers that rule, which check then finds (a verdict, not a 404)
    assert cli("alert", "handle", EXAMPLE[0], "--json").exit_code == 0
    found = cli("rules", "check", EXAMPLE[1], "--json")
    assert found.exit_code == 3 and json.loads(found.stdout)["rule_id"] == EXAMPLE[1], found.output


def test_a_sandbox_holding_rules_lists_them_bounded(firestop_home):
    from firestop.cli.rules_cmd import HINT_RULES
    from firestop.cli.wiring import sandbox_environment
    from firestop.tabletop.detection import deploy_detection

    env = sandbox_environment()
    try:
        ids = [i for i in deploy_detection(env.tenant, env.settings.playbooks_dir)[1:] if "/diagnosticsettings/" not in i.lower()]
    finally:
        env.close()
    assert len(ids) > HINT_RULES
    error = json.loads(cli("rules", "check", MISSING, "--json").stdout)["error"]
    assert FORM in error and "this sandbox holds /subscriptions/" in error, error
    assert f"and {len(ids) - HINT_RULES} more" in error and sum(i in error for i in ids) == HINT_RULES, error
    assert "python -m firestop rules list lists the trusted ones" in error


def test_on_azure_the_hint_names_the_az_commands_that_list_rules():
    from firestop.cli.rules_cmd import _not_found_hint

    hint = _not_found_hint(None, True)  # (--azure reads nothing more for the hint)
    assert FORM in hint and "az monitor scheduled-query list --query [].id" in hint
    assert "python -m firestop rules list --azure" in hint

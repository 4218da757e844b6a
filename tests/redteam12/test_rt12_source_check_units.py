"""The source check's pieces: the comparison, the setting's default, what intake writes, the template."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from firestop.azure.alerts_management import check_alert_id, compare
from firestop.settings import REPO_ROOT, alert_source_check_enabled

NOW = datetime(2026, 11, 29, 3, 20, tzinfo=timezone.utc)
TARGET = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
RULE = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/microsoft.insights/scheduledqueryrules/aoai-leaked-key-usage"
ALERT = {"target_ids": [TARGET.lower()], "rule_id": RULE, "rule_name": "aoai-leaked-key-usage",
         "fired_at": "2026-11-29T03:14:02.371321Z", "severity": 1, "signal_type": "Log", "monitor_condition": "Fired"}


def source(**changes) -> dict:
    essentials = {"targetResource": TARGET, "alertRule": RULE, "monitorCondition": "Fired", "severity": "Sev1",
                  "signalType": "Log", "startDateTime": "2026-11-29T03:14:02.3713213Z", **changes}
    return {"properties": {"essentials": {k: v for k, v in essentials.items() if v is not None}}}


def test_the_alert_as_azure_monitor_holds_it_is_confirmed():
    assert compare(ALERT, source(), NOW) is None
    assert compare({**ALERT, "rule_id": None}, source(), NOW) is None  # the rule name alone matches the rule id's last segment


@pytest.mark.parametrize("changes, alert, why", [
    ({"targetResource": TARGET.replace("prod/", "dev/")}, ALERT, "targetResource differs"),
    ({"alertRule": RULE.replace("leaked-key", "other")}, ALERT, "alertRule differs"),
    ({}, {**ALERT, "rule_id": None, "rule_name": "another-rule"}, "alertRule differs"),
    ({}, {**ALERT, "target_ids": []}, "names no target"),
    ({"monitorCondition": "Resolved", "monitorConditionResolvedDateTime": "2026-11-29T01:00:00Z"}, ALERT, "resolved at"),
    ({"startDateTime": "2026-11-20T03:14:02Z"}, ALERT, "not within 24 h"),
    ({"startDateTime": None}, ALERT, "no startDateTime"),
])
def test_what_differs_is_named(changes, alert, why):
    found = compare(alert, source(**changes), NOW)
    assert found is not None and why in found


@pytest.mark.parametrize("alert, why", [  # RT13: the same alert id, but not this delivery (confirmed on d7fbd72)
    ({**ALERT, "fired_at": "2026-11-29T03:16:40Z"}, "firedDateTime differs"),
    ({**ALERT, "fired_at": None}, "firedDateTime differs"),
    ({**ALERT, "severity": 0}, "severity differs"),
    ({**ALERT, "severity": None}, "severity differs"),
    ({**ALERT, "signal_type": "Metric"}, "signalType differs"),
    ({**ALERT, "monitor_condition": "Resolved"}, "monitorCondition differs"),
])
def test_a_delivery_differing_from_the_alert_it_names_is_not_confirmed(alert, why):
    found = compare(alert, source(), NOW)
    assert found is not None and why in found


def test_the_stated_tolerances_of_the_delivery_comparison():
    assert compare({**ALERT, "fired_at": "2026-11-29T03:14:03.1Z"}, source(), NOW) is None  # within 1 s
    assert compare({**ALERT, "fired_at": "2026-11-29T03:14:03.5Z"}, source(), NOW) is not None
    assert compare({**ALERT, "signal_type": "Activity Log"}, source(signalType="ActivityLog"), NOW) is None  # normalised
    assert compare({**ALERT, "signal_type": "Activity Log"}, source(signalType="Unknown"), NOW) is None  # not given
    resolved = source(monitorCondition="Resolved", monitorConditionResolvedDateTime="2026-11-29T03:19:00Z")
    assert compare({**ALERT, "monitor_condition": "Resolved"}, resolved, NOW) is None


def test_a_recently_resolved_alert_still_counts():
    assert compare(ALERT, source(monitorCondition="Resolved", monitorConditionResolvedDateTime="2026-11-29T03:19:00Z"), NOW) is None


@pytest.mark.parametrize("value", ["/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/../../y", None,
                                   "https://evil.example/alerts/1", TARGET])
def test_only_an_alerts_management_id_reaches_a_url(value):
    with pytest.raises(ValueError):
        check_alert_id(value)


def test_the_setting_is_on_on_azure_and_off_locally_unless_set():
    assert alert_source_check_enabled({}) is False
    assert alert_source_check_enabled({"WEBSITE_SITE_NAME": "app"}) is True
    assert alert_source_check_enabled({"WEBSITE_SITE_NAME": "app", "FIRESTOP_ALERT_SOURCE_CHECK": "off"}) is False
    assert alert_source_check_enabled({"FIRESTOP_ALERT_SOURCE_CHECK": "on"}) is True


def test_intake_marks_the_inputs_of_the_alerts_it_can_read_back():
    from firestop.alerts import parse_alert
    from firestop.lifecycle.start import incident_input

    monitor = parse_alert(json.loads((REPO_ROOT / "examples/alerts/leaked-key.json").read_text()))
    assert incident_input(monitor, received_at=NOW, sandbox=True, source_check=True)["source_check"] == "azure-monitor"
    assert "source_check" not in incident_input(monitor, received_at=NOW, sandbox=True)
    defender = parse_alert(json.loads((REPO_ROOT / "examples/alerts/defender-jailbreak.json").read_text()))
    # verify11: a Defender alert (and a Sentinel incident) is read back from its own source: tests/verify11
    assert incident_input(defender, received_at=NOW, sandbox=True, source_check=True)["source_check"] == "defender"
    assert "source_check" not in incident_input(defender, received_at=NOW, sandbox=True)


def test_the_template_turns_it_on_and_its_role_may_read_alerts():
    template = json.loads((REPO_ROOT / "infra/azuredeploy.json").read_text())
    site = next(r for r in template["resources"] if r["type"] == "Microsoft.Web/sites")
    settings = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    assert settings["FIRESTOP_ALERT_SOURCE_CHECK"] == "on"
    parameters = json.loads((REPO_ROOT / "infra/azuredeploy.parameters.json").read_text())["parameters"]
    assert "Microsoft.AlertsManagement/alerts/read" in parameters["customRoleActions"]["value"]
    assert not any(a.startswith("Microsoft.AlertsManagement/") and a != "Microsoft.AlertsManagement/alerts/read"
                   for a in parameters["customRoleActions"]["value"])  # read only: never changes an alert's state
    rules = {"Microsoft.Insights/metricAlerts/read", "Microsoft.Insights/scheduledQueryRules/read", "Microsoft.Insights/activityLogAlerts/read"}
    assert rules <= set(parameters["customRoleActions"]["value"])  # RT13: the alert rule's route is read
    assert not any(a.lower().startswith(("microsoft.insights/metricalerts/", "microsoft.insights/scheduledqueryrules/",
                                         "microsoft.insights/activitylogalerts/")) and a not in rules
                   for a in parameters["customRoleActions"]["value"])  # never writes a rule


@pytest.mark.parametrize("name", [".", "...", "a\r\nHost: evil", "a\tb", "a\x00b", "a\x7fb"])
def test_attack14_a_rule_id_with_a_dot_segment_or_control_characters_is_not_read(name):
    """attack14: the rule id lands in the GET's path; a name that is only a dot segment (read as the rule type's list
    of the resource group) or carries control characters (CR/LF into the request line) is not an alert rule id."""
    from firestop.azure.alerts_management import check_rule_id

    with pytest.raises(ValueError):
        check_rule_id(RULE.rsplit("/", 1)[0] + "/" + name)
    assert check_rule_id(RULE) == RULE

"""Every shipped scenario runs green, and its scorecard shows what the scenario is about."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from firestop.tabletop import load_scenario, run_scenario

import yaml

from .conftest import ACCOUNT, PLAYBOOKS, SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
#: the Defender for AI scenarios run once, in test_tabletop_ai_scenarios.py, which checks this module's checks and their detection
GENERIC = [p for p in SHIPPED if not p.stem.startswith("ai-")]


@pytest.fixture(scope="module")
def _shipped_runs() -> dict:
    """name -> (home, scorecard) of each shipped scenario this module (this worker) has run."""
    return {}


@pytest.fixture
def run(_shipped_runs, firestop_home):
    """``run(name) -> scorecard``: the shipped scenario ``name`` run once per module, in a FIRESTOP_HOME of its own
    (``<firestop_home>/<name>`` of the first test that asks, so two scenarios a test runs first never share a run
    directory), with run ID ``run``; each test gets its own deep copy of the
    card (its files stay in that home). The parametrized check and the scenario's own test judge one run, as a
    scenario run is deterministic (virtual clock, seeded faults): running it again would only repeat the work."""

    def card_of(name: str) -> dict:
        if name not in _shipped_runs:
            home = firestop_home / name
            _shipped_runs[name] = (home, run_scenario(SCENARIOS / f"{name}.yaml", home=home, run_id="run"))
        return copy.deepcopy(_shipped_runs[name][1])

    card_of.home = lambda name: _shipped_runs[name][0]
    return card_of


def test_there_is_a_scenario_per_shipped_playbook():
    from firestop.playbooks import load_playbooks
    from firestop.settings import REPO_ROOT

    rehearsed = set()
    for path in SHIPPED:
        scenario = load_scenario(path)
        if scenario.playbooks_dir() and scenario.playbooks_dir().resolve() == (REPO_ROOT / "playbooks").resolve():
            rehearsed.update(e.playbook for e in scenario.expect if e.playbook)
    assert {p.name for p in load_playbooks(REPO_ROOT / "playbooks")} <= rehearsed


def test_every_shipped_scenario_runs_from_attack_activity_alone():
    """No shipped scenario starts from a hand-written alert: each describes what the attacker does, the shipped
    rules (or Defender for AI) raise the alerts from it, and it says what detection must achieve. No exceptions."""
    assert len(SHIPPED) >= 19
    alert_driven = [p.stem for p in SHIPPED if load_scenario(p).alerts or not load_scenario(p).attack]
    assert alert_driven == []
    assert [p.stem for p in SHIPPED if load_scenario(p).detection is None] == []


@pytest.mark.parametrize("path", GENERIC, ids=[p.stem for p in GENERIC])
def test_shipped_scenario_meets_every_expectation(path, run):
    card = run(path.stem)
    check_shipped_card(card, run.home(path.stem))


def check_shipped_scenario(path: Path, firestop_home: Path) -> dict:
    """Run a shipped scenario: every expectation met, scorecard files and records written (returns the card)."""
    return check_shipped_card(run_scenario(path, home=firestop_home, run_id="run"), firestop_home)


def check_shipped_card(card: dict, firestop_home: Path) -> dict:
    """The checks of :func:`check_shipped_scenario` on the card of a run (run ID ``run``) in ``firestop_home``."""
    missed = [f"{e['check']}: {e['evidence']}" for e in card["expectations"] if not e["met"]]
    assert card["result"] == "met" and not missed, missed
    assert card["missed"] == 0 and card["met"] == len(card["expectations"]) > 0
    run_dir = firestop_home / "tabletop" / "run"
    assert card["files"] == {"json": str(run_dir / "scorecard.json"), "markdown": str(run_dir / "scorecard.md")}
    assert json.loads((run_dir / "scorecard.json").read_text())["expectations"] == card["expectations"]
    markdown = (run_dir / "scorecard.md").read_text()
    assert markdown.startswith(f"# Tabletop scorecard — {card['scenario']['name']}")
    assert "all expectations met" in markdown and "❌" not in markdown
    assert_one_time_format(markdown)
    detection = card.get("detection") or {}
    if any(i["status"] == "contained" for i in card["incidents"]) and detection.get("mttd_s") is not None:
        # the attack's containment is the first incident that contained it, whichever alert arrived first
        assert detection["contained_at"] is not None and detection["mttc_s"] is not None, detection
        assert not detection["attacker_after_containment"].startswith("not contained"), detection["attacker_after_containment"]
    for incident in card["incidents"]:  # records are tagged and filed inside the run folder
        assert incident["exercise"] is True
        record = json.loads((run_dir / "records" / f"{incident['incident_id']}.json").read_text())
        assert record["exercise"] is True and record["sandbox"] is True
    return card


#: What the on-call channel received is quoted as sent (its own format); HTTP's Retry-After is whole seconds (RFC 9110).
_QUOTED = re.compile(r"^> .*$|Retry-After \d+ s", re.M)


def assert_one_time_format(markdown: str) -> None:
    """Every time in a scorecard's text is written one way (firestop.times): durations ``21.2 s``, offsets
    ``+164.0 s``, instants ``2026-11-29 04:03:21.2 UTC`` — no ISO 8601 stamps, no ``+164 s`` beside ``64.85 s``."""
    text = _QUOTED.sub("", markdown)
    iso = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d\S*", text)
    assert not iso, iso
    other = [m.group(0) for m in re.finditer(r"(?<![\w.])[+-]?\d+(?:\.\d+)? s\b", text) if not re.fullmatch(r"[+-]?\d+\.\d s", m.group(0))]
    assert not other, other
    instants = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d:\S+(?: UTC)?", text)
    assert instants and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d UTC", i) for i in instants), instants


def test_leaked_key_scorecard(run):
    card = run("leaked-api-key")
    assert card["metrics"]["mttd_s"] == 0.0  # the alert reached Firestop when it fired (in process)
    assert 0 < card["metrics"]["mttc_s"] <= 30 and card["metrics"]["mtta_s"] is None
    detection = card["detection"]
    # from the first malicious request: 21 requests to cross the threshold (30 s) + 120 s ingestion + the next whole minute
    assert 150 <= detection["mttd_s"] <= 210
    assert detection["mttc_s"] == pytest.approx(detection["mttd_s"] + card["metrics"]["mttc_s"], abs=0.01)
    requests = detection["requests"]
    assert requests["refused_after_alert_s"] <= 5 and requests["served_after_containment"] == 0
    # the attacker keeps trying after containment: refused, counted, and no second (noisy) incident
    assert len(card["incidents"]) == 1
    assert requests["refused_after_containment"] > 100 and requests["refused"] == requests["malicious"] - requests["served"]
    (after,) = detection["aftermath"]
    assert after["incident_id"] == card["incidents"][0]["incident_id"] and "containment working" in after["outcome"]
    # proven per caller by the 401/403 log rule (RT6-01: no metric alert is aftermath; ClientErrors counts every 4xx)
    assert after["rule"].startswith("aoai-anomalous-usage-") and "203.0.113.77" in after["outcome"]
    assert requests["served_before_detection"] + requests["served_after_detection"] == requests["served"] > 100
    (rule,) = [r for r in detection["rules"] if r["condition"] == "Fired" and r["rule"].startswith("aoai-leaked-key-usage")]
    assert "120.0 s after a request" in rule["why"] and "every 60.0 s" in rule["why"]
    markdown = Path(card["files"]["markdown"]).read_text()
    assert "## Detection (from the attacker's first malicious request)" in markdown
    assert card["approvals"] == [] and card["faults"]["fired"] == [] and card["permissions_missing"] == []
    coverage = {c["item"]: c["status"] for c in card["checklist"]["coverage"]}
    assert coverage["Microsoft Entra ID instead of API keys"] == "gap"
    assert coverage["diagnostic logs reach Log Analytics"] == "no gap found"
    assert {g["gap"] for g in card["checklist"]["gaps"]} >= {"local (API key) authentication enabled"}
    by_check = {e["check"]: e for e in card["expectations"]}
    assert "MTTC" in by_check["contained_within"]["evidence"] and by_check["contained_within"]["actual"] == card["metrics"]["mttc_s"]
    assert "✔ old Key1 revoked" in by_check["step rotate-keys succeeded"]["evidence"]
    assert by_check["forbidden: operation accounts.update on *contoso-openai-dev*"]["actual"] == 0


def test_throttling_scorecard_shows_the_faults_absorbed(run):
    calm = run("leaked-api-key")
    card = run("throttling")
    fired = card["faults"]["fired"]
    throttled = [f for f in fired if f["operation"] == "accounts.regenerateKey"]
    assert [f["status"] for f in throttled] == [429, 429] and all(f["source"] == "scripted" for f in throttled)
    assert any(f["source"] == "random" and f["status"] == 503 for f in fired)
    assert {f["step"] for f in throttled} == {"rotate-keys"}
    assert card["faults"]["absorbed"] == len(fired) and card["faults"]["not_absorbed"] == 0
    assert card["metrics"]["mttc_s"] > calm["metrics"]["mttc_s"]  # absorbing the faults took time
    assert "fault(s) fired" in Path(card["files"]["markdown"]).read_text()


def test_rejected_approval_scorecard(run):
    card = run("rejected-approval")
    (approval,) = card["approvals"]
    assert approval["step"] == "lock-network" and approval["outcome"] == "rejected"
    assert approval["waited_s"] == pytest.approx(120.0)
    # the step's evidence counts from the incident's receipt (+8.2 s), the Approvals table from T0 (+185.7 s): it says so
    (not_run,) = [e for e in card["expectations"] if e["check"] == "step lock-network not run"]
    assert re.search(r"not run: awaiting approval at \+\d+\.\d s after receipt: ", not_run["evidence"]), not_run
    refused, sent = approval["answers"]
    assert (refused["by"], refused["outcome"]) == ("oid-bob", "refused") and "not among the approvers" in refused["reason"]
    assert (sent["by"], sent["decision"], sent["outcome"]) == ("oid-alice", "reject", "sent")
    received = card["alerts"][0]["delivered_offset_s"]  # the rule's alert, some minutes into the attack
    assert card["metrics"]["mtta_s"] == pytest.approx(approval["requested_offset_s"] - received + 120.0)
    assert card["metrics"]["mttc_s"] is None
    requests = json.loads((Path(card["run_dir"]) / "requests.json").read_text())
    assert not [r for r in requests if r["operation"] == "accounts.update"]
    # paging: the playbook pages Alice and the on-call group when the approval is requested, reminds them every
    # 90 s until Alice rejects (at +120 s: one reminder), and again for the needs_responder outcome
    pages = card["pages"]
    assert [p["kind"] for p in pages] == ["approval", "reminder", "needs_responder"], pages
    assert all(p["paged"] == ["oid-alice", "grp-secops-oncall"] and p["sent"] for p in pages)
    assert pages[0]["offset_s"] == pytest.approx(approval["requested_offset_s"])
    assert pages[1]["offset_s"] - pages[0]["offset_s"] == pytest.approx(90.0)
    first = card["notifications"][0]["text"]
    assert f"/api/console/incidents/{approval['incident_id']}" in first
    assert f"incident approve {approval['incident_id']} --step lock-network" in first
    assert "--app <app URL>" in first and "&lt;" not in first  # as the channel shows it, not Slack's escaping
    # the deadline as a person reads it at 3 a.m. (firestop.times.instant), not 2026-11-29T04:18:08.150000+00:00
    assert re.search(r"Decide by \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d UTC or the step will not run", first), first
    assert re.search(r"Decide by \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d UTC\.", card["notifications"][1]["text"])
    assert len(card["notifications"]) == 3
    markdown = Path(card["files"]["markdown"]).read_text()
    assert "## Pages" in markdown and "| reminder | lock-network | oid-alice, grp-secops-oncall |" in markdown
    from firestop.console import pages as console_pages

    page = console_pages.scorecard_page(card, caller=None)
    assert "<td>reminder</td><td>oid-alice, grp-secops-oncall</td><td>lock-network</td>" in page and "Nobody was paged" not in page


def test_missing_permission_scorecard_names_the_action(run):
    card = run("missing-permission")
    # the old key's 401 storm after the rotation also opens anomalous-usage incidents; their locks are refused too
    missing = next(m for m in card["permissions_missing"] if m["action"] == "Microsoft.CognitiveServices/accounts/write")
    assert missing["action"] == "Microsoft.CognitiveServices/accounts/write" and missing["count"] >= 1
    assert missing["paths"] == [ACCOUNT]
    assert "`Microsoft.CognitiveServices/accounts/write`" in Path(card["files"]["markdown"]).read_text()


def test_missing_permission_lacks_only_the_write_it_rehearses():
    """Its role is what ``python -m firestop permissions`` generates for leaked-api-key's runbooks, minus
    accounts/write (leftovers11: it lacked the alert source check's reads, so with FIRESTOP_ALERT_SOURCE_CHECK on the
    alert was never confirmed and the scenario was missed, for a reason it does not rehearse)."""
    from firestop.playbooks import load_playbooks
    from runbooks.permissions import needed_actions, runbooks_of

    role = load_scenario(SCENARIOS / "missing-permission.yaml").tenant.role
    leaked = [p for p in load_playbooks(PLAYBOOKS) if p.name == "leaked-api-key"]
    actions, data = needed_actions(runbooks_of(leaked))
    assert set(actions) - set(role["Actions"]) == {"Microsoft.CognitiveServices/accounts/write"}
    assert set(data) <= set(role["DataActions"])


def test_missing_permission_is_met_with_the_source_check_on(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    card = run_scenario(SCENARIOS / "missing-permission.yaml", home=firestop_home, run_id="checked")
    missed = [f"{e['check']}: {e['evidence']}" for e in card["expectations"] if not e["met"]]
    assert card["result"] == "met" and not missed, missed
    from runbooks.permissions import ORCHESTRATOR_ACTIONS

    missing = {m["action"] for m in card["permissions_missing"]}
    assert "Microsoft.CognitiveServices/accounts/write" in missing and not missing & set(ORCHESTRATOR_ACTIONS), missing


def test_leaked_key_is_met_with_the_source_check_on(firestop_home, monkeypatch):
    """newuser11: the deployed app runs every scenario weekly with FIRESTOP_ALERT_SOURCE_CHECK on (the template's
    setting reaches the child through FIRESTOP_*), and leaked-api-key missed "attacker refused within ≤ 5 s" there
    (6.5 s: the rule's query is re-run before the first step) — an error logged every Monday for a containment that
    worked. With the check off the attacker is still refused within 5 s (test_leaked_key_scorecard: 3.5 s)."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    card = run_scenario(SCENARIOS / "leaked-api-key.yaml", home=firestop_home, run_id="checked")
    missed = [f"{e['check']}: {e['evidence']}" for e in card["expectations"] if not e["met"]]
    assert card["result"] == "met" and not missed, missed
    assert 5 < card["detection"]["requests"]["refused_after_alert_s"] <= 7, card["detection"]["requests"]


def test_public_network_exposure_touches_only_the_dev_account(run):
    card = run("public-network-exposure")
    requests = json.loads((Path(card["run_dir"]) / "requests.json").read_text())
    patched = {r["path"].rsplit("/", 1)[-1] for r in requests if r["operation"] == "accounts.update"}
    assert patched == {"contoso-openai-dev"}
    assert card["approvals"] == []  # not production: no human gate
    assert 20 <= card["detection"]["mttd_s"] <= 21  # the Activity Log's submission delay; the alert evaluates on arrival


def test_public_network_exposure_scorecard_has_the_audit(run):
    """The scorecard includes the checklist audit before and after the incident (the module's one run of the
    scenario; this test was tests/audit/test_audit_tabletop.py, which ran the same scenario with the same inputs again)."""
    card = run("public-network-exposure")
    assert card["result"] == "met"
    audit = card["audit"]
    assert audit["before"]["at"] < audit["after"]["at"]
    changed = {(c["control"], c["resource"]): (c["before"], c["after"]) for c in audit["changed"]}
    # the playbook closed the dev account and turned its key authentication off: the audit says so
    assert changed[("network.public-access", "contoso-openai-dev")] == ("finding", "pass")
    assert changed[("identity.local-auth", "contoso-openai-dev")] == ("finding", "pass")
    assert ("network.public-access", "contoso-openai-prod") not in changed  # prod was never touched
    markdown = open(card["files"]["markdown"], encoding="utf-8").read()
    assert "## Audit before and after" in markdown and "| Public network access off, or restricted to allowed networks | contoso-openai-dev | finding | pass |" in markdown
    requests = json.loads((run.home("public-network-exposure") / "tabletop" / "run" / "requests.json").read_text())
    assert not any("PolicyInsights" in r["path"] or "Microsoft.KeyVault/vaults" in r["path"] for r in requests)  # audits read a copy


def test_anomalous_usage_blocks_the_caller_the_rule_named(run):
    card = run("anomalous-usage")
    by = {e["check"]: e for e in card["expectations"]}
    evidence = by["step block-ips succeeded"]["evidence"]
    assert by["step block-ips succeeded"]["met"]
    record = json.loads((Path(card["run_dir"]) / "records" / f"{card['incidents'][0]['incident_id']}.json").read_text())
    blocked = next(a for a in record["actions"] if a["step_id"] == "block-ips")["artifacts"]["rules"]
    # one alert per CallerIPAddress dimension: 203.0.113.140 crossed 50 failures; 192.0.2.200 (48 in its window) did not
    assert {r["network"] for r in blocked} == {"203.0.113.140/32"}, evidence


def test_anomalous_usage_is_one_incident_though_the_metric_rule_fires_too(run):
    """The per-caller log rule and the platform-metric rule (AzureOpenAIRequests, StatusCode 401) see the same storm and
    fire at the same evaluation: the second joins the first's open incident (intake's correlation: same playbook, same
    resource), one containment — not two rotations."""
    card = run("anomalous-usage")
    assert [(a["rule_name"].rsplit("-contoso", 1)[0], a["outcome"].split(" inc-")[0]) for a in card["alerts"]] == [
        ("aoai-anomalous-usage", "incident started"),
        ("aoai-anomalous-usage-requests", "correlated to the open incident")]
    (incident,) = card["incidents"]
    assert card["alerts"][1]["incident_id"] == incident["incident_id"]


def test_without_logs_anomalous_usage_is_detected_from_the_platform_metric(run):
    """No diagnostic setting: the log rules count nothing, AzureOpenAIRequests split by StatusCode still sees the 401 storm
    (aoai-anomalous-usage-requests, 401 only). The metric names no caller: nothing for block-ips; the account is closed
    and rotated once the responder approves (firestop-metric-signal: refused-calls, metric16)."""
    card = run("anomalous-usage-no-diagnostics")
    detection = card["detection"]
    assert detection["detected"] is True
    (rule,) = [r for r in detection["rules"] if r["condition"] == "Fired"]
    assert rule["rule"].startswith("aoai-anomalous-usage-requests") and rule["kind"] == "metricAlerts"
    assert "AzureOpenAIRequests" in rule["why"] and "StatusCode 401" in rule["why"]
    (incident,) = card["incidents"]
    record = json.loads((Path(card["run_dir"]) / "records" / f"{incident['incident_id']}.json").read_text())
    assert [(a["step_id"], a["ok"], a["verified"]) for a in record["actions"]] == [
        ("snapshot-logs", True, True), ("lock-network", True, True), ("rotate-keys", True, True)]  # no block-ips: no caller named
    assert detection["requests"]["served"] == 0 and detection["requests"]["refused"] == detection["requests"]["malicious"]


def test_suspicious_key_access_waits_for_the_on_call_approval(run):
    card = run("suspicious-key-access")
    (approval,) = card["approvals"]
    assert (approval["step"], approval["outcome"], approval["waited_s"]) == ("revoke-principal", "approved", 300.0)
    assert approval["answers"][0]["by"] == "oid-alice" and approval["answers"][0]["outcome"] == "sent"
    received = card["alerts"][0]["delivered_offset_s"]
    assert card["metrics"]["mtta_s"] == pytest.approx(approval["requested_offset_s"] - received + 300.0)
    assert card["metrics"]["mttc_s"] > card["metrics"]["mtta_s"]  # containment ends after the human decided


def test_without_a_diagnostic_setting_the_attack_is_not_detected_and_the_gap_is_named(run):
    card = run("leaked-api-key-no-diagnostics")
    detection = card["detection"]
    assert detection["detected"] is False and card["alerts"] == [] and card["incidents"] == []
    assert detection["requests"]["served"] == detection["requests"]["malicious"] == 400
    assert "no RequestResponse logs" in detection["reason"] and detection["gaps"][0]["target"].endswith("contoso-openai-prod")
    assert "**Not detected.**" in Path(card["files"]["markdown"]).read_text()
    coverage = {c["item"]: c["status"] for c in card["checklist"]["coverage"]}
    assert coverage["diagnostic logs reach Log Analytics"] == "gap"


def test_content_abuse_notification_is_shown_not_sent(run):
    card = run("content-abuse")
    (note,) = card["notifications"]
    # the shipped ai-jailbreak rule (lower threshold) also fires on these refusals and opens its own incident
    incident = next(i for i in card["incidents"] if i["playbook"] == "content-abuse")
    assert "203.0.113.200" in note["text"] and incident["incident_id"] in note["text"]
    assert "the on-call channel would have received" in Path(card["files"]["markdown"]).read_text()


def test_apim_consumer_is_detected_from_the_gateway_rows_and_suspended_alone(run):
    """narrow-apim-consumer: the workspace-scoped rule over ApiManagementGatewayLogs targets the account behind the
    gateway, names the consumer and the caller (dimensions), and the consumer's suspension cuts the attacker off at
    the gateway while the chatbot's own subscription keeps being served."""
    card = run("narrow-apim-consumer")
    detection = card["detection"]
    (fired,) = [r for r in detection["rules"] if r["condition"] == "Fired"]
    assert fired["rule"].startswith("aoai-anomalous-usage-apim") and fired["kind"] == "scheduledQueryRules"
    # 120 s ingestion, then the next 5-minute evaluation once more than 50 of the caller's rows were in
    assert 120 < detection["mttd_s"] <= 420 and "every 300.0 s" in fired["why"] and "partner-acme" in fired["why"]
    record = json.loads((Path(card["run_dir"]) / "records" / f"{card['incidents'][0]['incident_id']}.json").read_text())
    assert [t.lower() for t in record["alert"]["target_ids"]] == [ACCOUNT.lower()]  # the account, not the workspace
    assert record["alert"]["indicators"]["apim_subscriptions"] == ["partner-acme"]
    assert record["alert"]["indicators"]["caller_ips"] == ["203.0.113.140"]
    suspend = next(a for a in record["actions"] if a["step_id"] == "suspend-consumer")
    assert suspend["params"]["subscriptions"] == ["partner-acme"] and suspend["before"]["state"] == "active"
    assert detection["requests"]["served_after_containment"] == 0 and detection["cut_off"] is True
    assert (suspend["after"]["subscription"], suspend["after"]["state"]) == ("partner-acme", "suspended")  # that consumer alone


@pytest.mark.parametrize(("change", "gap"), [
    ({"logs": []}, "sends no GatewayLogs"),                 # the setting sends no gateway logs at all
    ({"destination_type": None}, "to AzureDiagnostics"),   # Azure diagnostics mode: not the table the rule reads
], ids=["no-gateway-logs", "azure-diagnostics-mode"])
def test_without_the_gateways_diagnostic_setting_the_apim_attack_is_not_detected_and_the_gap_is_named(firestop_home, write_scenario,
                                                                                                       change, gap):
    """The API Management service's diagnostic setting sends no GatewayLogs (or sends them to AzureDiagnostics): no row
    reaches ApiManagementGatewayLogs, the rule has nothing to count — "not detected", the gap naming the service,
    never a silent pass."""
    scenario = yaml.safe_load((SCENARIOS / "narrow-apim-consumer.yaml").read_text())
    scenario.update(name="apim-no-gateway-logs", playbooks=str(PLAYBOOKS), expect=[],
                    detection={"detected": False, "gaps": [gap]})
    scenario["tenant"]["overrides"] = {"monitor": {"diagnostic_settings": [{"name": "apim-to-law-contoso-sec", **change}]}}
    del scenario["expect"]
    card = run_scenario(write_scenario(scenario), home=firestop_home, run_id="no-gateway-logs")
    detection = card["detection"]
    assert card["result"] == "met", card["expectations"]
    assert detection["detected"] is False and card["alerts"] == [] and card["incidents"] == []
    assert detection["requests"]["served"] == detection["requests"]["malicious"] == 300
    (found,) = detection["gaps"]
    assert found["target"].endswith("/service/apim-contoso-ai") and gap in found["gap"] and "API Management" in found["gap"]
    assert gap in detection["reason"]
    assert "**Not detected.**" in Path(card["files"]["markdown"]).read_text()

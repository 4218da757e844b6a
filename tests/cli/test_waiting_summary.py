"""What an incident that waits for a human says about itself (leftovers9 items 1–2): README promises that an exit 3
says what holds and what does not, and the metrics known by then (MTTD) are shown, not "—"."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.lifecycle.view import incident_view, so_far_holds
from firestop.settings import REPO_ROOT
from tests.source_check_steps import trusting_hand_fired_rules

SUSPICIOUS = REPO_ROOT / "examples" / "alerts" / "suspicious-key-access.json"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def forged_leaked_key(home: Path) -> tuple[Path, Path]:
    """``(genuine, forged)``: the leaked-key example and, beside ``home``, a copy naming another caller IP (the same
    alert id, other content: a forged delivery of the genuine alert)."""
    genuine = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
    payload = json.loads(genuine.read_text())
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][0]["value"] = "198.51.100.99"
    forged = home.parent / "forged.json"
    forged.write_text(json.dumps(payload))
    return genuine, forged


def test_alert_handle_waiting_for_approval_says_what_holds_and_what_does_not(firestop_home):
    handled = cli("alert", "handle", str(SUSPICIOUS))
    assert handled.exit_code == 3, handled.output
    text = " ".join(handled.output.split())  # lines wrap at the terminal's width
    assert "holds rotate-keys (keys.rotate): rotated both keys" in text
    assert "holds snapshot-config (evidence.snapshot_config)" in text
    assert text.count("(applied; verified when the incident ends)") == 2  # not yet verified, and says so
    assert "does not hold revoke-principal (identity.revoke_role_assignment): waiting for approval" in text
    assert "Check first" not in text  # an approval the playbook asks for is not a source-check wait
    view = json.loads(cli("incident", "list", "--json").stdout)[0]
    shown = json.loads(cli("incident", "show", view["incident_id"], "--json").stdout)
    assert [h.split(":")[0] for h in shown["holds"]] == ["snapshot-config (evidence.snapshot_config)", "rotate-keys (keys.rotate)"]
    assert shown["does_not_hold"][0].startswith("revoke-principal (identity.revoke_role_assignment): waiting for approval")


def test_a_steps_latest_entry_decides_and_steps_without_a_runbook_do_not_count():
    timeline = [
        {"step": "alert received", "runbook": None, "outcome": "ok", "detail": "x"},
        {"step": "lock", "runbook": "network.lock", "target": "a", "outcome": "awaiting approval", "detail": "why"},
        {"step": "lock", "runbook": "network.lock", "target": "a", "outcome": "approved", "detail": "by oid-alice"},
        {"step": "lock", "runbook": "network.lock", "target": "a", "outcome": "done", "detail": "set Deny"},
        {"step": "block", "runbook": "network.block_ips", "target": "a", "outcome": "failed", "detail": "409"},
        {"step": "page", "runbook": "notify.webhook", "target": None, "outcome": "skipped", "detail": "no URL"},
    ]
    assert so_far_holds(timeline) == {"holds": ["lock (network.lock): set Deny (applied; verified when the incident ends)"],
                                      "does_not_hold": ["block (network.block_ips): failed — 409"]}
    assert so_far_holds(None) == {"holds": [], "does_not_hold": []}
    view = incident_view("inc-1", "Running", {"timeline": timeline, "pending_approval": None}, None)
    assert view["status"] == "running" and view["holds"] and view["does_not_hold"]


def test_mttd_is_shown_while_an_incident_waits_for_approval(firestop_home):
    """MTTD (alert received − alert fired, the example's firedDateTime) is known from the start: it is in the view of
    an incident waiting for approval (CLI --json, the API), its text and the console's record view, not "—"."""
    import re
    from datetime import datetime

    from firestop.console import pages
    from firestop.trust.principal import Principal

    handled = cli("alert", "handle", str(SUSPICIOUS))
    assert handled.exit_code == 3, handled.output
    incident = json.loads(cli("incident", "list", "--json").stdout)[0]["incident_id"]
    view = json.loads(cli("incident", "show", incident, "--json").stdout)
    assert view["status"] == "awaiting_approval"
    fired = json.loads(SUSPICIOUS.read_text())["data"]["essentials"]["firedDateTime"]
    expected = (datetime.fromisoformat(view["received_at"]) - datetime.fromisoformat(fired.replace("Z", "+00:00"))).total_seconds()
    assert expected > 0 and view["metrics"] == {"mttd_s": round(expected, 3), "mtta_s": None, "mttc_s": None, "mttr_s": None}
    shown = f"{expected:.1f} s"
    assert re.search(rf"MTTD {re.escape(shown)} · MTTA — · MTTC — · MTTR —\n", handled.output)
    page = pages.incident_page(view, caller=Principal(object_id="oid-alice", name="alice", roles=frozenset({"approver"})))
    assert f"<dd>{shown} · — · — · —</dd>" in page


def test_a_custom_status_without_metrics_reads_mttd_from_the_alert_fired_entry():
    timeline = [{"step": "alert fired", "runbook": None, "outcome": "ok", "offset_s": -37.8},
                {"step": "alert received", "runbook": None, "outcome": "ok", "offset_s": 0.0}]
    assert incident_view("inc-1", "Running", {"timeline": timeline}, None)["metrics"]["mttd_s"] == 37.8
    skewed = [{**timeline[0], "offset_s": 2.0}]  # fired after it was received: clock skew, no MTTD (as the record)
    assert incident_view("inc-1", "Running", {"timeline": skewed}, None)["metrics"]["mttd_s"] is None
    given = {"timeline": timeline, "metrics": {"mttd_s": 12.5, "mtta_s": float("nan"), "mttc_s": True, "mttr_s": -1}}
    assert incident_view("inc-1", "Running", given, None)["metrics"] == {"mttd_s": 12.5, "mtta_s": None, "mttc_s": None,
                                                                         "mttr_s": None}


def test_an_approved_step_waiting_for_its_group_is_not_said_to_wait_for_approval():
    """The orchestrator's ``approved`` entry names no runbook (newuser10: after approving rotate-keys of a group of three,
    exit 3 still said ``does not hold rotate-keys (keys.rotate): waiting for approval``)."""
    timeline = [
        {"step": "rotate", "runbook": "keys.rotate", "target": "a", "outcome": "awaiting approval", "detail": "not confirmed"},
        {"step": "rotate", "runbook": None, "target": "a", "outcome": "approved", "detail": "approved by oid-alice"},
        {"step": "lock", "runbook": "network.lock", "target": "a", "outcome": "awaiting approval", "detail": "not confirmed"},
        {"step": "page", "runbook": None, "target": None, "outcome": "approved", "detail": "a step never seen: not counted"},
    ]
    assert so_far_holds(timeline)["does_not_hold"] == [
        "rotate (keys.rotate): approved, not applied yet — approved by oid-alice",
        "lock (network.lock): waiting for approval — not confirmed"]


def test_alert_handle_of_an_unconfirmed_alert_needs_one_decision(firestop_home, monkeypatch):
    """Source check on, the same alert handled again (not confirmed: the first incident claimed it): the incident
    waits for one decision, alert.genuine, with what to do about it; the evidence is kept meanwhile; approving it runs
    the steps as for a confirmed alert — one round trip, not one per step (new user 10: three for leaked-key)."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    trusting_hand_fired_rules(monkeypatch)  # RT17-01: the example's rule is no detection; an admin trusted it
    leaked = str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json")
    assert cli("alert", "handle", leaked).exit_code == 0
    again = cli("alert", "handle", leaked, "--rerun")
    assert again.exit_code == 3, again.output
    said = " ".join(again.output.split())  # what to do about it, not only why (newuser10)
    # the alert was confirmed once already: the hint names that incident, not "look it up in Azure Monitor" (newuser11)
    assert "Check first: this alert was already confirmed and handled as incident inc-" in said
    assert "python -m firestop incident show inc-" in said and "Look it up in" not in said
    assert "Approve alert.genuine only if that incident did not cover" in said and "asks in turn" not in said
    assert "holds snapshot-logs (evidence.snapshot_logs)" in said
    incident = json.loads(cli("incident", "list", "--json", "--status", "awaiting_approval").stdout)[0]["incident_id"]
    decided = cli("incident", "approve", incident, "--step", "alert.genuine", "--as", "oid-alice", "--json")
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.stdout)["status"] == "contained"


def test_the_check_first_hint_names_the_source_and_the_console_shows_it():
    from firestop.console import pages
    from firestop.lifecycle.cli_hints import unconfirmed_hint

    def view(source: str, steps: str = "rotate-keys") -> dict:
        return {"step": steps, "pending_approval": {"step": "rotate-keys", "why": "alert not confirmed at its source (x)"},
                "timeline_so_far": [{"step": "confirm alert at source", "outcome": "not confirmed", "detail": f"{source}: x"}]}

    assert "Defender for Cloud → Security alerts" in unconfirmed_hint(view("defender"))
    assert "Microsoft Sentinel → Incidents" in unconfirmed_hint(view("sentinel"))
    assert "asks in turn" not in unconfirmed_hint(view("sentinel"))  # one step: nothing else to come
    assert unconfirmed_hint({"pending_approval": {"why": "the playbook requires approval"}}) == ""
    hint = unconfirmed_hint(view("azure-monitor", "rotate-keys, lock-network"))
    card = pages.approval_card("inc-1", view("azure-monitor")["pending_approval"], may_decide=False, why_not="no",
                               token=None, check_hint=hint)
    assert "<dt>check first</dt><dd>Firestop could not confirm this alert at its source. Look it up in Azure Monitor" in card
    assert "check first" not in pages.approval_card("inc-1", {"why": "w"}, may_decide=False, why_not="no", token=None)


def test_a_dimension_the_source_does_not_hold_is_checked_in_the_logs_not_in_azure_monitor_alerts(firestop_home, monkeypatch):
    """newuser11: a leaked-key alert naming a caller IP the logs never saw (a forged dimension) waited for alert.genuine
    with "Look it up in Azure Monitor → Alerts … approve if it is there as delivered" — and the alert *is* there (only its
    dimension is forged; Alerts Management keeps no dimension values), so following the hint approved the forgery. The
    hint now says to run the rule's query; the console card says the same."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    trusting_hand_fired_rules(monkeypatch)  # RT17-01: the example's rule is no detection; an admin trusted it
    payload = json.loads((REPO_ROOT / "examples" / "alerts" / "leaked-key.json").read_text())
    dims = payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"]
    dims[0]["value"] = "198.51.100.99"  # not in the sandbox's logs
    forged = firestop_home.parent / "forged.json"
    forged.write_text(json.dumps(payload))
    handled = cli("alert", "handle", str(forged))
    assert handled.exit_code == 3, handled.output
    said = " ".join(handled.output.split())
    assert "Check first: the alert is at its source, but the caller, deployment or consumer it names could not be confirmed" in said
    assert "Run the alert rule's query" in said and "approve alert.genuine only if it shows the delivered values" in said
    assert "Look it up in Azure Monitor → Alerts" not in said
    assert "has no split with the delivered dimensions (caller IP '198.51.100.99')" in said  # not Firestop's caller_ips
    waiting = json.loads(cli("incident", "list", "--json").stdout)[0]
    shown = json.loads(cli("incident", "show", waiting["incident_id"], "--json").stdout)
    assert shown["pending_approval"]["reason_code"] == "log_dimensions"  # the confirm result's code, which chose it
    # the header names the decision it waits for, not the group's steps as if they waited (snapshot-logs already ran)
    assert "awaiting_approval (phase contain, waiting for alert.genuine; step group rotate-keys, lock-network, snapshot-logs)" in said


def test_the_step_now_names_an_approval_outside_the_group():
    from firestop.console import pages
    from firestop.lifecycle.cli_hints import step_now

    waiting = {"incident_id": "inc-1", "status": "awaiting_approval", "phase": "contain", "step": "rotate-keys, lock-network",
               "pending_approval": {"step": "alert.genuine", "why": "w"}}
    assert step_now(waiting) == "waiting for alert.genuine; step group rotate-keys, lock-network"
    assert step_now({**waiting, "pending_approval": {"step": "lock-network"}}) == "step rotate-keys, lock-network"
    assert step_now({"step": ""}) == ""
    page = pages.incident_page(waiting, caller=None)
    assert "<dt>now</dt><dd>contain, waiting for alert.genuine; step group rotate-keys, lock-network</dd>" in page


def test_the_check_first_hint_follows_the_reason_the_alert_was_not_confirmed():
    from firestop.lifecycle.cli_hints import unconfirmed_hint

    def view(detail: str) -> dict:
        return {"step": "rotate-keys, lock-network", "pending_approval": {"step": "alert.genuine", "why": "alert not confirmed at its source: x"},
                "timeline_so_far": [{"step": "confirm alert at source", "outcome": "not confirmed", "detail": detail}]}

    metric = unconfirmed_hint(view("azure-monitor: the metric AzureOpenAIRequests has no data for the delivered dimensions"))
    assert "Open the rule's metric on the target" in metric and "Look it up in" not in metric
    for reason in ("the metric alert rule's windowSize 'P9D' is not a window of at most P2D",
                   "the delivery names more than one value of a dimension: one metric alert is one time series"):
        assert "Open the rule's metric on the target" in unconfirmed_hint(view(f"azure-monitor: {reason}")), reason
    for reason in ("the alert rule's windowSize 'P9D' is not a window of at most P2D",
                   "the alert rule's scope '/x' is neither a workspace nor a resource id",
                   "the rule's workspace gives no customerId GUID",
                   "the rule's query does not split by a dimension: the delivered caller IP '10.0.0.4' is not the rule's to give"):
        assert "Run the alert rule's query" in unconfirmed_hint(view(f"azure-monitor: {reason}")), reason
    missing = unconfirmed_hint(view("azure-monitor: alert not found at its source (404)"))
    assert "Look it up in Azure Monitor → Alerts" in missing and "approve alert.genuine if it is there as delivered" in missing
    defender = unconfirmed_hint(view("defender: the source names no IP 203.0.113.9"))
    assert "Defender for Cloud → Security alerts" in defender


def test_alert_handle_of_another_delivery_of_the_same_alert_id_says_so_and_how_to_check_it(firestop_home, monkeypatch):
    """newuser11: the forged delivery first (waits for alert.genuine), then the genuine payload of the same alert id:
    ``alert handle`` only said "resuming incident … (awaiting approval)" — the genuine delivery was never checked,
    where POST /api/alerts gives it an incident of its own. The note said the content differs and to add --rerun;
    since variants13 it is handled as its own variant at once (tests/variants13); the same delivery again gets no
    such note."""
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    trusting_hand_fired_rules(monkeypatch)  # RT17-01: the example's rule is no detection; an admin trusted it
    genuine, forged = forged_leaked_key(firestop_home)
    assert cli("alert", "handle", str(forged)).exit_code == 3
    again = cli("alert", "handle", str(forged), "--json")
    assert again.exit_code == 3 and "note" in json.loads(again.stdout) and "differs" not in again.stdout
    other = cli("alert", "handle", str(genuine))
    said = " ".join(other.output.split())
    # variants13 item 4: handled as its own variant, checked on its own, as POST /api/alerts does (no --rerun needed)
    assert other.exit_code == 0, other.output
    assert "this delivery's content differs from the one that opened incident" in said and "with its own source check" in said


def test_the_check_first_hint_is_chosen_by_the_reason_code_when_the_result_has_one():
    """leftovers12 item 4: the advice was chosen by matching the reason's words (a reworded reason silently fell back
    to "look it up in Azure Monitor → Alerts", which approves a forged dimension). The confirm result's code chooses
    it now; a wait recorded before the code (no ``reason_code``) is still read by its words (the test above)."""
    from firestop.lifecycle.cli_hints import unconfirmed_hint
    from firestop.source_reasons import ADVICE, Reason, advice

    def view(detail: str, code: str | None) -> dict:
        return {"pending_approval": {"step": "alert.genuine", "why": "alert not confirmed at its source: x",
                                     "reason_code": code},
                "timeline_so_far": [{"step": "confirm alert at source", "outcome": "not confirmed", "detail": detail}]}

    reworded = "azure-monitor: the caller named by the delivery is absent from the query's result"  # no known words
    assert "Look it up in Azure Monitor → Alerts" in unconfirmed_hint(view(reworded, None))  # words: the generic advice
    assert "Run the alert rule's query" in unconfirmed_hint(view(reworded, "log_dimensions"))
    assert "Open the rule's metric on the target" in unconfirmed_hint(view(reworded, "metric_dimensions"))
    # the code wins over words that would choose otherwise
    worded = "azure-monitor: the rule's query does not split by a dimension"
    assert "Look it up in Azure Monitor → Alerts" in unconfirmed_hint(view(worded, "not_found"))
    redelivered = unconfirmed_hint(view("azure-monitor: claimed elsewhere", "already_confirmed"))
    assert "this is a second delivery of it" in redelivered and "another incident" in redelivered
    assert "Run the alert rule's query" in unconfirmed_hint(view(worded, "a code from a later version"))  # unknown: words
    assert set(ADVICE) <= set(Reason) and advice(Reason.UNCLASSIFIED) == "look_up" and advice(None) is None

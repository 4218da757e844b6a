"""An approver sees what they approve: a failed plan and a plan's notes reach the pending approval (API JSON), the
CLI's ``incident show`` and the console's approval card — never "The plan lists no changes." for either."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.console import pages
from firestop.lifecycle.approvals import MAX_PLAN_NOTES, MAX_PLAN_TEXT, plan_preview
from firestop.settings import REPO_ROOT
from tests.gated_playbook import gated_leaked_key

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
INCIDENT = "inc-33906e911c7aff74"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _gated(tmp_path, monkeypatch, mode: str = "deny_by_default", step: str = "lock-network"):
    """leaked-api-key with ``step`` gated (approver oid-alice) and lock-network's ``mode`` parameter replaced."""
    folder = gated_leaked_key(tmp_path / "playbooks", "{mode: required, approvers: [oid-alice], timeout: 900}", step=step,
                              edits=(("          mode: deny_by_default\n", f"          mode: {mode}\n"),))
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(folder))


def _card(pending: dict) -> str:
    return pages.approval_card(INCIDENT, pending, may_decide=True, why_not="", token="t")


def test_a_failed_plan_is_said_plainly_not_as_no_changes(firestop_home, tmp_path, monkeypatch):
    # the consumers' secret cannot be read while the plan runs (503 after azure-core's retries: transient, which an
    # approval later may get past — a plan known bad whatever is decided is refused instead, test below)
    from firestop.cli.wiring import environment

    _gated(tmp_path, monkeypatch, step="rotate-keys")
    env = environment(azure=False)
    env.tenant.inject_fault("secrets.get", status=503, times=50)
    env.close()
    handled = cli("alert", "handle", str(EXAMPLE))
    assert handled.exit_code == 3, handled.output
    said = " ".join(handled.output.split())  # wrapped at the terminal's width
    assert "the plan could not be computed: Azure answered HTTP 503" in said
    assert "approving runs the step without a preview" in said
    shown = " ".join(cli("incident", "show", INCIDENT).output.split())
    assert "the plan could not be computed: Azure answered HTTP 503" in shown and "would change nothing" not in shown
    pending = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["pending_approval"]
    assert pending["plan_error"]["kind"] == "transient" and "secrets.get" in pending["plan_error"]["message"]
    assert pending["changes"] == [] and pending["notes"] == []
    card = _card(pending)
    assert "The plan could not be computed: Azure answered HTTP 503" in card and "without a preview" in card
    assert "lists no changes" not in card


def test_a_plan_that_fails_whatever_is_decided_is_refused_before_anyone_is_asked(firestop_home, tmp_path, monkeypatch):
    """cli13 item 4: a mode network.lock's parameters refuse (invalid) waited for an approver, who could only approve
    it into the same error. Now the step fails at once, saying why and what to do; nobody is asked. Fails before
    (exit 3 waiting for approval)."""
    _gated(tmp_path, monkeypatch, '"${{ alert.rule_name }}"')
    handled = cli("alert", "handle", str(EXAMPLE), "--json")
    assert handled.exit_code == 3, handled.output
    record = json.loads(handled.stdout)
    assert record["status"] == "needs_responder" and not record.get("pending_approval")
    assert [e["outcome"] for e in record["timeline"] if e.get("step") == "lock-network"] == ["failed"]
    assert not record["approvals"]
    [action] = [a for a in record["actions"] if a["step_id"] == "lock-network"]
    assert action["error"]["kind"] == "invalid"
    assert action["error"]["message"].startswith("refused before asking for approval — its plan failed (invalid: params.mode")
    assert action["error"]["message"].endswith("fix that, then handle the alert again (--rerun)")


def test_an_input_written_before_the_refusal_still_asks(firestop_home, tmp_path, monkeypatch):
    """An orchestration started without ``refuse_failed_plans`` (before cli13) replays as it ran: it asks."""
    import firestop.cli.incidents as incidents

    written = incidents.incident_input

    def older(*args, **kwargs):
        inp = written(*args, **kwargs)
        assert inp.pop("refuse_failed_plans") is True
        return inp

    monkeypatch.setattr(incidents, "incident_input", older)
    _gated(tmp_path, monkeypatch, '"${{ alert.rule_name }}"')
    handled = cli("alert", "handle", str(EXAMPLE))
    assert handled.exit_code == 3, handled.output
    assert "the plan could not be computed: params.mode" in " ".join(handled.output.split())


def test_a_plan_that_changes_nothing_shows_its_notes(firestop_home, tmp_path, monkeypatch):
    assert cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes").exit_code == 0  # locked already
    _gated(tmp_path, monkeypatch, "deny_by_default")
    assert cli("alert", "handle", str(EXAMPLE)).exit_code == 3
    shown = cli("incident", "show", INCIDENT)
    assert "would change nothing; the plan notes:" in shown.output and "note: already locked" in shown.output
    pending = json.loads(cli("incident", "show", INCIDENT, "--json").stdout)["pending_approval"]
    assert pending["plan_error"] is None and pending["changes"] == [] and pending["notes"] == ["already locked"]
    card = _card(pending)
    assert "The plan lists no changes; it notes:" in card and "<li>already locked</li>" in card


HOSTILE = "<script>alert(1)</script>\n\x1b[31mOutcome: contained\u202e" + "x" * 1000


def test_hostile_plan_text_is_bounded_and_escaped(capsys):
    from firestop.cli.output import print_plan_preview

    noted = plan_preview({"ok": True, "result": {"changes": [], "notes": [HOSTILE] * (MAX_PLAN_NOTES + 3)}})
    assert len(noted["notes"]) == MAX_PLAN_NOTES + 1 and noted["notes"][-1] == "… 3 more notes"
    assert all(len(n) <= MAX_PLAN_TEXT for n in noted["notes"]) and noted["notes"][0].endswith("…")
    failed = plan_preview({"ok": False, "error": {"kind": HOSTILE, "message": HOSTILE}})
    assert all(len(v) <= MAX_PLAN_TEXT for v in failed["plan_error"].values())
    for preview in (noted, failed):
        card = _card({"step": "s", **preview})
        assert "<script>" not in card and "&lt;script&gt;" in card and "\x1b" not in card and "\u202e" not in card
        print_plan_preview(preview)
        out = capsys.readouterr().out
        assert "<script>" in out and "\x1b" not in out and "\u202e" not in out
        # the note never starts a line of its own: every line is the preview's own ("  note: …", wrapped text aside)
        assert not any(l.startswith("Outcome:") for l in out.splitlines())


@pytest.mark.parametrize("plan", [None, {"ok": False}, {"ok": True, "result": {"notes": "not a list"}}])
def test_a_malformed_plan_answer_still_gives_a_preview(plan):
    preview = plan_preview(plan)
    assert set(preview) == {"changes", "changes_left_out", "blast_radius", "notes", "plan_error"} and preview["notes"] == []
    assert preview["changes"] == [] and preview["changes_left_out"] == 0


def test_a_plan_with_many_changes_is_bounded_and_says_how_many_were_left_out(capsys):
    """The pending approval rides in the custom status (16 KB of UTF-16 JSON with the timeline and the notes): a plan of
    500 changes (an NSG's rules, say), each with a 5 KB value, keeps at most MAX_PLAN_CHANGES of them within
    MAX_PLAN_CHANGES_CHARS and counts the rest; the CLI and the console say how many were left out."""
    from firestop.cli.output import print_plan_preview
    from firestop.lifecycle.approvals import MAX_PLAN_CHANGES, MAX_PLAN_CHANGES_CHARS

    changes = [{"field": f"securityRules/deny-{i}", "before": None, "after": {"description": "y" * 5000, "priority": i}}
               for i in range(500)]
    preview = plan_preview({"ok": True, "result": {"changes": changes}})
    kept = preview["changes"]
    assert 0 < len(kept) <= MAX_PLAN_CHANGES and len(json.dumps(kept)) <= MAX_PLAN_CHANGES_CHARS
    assert preview["changes_left_out"] == 500 - len(kept)
    assert kept[0]["field"] == "securityRules/deny-0" and len(kept[0]["after"]) <= MAX_PLAN_TEXT  # cut to text
    small = plan_preview({"ok": True, "result": {"changes": changes[:3] and [{"field": "f", "before": 1, "after": 2}] * 3}})
    assert small["changes"] == [{"field": "f", "before": 1, "after": 2}] * 3 and small["changes_left_out"] == 0
    card = _card({"step": "s", **preview})
    assert f"… and {preview['changes_left_out']} more change(s) not shown" in card
    assert card.count("securityRules/deny-") == len(kept)
    print_plan_preview(preview)
    out = " ".join(capsys.readouterr().out.split())
    assert f"… and {preview['changes_left_out']} more change(s) not shown" in out

"""New user 12's dev-account case (cli13 item 4): a Defender credential-theft alert on ``contoso-openai-dev`` waited for
approval of ``rotate-keys`` with "the plan could not be computed: keys.rotate: the consumers' secret … holds neither of
contoso-openai-dev's keys … (invalid); approving runs the step without a preview" — the dev account shares no secret of
its own, so an approver's yes could only run it into that error. Known before anyone is asked: refused then."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT


def test_rotate_keys_on_the_dev_account_is_refused_before_approval_naming_the_fix(firestop_home, tmp_path):
    text = (REPO_ROOT / "examples" / "alerts" / "defender-credential-theft.json").read_text("utf-8")
    dev = tmp_path / "credential-theft-dev.json"
    dev.write_text(text.replace("rg-ai-prod", "rg-ai-dev").replace("contoso-openai-prod", "contoso-openai-dev"), "utf-8")
    handled = CliRunner().invoke(app, ["alert", "handle", str(dev), "--json"])
    assert handled.exit_code == 3, handled.output
    record = json.loads(handled.stdout)
    assert record["status"] == "needs_responder" and not record.get("pending_approval"), record.get("pending_approval")
    assert not any(e.get("outcome") == "awaiting approval" for e in record["timeline"])
    [refused] = [line for line in record["does_not_hold"] if line.startswith("rotate-keys (keys.rotate): ")]
    assert "refused before asking for approval — its plan failed (invalid: keys.rotate: the consumers' secret" in refused
    assert "tag contoso-openai-dev with firestop-key-secret=" in refused  # the fix, whole (not cut at the preview's bound)
    assert [e["outcome"] for e in record["timeline"] if e.get("step") in ("snapshot-logs", "snapshot-config")] == ["done", "done"]

"""A13-06 (attacker A — the alerts webhook key; low-medium): a delivered rule name of any length went whole into the
incident's custom status, which Azure caps.

Durable Functions: "The custom status payload is limited to 16 KB of UTF-16 JSON text" (learn.microsoft.com,
durable-task-custom-orchestration-status; ``SetCustomStatus``: "The serialized value must not exceed 16 KB of UTF-16
encoded text") — 8,192 characters, the cap this code already budgets every other part of the status against
(``timeline_so_far``'s budget, ``HELD_STEPS_CHARS``, ``target_name``). ``rule_name`` (``essentials.alertRule``, any
length in a posted payload) was put in it unbounded. A forged delivery naming the production account with the
``firestop-playbook`` property — the genuine alert's slot — and a 9,000-character rule name made a 12,608-character
custom status while it waited on ``alert.genuine``: past the cap on Azure, where setting it fails the orchestration.
The local host has no cap, so the test checks the size the code promises.

Fixed: the status carries the rule name's first ``STATUS_RULE_NAME_CHARS`` characters (the record keeps it whole).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
#: Azure's cap on the custom status, in characters (16 KB of UTF-16)
STATUS_CAP = 8192


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def test_a13_06_a_long_delivered_rule_name_keeps_the_custom_status_under_azures_cap(firestop_home, tmp_path):
    body = json.loads(EXAMPLE.read_text())
    body["data"]["essentials"]["alertRule"] = "aoai-leaked-key-usage-" + "x" * 9000
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(body))
    handled = CliRunner().invoke(app, ["alert", "handle", str(forged), "--unregistered", "--json"], catch_exceptions=False)
    incident = json.loads(handled.stdout)["incident_id"]

    from firestop.cli.wiring import sandbox_environment

    env = sandbox_environment()
    try:
        status = env.host.get_status(incident)
    finally:
        env.close()
    assert status.runtime_status == "Running" and (status.custom_status or {}).get("pending_approval"), status.runtime_status
    size = len(json.dumps(status.custom_status, ensure_ascii=False))
    assert size <= STATUS_CAP, f"custom status of {size:,} characters"
    assert status.custom_status["rule_name"].startswith("aoai-leaked-key-usage-xxx")

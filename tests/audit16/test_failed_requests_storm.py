"""A storm of refused calls (``aoai-anomalous-usage``, ``firestop-signal: failed-requests``) blocks the callers on the
NSG at once, but closing the account's network and rotating its keys wait for a responder.

Before (red team 18, noticed): 51 requests with a wrong key in 15 minutes, from anywhere, ran ``network.lock``
deny-by-default and ``keys.rotate`` with nobody asked — an outsider who knows only the endpoint cut off every consumer
outside the allow list. A refused key proves nothing leaked (integrator's decision, audit16 brief item 3)."""

from __future__ import annotations

from pathlib import Path

import yaml

from firestop.settings import REPO_ROOT
from tests.metric16.test_metric_refused_storm import _run as run_unanswered

SCENARIO = REPO_ROOT / "tabletop" / "scenarios" / "anomalous-usage.yaml"


def _run_unanswered(tmp_path: Path) -> tuple[dict, dict, list[dict]]:
    """The shipped anomalous-usage attack (401 storms from two never-seen IPs) with no responder answering:
    ``(card, record, request log)`` of the aoai-anomalous-usage incident."""
    return run_unanswered(tmp_path, yaml.safe_load(SCENARIO.read_text()), "aoai-anomalous-usage")


def test_failed_requests_storm_blocks_the_ips_and_waits_for_approval_before_lock_and_rotate(tmp_path):
    card, record, requests = _run_unanswered(tmp_path)
    assert record["status"] == "needs_responder", record["status"]
    actions = {a["step_id"]: a for a in record["actions"]}
    # the caller IPs are blocked without waiting
    assert actions["block-ips"]["ok"] and actions["block-ips"]["verified"]
    assert any(r["operation"] == "securityRules.createOrUpdate" and r["status"] < 300 for r in requests)
    # lock-network and rotate-keys asked a responder, nobody answered: neither acted
    asked = {a["step"]: a for a in card["approvals"]}
    for step in ("lock-network", "rotate-keys"):
        assert step in asked, f"{step} ran without asking a responder"
        assert "failed-requests" in asked[step]["why"]
        assert actions[step]["ok"] is False and "approval" in actions[step]["summary"]
    # the sandbox saw no write to the account: no network rule change, no key regenerated
    writes = [(r["operation"], r["status"]) for r in requests
              if r["operation"] in ("accounts.update", "accounts.regenerateKey") and r["status"] < 300]
    assert writes == []


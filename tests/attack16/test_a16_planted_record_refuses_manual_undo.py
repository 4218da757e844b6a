"""A16-07 (attacker C, a Storage Blob Data writer on the records container): a made-up incident's record refuses
``runbook undo`` before it asks.

``runbook undo RUN_ID`` (the CLI) checks reliance *before asking* with ``manual_reliance(settings, run)`` — no
candidates, so the check reads the newest listed record of every incident in name order and believes its ``actions``
without any seal (only the check inside the lease attests). A record planted at ``inc-ffffffffffffffff.json`` — an
incident that never existed — received after the run, with a ``network.lock`` step on the account, and the
responder's undo of their own lock stops with "relied on by inc-ffffffffffffffff", exit 2: the account cannot be
reopened from the CLI. (The same planted record is ignored inside the lease: ``later_incidents`` lists real ones only.)
"""

from __future__ import annotations

import json
import re

from tests.cli.test_dry_run import ACCOUNT, _acl_change, _cli


def test_a16_07_a_planted_record_of_an_incident_that_never_was_does_not_refuse_runbook_undo(firestop_home):
    ran = _cli("runbook", "run", "network.lock", "--target", ACCOUNT, "--yes")
    assert ran.exit_code == 0, ran.output
    run_id = re.search(r"runbook undo (manual-\S+)", ran.output).group(1)
    assert not _acl_change(firestop_home)  # locked
    planted = {"incident_id": "inc-ffffffffffffffff", "status": "contained", "received_at": "2099-01-01T00:00:00+00:00",
               "actions": [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT, "ok": True,
                            "changed": False}]}
    (firestop_home / "records").mkdir(exist_ok=True)
    (firestop_home / "records" / "inc-ffffffffffffffff.json").write_text(json.dumps(planted))
    undone = _cli("runbook", "undo", run_id, "--yes")
    assert undone.exit_code == 0, undone.output
    assert _acl_change(firestop_home)  # reopened: the undo ran

"""RT15-01: the one "alert genuine" decision (leftovers11) was judged against the approvers of the first step that
acts only, and then let every later step run as for a confirmed alert.

Attacker: a Firestop user with the approver role who is not among a step's ``approvers`` (an approver of another
scope). In the per-step flow an unconfirmed alert asked each acting step with its own approvers
(``unconfirmed_gate``); with ``responder_flow`` 2 the decision is asked with the *first* acting step's approvers, and
approved, a later step whose approval is not required for a confirmed alert (``required_if`` that does not hold) runs
with nobody of its own approvers asked. Here ``rotate-keys`` may be decided by any approver and ``lock-network`` only
by ``oid-alice``: ``oid-carol`` (approver through ``grp-secops``) decided the forged alert genuine and
``lock-network`` set the account to deny by default. Fixed: a step whose approvers (or two-person rule) would refuse
the genuine decision's author still asks its own approvers (``unconfirmed_gate``) after the decision.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from firestop.cli.incidents import decide
from firestop.lifecycle.incident import GENUINE_STEP
from firestop.settings import REPO_ROOT
from tests.e2e.test_webhook import ACCOUNT, alert_body, post, served, what_intake_did# noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def check_on(monkeypatch, tmp_path, firestop_home):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")
    books = tmp_path / "playbooks"
    shutil.copytree(REPO_ROOT / "playbooks", books)
    path = books / "leaked-api-key.yaml"
    book = yaml.safe_load(path.read_text(encoding="utf-8"))
    for member in book["contain"][0]["parallel"]:
        if member["id"] == "lock-network":  # only alice decides on closing the account (not asked when confirmed)
            member["approval"] = {"mode": "required_if", "condition": "alert.severity <= 0", "approvers": ["oid-alice"]}
    path.write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    (books / "compiled.json").unlink(missing_ok=True)
    monkeypatch.setenv("FIRESTOP_PLAYBOOKS", str(books))


def _network(env) -> str:
    return json.dumps(env.tenant.resource(ACCOUNT)["properties"].get("networkAcls"), sort_keys=True)


def test_an_approver_outside_a_steps_approvers_cannot_make_it_act_through_the_genuine_decision(served):  # noqa: F811
    env, server, app = served
    before = _network(env)
    answer = post(app, server, alert_body())
    assert answer.status_code == 202, answer.get_body()
    incident_id = what_intake_did(answer)["id"]
    env.host.run_until_idle()
    pending = env.host.get_status(incident_id).custom_status["pending_approval"]
    assert pending["step"] == GENUINE_STEP and pending["approvers"] == []  # rotate-keys': any approver

    view = decide(env, incident_id, GENUINE_STEP, "approve", "oid-carol", groups=["grp-secops"])
    assert _network(env) == before, "lock-network acted on a decision none of its approvers took"
    pending = view.get("pending_approval") or {}
    assert pending.get("step") == "lock-network" and pending.get("approvers") == ["oid-alice"], view

    with pytest.raises(PermissionError):  # carol still cannot decide it
        decide(env, incident_id, "lock-network", "approve", "oid-carol", groups=["grp-secops"])
    view = decide(env, incident_id, "lock-network", "approve", "oid-alice")
    assert view["status"] == "contained", view.get("reason")
    assert _network(env) != before


def test_the_genuine_decision_of_a_steps_own_approver_needs_no_second_decision(served):  # noqa: F811
    env, server, app = served
    before = _network(env)
    answer = post(app, server, alert_body())
    incident_id = what_intake_did(answer)["id"]
    env.host.run_until_idle()
    view = decide(env, incident_id, GENUINE_STEP, "approve", "oid-alice")
    assert view["status"] == "contained", view.get("reason")
    assert _network(env) != before
    record = env.host.get_status(incident_id).output
    assert [a["step"] for a in record["approvals"]] == [GENUINE_STEP]

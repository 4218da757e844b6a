"""joins14: alerts that join an incident while its source check is pending cost no instance, and each is checked on
its own if that incident turns out forged — whatever the order of intake's steps and the incident's.

The two sides (``firestop.intake.accept._variant`` with ``firestop.functions.intake_call.pending_join``; the
incident's ``_start_pending_joins`` after its check): intake keeps the pending join (P), then reads the run's verdict
(R); the incident keeps its verdict (V), then lists the pending joins and starts their variants (L). P before R and
V before L: one of the two sees the other. Each test below pins one interleaving with a gate in intake (the
management server and the host run for real; intake waits on the gate off the worker loop, so the incident's
activities — which use the Durable client there — run meanwhile):

- join before the verdict (P R V L): the incident starts the variant — tests/variants13/test_v13_joined_while_checked;
- join after the verdict (V L P R: intake's status read still saw the check pending): intake starts it;
- join racing it (P V L R): the incident starts it, intake finds it — one variant, one check, one containment.

And the property fb400ae lacked: a genuine burst of N alerts during the pending check is one instance.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.variants13.test_v13_joined_while_checked import _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import RAW, _deny_rules, _fire_genuine


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _incidents(env) -> list[str]:
    """Incident instances (not their runbook groups)."""
    return sorted(i.instance_id for i in env.host.list_instances() if ":group-" not in i.instance_id)


class _Gate:
    """Holds intake at one of its steps (an async wrapper of ``intake_call``'s ``name``) until released; the worker
    loop stays free (the wait runs on an executor thread)."""

    def __init__(self, monkeypatch, name: str) -> None:
        from firestop.functions import intake_call

        self.reached, self.release = threading.Event(), threading.Event()
        original = getattr(intake_call, name)

        async def gated(*args):
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return await original(*args)

        monkeypatch.setattr(intake_call, name, gated)


def _post_in_background(server, app, body: dict) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(_posted(server, app, body)), daemon=True)
    thread.start()
    return thread, answers


def _interleaved(env, server, app, monkeypatch, gate_at: str) -> tuple[str, dict]:
    """Forged alert posted (its check pending), genuine one posted and held at ``gate_at``; the host runs the forged
    incident's check meanwhile (V, L); then intake goes on. Returns (forged incident, genuine answer)."""
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    gate = _Gate(monkeypatch, gate_at)
    thread, answers = _post_in_background(server, app, json.loads(RAW))
    assert gate.reached.wait(60)
    env.host.run_until_idle()  # the forged incident: check "not confirmed" (V), pending joins listed (L), waits
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    gate.release.set()
    thread.join(60)
    assert not thread.is_alive() and answers, "intake did not answer"
    env.host.run_until_idle(advance_timers=True)
    return forged, answers[0]


def test_join_after_the_verdict_intake_starts_the_variant(served, monkeypatch):  # noqa: F811
    env, server, app = served
    forged, genuine = _interleaved(env, server, app, monkeypatch, "_keep_pending")  # V L P R
    own = _variant_of(json.loads(RAW))
    assert genuine["id"] == own and genuine.get("correlatedTo") is None, genuine  # R read "not confirmed": its own
    assert confirm_outcomes(env, own) == ["ok"] and _deny_rules(env, "203.0.113.200")
    notes = env.host.get_status(forged).output["notes"]
    assert not any("while its source check ran" in n for n in notes), notes  # L found nothing yet


def test_join_racing_the_verdict_is_one_variant(served, monkeypatch):  # noqa: F811
    env, server, app = served
    forged, genuine = _interleaved(env, server, app, monkeypatch, "_verdict")  # P V L R
    own = _variant_of(json.loads(RAW))
    assert genuine["id"] == own, genuine  # intake found the variant the incident started (a duplicate of it)
    notes = env.host.get_status(forged).output["notes"]
    assert any("1 variant(s) started" in n for n in notes), notes  # L started it
    assert confirm_outcomes(env, own) == ["ok"] and _deny_rules(env, "203.0.113.200")
    assert [i for i in _incidents(env) if i not in (forged, own)] == []  # one variant, nothing else


def test_join_before_the_verdict_the_incident_starts_the_variant(served):  # noqa: F811
    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    genuine = _posted(server, app, json.loads(RAW))  # P R (pending): joined
    assert genuine.get("correlatedTo") == forged, genuine
    again = _posted(server, app, json.loads(RAW))  # the same content again: the same pending join
    assert again.get("correlatedTo") == forged or again["id"] == forged, again
    env.host.run_until_idle(advance_timers=True)  # V L
    own = _variant_of(json.loads(RAW))
    notes = env.host.get_status(forged).output["notes"]
    assert any("1 variant(s) started" in n for n in notes), notes
    assert _incidents(env) == sorted([forged, own])
    assert confirm_outcomes(env, own) == ["ok"] and _deny_rules(env, "203.0.113.200")


def test_a_genuine_burst_during_the_pending_check_is_one_instance(served):  # noqa: F811
    """Fails on rough14 (fb400ae): N + 1 instances (N variants polling, ending "joined")."""
    env, server, app = served
    _fire_genuine(env)
    first = _posted(server, app, json.loads(RAW))["id"]
    for _ in range(12):  # other alert ids of the burst, posted while the first one's check is pending
        assert _posted(server, app, _forged()).get("correlatedTo") == first
    env.host.run_until_idle(advance_timers=True)
    assert _incidents(env) == [first]
    assert confirm_outcomes(env, first) == ["ok"] and _deny_rules(env, "203.0.113.200")

"""R18-06 (medium): defender18's proof reads the receipts from the records store and with the seal key of the process
running the audit. ``audit run --azure`` from an operator's machine (README: the checklist against real Azure, "reads
only") keeps its audits in *its* ``FIRESTOP_HOME`` with *its* seal key: the app's receipts are not there (nor believed
there: the app's key is in Key Vault). Every Defender alert of the week read as "reached no Firestop intake — the
relay's route is broken or diverted": ``monitoring.alert-rules`` (high) failed on a laptop for a deployment whose relay
works (and with R18-02's marker filed by the first laptop audit, from the second one on).

Fixed: the since-marker is filed only by a receipt (``defender_receipts.keep``), never by an audit: a store that never
received a Defender alert from a relay — a laptop's, or an app's before its first one — judges no alert without a
receipt ("not proven", saying where the receipts are kept), never "broken".

Fails on rough18 (897fb61): ``fail``, "broken or diverted", naming the alert the app received.
"""

from __future__ import annotations

from firestop.audit import AuditContext, run_audit
from firestop.audit.registry import all_controls
from firestop.playbooks import load_playbooks
from firestop.sandbox.probe import unserved
from firestop.settings import REPO_ROOT
from tests.defender18.test_d18_relay_proof import (  # noqa: F401 - the fixtures
    RELAY_GRACE_SECONDS,
    _raise_and_relay,
    endpoint,
    sandbox,
)


def _audit_from_a_laptop(env, laptop, monkeypatch):
    """``audit run --azure`` from another machine: its own FIRESTOP_HOME (records store, seal key)."""
    from firestop.trust.seal import load_seal_key

    monkeypatch.setenv("FIRESTOP_HOME", str(laptop))
    settings = env.settings.model_copy(update={"home": laptop, "automation_principal_id": env.tenant.credential.principal_id})
    assert load_seal_key(laptop).kid != load_seal_key(env.settings.home).kid  # not the app's key
    chosen = [c for c in all_controls() if c.id == "monitoring.alert-rules"]
    (result,) = run_audit(AuditContext(clients=env.clients, settings=settings, subscription=env.tenant.subscription_id,
                                       unserved=unserved, playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))),
                          controls=chosen).results
    return result


def test_an_audit_from_another_machine_does_not_call_a_working_relay_broken(sandbox, tmp_path, monkeypatch):
    env, call = sandbox
    first, posted = _raise_and_relay(env, call, prompt_kind="credential_theft")
    assert posted == 1  # the app received it and kept its receipt
    env.tenant.clock.advance(RELAY_GRACE_SECONDS)
    laptop = tmp_path / "laptop"
    for more in (True, False):  # the first audit there, and a later one after another alert the app received
        result = _audit_from_a_laptop(env, laptop, monkeypatch)
        assert result.status.value != "fail", result.detail
        assert "broken or diverted" not in result.detail and "outside the app" in result.detail, result.detail
        if more:
            env.tenant.clock.advance(60)
            assert _raise_and_relay(env, call, user_agent="sqlmap/1.7.2#stable (https://sqlmap.org)")[1] == 1
            env.tenant.clock.advance(RELAY_GRACE_SECONDS)

"""events17: a wrong ``?code=`` in Firestop's action group is told by the audit (``monitoring.webhook-key``).

The app cannot read its own function keys, so before this control a webhook receiver posting to ``/api/alerts`` with
a code that is not the key passed every check (``_authenticated`` saw a non-empty code) while every alert it sent was
answered 401, which Azure Monitor does not retry. The deployment now writes ``FIRESTOP_ALERTS_KEY_DIGEST`` (a keyed
digest, never the key: :mod:`firestop.trust.alerts_key`) and the audit compares the action groups' codes with it,
reading them with its read role as Azure returns them (``serviceUri`` with its query). Neither the right key nor a
wrong one is ever in a result, its JSON, or a log line."""

from __future__ import annotations

import json
import logging

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from firestop.audit.registry import all_controls
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import WEBHOOK, deploy_detection
from tests.playbooks.test_detect_rules import PROFILE

KEY = WEBHOOK.split("?code=", 1)[1]  # the key deploy_detection's action group sends
WRONG = "Zq7wrong-code-3f9a1c0e8b7d6a5f4e3d2c1b0a9f8e7d"


def _result(tenant):
    from firestop.audit import AuditContext, run_audit
    from firestop.azure.clients import ClientFactory
    from firestop.playbooks import load_playbooks
    from firestop.sandbox.probe import unserved
    from firestop.settings import Settings

    clients = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    chosen = [c for c in all_controls() if c.id == "monitoring.webhook-key"]
    assert chosen, "no monitoring.webhook-key control"
    audit = run_audit(AuditContext(clients=clients, settings=Settings.from_env(home="."), subscription=tenant.subscription_id,
                                   unserved=unserved, playbooks=tuple(load_playbooks(REPO_ROOT / "playbooks"))), controls=chosen)
    (result,) = audit.results
    return result


def _set_code(tenant, code: str | None) -> None:
    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    for group in monitor.action_groups.list_by_subscription_id():
        for receiver in group.webhook_receivers or []:
            if receiver.service_uri and "/api/alerts" in receiver.service_uri:
                base = receiver.service_uri.split("?", 1)[0]
                receiver.service_uri = base if code is None else f"{base}?code={code}"
        monitor.action_groups.create_or_update(group.id.split("/")[4], group.name, group)


@pytest.fixture
def deployed(firestop_home, monkeypatch, caplog):
    from firestop.trust.alerts_key import alerts_key_digest
    from firestop.trust.seal import load_seal_key

    caplog.set_level(logging.DEBUG)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")  # Firestop's action group, webhook with ?code=KEY
    monkeypatch.setenv("FIRESTOP_ALERTS_KEY_DIGEST", alerts_key_digest(KEY, key=load_seal_key()))
    return tenant


def _shows_no_key(result, caplog) -> None:
    shown = json.dumps(result.model_dump(mode="json")) + caplog.text
    assert KEY not in shown and WRONG not in shown


def test_the_key_the_deployment_set_passes(deployed, caplog):
    result = _result(deployed)
    assert result.status.value == "pass", result.detail
    assert "sends the alerts key the deployment set" in result.detail
    _shows_no_key(result, caplog)


@pytest.mark.parametrize("code", [WRONG, None], ids=["wrong-code", "no-code"])
def test_a_wrong_or_missing_code_fails_naming_the_receiver_never_the_code(deployed, caplog, code):
    _set_code(deployed, code)
    result = _result(deployed)
    assert result.status.value == "fail", result.detail
    assert "not the alerts key" in result.detail and "/firestop" in result.detail  # group/receiver
    control = next(c for c in all_controls() if c.id == "monitoring.webhook-key")
    assert control.severity.value == "high" and "actiongroup" in control.fix
    _shows_no_key(result, caplog)


def test_without_the_digest_or_under_another_seal_key_it_is_not_evaluable(deployed, caplog, monkeypatch):
    from firestop.trust.alerts_key import alerts_key_digest
    from firestop.trust.seal import SealKey

    monkeypatch.delenv("FIRESTOP_ALERTS_KEY_DIGEST")
    result = _result(deployed)
    assert result.status.value == "not_evaluable" and "FIRESTOP_ALERTS_KEY_DIGEST is not set" in result.detail
    monkeypatch.setenv("FIRESTOP_ALERTS_KEY_DIGEST", "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/x)")
    assert "unresolved Key Vault reference" in _result(deployed).detail
    monkeypatch.setenv("FIRESTOP_ALERTS_KEY_DIGEST", alerts_key_digest(KEY, key=SealKey("r" * 43, "rotated away")))
    result = _result(deployed)
    assert result.status.value == "not_evaluable" and "another seal key" in result.detail
    _shows_no_key(result, caplog)


def test_the_digest_is_neither_the_key_nor_the_same_for_another_seal_key():
    from firestop.trust.alerts_key import KeyMatch, alerts_key_digest, compare, digest_problem
    from firestop.trust.seal import SealKey

    one, two = SealKey("a" * 43, "one"), SealKey("b" * 43, "two")
    digest = alerts_key_digest(KEY, key=one)
    assert KEY not in digest and digest != alerts_key_digest(KEY, key=two) and digest_problem(digest) is None
    assert compare(KEY, digest, key=one) is KeyMatch.MATCHES and compare(WRONG, digest, key=one) is KeyMatch.DIFFERS
    assert compare(KEY, digest, key=two) is KeyMatch.OTHER_SEAL_KEY and compare("", digest, key=one) is KeyMatch.NO_CODE


def test_a_digest_made_under_a_retired_seal_key_still_tells():
    """Merge of events17 with seal17: after `seal-key rotate` the digest the deployment set under the old key is
    still compared (the ring holds the old key as retired); a dropped key's digest is not evaluable."""
    from firestop.trust.alerts_key import KeyMatch, alerts_key_digest, compare
    from firestop.trust.seal import SealKey, SealKeyRing

    old, new = SealKey("a" * 43, "old"), SealKey("b" * 43, "new")
    digest = alerts_key_digest(KEY, key=old)
    ring = SealKeyRing(new, (old,))
    assert compare(KEY, digest, key=ring) is KeyMatch.MATCHES and compare(WRONG, digest, key=ring) is KeyMatch.DIFFERS
    assert compare(KEY, digest, key=SealKeyRing(new)) is KeyMatch.OTHER_SEAL_KEY

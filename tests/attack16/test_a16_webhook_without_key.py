"""A16-05 (attacker E, Monitoring Contributor): Firestop's action group still posts to Firestop — and is refused.

RT18-05 counts a detection only when it notifies an enabled action group with an https webhook to ``…/api/alerts`` on
Firestop's host. The webhook needs more than the host and path to be heard: ``/api/alerts`` is a function-key route,
so a receiver whose ``?code=`` was removed (and that does not use ``useAadAuth``) is answered 401 on every delivery —
Azure Monitor does not retry a 401 — and every detection routed through it fires into the void while
``monitoring.alert-rules`` (high) passes. (E reads and writes action groups: ``Microsoft.Insights/actionGroups/*``.)
A receiver keeping a ``code`` that is not the key is the same blinding; the app cannot tell a wrong key from the
right one (Azure keeps the function keys; the app holds no copy), so only the first is checked. So is
``useCommonAlertSchema`` turned off (Firestop refuses the legacy schemas; ``doctor`` checks it, the audit did not).
"""

from __future__ import annotations

import pytest

from firestop.azure.clients import ClientFactory
from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import deploy_detection
from tests.redteam18.test_rt18_audit_decoy_rule import _control


def _rewire(tenant, uri: str, *, common: bool = True) -> None:
    factory = ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True)
    groups = factory.monitor(tenant.subscription_id).action_groups
    (group,) = list(groups.list_by_subscription_id())
    group.webhook_receivers[0].service_uri = uri
    group.webhook_receivers[0].use_aad_auth = False
    group.webhook_receivers[0].use_common_alert_schema = common
    groups.create_or_update(group.id.split("/")[4], group.name, group)


@pytest.fixture
def tenant(firestop_home, monkeypatch):
    monkeypatch.setenv("FIRESTOP_PUBLIC_URL", "https://func-firestop.azurewebsites.net")
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    assert "leaked-api-key" not in _control(tenant).detail
    return tenant


@pytest.mark.parametrize("uri", [
    "https://func-firestop.azurewebsites.net/api/alerts",
    "https://func-firestop.azurewebsites.net/api/alerts?code=",
    "https://func-firestop.azurewebsites.net/api/alerts?x=1",
])
def test_a16_05_firestops_webhook_without_a_key_fails_the_alert_rules_control(tenant, uri):
    _rewire(tenant, uri)
    result = _control(tenant)
    assert result.status.value == "fail" and "leaked-api-key" in result.detail, (result.status, result.detail)


def test_a16_05_the_webhook_with_a_key_still_counts(tenant):
    _rewire(tenant, "https://func-firestop.azurewebsites.net/api/alerts?code=k3y")
    assert "leaked-api-key" not in _control(tenant).detail


def test_a16_05_firestops_webhook_sending_the_legacy_schema_fails_the_control(tenant):
    _rewire(tenant, "https://func-firestop.azurewebsites.net/api/alerts?code=k3y", common=False)
    result = _control(tenant)
    assert result.status.value == "fail" and "leaked-api-key" in result.detail, (result.status, result.detail)

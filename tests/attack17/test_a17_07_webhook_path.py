"""A17-07 (attacker E, Monitoring Contributor; high): a webhook to ``https://<app>/x/api/alerts?code=<key>`` passes
both ``monitoring.alert-rules`` and ``monitoring.webhook-key``, and reaches no function.

Both controls took a receiver to be Firestop's when its path *ends with* ``/api/alerts``
(``url.path.rstrip("/").lower().endswith("/api/alerts")``). The app's HTTP functions are at ``/{routePrefix}/{route}``
with ``routePrefix`` ``api`` (``host.json``; the local runtime, ``firestop.runtime.serve``, routes the same), so
``/x/api/alerts`` is answered 404 — which Azure Monitor does not retry — while the audit says every detection notifies
Firestop and the group "sends the alerts key the deployment set". Fix: the receiver's path must be ``/api/alerts``
(case-insensitive, a trailing slash allowed), as the host routes it.
"""

from __future__ import annotations

import pytest
from azure.mgmt.monitor import MonitorManagementClient

from firestop.sandbox import Tenant
from firestop.settings import REPO_ROOT
from firestop.tabletop.detection import WEBHOOK, deploy_detection
from tests.audit16.test_alert_rules_defender_fed import RELAY
from tests.defender18.relay import relay_raised_alerts
from tests.events17.test_e17_webhook_key import KEY, _result
from tests.playbooks.test_detect_rules import PROFILE
from tests.redteam18.test_rt18_audit_decoy_rule import _control


def _move_path(tenant, prefix: str, port: str = "") -> int:
    """Put ``prefix`` before /api/alerts (and ``port`` after the host) in every Firestop webhook receiver (the code
    unchanged)."""
    from urllib.parse import urlsplit, urlunsplit

    monitor = MonitorManagementClient(tenant.credential, tenant.subscription_id, transport=tenant.transport, profile=PROFILE)
    moved = 0
    for group in monitor.action_groups.list_by_subscription_id():
        for receiver in group.webhook_receivers or []:
            if receiver.service_uri and "/api/alerts" in receiver.service_uri:
                url = urlsplit(receiver.service_uri)
                receiver.service_uri = urlunsplit(url._replace(path=prefix + url.path, netloc=url.netloc + port))
                moved += 1
        monitor.action_groups.create_or_update(group.id.split("/")[4], group.name, group)
    return moved


@pytest.mark.parametrize("prefix, port", [("/x", ""), ("", ":8443")], ids=["path", "port"])
def test_a_receiver_off_the_function_route_does_not_pass_the_controls(firestop_home, monkeypatch, prefix, port):
    from firestop.trust.alerts_key import alerts_key_digest
    from firestop.trust.seal import load_seal_key

    monkeypatch.setenv("FIRESTOP_DEFENDER_RELAY", RELAY)
    tenant = Tenant.load()
    deploy_detection(tenant, REPO_ROOT / "playbooks")
    relay_raised_alerts(tenant)  # (defender18: the relay delivered Defender's alerts: its route proven)
    monkeypatch.setenv("FIRESTOP_ALERTS_KEY_DIGEST", alerts_key_digest(KEY, key=load_seal_key()))
    assert _control(tenant).status.value == "pass" and _result(tenant).status.value == "pass"  # as deployed
    assert _move_path(tenant, prefix, port) and "/x/api/alerts?" not in WEBHOOK and ":8443" not in WEBHOOK
    rules, key = _control(tenant), _result(tenant)
    assert rules.status.value == "fail", rules.detail  # no detection notifies the function any more
    assert key.status.value != "pass", key.detail


def test_a_trailing_slash_or_another_case_is_still_the_route(firestop_home, monkeypatch):
    from firestop.infra.alerts_route import is_alerts_route as _is_alerts_route

    assert _is_alerts_route("/api/alerts") and _is_alerts_route("/API/Alerts/") and not _is_alerts_route("/x/api/alerts")
    assert not _is_alerts_route("/api/alerts/extra") and not _is_alerts_route("")

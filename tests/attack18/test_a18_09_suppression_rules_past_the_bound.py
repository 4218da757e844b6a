"""A18-09: suppress18's check read at most 2,000 alerts suppression rules and judged them as all there were.

Attacker E (Security Admin: ``Microsoft.Security/alertsSuppressionRules/write``). ``monitoring.alert-rules`` lists the
subscription's rules through the reader's bound (``MAX_ITEMS``, 2,000) and fails on a dismissing one — but a list cut
at the bound said nothing: 2,000 harmless rules (another alert type, noisy VM alerts) named to list first, then
``zz-dismiss-ai`` (``alertType: '*'``), and the rule that dismisses every alert the Defender-fed playbooks wait for was
never read: the control passed. RT19-03's alert processing rules already say when their list is incomplete.

Fix: a suppression rule list that reached the bound fails the control as unreadable rules do ("a rule dismissing the
alerts cannot be ruled out"), naming the bound. Fails before: pass.
"""

from __future__ import annotations

import copy

from firestop.audit.reader import MAX_ITEMS
from firestop.sandbox.security.suppression_rules import rules
from tests.defender18.relay import relay_raised_alerts
from tests.redteam18.test_rt18_audit_decoy_rule import _control
from tests.suppress18.test_s18_suppression_rules import _rule
from tests.trust17.test_t17_defender_route import deployed  # noqa: F401 - the fixture


def test_a_dismissing_rule_beyond_the_rules_read_still_fails_the_control(deployed):  # noqa: F811
    tenant, security = deployed
    assert relay_raised_alerts(tenant)
    assert _control(tenant).status.value == "pass"
    security.alerts_suppression_rules.update("aa-noise-0000", _rule("VM_SuspiciousProcess"))
    with tenant._exclusive() as state:  # noqa: SLF001 — 1,999 more of the same, as the SDK's PUT stores them
        table = rules(state)
        [(_, template)] = list(table.items())
        for n in range(1, MAX_ITEMS):
            body = copy.deepcopy(template)
            body["name"] = f"aa-noise-{n:04d}"
            body["id"] = template["id"].rsplit("/", 1)[0] + "/" + body["name"]
            table[body["id"].lower()] = body
        tenant._save_locked()  # noqa: SLF001
    security.alerts_suppression_rules.update("zz-dismiss-ai", _rule("*"))
    result = _control(tenant)
    assert result.status.value == "fail", result.detail  # before: pass, the dismissing rule never read
    assert "cannot be ruled out" in result.detail and str(MAX_ITEMS) in result.detail.replace(",", ""), result.detail

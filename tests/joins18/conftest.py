"""RT17-01: the alert rules these tests fire by hand (``Tenant.fire_alert`` registers them from the payload; none is a
playbook's detection) are trusted by an admin as they fire, so what the tests check — the source check's other
comparisons — is reached (tests/redteam17 and tests/rules14 test the trust itself)."""

import pytest

from tests.source_check_steps import trusting_hand_fired_rules


@pytest.fixture(autouse=True)
def _hand_fired_rules_are_trusted(monkeypatch):
    trusting_hand_fired_rules(monkeypatch)

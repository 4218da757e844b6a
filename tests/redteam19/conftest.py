"""The alert rules these tests fire by hand (``Tenant.fire_alert`` registers them from the payload; none is a
playbook's detection) are trusted by an admin as they fire, as in tests/verify12: what is tested is the source
check's other comparisons, not the rule's trust."""

import pytest

from tests.source_check_steps import trusting_hand_fired_rules


@pytest.fixture
def hand_fired_rules_trusted(monkeypatch):
    trusting_hand_fired_rules(monkeypatch)

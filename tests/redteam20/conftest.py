"""Setup the red team's RT20-04 test needs since defender18 (suppress18).

``test_rt20_04_defender_suppression_rule.py`` (kept identical to the red team's copy, which the integrator merges
too) first asserts that ``monitoring.alert-rules`` passes on the deployed tenant. Since defender18 a configured
Defender route passes only when proven end to end: the seed's alerts must have reached Firestop's ``/api/alerts``,
which a test states by keeping the receipts the sandbox's relay would have produced
(:func:`tests.defender18.relay.relay_raised_alerts`, as ``tests/trust17`` does). This fixture does that for the
tests here that use trust17's ``deployed`` tenant, and for no other.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _relay_delivered_the_seeds_alerts(request):
    if "deployed" in request.fixturenames:
        from tests.defender18.relay import relay_raised_alerts

        tenant, _security = request.getfixturevalue("deployed")
        assert relay_raised_alerts(tenant)  # the seeded relay delivers the seed's alerts (else the setup is wrong)

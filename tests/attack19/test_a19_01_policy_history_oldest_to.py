"""attack19 A19-01: the sandbox's Policy Insights ``policyStates/default/queryResults`` (new with RT19-04's history
read) took ``$to`` from the request and subtracted the one-day default range from it: ``$to=0001-01-01T00:00:00Z``
raised ``OverflowError`` inside the route — no answer at all, the SDK's caller got the exception (the route is to
answer what Azure would, 4xx never a crash). Fails before the fix (OverflowError out of the transport)."""

from __future__ import annotations

from datetime import datetime, timezone

from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.policyinsights.models import QueryOptions

from firestop.sandbox import Tenant


def test_the_oldest_to_reads_an_empty_history_not_a_crash(firestop_home):
    tenant = Tenant.load()
    pi = PolicyInsightsClient(tenant.credential, tenant.subscription_id, transport=tenant.transport)
    oldest = datetime(1, 1, 1, tzinfo=timezone.utc)
    states = list(pi.policy_states.list_query_results_for_subscription(
        "default", tenant.subscription_id, query_options=QueryOptions(to=oldest)))
    assert states == []  # nothing is that old; the default $from (a day before $to) is clamped to the earliest time
    assert tenant.requests[-1].operation.startswith("policyStates")
    # the same range asked for explicitly answers the same
    assert list(pi.policy_states.list_query_results_for_subscription(
        "default", tenant.subscription_id, query_options=QueryOptions(from_property=oldest, to=oldest))) == []

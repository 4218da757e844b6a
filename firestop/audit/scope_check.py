"""Does the scope an audit was asked to narrow to exist? (``audit run --resource-group/--account``, ``POST /api/audits``).

An audit of a resource group or account that does not exist read nothing: every control answered "not evaluable"
(or nothing was read for the account), and that empty audit was kept as the latest one of its scope — the console's
"Latest audit" and ``audit show`` then showed it instead of the real baseline. Both entry points refuse it first.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple


class MissingScope(NamedTuple):
    """``kind``: ``resource_group`` or ``account``; ``value``: as given; ``reason`` and ``fix``: one line each."""

    kind: str
    value: str
    reason: str
    fix: str


def missing_scope(clients: Any, subscription: str, resource_groups: Iterable[str], accounts: Iterable[str]) -> MissingScope | None:
    """The first resource group or account that ARM says does not exist, else None.

    Reads: ``HEAD /subscriptions/{s}/resourcegroups/{rg}`` (azure-mgmt-resource ``resource_groups.check_existence``:
    204 exists, 404 absent) and ``GET …/Microsoft.CognitiveServices/accounts/{name}`` (404 ``ResourceNotFoundError``).
    Any other failure (403, network) is not a verdict: it is left to the audit, whose controls name the read that failed.
    ``clients``: a :class:`firestop.azure.clients.ClientFactory`; accounts are resource IDs already checked for shape."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    from firestop.resource_id import parse

    for rg in resource_groups:
        try:
            exists = clients.resources(subscription).resource_groups.check_existence(rg)
        except HttpResponseError:
            continue
        if exists is False:
            return MissingScope("resource_group", rg, f"no resource group {rg!r} in subscription {subscription}",
                                "give one that exists (az group list --query [].name)")
    for account_id in accounts:
        try:
            parts = parse(account_id)
        except ValueError:
            continue
        try:
            clients.cognitive_services(parts.subscription).accounts.get(parts.resource_group, parts.name)
        except ResourceNotFoundError:
            return MissingScope("account", account_id, f"no Azure OpenAI account {parts.name!r} in resource group "
                                f"{parts.resource_group!r} (subscription {parts.subscription})",
                                "give the resource ID of one that exists (az cognitiveservices account list --query [].id)")
        except HttpResponseError:
            continue
    return None

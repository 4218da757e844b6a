"""The narrow containment runbooks of issue 15 as test cases: target, parameters, and the piece of tenant
state each one changes (what undo must restore exactly), shared by the contract, fault and kill -9 tests."""

from __future__ import annotations

import copy

from tests.runbooks.conftest import ACCOUNT

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
DEPLOYMENT = ACCOUNT + "/deployments/gpt-4o"
READ_ONLY = ("provisioningState",)


def _deployment(tenant):
    try:
        dep = tenant.resource(DEPLOYMENT)
    except KeyError:
        return None
    return {"sku": dep["sku"], "properties": {k: v for k, v in dep["properties"].items() if k not in READ_ONLY}}


def _rai(tenant):
    """Every RAI policy, blocklist and item of the prod account (without etags and systemData)."""
    tenant.resource(ACCOUNT)
    with tenant._exclusive() as state:
        out = {}
        for key, body in state.doc["resources"].items():
            if key.startswith(ACCOUNT.lower() + "/rai"):
                out[key] = {k: v for k, v in copy.deepcopy(body).items() if k not in ("etag", "systemData")}
        return out


def _account_props(tenant):
    return copy.deepcopy(tenant.resource(ACCOUNT)["properties"])


CASES = {
    "deployment.throttle": dict(target=ACCOUNT, params={"deployment": "gpt-4o", "percent": 10}, state=_deployment),
    "deployment.suspend": dict(target=ACCOUNT, params={"deployment": "gpt-4o"}, state=_deployment),
    "deployment.content_filter": dict(
        target=ACCOUNT, params={"deployment": "gpt-4o", "policy": "contoso-strict", "items": ["ignore all previous instructions", "exfil-*"]},
        state=lambda t: {"deployment": _deployment(t), "rai": _rai(t)},
    ),
}

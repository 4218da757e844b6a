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


SP = "e7d9a3c1-58b2-4f06-9c1a-7b3e2d4f6a80"
ALICE = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"


def _graph(section: str, object_id: str):
    def read(tenant):
        tenant.resource(ACCOUNT)
        with tenant._exclusive() as state:
            return copy.deepcopy(state.doc["graph"][section].get(object_id))
    return read


PEC = "contoso-openai-prod.pe-apps-7f3a"


def with_private_endpoint(tenant) -> None:
    """Give the prod account an approved private endpoint connection (the default tenant has none)."""
    with tenant._exclusive() as state:
        account = state.resource(ACCOUNT)
        account["properties"]["privateEndpointConnections"] = [{
            "id": ACCOUNT + "/privateEndpointConnections/" + PEC, "name": PEC,
            "type": "Microsoft.CognitiveServices/accounts/privateEndpointConnections",
            "properties": {"privateEndpoint": {"id": SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.Network/privateEndpoints/pe-apps"},
                           "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"},
                           "groupIds": ["account"], "provisioningState": "Succeeded"},
        }]


APIM = SUB + "/resourceGroups/rg-ai-prod/providers/Microsoft.ApiManagement/service/apim-contoso-ai"


CASES = {
    "apim.suspend_subscription": dict(target=APIM, params={"subscription": "chatbot-web"},
                                      state=lambda t: t.resource(APIM + "/subscriptions/chatbot-web")["properties"]),
    "network.reject_private_endpoint": dict(target=ACCOUNT, params={"connection": PEC}, prepare=with_private_endpoint,
                                            state=lambda t: [{k: v for k, v in c.items() if k != "etag"}
                                                             for c in t.resource(ACCOUNT)["properties"]["privateEndpointConnections"]]),
    "network.restrict_outbound": dict(target=ACCOUNT, params={"allowed_fqdns": ["contoso-search.search.windows.net"]},
                                      state=lambda t: {k: t.resource(ACCOUNT)["properties"].get(k)
                                                       for k in ("restrictOutboundNetworkAccess", "allowedFqdnList")}),
    "identity.disable_service_principal": dict(target=None, params={"service_principal_id": SP},
                                               state=_graph("servicePrincipals", SP)),
    "deployment.throttle": dict(target=ACCOUNT, params={"deployment": "gpt-4o", "percent": 10}, state=_deployment),
    "deployment.suspend": dict(target=ACCOUNT, params={"deployment": "gpt-4o"}, state=_deployment),
    "deployment.content_filter": dict(
        target=ACCOUNT, params={"deployment": "gpt-4o", "policy": "contoso-strict", "items": ["ignore all previous instructions", "exfil-*"]},
        state=lambda t: {"deployment": _deployment(t), "rai": _rai(t)},
    ),
}

#: Runbooks whose effect cannot be undone (undo refuses with the reason): target, params, state.
IRREVERSIBLE = {
    "apim.regenerate_subscription_key": dict(target=APIM, params={"subscription": "chatbot-web"},
                                             state=lambda t: t._state.doc["apim_keys"][(APIM + "/subscriptions/chatbot-web").lower()].copy()),
    "identity.revoke_sessions": dict(target=None, params={"user_id": ALICE}, state=_graph("users", ALICE)),
    "identity.confirm_compromised": dict(target=None, params={"service_principal_id": SP},
                                         state=_graph("riskyServicePrincipals", SP)),
}

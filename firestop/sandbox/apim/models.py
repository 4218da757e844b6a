"""ARM JSON of API Management services and subscriptions (spec example ``ApiManagementGetSubscription.json``)."""

from __future__ import annotations

SERVICE_TYPE = "Microsoft.ApiManagement/service"
SUBSCRIPTION_TYPE = "Microsoft.ApiManagement/service/subscriptions"
#: SubscriptionState (spec): the states a subscription may be in.
STATES = ("suspended", "active", "expired", "submitted", "rejected", "cancelled")


def service(state, *, resource_group: str, name: str, location: str) -> dict:
    return {
        "id": state.arm_id(resource_group, f"{SERVICE_TYPE}/{name}"), "name": name, "type": SERVICE_TYPE, "location": location,
        "sku": {"name": "Developer", "capacity": 1},
        "properties": {"gatewayUrl": f"https://{name}.azure-api.net", "provisioningState": "Succeeded"},
    }


def subscription(service_body: dict, *, sid: str, display_name: str, scope: str, owner: str | None, state: str,
                 created: str) -> dict:
    return {
        "id": f"{service_body['id']}/subscriptions/{sid}", "type": SUBSCRIPTION_TYPE, "name": sid,
        "properties": {
            "ownerId": owner, "scope": f"{service_body['id']}{scope}", "displayName": display_name, "state": state,
            "createdDate": created, "startDate": created, "expirationDate": None, "endDate": None,
            "notificationDate": None, "stateComment": None, "allowTracing": False,
        },
    }


def new_key(state) -> str:
    """A new 32-lower-hex subscription key from its own RNG counter (account keys' values never shift),
    remembered in ``issued_keys`` like every key the tenant hands out."""
    key = state.new_hex("apim-key", 32)
    state.doc.setdefault("issued_keys", []).append(key)
    return key

"""RT8-08: a deployment, RAI policy, RAI blocklist or APIM subscription name of ``.`` or ``..`` passed the runbooks'
name checks (``.`` is a name character) and went into the ARM URL the SDK builds (``…/accounts/a/deployments/..``),
which the production transport (requests/urllib3) resolves as a dot segment: ``…/accounts/a/`` — the *account*.
The deployment name comes from the alert (the content-abuse and denial-of-wallet playbooks take
``alert.indicators.deployments.0``: a ``ModelDeploymentName`` dimension or Defender entity, text from the logs of the
attacker's own requests); anomalous-usage takes the APIM subscription from the alert too. So the suspend step
plans "delete deployment .." with the account's JSON as its before-state and sends ``DELETE …/accounts/a/`` (the
account), throttle ``PUT``\\s the account — stopped today only by ARM's body checks and the role's missing
``accounts/delete``. RT4-02 was the same class on Graph ids. Fixed: such names are refused as invalid parameters
before any call."""

from __future__ import annotations

import pytest
import requests
from pydantic import ValidationError

ACCOUNT_URL = ("https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/"
               "accounts/acct/")


def test_the_production_transport_resolves_a_dot_dot_deployment_to_the_account():
    """Why the names matter: the SDK quotes the name as one segment, the transport then removes the dot segment."""
    from azure.mgmt.cognitiveservices.operations._deployments_operations import build_delete_request

    built = build_delete_request("rg", "acct", "..", "s")
    sent = requests.Request("DELETE", "https://management.azure.com" + built.url).prepare()
    assert sent.url.split("?")[0] == ACCOUNT_URL


@pytest.mark.parametrize("name", [".", "..", " .. "])
@pytest.mark.parametrize("params", [
    ("runbooks.deployment", "ThrottleParams", "deployment", {"capacity": 1}),
    ("runbooks.deployment", "SuspendParams", "deployment", {}),
    ("runbooks.deployment", "ContentFilterParams", "deployment", {"policy": "contoso-strict"}),
    ("runbooks.deployment", "ContentFilterParams", "policy", {"deployment": "gpt-4o"}),
    ("runbooks.deployment", "ContentFilterParams", "blocklist", {"deployment": "gpt-4o", "policy": "contoso-strict"}),
    ("runbooks.apim", "SubscriptionParams", "subscription", {}),
    ("runbooks.apim", "SuspendParams", "subscription", {}),
    ("runbooks.apim", "SuspendParams", "subscriptions", {}),
    ("runbooks.defender", "ResolveParams", "system_alert_id", {}),
])
def test_a_dot_segment_name_is_refused(name, params):
    import importlib

    module, cls, field, others = params
    model = getattr(importlib.import_module(module), cls)
    value = [name] if field == "subscriptions" else name
    with pytest.raises(ValidationError):
        model(**{**others, field: value})


def test_names_with_dots_inside_still_pass():
    from runbooks.apim import SubscriptionParams
    from runbooks.deployment import ThrottleParams

    assert ThrottleParams(deployment="gpt-4o.2024-08", capacity=1).deployment == "gpt-4o.2024-08"
    assert SubscriptionParams(subscription="chatbot.web").subscription == "chatbot.web"


def test_an_alert_naming_deployment_dot_dot_suspends_nothing(tmp_path):
    """Through the CLI's plan (the approver's view): refused as bad input, never a plan with the account as 'deployment'."""
    from tests.redteam3.inprocess import firestop

    prod = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
            "Microsoft.CognitiveServices/accounts/contoso-openai-prod")
    out = firestop(tmp_path / "home", "runbook", "plan", "deployment.suspend", "--target", prod, "--param", "deployment=..")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "deployment" in out.stdout + out.stderr

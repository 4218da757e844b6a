from __future__ import annotations

import pytest

from firestop.azure.clients import ClientFactory
from firestop.settings import Settings

ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
VAULT = "https://kv-contoso-ai.vault.azure.net"
WORKSPACE = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"


class Sandbox:
    """A fresh in-memory sandbox tenant with a client factory and settings around it."""

    def __init__(self, tmp_path) -> None:
        from firestop.sandbox import Tenant

        self.tenant = Tenant.load()
        self.clients = ClientFactory(
            credential=self.tenant.credential, transport=self.tenant.transport, clock=self.tenant.clock, sandbox=True
        )
        self.settings = Settings.from_env(home=tmp_path / "home", key_vault_url=VAULT, log_workspace_id=WORKSPACE)

    def run(self, runbook: str, action: str, *, target: str | None = ACCOUNT, params=None, applied=None,
            incident_id: str = "inc-test", step_id: str = "step", alert=None) -> dict:
        from runbooks.dispatch import execute

        request = {"runbook": runbook, "action": action, "target": target, "params": params or {},
                   "incident_id": incident_id, "step_id": step_id}
        if applied is not None:
            request["applied"] = applied
        if alert is not None:
            request["alert"] = alert
        return execute(request, clients=self.clients, settings=self.settings)


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)

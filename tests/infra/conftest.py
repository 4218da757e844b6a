"""Shared helpers: the shipped template, and deploying it into a sandbox tenant through azure-mgmt-resource."""

from __future__ import annotations

import json

import pytest

from firestop.settings import REPO_ROOT

TEMPLATE_PATH = REPO_ROOT / "infra" / "azuredeploy.json"
ENTRA_CLIENT_ID = "5a0f5b4c-1d2e-4f30-8a9b-0c1d2e3f4a5b"
SANDBOX_FLAGS = dict(
    subscription="11111111-2222-3333-4444-555555555555",
    resource_groups=[],
    accounts=["rg-ai-prod/contoso-openai-prod", "rg-ai-dev/contoso-openai-dev"],
    nsgs=["rg-ai-prod/nsg-ai-apps"],
    key_vault="rg-ai-prod/kv-contoso-ai",
    key_secret_name="openai-api-key",
    workspace="rg-ai-prod/law-contoso-sec",
    sentinel_workspace="rg-ai-prod/law-contoso-sec",
    apim=["rg-ai-prod/apim-contoso-ai"],
)


@pytest.fixture
def firestop_home(tmp_path, monkeypatch):
    monkeypatch.setenv("FIRESTOP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def template() -> dict:
    return json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))


def factory(tenant):
    from firestop.azure.clients import ClientFactory

    return ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True, polling_interval=0)


def generated_parameters() -> dict:
    """``python -m firestop infra`` for the default sandbox tenant, plus the operator's values."""
    from firestop.infra import parameters, scopes
    from firestop.playbooks import load_playbooks

    parsed = scopes.parse(**SANDBOX_FLAGS)
    out = parameters.build(load_playbooks(REPO_ROOT / "playbooks"), parsed, entra_client_id=ENTRA_CLIENT_ID,
                           log_workspace_id="0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a")
    return out

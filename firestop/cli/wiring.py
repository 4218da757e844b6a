"""Wire the embedded defaults together for one CLI command.

The CLI is an entry point, so it may know the sandbox: it opens the simulated
tenant persisted under ``FIRESTOP_HOME/sandbox``, injects its credential,
transport and clock into the client factory, and starts the local durable host
on ``FIRESTOP_HOME/durable.sqlite`` with the same ``function_app`` the
Functions host would load.
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from typing import Any

from msgspec import Struct

from firestop.azure.clients import ClientFactory, configure_clients
from firestop.settings import REPO_ROOT, Settings, configure_settings
from firestop.private import private_dirs

# The default tenant's resources (see firestop.sandbox): used when the
# environment names no vault or workspace of its own.
SANDBOX_KEY_VAULT_URL = "https://kv-contoso-ai.vault.azure.net"
SANDBOX_LOG_WORKSPACE_ID = "0a6c2f6e-7f1c-4f61-9d3a-5c1f2d9e8b7a"
#: The sandbox's Sentinel workspace (law-contoso-sec, room sentinel/).
#: The sandbox's accounts an admin declared not production (FIRESTOP_NON_PRODUCTION_ACCOUNTS): contoso-openai-dev.
SANDBOX_NON_PRODUCTION_ACCOUNTS = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-ai-dev/providers/"
                                   "microsoft.cognitiveservices/accounts/contoso-openai-dev",)
SANDBOX_SENTINEL_WORKSPACE_ID = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/"
                                 "Microsoft.OperationalInsights/workspaces/law-contoso-sec")


@lru_cache(maxsize=1)
def function_app() -> Any:
    """The Function App object, imported once (``FunctionApp.get_functions()`` may run only once)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module("function_app").app


class Environment(Struct):
    settings: Settings
    tenant: Any
    clients: ClientFactory
    host: Any

    def close(self) -> None:
        close = getattr(self.host, "close", None)
        if close:
            close()


def azure_environment(settings: Settings | None = None) -> Environment:
    """Break-glass: the local durable host acting on real Azure with ``DefaultAzureCredential``.

    For a responder's machine when the Function App is down: environment credentials,
    workload identity, Azure CLI / PowerShell / developer sign-in (the managed-identity
    probe is skipped: a laptop has none). Wall-clock time; state under FIRESTOP_HOME.
    """
    from azure.identity import DefaultAzureCredential

    from firestop.clock import SystemClock
    from firestop.runtime import LocalDurableHost

    settings = settings or Settings.from_env()
    private_dirs(settings.home)
    clock = SystemClock()
    clients = ClientFactory(credential=DefaultAzureCredential(exclude_managed_identity_credential=True), clock=clock)
    configure_settings(settings)
    configure_clients(clients)
    from firestop.audit.reader import configure_unserved

    configure_unserved(None)
    host = LocalDurableHost(function_app(), settings.durable_db, clock=clock)
    return Environment(settings=settings, tenant=None, clients=clients, host=host)


def sandbox_environment(settings: Settings | None = None, *, seed: str | None = None) -> Environment:
    """Embedded defaults: the persisted sandbox tenant and the local durable host.

    seed: a tenant file (YAML/JSON, ``az resource show`` resources) used when FIRESTOP_HOME has no
    sandbox state yet; ``sandbox reset --tenant FILE`` replaces existing state with it.
    """
    from firestop.runtime import LocalDurableHost
    from firestop.sandbox import Tenant

    base = settings or Settings.from_env()
    settings = base.model_copy(
        update={
            "key_vault_url": base.key_vault_url or SANDBOX_KEY_VAULT_URL,
            "log_workspace_id": base.log_workspace_id or SANDBOX_LOG_WORKSPACE_ID,
            "sentinel_workspace_id": base.sentinel_workspace_id or SANDBOX_SENTINEL_WORKSPACE_ID,
            "non_production_accounts": base.non_production_accounts or SANDBOX_NON_PRODUCTION_ACCOUNTS,
        }
    )
    private_dirs(settings.home)
    tenant = Tenant.open(settings.sandbox_dir, seed=seed) if seed else Tenant.open(settings.sandbox_dir)
    clients = ClientFactory(
        credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True
    )
    configure_settings(settings)
    configure_clients(clients)
    from firestop.audit.reader import configure_unserved
    from firestop.sandbox.probe import unserved

    configure_unserved(unserved)  # audits skip (— not evaluable) what the sandbox does not model, never draw 501s
    host = LocalDurableHost(function_app(), settings.durable_db, clock=tenant.clock)
    return Environment(settings=settings, tenant=tenant, clients=clients, host=host)


def reset_sandbox(settings: Settings | None = None, *, seed: str | None = None) -> Any:
    """Restore the seed tenant (or ``seed``, a tenant file) under ``FIRESTOP_HOME/sandbox``; returns the new tenant."""
    from firestop.sandbox import Tenant

    settings = settings or Settings.from_env()
    private_dirs(settings.home)
    return Tenant.reset(settings.sandbox_dir, seed=seed) if seed else Tenant.reset(settings.sandbox_dir)


def environment(*, azure: bool = False, seed: str | None = None) -> Environment:
    """The environment a CLI command acts on: the sandbox (default) or real Azure (``azure=True``)."""
    return azure_environment() if azure else sandbox_environment(seed=seed)

"""Firestop sandbox: a simulated Azure tenant behind the real Azure SDK clients.

Plug it in as the SDK transport — nothing in the SDK is mocked, so request
building, auth policies, retries and LRO polling all run for real::

    from firestop.sandbox import Tenant
    tenant = Tenant.load()                       # built-in default tenant (default_tenant.yaml)
    client = CognitiveServicesManagementClient(
        credential=tenant.credential, subscription_id=tenant.subscription_id, transport=tenant.transport)

Public API
----------
``Tenant.load(path=None)``            fresh tenant from a YAML/JSON seed (None = built-in)
``Tenant.open(state_dir)``            persisted tenant (``state_dir/tenant.json`` + ``tenant.journal``; seeded if missing)
``Tenant.reset(state_dir)``           re-seed ``state_dir`` and return the new tenant
``tenant.transport``                  azure-core ``HttpTransport``; ``sleep(s)`` advances ``tenant.clock``
``tenant.credential``                 :class:`SandboxCredential` (fake bearer tokens)
``tenant.clock``                      :class:`VirtualClock` (aware UTC; starts 2026-11-29T03:14:40Z)
``tenant.requests`` / ``.unrouted``   ``list[RequestLogEntry]`` (method, host, path, api_version, operation, status, at)
``tenant.faults``                     ``list[FaultRecord]`` (operation, kind, status, at, source)
``tenant.inject_fault(operation, status, nth=1, retry_after=None, times=1)``
``tenant.inject_lro_fault(operation, *, seconds=None, outcome="Succeeded", ...)``   slow / Failed / Canceled LROs
``tenant.inject_random_faults(rate, seed=0, statuses=(429, 500, 503), operations=None)``
``tenant.clear_faults()`` / ``tenant.realtime_factor`` (wall s per simulated s; 0 = never block)
``tenant.resource(id)`` / ``account_keys(id)`` / ``issued_key_values()`` / ``secret_versions(vault, name)``
``tenant.save(state_dir=None)``

Layout: ``core/`` (shared machinery: state, clock, router, room registry,
transport, faults, LROs) and one sub-package ("room") per simulated Azure
service, each registering its routes, latencies and seed steps
(:mod:`firestop.sandbox.core.rooms`; see README.md "Layout").

Simulated surfaces: ARM Microsoft.CognitiveServices accounts (+ deployments,
private endpoint connections, LRO status), ARM Microsoft.Network NSG security
rules, Microsoft.Authorization role assignments, the ARM Activity Log API, Key
Vault secrets data plane, Log Analytics query API (KQL subset,
:mod:`firestop.sandbox.logs.kql`). Anything else answers 501 and lands in
``tenant.unrouted`` (and in the ``FIRESTOP_SANDBOX_UNROUTED_LOG`` journal).
Seeds: ``default_tenant.yaml``-style files or digital twins of ``az resource
show`` JSON (:mod:`firestop.sandbox.twin`).
"""

from .core.clock import VirtualClock
from .core.credential import SandboxCredential
from .core.faults import FaultRecord
from .core.transport import SandboxTransport
from .tenant import RequestLogEntry, Tenant

__all__ = ["Tenant", "VirtualClock", "SandboxCredential", "SandboxTransport", "RequestLogEntry", "FaultRecord"]

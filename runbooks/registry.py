"""The runbook registry: name → runbook class (Cloud Custodian style ``@register``).

Every shipped runbook is also declared in :data:`SHIPPED` (name → the module whose ``@register`` defines it),
so a name is known without importing its module: :func:`runbook_names` (what a playbook step may name) reads
the table, and :func:`get_runbook` imports a runbook's module the first time that runbook is asked for. An
``alert handle`` then loads the runbooks of the playbook it runs, not all twenty-odd modules (issue 18:
start-up). A test (``tests/runbooks/test_runbook_registry_table.py``) imports every module of the package
and checks the table against what registers, so the two cannot drift.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from runbooks.base import Runbook

#: Shipped runbook name → the module that registers it (imported on first use). Add a line with a new runbook.
SHIPPED: dict[str, str] = {
    "apim.regenerate_subscription_key": "runbooks.apim",
    "apim.suspend_subscription": "runbooks.apim",
    "auth.disable_local_auth": "runbooks.auth",
    "defender.resolve_alert": "runbooks.defender",
    "deployment.content_filter": "runbooks.deployment",
    "deployment.suspend": "runbooks.deployment",
    "deployment.throttle": "runbooks.deployment",
    "evidence.snapshot_config": "runbooks.evidence",
    "evidence.snapshot_logs": "runbooks.evidence",
    "identity.confirm_compromised": "runbooks.entra",
    "identity.disable_service_principal": "runbooks.entra",
    "identity.revoke_role_assignment": "runbooks.identity",
    "identity.revoke_sessions": "runbooks.entra",
    "keys.revoke": "runbooks.keys",
    "keys.rotate": "runbooks.keys",
    "network.block_ips": "runbooks.network",
    "network.lock": "runbooks.network",
    "network.reject_private_endpoint": "runbooks.network_narrow",
    "network.restrict_outbound": "runbooks.network_narrow",
    "notify.webhook": "runbooks.notify",
    "records.file": "runbooks.records",
    "sentinel.close_incident": "runbooks.sentinel",
    "sentinel.comment": "runbooks.sentinel",
}

_REGISTRY: dict[str, type[Runbook]] = {}

R = TypeVar("R", bound="type[Runbook]")


def register(cls: R) -> R:
    """Class decorator: make a runbook available under ``cls.name``."""
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"runbook name {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


class UnknownRunbook(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        known = ", ".join(runbook_names())
        return f"no runbook named {self.name!r}; known runbooks: {known}"


def runbook_class(name: str) -> type[Runbook]:
    """The runbook class called ``name``, its module imported on first use; :class:`UnknownRunbook` if none."""
    cls = _REGISTRY.get(name)
    if cls is None and name in SHIPPED:
        importlib.import_module(SHIPPED[name])
        cls = _REGISTRY.get(name)
    if cls is None:
        raise UnknownRunbook(name)
    return cls


def get_runbook(name: str) -> Runbook:
    """A fresh instance of the runbook called ``name``; :class:`UnknownRunbook` if none."""
    return runbook_class(name)()


def runbook_names() -> list[str]:
    """Every runbook name, shipped (:data:`SHIPPED`, nothing imported) or registered, sorted."""
    return sorted(SHIPPED.keys() | _REGISTRY.keys())


def all_runbooks() -> list[type[Runbook]]:
    """Every runbook class, sorted by name (imports every shipped runbook's module)."""
    for module in sorted(set(SHIPPED.values())):
        importlib.import_module(module)
    return [runbook_class(n) for n in runbook_names()]

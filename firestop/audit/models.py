"""Shapes of an audit: closed sets (StrEnum), one control's result on one resource, the whole audit.

Frozen pydantic models, JSON round-trippable (``Audit.model_validate(a.model_dump(mode="json")) == a``)
so a stored audit can be read back to compute the next one's drift. No secret value ever lands
in a result: evidence holds settings, names and ids, never a key or a secret's value.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    """A control's verdict on one resource."""

    PASS = "pass"
    FAIL = "fail"
    NOT_EVALUABLE = "not_evaluable"

    @property
    def mark(self) -> str:
        """The checklist's Status column: ✔ pass, ❌ fail, — not evaluable."""
        return {"pass": "✔", "fail": "❌", "not_evaluable": "—"}[self.value]


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 0, "medium": 1, "low": 2}[self.value]


class Area(StrEnum):
    """The security guide's checklist sections, in the order reports show them."""

    NETWORK = "Network isolation"
    IDENTITY = "Identity and access (RBAC)"
    SECRETS = "Secrets and keys"
    ENCRYPTION = "Encryption"
    MONITORING = "Monitoring and regular audits"
    API = "API security"
    ENVIRONMENTS = "Separate environments"

    @property
    def order(self) -> int:
        return list(Area).index(self)


class Evidence(BaseModel):
    """What was read (``read``: the API call or field, e.g. ``accounts.get properties.publicNetworkAccess``) and its value."""

    model_config = ConfigDict(frozen=True)

    read: str
    value: Any = None


class RunbookFix(BaseModel):
    """The runbook that can fix a finding: its name and parameters (target: the result's resource)."""

    model_config = ConfigDict(frozen=True)

    runbook: str
    params: dict[str, Any] = Field(default_factory=dict)


class Result(BaseModel):
    """One control evaluated on one resource.

    ``resource``: ARM id (a subscription id for subscription-wide controls); ``detail``: one
    sentence saying what was found (for ``not_evaluable``: why it could not be read);
    ``fix``: what to do (failures only); ``runbook``: the runbook ``--fix`` plans, if one can fix it;
    ``policy``: the Azure Policy built-in definition GUID and, when the tenant has a compliance
    state for it on this resource, ``compliance`` (``Compliant``/``NonCompliant``/…) and ``evaluated_at``.
    """

    model_config = ConfigDict(frozen=True)

    control: str
    title: str
    area: Area
    severity: Severity
    resource: str
    resource_name: str
    status: Status
    detail: str
    evidence: tuple[Evidence, ...] = ()
    fix: str | None = None
    runbook: RunbookFix | None = None
    playbook: str | None = None
    policy: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """Identity of a finding across audits: ``<control>|<lower-case resource id>``."""
        return f"{self.control}|{self.resource.lower()}"


class Drift(BaseModel):
    """What changed since the previous audit: keys (:attr:`Result.key`) of findings that are new / fixed."""

    model_config = ConfigDict(frozen=True)

    previous: str | None = None
    new: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    #: Audit documents of the records store read while looking for the previous audit that this app did not seal
    #: (planted or altered: :func:`firestop.audit.store.previous`). With no sealed previous audit found among them,
    #: every finding counts as new — never a silent baseline (RT17-03).
    unverified: int = 0


class Audit(BaseModel):
    """One audit: when (the clients' clock), over which scope, every result, and the drift since the last one."""

    model_config = ConfigDict(frozen=True)

    audit_id: str
    at: datetime
    scope: tuple[str, ...]
    sandbox: bool = False
    results: tuple[Result, ...]
    drift: Drift = Field(default_factory=Drift)
    incidents: tuple[dict[str, Any], ...] = ()

    @property
    def findings(self) -> list[Result]:
        return [r for r in self.results if r.status is Status.FAIL]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.results if r.status is s) for s in Status}

"""The playbook format (pydantic v2; ``Playbook.model_json_schema()`` is its JSON Schema).

```yaml
name: leaked-api-key            # unique, lower-case, dashes
version: "1.0"
description: ...                # include the alert rule it expects
priority: 10                    # lower wins when several playbooks match
match:                          # every condition given must hold
  rule_names: ["aoai-leaked-key*"]          # globs on the alert rule name, case-insensitive
  resource_types: ["microsoft.cognitiveservices/accounts"]
  monitoring_services: ["Log Alerts V2"]
  max_severity: 2               # Sev0..Sev2
contain:                        # in order; a `parallel` group runs its steps together
  - id: snapshot-logs
    runbook: evidence.snapshot_logs
  - parallel:
      - {id: rotate-keys, runbook: keys.rotate}
      - {id: lock-network, runbook: network.lock, with: {mode: deny_by_default}}
```
An alert routes to a playbook explicitly with the custom property
``firestop-playbook: <name>``; otherwise ``match`` decides.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Retry(BaseModel):
    """Retries of a step whose runbook failed with a retryable error (throttled, conflict, transient).
    Intervals in seconds; the wait is a durable timer, max(interval, the service's Retry-After)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=3, ge=1, le=10)
    first_interval_seconds: float = Field(default=5.0, ge=0, le=3600)
    backoff_coefficient: float = Field(default=2.0, ge=1, le=10)
    max_interval_seconds: float = Field(default=60.0, ge=0, le=3600)

    def interval(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.first_interval_seconds * self.backoff_coefficient ** (attempt - 1), self.max_interval_seconds)


class Step(BaseModel):
    """One runbook run: ``runbook`` on the alert's target of the runbook's type, with parameters ``with``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=NAME_PATTERN)
    runbook: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    retry: Retry = Field(default_factory=Retry)

    @field_validator("runbook")
    @classmethod
    def _known_runbook(cls, value: str) -> str:
        from runbooks import runbook_names

        names = runbook_names()
        if value not in names:
            raise ValueError(f"unknown runbook {value!r}; use one of: {', '.join(names)}")
        return value

    @model_validator(mode="after")
    def _params_valid(self) -> "Step":
        from pydantic import ValidationError

        from runbooks import get_runbook

        try:
            get_runbook(self.runbook).parse_params(self.with_)
        except ValidationError as exc:
            problems = "; ".join(
                f"with.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"parameters for {self.runbook} are invalid: {problems}") from None
        return self


class Parallel(BaseModel):
    """Steps that run together (fan-out/fan-in); the group ends when all have ended."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parallel: list[Step] = Field(min_length=1)


def _item_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "parallel-group" if "parallel" in value else "step-item"
    return "parallel-group" if isinstance(value, Parallel) else "step-item"


#: A phase entry: a step, or a ``parallel`` group of steps.
PhaseItem = Annotated[
    Union[Annotated[Step, Tag("step-item")], Annotated[Parallel, Tag("parallel-group")]],
    Discriminator(_item_kind),
]


class Match(BaseModel):
    """Conditions on the normalised alert; all given must hold (an empty match never matches)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_names: list[str] = Field(default_factory=list)
    resource_types: list[str] = Field(default_factory=list)
    monitoring_services: list[str] = Field(default_factory=list)
    signal_types: list[str] = Field(default_factory=list)
    max_severity: int | None = Field(default=None, ge=0, le=4)

    @property
    def empty(self) -> bool:
        return not (self.rule_names or self.resource_types or self.monitoring_services or self.signal_types) and self.max_severity is None


class Playbook(BaseModel):
    """A playbook file. Phases hold steps or parallel groups, run in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN)
    version: str = "1"
    description: str = ""
    priority: int = Field(default=100, ge=0, le=10_000)
    match: Match = Field(default_factory=Match)
    analyze: list[PhaseItem] = Field(default_factory=list)
    contain: list[PhaseItem] = Field(default_factory=list)
    resolve: list[PhaseItem] = Field(default_factory=list)
    learn: list[PhaseItem] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value

    @model_validator(mode="after")
    def _unique_step_ids(self) -> "Playbook":
        seen: set[str] = set()
        for step in self.steps():
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice; step ids must be unique in a playbook")
            seen.add(step.id)
        return self

    def steps(self, phase: str | None = None) -> list[Step]:
        """Every step (of one phase, or all), parallel groups flattened, in order."""
        phases = [phase] if phase else ["analyze", "contain", "resolve", "learn"]
        out: list[Step] = []
        for name in phases:
            for item in getattr(self, name):
                out.extend(item.parallel if isinstance(item, Parallel) else [item])
        return out

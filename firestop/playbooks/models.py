"""The playbook format (pydantic v2; ``Playbook.model_json_schema()`` is its JSON Schema).

```yaml
name: leaked-api-key            # unique, lower-case, dashes
version: "1.0"
description: ...                # what happened and what the playbook does
detect: {scheduled_query_rules: [...], activity_log_alerts: [...], metric_alerts: [...]}  # firestop.playbooks.detect
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

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
# Every model here and in detect.py is defer_build: its validator is built when a playbook is first validated (a
# user's or an edited file, a playbook passed on that is not a shipped one). The shipped playbooks were validated
# when compiled and are built from that form without validation (firestop/playbooks/trusted.py), so `alert handle`
# builds none of them (~11 ms of CPU at import before).
from typing import Annotated, Any, Literal, Union

from firestop.empty import new_dict, new_list
from firestop.lazy_re import LazyPattern
from firestop.playbooks.detect import Detect
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_NAME = LazyPattern(NAME_PATTERN, 0, globals())  # compiled on first use (never on alert handle)


def _plain_name(value: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{value!r} is not a valid name: use lower-case letters, digits and dashes (e.g. leaked-api-key), at most 63 characters")
    return value


PlainName = Annotated[str, AfterValidator(_plain_name)]

#: Validation context that checks each step's runbook by name only, not its ``with`` parameters against the
#: runbook's model (which imports the runbook's module): routing an alert reads every playbook this way and then
#: validates the chosen one in full (:func:`firestop.playbooks.loader.route_playbook`). Nothing acts on a playbook
#: validated with it.
NAMES_ONLY = {"runbook_params": False}


class Retry(BaseModel):
    """Retries of a step whose runbook failed with a retryable error (throttled, conflict, transient).
    Intervals in seconds; the wait is a durable timer, max(interval, the service's Retry-After)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    max_attempts: int = Field(default=3, ge=1, le=10)
    first_interval_seconds: float = Field(default=5.0, ge=0, le=3600)
    backoff_coefficient: float = Field(default=2.0, ge=1, le=10)
    max_interval_seconds: float = Field(default=60.0, ge=0, le=3600)

    def interval(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.first_interval_seconds * self.backoff_coefficient ** (attempt - 1), self.max_interval_seconds)


EXPRESSION_ROOTS = frozenset({"alert", "target", "steps", "incident"})


def _check_expression(text: str) -> str:
    from firestop.playbooks.expressions import ExpressionError, parse_expression

    try:
        parse_expression(text, roots=EXPRESSION_ROOTS)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    return text


class Approval(BaseModel):
    """A human gate before a step acts.

    mode: ``auto`` (no gate), ``required``, or ``required_if`` (gate when ``condition`` holds —
    or cannot be decided: fail closed). approvers: Entra object IDs or group IDs allowed to
    decide (empty: any authenticated responder). two_person: the approver must differ from
    whoever requested the incident. timeout_seconds: how long to wait; on_timeout: ``abort``
    (default, fail closed), ``proceed``, or ``escalate`` (``notify.webhook`` to the team, wait one more
    timeout, then abort). page: who is paged when the approval is requested (on-call names, object or group
    IDs; empty: the playbook's ``page``; nobody when both are empty) — the page goes to the notification
    channel (``notify.webhook``) with the console link and the CLI command; remind_every: seconds between
    reminders to them until the step is decided or times out (none when unset).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    mode: Literal["auto", "required", "required_if"] = "required"
    condition: str | None = None
    approvers: list[str] = Field(default_factory=new_list)
    two_person: bool = False
    timeout_seconds: float = Field(default=900.0, gt=0, le=7 * 24 * 3600, alias="timeout")
    on_timeout: Literal["abort", "proceed", "escalate"] = "abort"
    page: list[str] = Field(default_factory=new_list, max_length=50)
    remind_every_seconds: float | None = Field(default=None, ge=60, le=24 * 3600, alias="remind_every")

    @field_validator("condition")
    @classmethod
    def _condition_parses(cls, value: str | None) -> str | None:
        return _check_expression(value) if value is not None else None

    @model_validator(mode="after")
    def _condition_matches_mode(self) -> "Approval":
        if self.mode == "required_if" and not self.condition:
            raise ValueError("mode required_if needs a condition, e.g. \"alert.severity <= 1\"")
        if self.mode != "required_if" and self.condition:
            raise ValueError(f"condition is only used with mode required_if (mode is {self.mode})")
        return self


class Step(BaseModel):
    """One runbook run: ``runbook`` on the alert's target of the runbook's type, with parameters ``with``.

    when: a condition (expression) — the step is skipped unless it holds. timeout_seconds: the
    step fails (kind ``timeout``) if its runbook has not answered by then. on_failure: ``abort``
    (stop containment; a responder takes over), ``continue`` (go on with the next steps), or
    ``rollback`` (undo the containment steps completed so far, newest first, then stop). A step whose
    runbook only keeps evidence (``evidence.*``) never stops containment, whatever on_failure says: its
    failure is recorded as an evidence gap and the next steps run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    id: PlainName
    runbook: str
    #: The resource to act on, when not the alert's target (e.g. an NSG: ``${{ alert.custom_properties.firestop-nsg }}``).
    target: str | None = None
    with_: dict[str, Any] = Field(default_factory=new_dict, alias="with")
    when: str | None = None
    retry: Retry = Field(default_factory=Retry)
    timeout_seconds: float | None = Field(default=None, gt=0, le=24 * 3600, alias="timeout")
    on_failure: Literal["abort", "continue", "rollback"] = "abort"
    approval: Approval | None = None

    @field_validator("when")
    @classmethod
    def _when_parses(cls, value: str | None) -> str | None:
        return _check_expression(value) if value is not None else None

    @field_validator("target")
    @classmethod
    def _target_form(cls, value: str | None) -> str | None:
        from firestop.playbooks.expressions import templates_in

        if value is None:
            return None
        for text in templates_in(value):
            _check_expression(text)
        if not templates_in(value) and not value.lower().startswith("/subscriptions/"):
            raise ValueError(f"{value!r} is not a resource ID; use /subscriptions/... or an expression like ${{{{ alert.custom_properties.firestop-nsg }}}}")
        return value

    @field_validator("with_")
    @classmethod
    def _templates_parse(cls, value: dict[str, Any]) -> dict[str, Any]:
        from firestop.playbooks.expressions import templates_in

        for text in templates_in(value):
            _check_expression(text)
        return value

    @classmethod
    def internal(cls, step_id: str, runbook: str, params: dict[str, Any]) -> "Step":
        """A step Firestop adds itself (the record's filing, a page), not a playbook's: built as given, not validated.
        ``step_id`` and ``runbook`` are Firestop's constants; ``params`` (the record, a page's text, which carry
        outside text such as an alert rule's name) go to the runbook as they are and the runbook validates them
        when it runs — they are not a playbook's templates to check (an alert rule named ``${{ x }}`` failed the
        incident before its record was filed)."""
        return cls.model_construct(id=step_id, runbook=runbook, with_=params, retry=Retry.model_construct())

    def referenced_steps(self) -> set[str]:
        """Step ids this step's expressions read (``steps.<id>...``)."""
        from firestop.playbooks.expressions import _paths, parse_expression, templates_in

        texts = [*templates_in(self.with_), *templates_in(self.target or ""), *([self.when] if self.when else [])]
        if self.approval and self.approval.condition:
            texts.append(self.approval.condition)
        refs: set[str] = set()
        for text in texts:
            for path in _paths(parse_expression(text)):
                if path[0] == "steps" and len(path) > 1:
                    refs.add(str(path[1]))
        return refs

    @field_validator("runbook")
    @classmethod
    def _known_runbook(cls, value: str) -> str:
        from runbooks import runbook_names

        names = runbook_names()
        if value not in names:
            raise ValueError(f"unknown runbook {value!r}; use one of: {', '.join(names)}")
        return value

    @model_validator(mode="after")
    def _params_valid(self, info: ValidationInfo) -> "Step":
        from pydantic import ValidationError

        if isinstance(info.context, dict) and info.context.get("runbook_params") is False:
            return self  # NAMES_ONLY: the runbook was checked by name (_known_runbook)

        from runbooks import get_runbook

        from firestop.playbooks.expressions import templates_in

        templated = {k for k, v in self.with_.items() if templates_in(v)}
        literal = {k: v for k, v in self.with_.items() if k not in templated}
        try:
            get_runbook(self.runbook).parse_params(literal)
        except ValidationError as exc:
            errors = [
                e for e in exc.errors() if not (e.get("type") == "missing" and e["loc"] and e["loc"][0] in templated)
            ]
            if not errors:
                return self
            problems = "; ".join(
                f"with.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors
            )
            raise ValueError(f"parameters for {self.runbook} are invalid: {problems}") from None
        return self


class UndoStep(BaseModel):
    """Undo an earlier step (e.g. lift a temporary network lock once service is restored), usually
    behind an approval. Runs the runbook's ``undo`` with what that step applied; refused by the
    runbook when the target changed since."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    id: PlainName
    undo: PlainName = Field(description="id of the earlier step to undo")
    when: str | None = None
    approval: Approval | None = None
    on_failure: Literal["abort", "continue"] = "continue"

    @field_validator("when")
    @classmethod
    def _when_parses(cls, value: str | None) -> str | None:
        return _check_expression(value) if value is not None else None

    def referenced_steps(self) -> set[str]:
        return {self.undo}


def _member_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "undo-item" if "undo" in value else "step-item"
    return "undo-item" if isinstance(value, UndoStep) else "step-item"


GroupMember = Annotated[
    Union[Annotated[Step, Tag("step-item")], Annotated[UndoStep, Tag("undo-item")]],
    Discriminator(_member_kind),
]


class Parallel(BaseModel):
    """Steps that run together (fan-out/fan-in); the group ends when all have ended."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    parallel: list[GroupMember] = Field(min_length=1)


def _item_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "parallel" in value:
            return "parallel-group"
        return "undo-item" if "undo" in value else "step-item"
    if isinstance(value, Parallel):
        return "parallel-group"
    return "undo-item" if isinstance(value, UndoStep) else "step-item"


#: A phase entry: a step, an undo of an earlier step, or a ``parallel`` group of steps.
PhaseItem = Annotated[
    Union[
        Annotated[Step, Tag("step-item")],
        Annotated[UndoStep, Tag("undo-item")],
        Annotated[Parallel, Tag("parallel-group")],
    ],
    Discriminator(_item_kind),
]


class Match(BaseModel):
    """Conditions on the normalised alert; all given must hold (an empty match never matches)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    rule_names: list[str] = Field(default_factory=new_list)
    rule_ids: list[str] = Field(default_factory=new_list)
    resource_types: list[str] = Field(default_factory=new_list)
    monitoring_services: list[str] = Field(default_factory=new_list)
    signal_types: list[str] = Field(default_factory=new_list)
    #: Severity range, Sev0 (0, most severe) .. Sev4 (4): min_severity <= severity <= max_severity.
    min_severity: int | None = Field(default=None, ge=0, le=4)
    max_severity: int | None = Field(default=None, ge=0, le=4)
    #: Custom properties of the alert rule that must be present with these values (case-insensitive keys).
    custom_properties: dict[str, str] = Field(default_factory=new_dict)

    @model_validator(mode="after")
    def _range(self) -> "Match":
        if self.min_severity is not None and self.max_severity is not None and self.min_severity > self.max_severity:
            raise ValueError(f"min_severity {self.min_severity} is above max_severity {self.max_severity}")
        return self

    @property
    def empty(self) -> bool:
        return not (
            self.rule_names
            or self.rule_ids
            or self.resource_types
            or self.monitoring_services
            or self.signal_types
            or self.custom_properties
            or self.min_severity is not None
            or self.max_severity is not None
        )


class Playbook(BaseModel):
    """A playbook file. Phases hold steps or parallel groups, run in order."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: PlainName
    version: str = "1"
    description: str = ""
    priority: int = Field(default=100, ge=0, le=10_000)
    #: Incident severity at least this high (Sev0 = 0 is the most severe); the alert's own severity otherwise.
    severity: int | None = Field(default=None, ge=0, le=4)
    match: Match = Field(default_factory=Match)
    #: The alert rules that route to this playbook (:mod:`firestop.playbooks.detect`).
    detect: Detect = Field(default_factory=Detect)
    analyze: list[PhaseItem] = Field(default_factory=new_list)
    contain: list[PhaseItem] = Field(default_factory=new_list)
    resolve: list[PhaseItem] = Field(default_factory=new_list)
    learn: list[PhaseItem] = Field(default_factory=new_list)
    #: Who is paged (on-call names, object or group IDs) for an approval whose own ``page`` is empty and for a
    #: needs_responder outcome; nobody when empty.
    page: list[str] = Field(default_factory=new_list, max_length=50)

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

    @model_validator(mode="after")
    def _references_point_back(self) -> "Playbook":
        earlier: set[str] = set()
        for phase in ("analyze", "contain", "resolve", "learn"):
            for item in getattr(self, phase):
                group = item.parallel if isinstance(item, Parallel) else [item]
                for step in group:
                    unknown = step.referenced_steps() - earlier
                    if unknown:
                        raise ValueError(
                            f"step {step.id!r} reads steps.{sorted(unknown)[0]}, which does not run before it "
                            "(a step may only read steps of earlier groups)"
                        )
                earlier.update(s.id for s in group)
        return self

    def steps(self, phase: str | None = None) -> list[Union[Step, "UndoStep"]]:
        """Every step (of one phase, or all), parallel groups flattened, in order."""
        phases = [phase] if phase else ["analyze", "contain", "resolve", "learn"]
        out: list[Step] = []
        for name in phases:
            for item in getattr(self, name):
                out.extend(item.parallel if isinstance(item, Parallel) else [item])
        return out

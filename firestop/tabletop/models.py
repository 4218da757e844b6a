"""The tabletop scenario format (pydantic v2) and its loader.

A scenario is one YAML file. Times are **simulated seconds** on the sandbox
tenant's virtual clock, counted from the exercise start ``T0`` (the tenant's
seed clock, or ``tenant.clock``); wall time never matters. Paths are relative
to the scenario file.

```yaml
name: leaked-api-key                  # lower-case, dashes
description: A leaked key is used from an unknown IP.
playbooks: ../../playbooks            # playbook directory (default: FIRESTOP_PLAYBOOKS)
max_duration: 86400                   # stop the exercise after this many simulated seconds
tenant:
  seed: null                          # seed file (default: the built-in sandbox tenant)
  clock: "2026-11-29T03:14:40Z"       # T0 (default: the seed's clock)
  overrides:                          # merged into the seed: mappings merge, lists of
    accounts:                         # named items merge by name, other values replace
      - {name: contoso-openai-prod, properties: {disableLocalAuth: true}}
  role: null                          # az role definition JSON: Firestop holds only this role
attack:                               # or: what the attacker does (firestop.tabletop.attack); the shipped rules
  - {at: 0, kind: requests, account: contoso-openai-prod, from_ip: 203.0.113.77, key: key1, per_minute: 40, duration: 600}
infra_parameters: {strict_rai_policy: contoso-strict}   # with attack: what firestop infra was deployed with
detection:                            # with attack: what the rules must achieve (scorecard "detection")
  {detected: true, within: 240, rules: [aoai-leaked-key-usage], refused_within: 5, served_after_containment: 0, gaps: [],
   cut_off: true}                     # cut_off: served before containment, refused (401/403) after it
alerts:                               # Common Alert Schema payloads (scenarios without attack:)
  - at: 0                             # received at T0 + at
    file: ../../examples/alerts/leaked-key.json      # or payload: {...inline...}
    fired: -38                        # optional: essentials.firedDateTime = T0 + fired
    essentials: {severity: Sev0}      # optional: fields merged into data.essentials
    custom_properties: {}             # optional: replaces data.customProperties
faults:
  scripted: [{operation: accounts.regenerateKey, status: 429, nth: 1, times: 2, retry_after: 5, at: 0}]
  lro: [{operation: accounts.update, seconds: 60, outcome: Succeeded}]
  random: {rate: 0.2, seed: 7, statuses: [429, 503], operations: null, retry_after: 2}
audit: true                           # optional: the checklist audit (firestop.audit) before T0 and after the exercise
responder:                            # simulated answers to approval requests
  - {step: lock-network, decision: approve, by: oid-alice, groups: [], after: 120, comment: "ok"}
expect:                               # one mapping, or a list (one per alert)
  alert: 0                            # which alert's incident (index into alerts; with attack: in arrival order)
  rule: aoai-leaked-key-usage         # or: the incident of this rule's first Fired alert (attack-driven)
  status: contained                   # contained | resolved | needs_responder | no_playbook
  playbook: leaked-api-key
  contained_within: 30                # MTTC <= 30 s (from the alert's receipt)
  steps_ran: [snapshot-logs]          # an action was recorded (succeeded or not)
  steps_succeeded: [rotate-keys, lock-network]
  steps_not_run: []
  forbidden:                          # must NOT happen
    - {runbook: keys.revoke}          # record: no successful action of this runbook
    - {operation: accounts.update}    # request log: no 2xx answer to this sandbox operation
  gaps: ["local (API key) authentication"]   # checklist gaps the record must list (substrings)
  permissions_missing: []             # Azure actions refused with 403 (request log), e.g. Microsoft.CognitiveServices/accounts/write
```

Errors: :class:`ScenarioError` lists every problem as ``file:line: field: message``
(like :class:`firestop.playbooks.loader.PlaybookError`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from firestop.playbooks.models import NAME_PATTERN
from firestop.tabletop.attack import AttackStep, check_bounds
from firestop.yamldoc import YamlFileError, line_of, read_mapping, validation_problems

#: Statuses an incident record can end with (``firestop.lifecycle.outcome``).
STATUSES = ("contained", "resolved", "needs_responder", "no_playbook")
#: Default ``max_duration``: one simulated day.
DEFAULT_MAX_DURATION_S = 24 * 3600.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TenantSpec(_Strict):
    """The simulated tenant the exercise runs on (always a fresh, in-memory sandbox)."""

    seed: str | None = Field(default=None, description="seed file (YAML/JSON) relative to the scenario; default: the built-in tenant")
    clock: datetime | None = Field(default=None, description="exercise start T0 (UTC); default: the seed's clock")
    overrides: dict[str, Any] = Field(default_factory=dict, description="merged into the seed (see module docstring)")
    role: dict[str, Any] | list[dict[str, Any]] | None = Field(
        default=None, description="az role definition (or a list of them, each at its AssignableScopes): the only roles Firestop's identity holds (403 outside them)")

    @field_validator("clock")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    @field_validator("role")
    @classmethod
    def _role_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from firestop.sandbox.authorization.rbac import validate_role

            validate_role(value)
        return value


class AlertSpec(_Strict):
    """One alert delivered to Firestop at ``T0 + at`` seconds."""

    at: float = Field(default=0.0, ge=0, description="seconds after T0 when Firestop receives the alert")
    file: str | None = Field(default=None, description="Common Alert Schema payload (JSON) relative to the scenario")
    payload: dict[str, Any] | None = Field(default=None, description="the payload inline")
    fired: float | None = Field(default=None, description="seconds after T0 (negative: before) written to essentials.firedDateTime")
    essentials: dict[str, Any] = Field(default_factory=dict, description="fields merged into data.essentials (e.g. alertId, monitorCondition)")
    custom_properties: dict[str, Any] | None = Field(default=None, description="replaces data.customProperties (e.g. {} to route by match rules)")

    @model_validator(mode="after")
    def _one_source(self) -> "AlertSpec":
        if (self.file is None) == (self.payload is None):
            raise ValueError("give exactly one of file (a payload path) or payload (inline)")
        if self.fired is not None and self.fired > self.at:
            raise ValueError(f"fired ({self.fired:g} s) is after the alert is received (at {self.at:g} s)")
        return self


class ScriptedFault(_Strict):
    """``tenant.inject_fault``: calls nth..nth+times-1 of ``operation`` (counted from ``at``) answer ``status``."""

    operation: str
    status: int = Field(ge=400, le=599)
    nth: int = Field(default=1, ge=1)
    times: int = Field(default=1, ge=1)
    retry_after: float | None = Field(default=None, ge=0, description="seconds sent as Retry-After")
    at: float = Field(default=0.0, ge=0, description="seconds after T0 when the fault is armed")


class LroFault(_Strict):
    """``tenant.inject_lro_fault``: the LRO started by ``operation`` runs ``seconds`` and/or ends ``outcome``."""

    operation: str
    seconds: float | None = Field(default=None, ge=0)
    outcome: Literal["Succeeded", "Failed", "Canceled"] = "Succeeded"
    code: str | None = None
    message: str | None = None
    nth: int = Field(default=1, ge=1)
    times: int = Field(default=1, ge=1)
    at: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _does_something(self) -> "LroFault":
        if self.seconds is None and self.outcome == "Succeeded":
            raise ValueError("an LRO fault needs seconds (a slow operation) or an outcome other than Succeeded")
        return self


class RandomFaults(_Strict):
    """``tenant.inject_random_faults`` (armed at T0): a seeded-random ``rate`` of calls fail."""

    rate: float = Field(gt=0, le=1)
    seed: int = 0
    statuses: list[int] = Field(default_factory=lambda: [429, 500, 503], min_length=1)
    operations: list[str] | None = None
    retry_after: float | None = Field(default=None, ge=0)

    @field_validator("statuses")
    @classmethod
    def _errors(cls, value: list[int]) -> list[int]:
        bad = [s for s in value if not 400 <= s <= 599]
        if bad:
            raise ValueError(f"statuses must be HTTP error statuses (400-599), got {bad}")
        return value


class Faults(_Strict):
    scripted: list[ScriptedFault] = Field(default_factory=list)
    lro: list[LroFault] = Field(default_factory=list)
    random: RandomFaults | None = None


class Answer(_Strict):
    """A responder's simulated decision on an approval request, ``after`` seconds after it was requested."""

    step: str = Field(description="the step waiting for approval")
    decision: Literal["approve", "reject"]
    by: str = Field(min_length=1, description="the responder's Entra object ID")
    groups: list[str] = Field(default_factory=list, description="group object IDs the responder belongs to")
    after: float = Field(default=0.0, ge=0, description="seconds after the approval was requested")
    comment: str | None = None
    alert: int | None = Field(default=None, ge=0, description="only for the incident of this alert (index); default any")


class Forbidden(_Strict):
    """Something that must NOT happen: a runbook's successful action (record) or a sandbox operation (request log)."""

    runbook: str | None = Field(default=None, description="no successful action of this runbook in the record")
    operation: str | None = Field(default=None, description="no 2xx answer to this sandbox operation (request log)")
    path_contains: str | None = Field(default=None, description="with operation: only requests whose path contains this (case-insensitive)")
    why: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Forbidden":
        if (self.runbook is None) == (self.operation is None):
            raise ValueError("give exactly one of runbook (checked in the record) or operation (checked in the sandbox request log)")
        if self.path_contains is not None and self.operation is None:
            raise ValueError("path_contains applies to operation entries only")
        return self

    @property
    def label(self) -> str:
        if self.runbook:
            return f"runbook {self.runbook}"
        return f"operation {self.operation}" + (f" on *{self.path_contains}*" if self.path_contains else "")


class Expectation(_Strict):
    """The expected outcome of one alert's incident. Every field given is checked; omitted ones are not."""

    alert: int = Field(default=0, ge=0, description="index of the alert whose incident this describes")
    rule: str | None = Field(default=None, description="attack-driven: the incident of the first Fired alert of this rule (name prefix), instead of alert")
    status: Literal["contained", "resolved", "needs_responder", "no_playbook"] | None = None
    playbook: str | None = None
    contained_within: float | None = Field(default=None, gt=0, description="MTTC (seconds after receipt) at most this")
    steps_ran: list[str] = Field(default_factory=list)
    steps_succeeded: list[str] = Field(default_factory=list)
    steps_not_run: list[str] = Field(default_factory=list)
    forbidden: list[Forbidden] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list, description="checklist gaps the record must list (case-insensitive substrings)")
    permissions_missing: list[str] = Field(default_factory=list, description="Azure actions the sandbox must have refused (403 in the request log)")


class DetectionExpectation(_Strict):
    """What detection must achieve in an attack-driven scenario (``attack:``); every field given is checked."""

    detected: bool | None = Field(default=None, description="some rule fired and its alert reached Firestop")
    within: float | None = Field(default=None, gt=0, description="MTTD from the first malicious request at most this (s)")
    rules: list[str] = Field(default_factory=list, description="rules that must have fired")
    refused_within: float | None = Field(default=None, gt=0, description="attacker refused (401/403) at most this long after the alert was received")
    served_after_containment: int | None = Field(default=None, ge=0, description="malicious requests served after containment at most this")
    cut_off: bool | None = Field(default=None, description="containment cut the attacker off (served before, every request after refused "
                                                           "401/403) — false says the playbook keeps evidence or slows the attacker, no more")
    gaps: list[str] = Field(default_factory=list, description="detection gaps that must be reported (case-insensitive substrings)")


class Scenario(_Strict):
    """A tabletop scenario file. ``path`` is set by :func:`load_scenario` (not part of the file)."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    playbooks: str | None = Field(default=None, description="playbook directory relative to the scenario (default FIRESTOP_PLAYBOOKS)")
    max_duration: float = Field(default=DEFAULT_MAX_DURATION_S, gt=0, le=30 * 24 * 3600)
    tenant: TenantSpec = Field(default_factory=TenantSpec)
    alerts: list[AlertSpec] = Field(default_factory=list, description="alert payloads; or none, with attack:")
    attack: list[AttackStep] = Field(default_factory=list, description="attacker activity (firestop.tabletop.attack); alerts then come from the rules")
    faults: Faults = Field(default_factory=Faults)
    responder: list[Answer] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    detection: DetectionExpectation | None = None
    infra_parameters: dict[str, str] = Field(default_factory=dict, description="with attack: what firestop infra was deployed "
                                             "with beyond what the exercise derives (nsg_id, automation_principal_id), e.g. "
                                             "{strict_rai_policy: contoso-strict} (firestop.playbooks.detect.KNOWN_PLACEHOLDERS)")
    audit: bool = Field(default=False, description="audit the tenant (firestop.audit) before the first alert and after the "
                                                  "exercise; the scorecard shows both and what changed")
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("infra_parameters")
    @classmethod
    def _known_parameters(cls, value: dict[str, str]) -> dict[str, str]:
        from firestop.playbooks.detect import KNOWN_PLACEHOLDERS

        for name, text in value.items():
            if name not in KNOWN_PLACEHOLDERS:
                raise ValueError(f"unknown infra parameter {name!r}; known: {', '.join(sorted(KNOWN_PLACEHOLDERS))}")
            if len(text) > 1024:
                raise ValueError(f"infra parameter {name!r} is longer than 1024 characters")
        return value

    @field_validator("expect", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _indices(self) -> "Scenario":
        if not self.alerts and not self.attack:
            raise ValueError("give alerts (Common Alert Schema payloads) or attack (what the attacker does)")
        if not self.expect and self.detection is None:
            raise ValueError("give expect (per incident) or detection (what the rules must achieve)")
        if self.infra_parameters and not self.attack:
            raise ValueError("infra_parameters apply to the rules an attack: exercise deploys; this scenario has no attack")
        if self.detection is not None and not self.attack:
            raise ValueError("detection: expectations need an attack: section (alerts from files are not detected by rules)")
        check_bounds(self.attack)
        for i, exp in enumerate(self.expect):
            if exp.alert >= len(self.alerts) and not self.attack:
                raise ValueError(f"expect[{i}].alert is {exp.alert} but the scenario has {len(self.alerts)} alert(s) (0-based)")
        for i, ans in enumerate(self.responder):
            if ans.alert is not None and ans.alert >= len(self.alerts) and not self.attack:
                raise ValueError(f"responder[{i}].alert is {ans.alert} but the scenario has {len(self.alerts)} alert(s) (0-based)")
        return self

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """``relative`` (a path in the file) against the scenario's folder."""
        p = Path(relative)
        return p if p.is_absolute() else (self.base_dir / p)

    def playbooks_dir(self) -> Path | None:
        return self.resolve(self.playbooks) if self.playbooks else None


class ScenarioError(YamlFileError):
    """A scenario file is invalid. ``problems``: list of (line or None, field path, message)."""


def load_scenario(path: Path | str) -> Scenario:
    """Parse and validate a scenario file, including the files it names.

    Checks beyond the schema: alert payload files exist and parse as Common
    Alert Schema alerts, the seed file and the playbook directory exist, fault
    operations are sandbox operations, and a scenario-local playbook directory
    holds valid playbooks.

    Raises:
        ScenarioError: every problem found, each with line and field.
    """
    path = Path(path)
    data, node = read_mapping(path, ScenarioError, "scenario is a YAML mapping with name, alerts and expect")
    try:
        scenario = Scenario.model_validate({**data, "path": path.resolve()})
    except ValidationError as exc:
        raise ScenarioError(path, _as_written(data, validation_problems(
            exc, node, drop=lambda p: p == "path" or _is_union_tag(p),
            format_help="firestop/tabletop/models.py (README, Tabletop exercises)"))) from None
    problems = _check_references(scenario)
    if problems:
        problems = [(_written_loc(data, loc), msg) for loc, msg in problems]
        raise ScenarioError(path, [(line_of(node, loc), ".".join(str(p) for p in loc), msg) for loc, msg in problems])
    return scenario


#: Fields a scenario may give as one mapping instead of a list of them (``Scenario._one_or_many``).
_ONE_OR_MANY = ("expect",)


def _written_loc(data: dict[str, Any], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` as the file wrote it: ``expect.0.contained_within`` is ``expect.contained_within`` where ``expect:`` is
    one mapping (the validator made it a list of one; an index the file does not have would send its writer looking
    for a list)."""
    if len(loc) >= 2 and loc[0] in _ONE_OR_MANY and loc[1] == 0 and isinstance(data.get(loc[0]), dict):
        return (loc[0], *loc[2:])
    return loc


def _parts(field: str) -> tuple[Any, ...]:
    """A problem's dotted field back as a location (numbers as list indices)."""
    return tuple(int(p) if p.isdigit() else p for p in field.split(".")) if field else ()


def _is_union_tag(part: Any) -> bool:
    """pydantic's label of a union member in an error location (``dict[str,any]``, ``list[dict[str,any]]``): not a
    key the file has."""
    return isinstance(part, str) and "[" in part


def _as_written(data: dict[str, Any], problems: list[tuple[int | None, str, str]]) -> list[tuple[int | None, str, str]]:
    """``problems`` (line, dotted field, message) with each field as the file wrote it (:func:`_written_loc`; the line
    is right already: :func:`firestop.yamldoc.line_of` skips an index where a mapping stands), and one problem per
    field: a union (``tenant.role``: one mapping or a list of them) that no member accepts gives one error per member
    at the same field — joined into one ("… a valid dictionary, or a valid list"); when a member went deeper (an item
    of the list is wrong), the shallower members' type errors are left out: the value has that member's shape."""
    problems = [(line, ".".join(str(p) for p in _written_loc(data, _parts(field))), message) for line, field, message in problems]
    fields = [field for _, field, _ in problems]
    out: list[tuple[int | None, str, str]] = []
    for line, field, message in problems:
        if any(other.startswith(field + ".") for other in fields):
            continue  # another member of the union accepted the shape and found the real problem deeper
        same = [i for i, (_, f, _) in enumerate(out) if f == field]
        if same:
            first = out[same[0]]
            if message not in first[2]:
                out[same[0]] = (first[0], field, f"{first[2]}, or {message.removeprefix('Input should be ')}"
                                if message.startswith("Input should be") else f"{first[2]}; or {message}")
            continue
        out.append((line, field, message))
    return out


def alert_payload(scenario: Scenario, index: int) -> dict[str, Any]:
    """The JSON payload of ``scenario.alerts[index]`` (a fresh copy) with its ``essentials`` and
    ``custom_properties`` applied. OSError/ValueError if the file is unreadable or not a JSON object."""
    spec = scenario.alerts[index]
    if spec.payload is not None:
        payload = json.loads(json.dumps(spec.payload))
    else:
        payload = json.loads(scenario.resolve(spec.file).read_text("utf-8"))  # type: ignore[arg-type]
    if spec.essentials or spec.custom_properties is not None:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("essentials"), dict):
            raise ValueError("the payload has no data.essentials object to change")
        data["essentials"].update(json.loads(json.dumps(spec.essentials)))
        if spec.custom_properties is not None:
            data["customProperties"] = dict(spec.custom_properties)
    return payload


def _check_references(scenario: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    from firestop.alerts import AlertPayloadError, parse_alert
    from firestop.playbooks.loader import PlaybookError, load_playbooks
    from firestop.sandbox.core.faults import LRO_OPERATIONS
    from firestop.sandbox.core.rooms import all_routes

    problems: list[tuple[tuple[Any, ...], str]] = []
    for i, spec in enumerate(scenario.alerts):
        where = ("alerts", i, "file" if spec.file is not None else "payload")
        if spec.file is not None and not scenario.resolve(spec.file).is_file():
            problems.append((where, f"{scenario.resolve(spec.file)} does not exist; give a Common Alert Schema payload file"))
            continue
        try:
            parse_alert(alert_payload(scenario, i))
        except (OSError, ValueError, AlertPayloadError) as exc:
            problems.append((where, f"not a usable alert: {exc}"))
    if scenario.tenant.seed is not None and not scenario.resolve(scenario.tenant.seed).is_file():
        problems.append((("tenant", "seed"), f"{scenario.resolve(scenario.tenant.seed)} does not exist"))
    else:
        from firestop.tabletop.runner import build_tenant

        try:
            tenant = build_tenant(scenario)
        except Exception as exc:  # noqa: BLE001 — any seed/override mistake surfaces here
            where = ("tenant", "overrides") if scenario.tenant.overrides else ("tenant", "seed")
            problems.append((where, f"the seed with these overrides does not build a tenant: {type(exc).__name__}: {exc}"))
        else:
            accounts = {r.get("name", "").lower() for r in tenant._state.doc["resources"].values()  # noqa: SLF001 — the scenario's own tenant
                        if r.get("type", "").lower() == "microsoft.cognitiveservices/accounts"}
            for i, step in enumerate(scenario.attack):
                if step.account.lower() not in accounts:
                    problems.append((("attack", i, "account"), f"the tenant has no account {step.account!r}; give one of {sorted(accounts)}"))
    directory = scenario.playbooks_dir()
    if directory is not None:
        if not directory.is_dir():
            problems.append((("playbooks",), f"{directory} is not a directory of playbooks"))
        else:
            try:
                if not load_playbooks(directory):
                    problems.append((("playbooks",), f"{directory} holds no playbook (*.yaml)"))
            except PlaybookError as exc:
                problems.append((("playbooks",), f"invalid playbook: {exc}"))
    operations = {r.operation for r in all_routes()}
    for i, fault in enumerate(scenario.faults.scripted):
        if fault.operation not in operations:
            problems.append((("faults", "scripted", i, "operation"), f"unknown sandbox operation {fault.operation!r}; known: {', '.join(sorted(operations))}"))
    for i, fault in enumerate(scenario.faults.lro):
        if fault.operation not in LRO_OPERATIONS:
            problems.append((("faults", "lro", i, "operation"), f"{fault.operation!r} starts no long-running operation; use one of {', '.join(LRO_OPERATIONS)}"))
    for i, op in enumerate((scenario.faults.random.operations or []) if scenario.faults.random else []):
        if op not in operations:
            problems.append((("faults", "random", "operations", i), f"unknown sandbox operation {op!r}"))
    for i, exp in enumerate(scenario.expect):
        for j, item in enumerate(exp.forbidden):
            if item.operation is not None and item.operation not in operations:
                problems.append((("expect", i, "forbidden", j, "operation"), f"unknown sandbox operation {item.operation!r}; known: {', '.join(sorted(operations))}"))
            if item.runbook is not None:
                from runbooks import runbook_names

                if item.runbook not in runbook_names():
                    problems.append((("expect", i, "forbidden", j, "runbook"), f"unknown runbook {item.runbook!r}; use one of: {', '.join(runbook_names())}"))
    return problems

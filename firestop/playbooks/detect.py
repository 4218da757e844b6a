"""The ``detect:`` section of a playbook: the Azure Monitor alert rules that route to it.

```yaml
detect:
  scheduled_query_rules:            # Log Alerts V2, resource-centric on each protected account
    - name: aoai-leaked-key-usage
      description: Key-authenticated calls from outside the known egress ranges
      severity: 1
      query: |
        AzureDiagnostics
        | where Category == "RequestResponse" and CallerIPAddress !in ("198.51.100.10")
        | summarize requests = count() by CallerIPAddress
      time_aggregation: Total       # Count | Total | Average | Minimum | Maximum
      metric_measure_column: requests
      operator: GreaterThan
      threshold: 20
      dimensions: [CallerIPAddress] # one alert per value
      evaluation_frequency: PT1M    # ISO 8601, PT1M..P1D
      window_size: PT5M
      failing_periods: {evaluations: 1, min_failing: 1}
      auto_mitigate: true
      mute_actions_duration: PT0M   # optional
    - name: aoai-anomalous-usage-apim   # workspace-scoped: rows another resource (API Management) sent
      scope: workspace              # account (default: on each protected account) | workspace (the Log Analytics
                                    # workspace firestop infra is given, one rule per protected account)
      resource_id_column: AccountId # workspace scope: the query's column holding the account's resource id;
                                    # each alert targets that account (Log Alerts V2 Condition.resourceIdColumn)
      query: |
        ApiManagementGatewayLogs
        | where BackendUrl startswith "{account_endpoint}"
        | extend AccountId = "{account_id}"
        | summarize requests = count() by ApimSubscriptionId, CallerIpAddress, AccountId
      ...
  activity_log_alerts:              # subscription scope
    - name: aoai-suspicious-key-access
      category: Administrative      # Administrative | Security | Policy | ...
      operation_names: [Microsoft.CognitiveServices/accounts/listKeys/action]
      status: Succeeded             # optional
      caller: null                  # optional: equals this caller (UPN or object id)
  metric_alerts:                    # on each protected account
    - name: aoai-anomalous-usage-requests
      metric: AzureOpenAIRequests   # Cognitive Services metrics (AzureOpenAIRequests, RAIRejectedRequests, ...)
      time_aggregation: Total
      dimensions:                   # a name: one alert per value; {name, values}: only those values, one alert each
        - {name: StatusCode, values: ["401"]}   # operator: Include (default) | Exclude
      operator: GreaterThan
      threshold: 50                 # static, or
      dynamic: {sensitivity: Medium, operator: GreaterThan, failing_periods: {evaluations: 4, min_failing: 4}}
      evaluation_frequency: PT1M
      window_size: PT5M
      custom_properties: {firestop-metric-signal: refused-calls}   # only with StatusCode values among 401/403
```

Placeholders ``{name}`` (:data:`KNOWN_PLACEHOLDERS`) are filled when a rule is deployed; ``{account_id}``
and ``{account_endpoint}`` (:data:`ACCOUNT_PLACEHOLDERS`) per protected account, so a workspace-scoped
rule reads that account's share of rows another resource sent (API Management's gateway rows name the
account's endpoint in ``BackendUrl``) and hands the account's id to ``resourceIdColumn``.

Refused-only signals (:data:`SIGNAL_PROPERTY` on a scheduled query rule whose query provably keeps 401/403 only;
:data:`METRIC_SIGNAL_PROPERTY` on a metric alert whose ``StatusCode`` dimension keeps 401/403 only) are checked here,
when the playbook loads; a playbook's approval conditions may read them from ``alert.custom_properties``.

Every rule carries the custom property ``firestop-playbook: <playbook name>`` (added by
:func:`arm_properties`; a rule may not name another playbook), so routing is explicit. Shapes
follow the ARM resources (REST specs ``scheduledQueryRule_API.json`` 2023-12-01,
``activityLogAlerts_API.json`` 2020-10-01, ``metricAlert_API.json`` 2018-03-01); a query's
columns are checked where it runs (the sandbox's KQL engine refuses a wrong column as Azure
refuses the rule; ``tests/playbooks/test_detect_rules.py`` deploys every shipped rule).
"""

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
# defer_build: built when first used to validate; never on `alert handle`'s path (firestop/playbooks/models.py).
import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firestop.empty import new_dict, new_list
from firestop.lazy_re import LazyPattern

ROUTE_PROPERTY = "firestop-playbook"
#: ``{name}`` placeholders a rule may use (in a query or a custom property value), filled when deployed.
KNOWN_PLACEHOLDERS = {
    "automation_principal_id": "Firestop's own identity (object id), e.g. to leave its key rotations out",
    "nsg_id": "resource ID of the NSG network.block_ips edits",
    "strict_rai_policy": "name of the stricter RAI policy deployment.content_filter may move an abused deployment to (empty: none)",
    "apim_id": "resource ID of the API Management service in front of the accounts (apim.* runbooks' target; empty: none)",
    "account_id": "resource ID of the protected account the rule is deployed for (filled per account)",
    "account_endpoint": "that account's endpoint, e.g. https://contoso-openai-prod.openai.azure.com/ (filled per account)",
}
#: placeholders filled per protected account (``firestop.infra.detection.rule_resources``)
ACCOUNT_PLACEHOLDERS = ("account_id", "account_endpoint")
# The regular expressions here are compiled on first use (firestop.lazy_re): only validating a playbook's rules and
# the rule commands use them, never alert handle (~1 ms of CPU to compile them).
_COLUMN = LazyPattern(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$", 0, globals())
_DURATION = LazyPattern(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", 0, globals())
_RULE_NAME = LazyPattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,259}$", 0, globals())
Operator = Literal["Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"]
Aggregation = Literal["Count", "Total", "Average", "Minimum", "Maximum"]


#: Custom property saying a rule counts only requests a containment refuses (read by ``firestop.intake.aftermath``).
SIGNAL_PROPERTY = "firestop-signal"
FAILED_REQUESTS = "failed-requests"
#: The statuses a containment causes: a revoked key answers 401, a closed network 403 (Azure OpenAI REST errors).
REFUSAL_STATUSES = frozenset({"401", "403"})
#: Custom property saying a *metric* rule counts only refused calls (AzureOpenAIRequests' StatusCode 401/403 series):
#: the playbook's account-wide steps wait for a responder on it (a refused key proves nothing leaked; metric16). Not
#: ``firestop-signal``: that one also makes an alert aftermath (``firestop.intake.aftermath``), which a metric naming no
#: caller never is (RT6-01). Refused by the loader unless every StatusCode the rule keeps is 401/403.
METRIC_SIGNAL_PROPERTY = "firestop-metric-signal"
REFUSED_CALLS = "refused-calls"
_SIGNATURE = LazyPattern(r"ResultSignature\b", re.I, globals())
_SIGNATURE_FILTER = LazyPattern(
    r'ResultSignature\s*(?:==\s*"(\d{3})"|in\s*\(\s*("\d{3}"(?:\s*,\s*"\d{3}")*)\s*\))', re.I, globals())


def refusal_statuses(query: str) -> frozenset[str] | None:
    """The 401/403 statuses ``query`` (KQL text) keeps, when it provably keeps nothing else; else None.

    Provable here means: at least one ``where`` line names ``ResultSignature``; on every such line each mention
    is ``ResultSignature == "4xx"`` or ``ResultSignature in ("4xx", ...)``, the line has no ``or`` (successive
    ``where`` lines are ANDed), and every status named is 401 or 403. Anything else (``!=``, ``startswith``,
    ``or``, a 429 or a 400) is not provable: None.
    """
    lines = [line for line in query.splitlines() if _SIGNATURE.search(line)]
    if not lines:
        return None
    statuses: set[str] = set()
    for line in lines:
        if not line.strip().lstrip("|").strip().lower().startswith("where ") or re.search(r"\bor\b", line, re.I):
            return None
        found = _SIGNATURE_FILTER.findall(line)
        if len(found) != len(_SIGNATURE.findall(line)):
            return None
        for single, listed in found:
            statuses.update([single] if single else re.findall(r"\d{3}", listed))
    return frozenset(statuses) if statuses and statuses <= REFUSAL_STATUSES else None


def duration_seconds(text: str) -> float:
    """ISO 8601 ``PnDTnHnMnS`` -> seconds; ``ValueError`` naming the expected form otherwise."""
    match = _DURATION.match(str(text))
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT5M or PT1H")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return float(((d * 24 + h) * 60 + m) * 60 + s)


def _frequency(value: str) -> str:
    seconds = duration_seconds(value)
    if not 60 <= seconds <= 86400:
        raise ValueError(f"{value!r} is outside PT1M..P1D (Azure Monitor's evaluation frequencies)")
    return value


def _window(value: str) -> str:
    seconds = duration_seconds(value)
    if not 60 <= seconds <= 2 * 86400:
        raise ValueError(f"{value!r} is outside PT1M..P2D (Log Alerts V2 window sizes)")
    return value


class FailingPeriods(BaseModel):
    """Fire when at least ``min_failing`` of the last ``evaluations`` evaluations breached."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    evaluations: int = Field(default=1, ge=1, le=6)
    min_failing: int = Field(default=1, ge=1, le=6)

    @model_validator(mode="after")
    def _ordered(self) -> "FailingPeriods":
        if self.min_failing > self.evaluations:
            raise ValueError(f"min_failing {self.min_failing} is above evaluations {self.evaluations}")
        return self

    def arm(self) -> dict:
        return {"numberOfEvaluationPeriods": self.evaluations, "minFailingPeriodsToAlert": self.min_failing}


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    name: str
    description: str = Field(default="", max_length=2048)
    severity: int = Field(default=2, ge=0, le=4)
    enabled: bool = True
    #: Extra custom properties (e.g. ``firestop-nsg``); ``firestop-playbook`` is added for you.
    custom_properties: dict[str, str] = Field(default_factory=new_dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _RULE_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid alert rule name: letters, digits, '-', '_', '.', at most 260 characters")
        return value

    @model_validator(mode="after")
    def _refusals_only(self) -> "_Rule":
        """``firestop-signal: failed-requests`` only on a rule whose condition provably counts 401/403 refusals."""
        signal = {k.strip().lower(): str(v).strip().lower() for k, v in self.custom_properties.items()}.get(SIGNAL_PROPERTY)
        if signal is None:
            return self
        if signal != FAILED_REQUESTS:
            raise ValueError(f"custom property {SIGNAL_PROPERTY}: {signal!r} is unknown; the only value is {FAILED_REQUESTS!r}")
        query = getattr(self, "query", None)
        if query is None:
            raise ValueError(
                f"rule {self.name!r}: {SIGNAL_PROPERTY}: {FAILED_REQUESTS} needs a scheduled query rule filtering ResultSignature "
                "to 401/403; a metric or activity log alert cannot prove it counts refusals only (RT6-01: ClientErrors, the "
                "Cognitive Services 4xx metric, has no StatusCode dimension; AzureOpenAIRequests split by StatusCode names no "
                "caller, so the contained attacker's refusals and a new attacker's look alike) — remove the property")
        statuses = refusal_statuses(query)
        if statuses is None:
            raise ValueError(
                f"rule {self.name!r}: {SIGNAL_PROPERTY}: {FAILED_REQUESTS} needs every ResultSignature filter of the query to be "
                f'`where ResultSignature == "401"` or `in ("401", "403")` (no `or`, no other status) — remove the property '
                "or narrow the query")
        return self

    @model_validator(mode="after")
    def _metric_refusals_only(self) -> "_Rule":
        """``firestop-metric-signal: refused-calls`` only on a metric alert whose StatusCode dimension keeps named
        401/403 values (``Include``, no ``*``): what fires it was refused, nothing else."""
        signal = {k.strip().lower(): str(v).strip().lower() for k, v in self.custom_properties.items()}.get(METRIC_SIGNAL_PROPERTY)
        if signal is None:
            return self
        if signal != REFUSED_CALLS:
            raise ValueError(f"custom property {METRIC_SIGNAL_PROPERTY}: {signal!r} is unknown; the only value is {REFUSED_CALLS!r}")
        dimensions = getattr(self, "dimensions", None)
        if getattr(self, "metric", None) is None or dimensions is None:
            raise ValueError(f"rule {self.name!r}: {METRIC_SIGNAL_PROPERTY} belongs on a metric alert; a scheduled query rule "
                             f"counting refusals says {SIGNAL_PROPERTY}: {FAILED_REQUESTS} — remove the property")
        status = [d for d in dimensions if isinstance(d, MetricDimension) and d.name.lower() == "statuscode"]
        if (len(status) != 1 or status[0].operator != "Include"
                or not {str(v).strip() for v in status[0].values} <= REFUSAL_STATUSES):
            raise ValueError(
                f"rule {self.name!r}: {METRIC_SIGNAL_PROPERTY}: {REFUSED_CALLS} needs one StatusCode dimension with "
                'operator Include and values among "401", "403" (e.g. {name: StatusCode, values: ["401"]}) — remove the '
                "property or narrow the dimension")
        return self

    def properties_for(self, playbook: str) -> dict[str, str]:
        named = {k.lower(): v for k, v in self.custom_properties.items()}.get(ROUTE_PROPERTY)
        if named is not None and named.strip().lower() != playbook:
            raise ValueError(f"rule {self.name!r} routes to {named!r}, not to its playbook {playbook!r}")
        return {**self.custom_properties, ROUTE_PROPERTY: playbook}


class ScheduledQueryRule(_Rule):
    """A Log Alerts V2 rule (``Microsoft.Insights/scheduledQueryRules``, kind ``LogAlert``).

    ``scope``: ``account`` — resource-centric on each protected account (its own rows); ``workspace`` —
    on the Log Analytics workspace, with ``resource_id_column`` naming the query's column that holds the
    target resource id (REST spec ``scheduledQueryRule_API.json`` 2021-08-01+, ``Condition.resourceIdColumn``:
    "The column containing the resource id. The content of the column must be a uri formatted as resource
    id"), so each alert targets the account, not the workspace, and routes like the account's own alerts.
    """

    scope: Literal["account", "workspace"] = "account"
    resource_id_column: Optional[str] = None
    query: str = Field(min_length=1, max_length=20_000)
    time_aggregation: Aggregation = "Count"
    metric_measure_column: Optional[str] = None
    operator: Operator = "GreaterThan"
    threshold: float = 0
    dimensions: list[str] = Field(default_factory=new_list, max_length=6)
    evaluation_frequency: str = "PT5M"
    window_size: str = "PT5M"
    failing_periods: FailingPeriods = Field(default_factory=FailingPeriods)
    auto_mitigate: bool = True
    mute_actions_duration: Optional[str] = None

    _freq = field_validator("evaluation_frequency")(classmethod(lambda cls, v: _frequency(v)))
    _win = field_validator("window_size")(classmethod(lambda cls, v: _window(v)))

    @model_validator(mode="after")
    def _measure(self) -> "ScheduledQueryRule":
        if self.time_aggregation != "Count" and not self.metric_measure_column:
            raise ValueError(f"time_aggregation {self.time_aggregation} needs metric_measure_column (the query's numeric column)")
        if self.mute_actions_duration is not None:
            duration_seconds(self.mute_actions_duration)
        if self.scope == "workspace" and not self.resource_id_column:
            raise ValueError("scope workspace needs resource_id_column (the query's column holding the account's resource id, "
                             "e.g. extend AccountId = \"{account_id}\"): without it the alert targets the workspace and routes nowhere")
        if self.resource_id_column is not None:
            if self.scope != "workspace":
                raise ValueError("resource_id_column applies to scope workspace only (a rule on an account targets that account)")
            if not _COLUMN.match(self.resource_id_column):
                raise ValueError(f"resource_id_column {self.resource_id_column!r} is not a column name (letters, digits, '_')")
            if self.resource_id_column in self.dimensions:
                raise ValueError(f"resource_id_column {self.resource_id_column!r} is also a dimension; list it once, as resource_id_column")
        return self


class ActivityLogAlert(_Rule):
    """An activity log alert (``Microsoft.Insights/activityLogAlerts``) at subscription scope."""

    category: Literal["Administrative", "Security", "Policy", "ServiceHealth", "ResourceHealth", "Recommendation", "Autoscale"] = "Administrative"
    operation_names: list[str] = Field(default_factory=new_list, max_length=20)
    resource_type: Optional[str] = None
    status: Optional[str] = None
    caller: Optional[str] = None
    #: ``properties.<name>`` contains any of these texts (e.g. ``requestbody``), ``containsAny`` in ARM.
    properties_contain_any: dict[str, list[str]] = Field(default_factory=new_dict, max_length=5)


class DynamicThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    sensitivity: Literal["Low", "Medium", "High"] = "Medium"
    operator: Literal["GreaterThan", "LessThan", "GreaterOrLessThan"] = "GreaterThan"
    failing_periods: FailingPeriods = Field(default_factory=lambda: FailingPeriods(evaluations=4, min_failing=4))


class MetricDimension(BaseModel):
    """A metric alert's dimension with named values (``metricAlert_API.json`` 2018-03-01 ``MetricDimension``: ``name``,
    ``operator`` Include | Exclude, ``values``): each value kept is its own time series. A bare name in
    ``dimensions`` is ``{name, values: ["*"]}`` (every value, present and future)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    name: str = Field(min_length=1, max_length=128)
    operator: Literal["Include", "Exclude"] = "Include"
    values: list[str] = Field(min_length=1, max_length=20)

    @field_validator("values")
    @classmethod
    def _values(cls, values: list[str]) -> list[str]:
        if any(not v or len(v) > 256 for v in values):
            raise ValueError("dimension values are 1 to 256 characters each")
        return values

    def arm(self) -> dict:
        return {"name": self.name, "operator": self.operator, "values": list(self.values)}


class MetricAlert(_Rule):
    """A metric alert (``Microsoft.Insights/metricAlerts``) on each protected account."""

    metric: str = Field(min_length=1, max_length=256)
    namespace: str = "Microsoft.CognitiveServices/accounts"
    time_aggregation: Aggregation = "Total"
    operator: Operator = "GreaterThan"
    threshold: Optional[float] = None
    dynamic: Optional[DynamicThreshold] = None
    dimensions: list[str | MetricDimension] = Field(default_factory=new_list, max_length=6)
    evaluation_frequency: str = "PT1M"
    window_size: str = "PT5M"
    auto_mitigate: bool = True

    _freq = field_validator("evaluation_frequency")(classmethod(lambda cls, v: _frequency(v)))
    _win = field_validator("window_size")(classmethod(lambda cls, v: _window(v)))

    @model_validator(mode="after")
    def _one_threshold(self) -> "MetricAlert":
        if (self.threshold is None) == (self.dynamic is None):
            raise ValueError("give either threshold (static) or dynamic (sensitivity), not both or neither")
        return self


class Detect(BaseModel):
    """The alert rules of one playbook."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    scheduled_query_rules: list[ScheduledQueryRule] = Field(default_factory=new_list, max_length=20)
    activity_log_alerts: list[ActivityLogAlert] = Field(default_factory=new_list, max_length=20)
    metric_alerts: list[MetricAlert] = Field(default_factory=new_list, max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> "Detect":
        seen: set[str] = set()
        for rule in self.rules():
            if rule.name.lower() in seen:
                raise ValueError(f"alert rule name {rule.name!r} is used twice")
            seen.add(rule.name.lower())
        return self

    def rules(self) -> list[_Rule]:
        return [*self.scheduled_query_rules, *self.activity_log_alerts, *self.metric_alerts]


# ---------------------------------------------------------------------- ARM bodies
def rule_kind(rule: _Rule) -> str:
    """The ARM path segment of a rule: ``scheduledQueryRules`` | ``activityLogAlerts`` | ``metricAlerts``."""
    return {ScheduledQueryRule: "scheduledQueryRules", ActivityLogAlert: "activityLogAlerts", MetricAlert: "metricAlerts"}[type(rule)]


def arm_body(rule: _Rule, *, playbook: str, scopes: list[str], action_group_id: str, location: str = "swedencentral",
             placeholders: Optional[dict[str, str]] = None) -> dict:
    """The ARM resource body (``location``, ``kind``?, ``properties``) of ``rule`` for ``scopes``.

    ``scopes``: ARM ids — the protected accounts (scheduled query and metric rules), the workspace
    (scheduled query rules with ``scope: workspace``) or the subscription (activity log alerts). ``action_group_id``: the action group that posts the
    common alert schema to Firestop. ``placeholders``: ``{name}`` in custom property values
    replaced (e.g. ``nsg_id``); a custom property naming an unknown placeholder is dropped
    (a rule never carries ``{nsg_id}`` literally). Raises ``ValueError`` if the rule routes elsewhere.
    """
    values = dict(placeholders or {})
    custom = {}
    for key, value in rule.properties_for(playbook).items():
        names = re.findall(r"\{(\w+)\}", value)
        if all(n in (placeholders or {}) for n in names):
            custom[key] = re.sub(r"\{(\w+)\}", lambda m: (placeholders or {})[m.group(1)], value)
    if isinstance(rule, ScheduledQueryRule):
        query = rule.query
        for name in re.findall(r"\{(\w+)\}", query):
            if name in KNOWN_PLACEHOLDERS:
                if name not in values:
                    raise ValueError(f"rule {rule.name!r}: its query needs the placeholder {{{name}}}; give it ({KNOWN_PLACEHOLDERS[name]})")
                query = query.replace("{" + name + "}", values[name])
        condition = {
            "query": query, "timeAggregation": rule.time_aggregation, "operator": rule.operator, "threshold": rule.threshold,
            "dimensions": [{"name": d, "operator": "Include", "values": ["*"]} for d in rule.dimensions],
            "failingPeriods": rule.failing_periods.arm(),
        }
        if rule.metric_measure_column:
            condition["metricMeasureColumn"] = rule.metric_measure_column
        if rule.resource_id_column:
            condition["resourceIdColumn"] = rule.resource_id_column
        props = {
            "displayName": rule.name, "description": rule.description, "severity": rule.severity, "enabled": rule.enabled,
            "scopes": list(scopes),
            # targetResourceTypes splits a resource-group/subscription scope by resource; on a workspace the
            # resourceIdColumn names the target instead
            **({"targetResourceTypes": ["Microsoft.CognitiveServices/accounts"]} if rule.scope == "account" else {}),
            "evaluationFrequency": rule.evaluation_frequency, "windowSize": rule.window_size,
            "criteria": {"allOf": [condition]}, "autoMitigate": rule.auto_mitigate,
            "actions": {"actionGroups": [action_group_id], "customProperties": custom},
        }
        if rule.mute_actions_duration:
            props["muteActionsDuration"] = rule.mute_actions_duration
        return {"location": location, "kind": "LogAlert", "properties": props}
    if isinstance(rule, ActivityLogAlert):
        all_of: list[dict] = [{"field": "category", "equals": rule.category}]
        if rule.operation_names:
            all_of.append({"anyOf": [{"field": "operationName", "equals": op} for op in rule.operation_names]})
        if rule.resource_type:
            all_of.append({"field": "resourceType", "equals": rule.resource_type})
        if rule.status:
            all_of.append({"field": "status", "equals": rule.status})
        if rule.caller:
            all_of.append({"field": "caller", "equals": rule.caller})
        for name, texts in rule.properties_contain_any.items():
            all_of.append({"field": f"properties.{name}", "containsAny": list(texts)})
        return {"location": "Global", "properties": {
            "scopes": list(scopes), "enabled": rule.enabled, "description": rule.description, "condition": {"allOf": all_of},
            "actions": {"actionGroups": [{"actionGroupId": action_group_id, "webhookProperties": custom}]}}}
    assert isinstance(rule, MetricAlert)
    criterion: dict = {"name": "c1", "metricName": rule.metric, "metricNamespace": rule.namespace, "timeAggregation": rule.time_aggregation,
                       "dimensions": [d.arm() if isinstance(d, MetricDimension) else {"name": d, "operator": "Include", "values": ["*"]}
                                      for d in rule.dimensions], "skipMetricValidation": False}
    if rule.dynamic is not None:
        criterion.update(criterionType="DynamicThresholdCriterion", operator=rule.dynamic.operator, alertSensitivity=rule.dynamic.sensitivity,
                         failingPeriods=rule.dynamic.failing_periods.arm())
    else:
        criterion.update(criterionType="StaticThresholdCriterion", operator=rule.operator, threshold=rule.threshold)
    return {"location": "global", "properties": {
        "description": rule.description, "severity": rule.severity, "enabled": rule.enabled, "scopes": list(scopes),
        "evaluationFrequency": rule.evaluation_frequency, "windowSize": rule.window_size,
        # dynamic thresholds exist only in the multi-resource criteria (metricAlert_API.json: DynamicMetricCriteria)
        "criteria": {"odata.type": "Microsoft.Azure.Monitor." + ("MultipleResourceMultipleMetricCriteria" if rule.dynamic else "SingleResourceMultipleMetricCriteria"),
                     "allOf": [criterion]},
        "autoMitigate": rule.auto_mitigate, "targetResourceType": rule.namespace,
        "actions": [{"actionGroupId": action_group_id, "webHookProperties": custom}]}}

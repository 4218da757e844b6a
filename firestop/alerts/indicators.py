"""Incident indicators pulled out of an ``alertContext``: caller IPs, operations, principals.

Where they come from (shapes per MicrosoftDocs/azure-monitor-docs
``alerts-common-schema.md`` / ``alerts-payload-samples.md``; quirks in
``shared/corpus/alerts/NOTES.md``):

* activity log contexts: ``claims`` (a JSON **string**; ``ipaddr`` → caller IP,
  ``oid`` / ``…/claims/objectidentifier`` → principal), ``caller`` (UPN, object
  id, or a service name such as ``Microsoft.Insights/autoscaleSettings``, kept as
  sent), ``authorization.action`` and ``operationName`` → operations,
  ``httpRequest.clientIpAddress`` (JSON string or object) → caller IP;
* log alert V1 ``SearchResults`` (tables of columns + rows) — columns whose name
  looks like a caller IP (``CallerIPAddress``, ``callerIpAddress``, ``ClientIP``,
  ``client_IP``, ``ipaddr``, ``IPAddress``, ``IP`` …), an operation
  (``OperationName``, ``operation_Name``) or a principal (``Caller``,
  ``PrincipalId``, ``ObjectId`` …);
* Simple Log Alert ``condition.allOf[].event`` rows of ``{name, value}``;
* dimensions ``[{name, value}]`` (log V1 ``Dimensions``, metric / log V2
  ``condition.allOf[].dimensions``), classified by the same name rules; a ``ModelDeploymentName``
  (or ``DeploymentName``) dimension or column gives the Azure OpenAI deployment, an ``ApimSubscriptionId``
  dimension or column (Azure Monitor table ``ApiManagementGatewayLogs``) the API Management subscription
  (consumer) the calls came through.

Values are de-duplicated (case-insensitively), first occurrence first, and at
most :data:`MAX_INDICATORS` of each kind are kept: the scan stops once every
kind it is reading has more (a 256 KB log alert can name ~50,000 IPs; the
names of the cut lists are in ``Indicators.truncated``). Caller
IPs are kept only if they parse as an IPv4/IPv6 address (a ``:port`` suffix is
dropped; masked IPs such as ``10.0.0.***`` are not addresses and are skipped).
Extraction never raises: malformed parts are skipped.
"""

# No `from __future__ import annotations` here: pydantic would turn each field's annotation string back into
# a type (typing.ForwardRef: compile + eval) when the models are built at start-up (bench/startup_parts.py).
import ipaddress
import json
import re
from functools import lru_cache
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict

from firestop.alerts.checked import built
from firestop.lazy_re import LazyPattern

__all__ = ["MAX_INDICATORS", "Indicators", "extract_indicators", "decode_json_text"]

#: At most this many of each indicator (caller IPs, operations, principals) are kept.
MAX_INDICATORS = 100


class Indicators(BaseModel):
    """Indicators found in an alert (all tuples, possibly empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    caller_ips: tuple[str, ...] = ()
    operation_names: tuple[str, ...] = ()
    principal_ids: tuple[str, ...] = ()
    #: security-alert indicators (Defender for Cloud / Sentinel sources, :mod:`firestop.alerts.sources`):
    #: HTTP user agents, end-user ids and application names from the user security context the calling
    #: app passed, Azure OpenAI deployment names, and the alert types (``AI.Azure_*``) that fired
    user_agents: tuple[str, ...] = ()
    end_user_ids: tuple[str, ...] = ()
    applications: tuple[str, ...] = ()
    deployments: tuple[str, ...] = ()
    #: API Management subscription ids (sids) the calls came through: an ``ApimSubscriptionId`` dimension or column
    apim_subscriptions: tuple[str, ...] = ()
    alert_types: tuple[str, ...] = ()
    #: names of the fields above that the alert had more than MAX_INDICATORS of (the first ones are kept)
    truncated: tuple[str, ...] = ()


def decode_json_text(value: Any) -> Any:
    """Decode JSON that Azure encodes inside a string (``claims``, ``policies``,
    ``impactedServices``, ``httpRequest``); non-strings are returned unchanged;
    undecodable strings return None.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


_TYPE_SUFFIX = re.compile(r"_[sgdbi]$")  # AzureDiagnostics type suffixes (_s, _g …)
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
# What ipaddress.IPv4Address accepts (no leading zeros), already in canonical form.
_IPV4 = LazyPattern(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}", 0, globals())
#: The octets :data:`_IPV4` accepts ("0".."255", no leading zero), as a set: :func:`_is_plain_ipv4`.
_OCTETS = frozenset(str(i) for i in range(256))


def _is_plain_ipv4(text: str) -> bool:
    """``_IPV4.fullmatch(text)`` as a bool: four dot-separated octets of :data:`_OCTETS` (a set lookup per octet
    instead of the pattern's alternations: a third of the time on a search-results column of addresses).
    ``tests/alerts/test_alerts_indicators_fast.py`` holds the two equal."""
    parts = text.split(".")
    return len(parts) == 4 and _OCTETS.issuperset(parts)


@lru_cache(maxsize=4096)
def _squash(name: str) -> str:
    return _NOT_ALNUM.sub("", _TYPE_SUFFIX.sub("", name.strip().lower()))


_IP_NAMES = frozenset(
    {
        "ip",
        "ipaddr",
        "ipaddress",
        "callerip",
        "calleripaddress",
        "clientip",
        "clientipaddress",
        "sourceip",
        "sourceipaddress",
        "remoteip",
        "remoteipaddress",
        "callipaddress",
    }
)
_OPERATION_NAMES = frozenset({"operationname", "operationnamevalue"})
_PRINCIPAL_NAMES = frozenset(
    {
        "caller",
        "callerobjectid",
        "principalid",
        "objectid",
        "oid",
        "userprincipalname",
        "upn",
        "identityclaimoid",
        "identityclaimhttpschemasmicrosoftcomidentityclaimsobjectidentifier",
    }
)
#: Azure OpenAI deployment names: the metric dimension ``ModelDeploymentName``, a log rule's column of that name
_DEPLOYMENT_NAMES = frozenset({"modeldeploymentname", "deploymentname"})
#: the API Management consumer: ``ApiManagementGatewayLogs.ApimSubscriptionId`` (resource-specific table)
_APIM_SUBSCRIPTION_NAMES = frozenset({"apimsubscriptionid"})
_OID_CLAIMS = ("oid", "http://schemas.microsoft.com/identity/claims/objectidentifier")


def _ip_or_none(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    if _is_plain_ipv4(text):  # fast path: search results can hold thousands
        return text
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class _Collector:
    """Collects up to ``MAX_INDICATORS + 1`` values of each kind (one more proves a cut)."""

    def __init__(self) -> None:
        self.ips: list[str] = []
        self.ops: list[str] = []
        self.principals: list[str] = []
        self.deployments: list[str] = []
        self.apim_subscriptions: list[str] = []
        self._seen: set[tuple[str, str]] = set()
        self._raw_ips: set[str] = set()

    def _add(self, bucket: str, target: list[str], value: str) -> None:
        if len(target) > MAX_INDICATORS:
            return
        key = (bucket, value.lower())
        if key not in self._seen:
            self._seen.add(key)
            target.append(value)

    def ip(self, value: Any) -> None:
        if not isinstance(value, str) or value in self._raw_ips or len(self.ips) > MAX_INDICATORS:
            return
        self._raw_ips.add(value)
        for part in value.split(","):
            ip = _ip_or_none(part)
            if ip:
                self._add("ip", self.ips, ip)

    def op(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self._add("op", self.ops, value.strip())

    def principal(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self._add("principal", self.principals, value.strip())

    def deployment(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self._add("deployment", self.deployments, value.strip())

    def apim_subscription(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self._add("apim_subscription", self.apim_subscriptions, value.strip())

    def handler(self, name: Any) -> Callable[[Any], None] | None:
        """The collector for values of a field called ``name``, or None."""
        if not isinstance(name, str):
            return None
        key = _squash(name)
        if key in _IP_NAMES:
            return self.ip
        if key in _OPERATION_NAMES:
            return self.op
        if key in _PRINCIPAL_NAMES:
            return self.principal
        if key in _DEPLOYMENT_NAMES:
            return self.deployment
        if key in _APIM_SUBSCRIPTION_NAMES:
            return self.apim_subscription
        return None

    def named(self, name: Any, value: Any) -> None:
        handler = self.handler(name)
        if handler is not None:
            handler(value)

    def pairs(self, items: Any) -> None:
        """``[{name, value}, …]`` (dimensions, Simple Log Alert event rows)."""
        if not isinstance(items, list):
            return
        for item in items:
            if isinstance(item, dict):
                self.named(item.get("name"), item.get("value"))

    def tables(self, results: Any) -> None:
        """Log Analytics query results ``{"tables": [{"columns", "rows"}]}``."""
        if not isinstance(results, dict):
            return
        tables = results.get("tables")
        if not isinstance(tables, list):
            return
        for table in tables:
            if not isinstance(table, dict):
                continue
            columns = table.get("columns")
            rows = table.get("rows")
            if not isinstance(columns, list) or not isinstance(rows, list):
                continue
            # classify each column once, then read only the columns that matter
            wanted = [
                (index, handler)
                for index, handler in enumerate(self.handler(c.get("name") if isinstance(c, dict) else None)
                                                for c in columns)
                if handler is not None
            ]
            if not wanted:
                continue
            buckets = [self._bucket(handler) for _, handler in wanted]
            if len(wanted) == 1 and wanted[0][1] == self.ip:
                self._ip_column(rows, wanted[0][0])
                continue
            for row in rows:
                if isinstance(row, list):
                    for index, handler in wanted:
                        if index < len(row):
                            handler(row[index])
                    if all(len(b) > MAX_INDICATORS for b in buckets):
                        break  # every kind this table gives is past the cap: the rest changes nothing

    def _ip_column(self, rows: list[Any], index: int) -> None:
        """:meth:`ip` of ``row[index]`` for each list ``row`` until more than :data:`MAX_INDICATORS` IPs are
        kept — the same as the general loop, with a plain IPv4 value (the usual cell: no comma, port or
        zone; already canonical) handled inline: a 256 KB log alert's table is one column of them."""
        ips, raw, seen, octets = self.ips, self._raw_ips, self._seen, _OCTETS
        if len(ips) > MAX_INDICATORS:  # (an earlier table filled the cap: the loop below read one row, and stopped)
            for _ in rows:
                return
            return
        # Below, the IPs kept grow only where a value is appended or handed to ip(): the cap is checked there
        # (it was checked twice per row)
        for row in rows:
            if type(row) is list and index < len(row):
                value = row[index]
                # _is_plain_ipv4(value), inline: a call per cell was a third of this loop
                if (type(value) is str and value not in raw
                        and len(parts := value.split(".")) == 4 and octets.issuperset(parts)):
                    raw.add(value)
                    key = ("ip", value)  # an IPv4 address is its own lower case
                    if key not in seen:
                        seen.add(key)
                        ips.append(value)
                        if len(ips) > MAX_INDICATORS:
                            return  # past the cap: the rest changes nothing
                    continue
                self.ip(value)
            elif isinstance(row, list) and index < len(row):  # a list subclass: the general path
                self.ip(row[index])
            else:
                continue
            if len(ips) > MAX_INDICATORS:
                return  # past the cap: the rest changes nothing

    def _bucket(self, handler: Callable[[Any], None]) -> list[str]:
        return {self.ip: self.ips, self.op: self.ops, self.principal: self.principals, self.deployment: self.deployments,
                self.apim_subscription: self.apim_subscriptions}[handler]

    def result(self) -> Indicators:
        if not (self.ips or self.ops or self.principals or self.deployments or self.apim_subscriptions):
            return _NONE_FOUND  # most contexts name none: one frozen instance for them all
        fields = (("caller_ips", self.ips), ("operation_names", self.ops), ("principal_ids", self.principals),
                  ("deployments", self.deployments), ("apim_subscriptions", self.apim_subscriptions))
        # tuples of str built here: nothing to validate again (firestop.alerts.checked)
        return built(Indicators, dict(
            caller_ips=tuple(self.ips[:MAX_INDICATORS]),
            operation_names=tuple(self.ops[:MAX_INDICATORS]),
            principal_ids=tuple(self.principals[:MAX_INDICATORS]),
            # deployments: a ModelDeploymentName dimension or column; Defender's other AI indicators come from
            # firestop.alerts.sources (a Common Alert Schema context has none)
            deployments=tuple(self.deployments[:MAX_INDICATORS]),
            apim_subscriptions=tuple(self.apim_subscriptions[:MAX_INDICATORS]),
            user_agents=(), end_user_ids=(), applications=(), alert_types=(),
            truncated=(tuple(name for name, values in fields if len(values) > MAX_INDICATORS)
                       if max(map(len, (self.ips, self.ops, self.principals, self.deployments,
                                        self.apim_subscriptions))) > MAX_INDICATORS else ()),  # (none cut: the usual)
        ))


#: What a context naming no indicator gives (frozen, so shared; equal to ``Indicators()``).
_NONE_FOUND = built(Indicators, {name: () for name in Indicators.__pydantic_fields__})
#: The same, public: the one instance parsing gives for an alert naming no indicator (compare with ``is``)
NONE_FOUND = _NONE_FOUND


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


#: The ``alertContext`` keys :func:`extract_indicators` reads; a context with none of them names no indicator.
_CONTEXT_KEYS = frozenset({"claims", "caller", "httpRequest", "authorization", "operationName", "SearchResults",
                           "SearchResult", "Dimensions", "condition"})


def indicator_columns(columns: Any) -> list[int]:
    """The indexes, in order, of the entries of a search-results table's ``columns`` (``[{"name": ...}, ...]``)
    whose values :func:`extract_indicators` reads from each row; [] for anything but a list."""
    if not isinstance(columns, list):
        return []
    handler = _Collector().handler
    return [index for index, column in enumerate(columns)
            if handler(column.get("name") if isinstance(column, dict) else None) is not None]


def extract_indicators(context: Any) -> Indicators:
    """Indicators from a raw ``alertContext`` dict (anything else → empty).

    Only the keys of :data:`_CONTEXT_KEYS` the context has are read (an absent key gives nothing: each reader
    below takes None as nothing), in the order below, which is the order values are kept in.
    Never raises.
    """
    if not isinstance(context, dict):
        return _NONE_FOUND
    present = context.keys() & _CONTEXT_KEYS
    if not present:
        return _NONE_FOUND  # most metric / log V2 contexts have only "condition"; budget, smart detector none
    found = _Collector()

    # Activity log (Administrative, Policy, Security, Autoscale, Service/Resource Health).
    if "claims" in present:
        claims = decode_json_text(context["claims"])
        if isinstance(claims, dict):
            found.ip(claims.get("ipaddr"))
            for claim in _OID_CLAIMS:
                found.principal(claims.get(claim))
    if "caller" in present:
        found.principal(context["caller"])
    if "httpRequest" in present:
        http_request = decode_json_text(context["httpRequest"])
        if isinstance(http_request, dict):
            found.ip(http_request.get("clientIpAddress"))
    if "authorization" in present:
        authorization = context["authorization"]
        if isinstance(authorization, dict):
            found.op(authorization.get("action"))
    if "operationName" in present:
        found.op(context["operationName"])

    # Log alert V1: embedded results and dimensions.
    if "SearchResults" in present:
        found.tables(context["SearchResults"])
    if "SearchResult" in present:
        found.tables(context["SearchResult"])
    if "Dimensions" in present:
        found.pairs(context["Dimensions"])

    # Metric / log V2 / Simple Log Alert criteria.
    condition = context["condition"] if "condition" in present else None
    if isinstance(condition, dict):
        for criterion in _dicts(condition.get("allOf")):
            found.pairs(criterion.get("dimensions"))
            events = criterion.get("event")
            if isinstance(events, list):
                if events and all(isinstance(e, dict) for e in events):
                    found.pairs(events)  # a single row given flat
                else:
                    for row in events:
                        found.pairs(row)
    return found.result()

"""Data-plane calls to an Azure OpenAI account, answered by the sandbox, and what they leave behind.

:func:`call` answers one ``POST https://{account}.openai.azure.com/openai/deployments/{d}/chat/completions``
(or embeddings) made at ``now`` from ``ip`` with an ``api-key`` or an Entra token, in the order
Azure checks (network rules, then authentication, then quota, then the content filter):

* **403** — ``publicNetworkAccess`` ``Disabled``, or ``networkAcls.defaultAction`` ``Deny`` and
  ``ip`` in no ``ipRules`` range (Cognitive Services "Virtual networks" doc: denied callers get 403);
* **401** — an ``api-key`` that is not one of the account's current keys, or any key when
  ``disableLocalAuth`` is true (a rotated key stops working at once);
* **429** — more calls this minute than the deployment's rate limit (6 requests per minute per
  1,000 TPM of capacity, "Azure OpenAI quota": RPM = 6 × capacity units);
* **400** — ``content_filtered`` (the prompt tripped the content filter; the log records the status only), or a
  ``prompt_kind="jailbreak"`` prompt on a deployment whose RAI policy has the ``Jailbreak`` prompt filter (Prompt
  Shields) enabled and blocking — :func:`response_body` gives the ``content_filter`` error Azure answers;
* **200** otherwise — a jailbreak prompt on a deployment whose Jailbreak filter only annotates is served with
  ``prompt_filter_results[].content_filter_results.jailbreak = {"detected": true, "filtered": false}``; without
  the filter it is served unannotated (nothing for Defender for AI to see).

The effective Jailbreak filter is the deployment's ``raiPolicyName``'s ``contentFilters`` over those of its
``basePolicyName`` (system policies ``Microsoft.Default``/``Microsoft.DefaultV2``: ``arm/models.py``). Response
shapes: corpus ``aoai-dataplane/content-filter-error-400.json`` and ``content-filter-annotations-200.json``.

Each call leaves:

* a ``RequestResponse`` ``AzureDiagnostics`` row (shape of the seeded rows, ``logs/incident.py``)
  queued in every workspace a diagnostic setting of the account sends ``RequestResponse`` to,
  visible ``diagnostics.ingestion`` seconds later (default 120 s; Azure documents resource-log
  ingestion latency of 30 s to 3 min) — no setting, no row;
* a count in the account's platform metrics (``doc["metrics"]``, per minute: ``TotalCalls``,
  ``SuccessfulCalls``, ``ClientErrors`` (4xx), ``RAIRejectedRequests`` (400
  content filter), ``RAIAbusiveUsersCount`` (distinct callers rejected by the filter this minute),
  ``AzureOpenAIRequests`` (every call the account answered, whatever its status), and that call's
  dimensions of ``AzureOpenAIRequests`` (:data:`RECORDED_DIMENSIONS`: ``StatusCode`` as the HTTP status
  in digits, ``ModelDeploymentName``, ``OperationName``, ``Region``) under ``"_dimensions"``),
  recorded whatever the diagnostic settings (platform metrics always exist). Not ``Ratelimit``: Microsoft's
  supported-metrics table describes it as "The current ratelimit of the ratelimit key. Do not use for Azure OpenAI
  service." — a limit, not a count of 429s; throttled calls are ``AzureOpenAIRequests`` with ``StatusCode`` 429;
* an entry in ``doc["dataplane"]`` ``{at, account, ip, operation, status, tag}`` (``tag`` names the
  attack activity, ``None`` for legitimate traffic; ``via`` ``apim/sid`` for calls through API
  Management) — the scorecard counts served malicious calls there.

Calls **through API Management** (``apim`` + ``apim_subscription``: the consumer's subscription key
sent as ``Ocp-Apim-Subscription-Key``) pass the gateway first: a subscription that does not exist
or is not ``active`` (suspended, cancelled …) is **401** at the gateway and never reaches the
account (API Management: "Access denied due to invalid subscription key. Make sure to provide a
valid key for an active subscription."); otherwise the gateway calls the account from its own
public address (``properties.publicIPAddresses[0]``, default :data:`APIM_GATEWAY_IP`, inside the
app's egress range the account allows) with its managed identity, so the account's own log row
shows the gateway, not the caller. The gateway writes an ``ApiManagementGatewayLogs`` row
(resource-specific table: ``CallerIpAddress``, ``ApimSubscriptionId``, ``ResponseCode``,
``BackendResponseCode``, ``BackendUrl`` — the account's endpoint the call was forwarded to, empty when
the gateway refused it …) to every workspace a diagnostic setting of the service sends
``GatewayLogs`` to with ``logAnalyticsDestinationType: Dedicated``, visible after the same ingestion
delay; a setting in Azure diagnostics mode (no destination type) writes an ``AzureDiagnostics`` row
(``Category`` ``GatewayLogs``, ``ResourceProvider`` ``MICROSOFT.APIMANAGEMENT``) instead.
  attack activity, ``None`` for legitimate traffic) — the scorecard counts served malicious calls there —
  plus what the service itself sees of the call, which Defender for AI reads
  (:mod:`firestop.sandbox.security.detector`; never ``tag``): ``deployment``, ``principal`` (object id, ``""``
  with an api-key), ``user_agent``, ``application`` / ``end_user`` (the ``user_security_context``), ``prompt``
  (the prompt kind), ``jailbreak`` (``"blocked"`` | ``"detected"`` | ``None``: the Prompt Shields verdict),
  ``tokens`` (prompt + completion tokens billed: served calls only).
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import datetime, timedelta
from typing import Optional

from ..arm.models import account_by_name
from ..core.clock import format_utc
from ..core.state import TenantState
from . import models

DEFAULT_INGESTION_S = 120.0
#: the sandbox's API Management gateway address when the service body names none (in the app egress range)
APIM_GATEWAY_IP = "198.51.100.20"
APIM_SERVICE_TYPE = "microsoft.apimanagement/service"
#: Azure's resource-specific table for API Management gateway logs (Azure Monitor table reference
#: ``ApiManagementGatewayLogs``; the columns the sandbox fills). Known in every workspace, as Azure tables are.
GATEWAY_TABLE = "ApiManagementGatewayLogs"
GATEWAY_COLUMNS = [
    ("TimeGenerated", "datetime"), ("_ResourceId", "string"), ("OperationName", "string"), ("CorrelationId", "string"),
    ("Region", "string"), ("IsRequestSuccess", "bool"), ("TotalTime", "long"), ("CallerIpAddress", "string"),
    ("Method", "string"), ("Url", "string"), ("ResponseCode", "int"), ("BackendResponseCode", "int"), ("ApiId", "string"),
    ("OperationId", "string"), ("ApimSubscriptionId", "string"), ("BackendId", "string"), ("BackendUrl", "string"), ("TenantId", "string"),
    ("SourceSystem", "string"), ("Type", "string"),
]


def known_tables() -> dict:
    """Azure tables every workspace has even before a row arrives (name -> ``{"columns", "rows": []}``)."""
    return {GATEWAY_TABLE: {"columns": [{"name": n, "type": t} for n, t in GATEWAY_COLUMNS], "rows": []}}
#: User-Agent of a call that names none: the OpenAI Python SDK's (``AzureOpenAI/Python <version>``).
DEFAULT_USER_AGENT = "AzureOpenAI/Python 1.54.0"
PROMPT_KINDS = ("benign", "jailbreak", "credential_theft", "sensitive_data")
METRIC_NAMES = ("TotalCalls", "SuccessfulCalls", "ClientErrors", "RAIRejectedRequests", "RAIAbusiveUsersCount", "AzureOpenAIRequests")
#: Metrics whose dimension values the sandbox records per call -> those dimensions (a subset of what Azure offers,
#: ``models.METRIC_DIMENSIONS``). ``AzureOpenAIRequests`` (Microsoft Learn, "Supported metrics for
#: Microsoft.CognitiveServices/accounts", category "Azure OpenAI - HTTP Requests": unit Count, aggregation Total (Sum),
#: time grain PT1M) is split by ``StatusCode`` — recorded as the status in digits (``"401"``), as public code filters it
#: (``StatusCode eq '429'``); Microsoft's table describes the values only as "successful, clienterrors, server errors".
#: ``ApiName``, ``StreamType``, ``ModelName``, ``ModelVersion``, ``IsSpillover``, ``ServiceTierRequest`` and
#: ``ServiceTierResponse`` are not recorded: a metric alert splitting on one of them sees one series with no value
#: there, and one filtering it to named values sees nothing (``evaluate``).
RECORDED_DIMENSIONS = {"AzureOpenAIRequests": ("StatusCode", "ModelDeploymentName", "OperationName", "Region")}
#: key of a minute's ``{metric: {json of {dimension: value}: count}}`` in ``doc["metrics"][account][minute]``
DIMENSIONS_KEY = "_dimensions"


def _in_rules(ip: str, rules: list) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for rule in rules or []:
        try:
            if address in ipaddress.ip_network(str(rule.get("value", "")), strict=False):
                return True
        except ValueError:
            continue
    return False


def _deployment(state: TenantState, account_id: str, name: str) -> Optional[dict]:
    rid = f"{account_id}/deployments/{name}".lower()
    return next((r for k, r in state.doc["resources"].items() if k.lower() == rid), None)


def jailbreak_filter(state: TenantState, account_id: str, deployment: Optional[dict]) -> Optional[str]:
    """``"block"`` | ``"annotate"`` | ``None``: what the deployment's RAI policy does with a jailbreak prompt
    (its ``Jailbreak`` / ``Prompt`` content filter over its base policy's; disabled or absent: ``None``)."""
    from ..arm.models import system_rai_policy

    if deployment is None:
        return None
    account = next((r for k, r in state.doc["resources"].items() if k.lower() == account_id.lower()), {"id": account_id})
    name = str((deployment.get("properties") or {}).get("raiPolicyName") or "Microsoft.DefaultV2")

    def policy(policy_name: str) -> Optional[dict]:
        rid = f"{account_id}/raiPolicies/{policy_name}".lower()
        found = next((r for k, r in state.doc["resources"].items() if k.lower() == rid), None)
        if found is None and policy_name.lower().startswith("microsoft."):
            return system_rai_policy(account, policy_name)
        return found

    own = policy(name) or {}
    base = policy(str((own.get("properties") or {}).get("basePolicyName") or "")) if (own.get("properties") or {}).get("basePolicyName") else None
    chosen = None
    for body in (base, own):
        for f in ((body or {}).get("properties") or {}).get("contentFilters") or []:
            if str(f.get("name", "")).lower() == "jailbreak" and str(f.get("source", "prompt")).lower() == "prompt":
                chosen = f
    if chosen is None or chosen.get("enabled") is False:
        return None
    return "annotate" if chosen.get("blocking") is False else "block"


def response_body(entry: dict) -> dict:
    """The body Azure OpenAI answers for one ``doc["dataplane"]`` entry's call (status 400 content filter or 200;
    other statuses: the error code only). Shapes: corpus ``aoai-dataplane/content-filter-error-400.json`` /
    ``content-filter-annotations-200.json``."""
    status = entry.get("status")
    jailbreak = entry.get("jailbreak")
    if status == 400:
        results = ({"jailbreak": {"filtered": True, "detected": True}} if jailbreak == "blocked" else
                   {"hate": {"filtered": True, "severity": "high"}})
        return {"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
                                     "Please modify your prompt and retry.",
                          "type": None, "param": "prompt", "code": "content_filter", "status": 400,
                          "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_results": results}}}
    if status == 200:
        prompt = {"jailbreak": {"filtered": False, "detected": jailbreak == "detected"}}
        return {"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                                                          "message": {"role": "assistant", "content": "…"}}],
                "usage": {"total_tokens": entry.get("tokens", 0)},
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": prompt}]}
    return {"error": {"code": {401: "PermissionDenied", 403: "Forbidden", 404: "DeploymentNotFound", 429: "429"}.get(status, str(status))}}


def minute_key(when: datetime) -> str:
    return format_utc(when.replace(second=0, microsecond=0))


def _apim_service(state: TenantState, name: str) -> dict:
    for body in state.doc["resources"].values():
        if body.get("type", "").lower() == APIM_SERVICE_TYPE and body.get("name", "").lower() == name.lower():
            return body
    raise KeyError(name)


def call(state: TenantState, now: datetime, *, account: str, ip: str, key: Optional[str] = None, principal: Optional[str] = None,
         deployment: str = "gpt-4o", operation: str = "ChatCompletions_Create", content_filtered: bool = False,
         tag: Optional[str] = None, apim: Optional[str] = None, apim_subscription: Optional[str] = None,
         user_agent: Optional[str] = None, application: Optional[str] = None, end_user: Optional[str] = None,
         prompt_kind: str = "benign", tokens: int = 300) -> int:
    """Answer one data-plane call (status code, see the module docstring) and record what it leaves.

    ``key``: the ``api-key`` value sent (``None`` with ``principal``: an Entra token for that
    object id). ``apim`` + ``apim_subscription``: the call goes through that API Management
    consumer (``key``/``principal`` ignored). ``prompt_kind``: one of :data:`PROMPT_KINDS`. ``tokens``:
    what a served call bills. ``KeyError`` if ``account`` or ``apim`` does not exist; ``ValueError`` for an
    unknown ``prompt_kind``.
    """
    if prompt_kind not in PROMPT_KINDS:
        raise ValueError(f"prompt_kind must be one of {PROMPT_KINDS}, got {prompt_kind!r}")
    if apim is not None:
        return _through_gateway(state, now, apim=apim, sid=str(apim_subscription or ""), account=account, ip=ip,
                                deployment=deployment, operation=operation, content_filtered=content_filtered, tag=tag)
    jailbreak = None
    body = account_by_name(state, account)
    account_id = body["id"]
    props = body.get("properties") or {}
    acls = props.get("networkAcls") or {}
    keys = state.doc["account_keys"].get(account_id.lower(), {})
    minute = minute_key(now)
    metrics = state.doc.setdefault("metrics", {}).setdefault(account_id.lower(), {}).setdefault(minute, {n: 0 for n in METRIC_NAMES})
    if str(props.get("publicNetworkAccess", "Enabled")).lower() == "disabled":
        status = 403
    elif str(acls.get("defaultAction", "Allow")).lower() == "deny" and not _in_rules(ip, acls.get("ipRules") or []):
        status = 403
    elif key is not None and (props.get("disableLocalAuth") or key not in keys.values()):
        status = 401
    elif key is None and not principal:
        status = 401
    else:
        dep = _deployment(state, account_id, deployment)
        capacity = int(((dep or {}).get("sku") or {}).get("capacity") or 0)
        counts = state.doc.setdefault("dataplane_rpm", {})
        slot = f"{account_id.lower()}/{deployment.lower()}@{minute}"
        counts[slot] = counts.get(slot, 0) + 1
        if dep is None:
            status = 404
        elif counts[slot] > 6 * capacity:
            status = 429
        elif content_filtered:
            status = 400
        else:
            shield = jailbreak_filter(state, account_id, dep) if prompt_kind == "jailbreak" else None
            jailbreak = {"block": "blocked", "annotate": "detected"}.get(shield or "")
            status = 400 if jailbreak == "blocked" else 200
    metrics["TotalCalls"] += 1
    metrics["SuccessfulCalls"] += status == 200
    metrics["ClientErrors"] += 400 <= status < 500
    metrics["AzureOpenAIRequests"] = metrics.get("AzureOpenAIRequests", 0) + 1  # a minute recorded before it had none
    split = metrics.setdefault(DIMENSIONS_KEY, {}).setdefault("AzureOpenAIRequests", {})
    values = json.dumps({"StatusCode": str(status), "ModelDeploymentName": deployment, "OperationName": operation,
                         "Region": str(body.get("location") or "")}, sort_keys=True)
    split[values] = split.get(values, 0) + 1
    if status == 400:
        metrics["RAIRejectedRequests"] += 1
        flagged = metrics.setdefault("_rai_callers", [])
        if ip not in flagged:
            flagged.append(ip)
            metrics["RAIAbusiveUsersCount"] = len(flagged)
    state.doc.setdefault("dataplane", []).append(
        {"at": format_utc(now), "account": body["name"], "ip": ip, "operation": operation, "status": status, "tag": tag,
         "deployment": deployment, "principal": (principal or "") if key is None else "", "user_agent": user_agent or DEFAULT_USER_AGENT,
         "application": application, "end_user": end_user, "prompt": prompt_kind, "jailbreak": jailbreak,
         "tokens": int(tokens) if status == 200 else 0})
    _log_row(state, now, body, ip=ip, principal=principal if key is None else "", operation=operation, status=status, deployment=deployment)
    return status


def _log_row(state: TenantState, now: datetime, account: dict, *, ip: str, principal: Optional[str], operation: str, status: int,
             deployment: str) -> None:
    workspaces = models.log_workspaces(state, account["id"], "RequestResponse")
    if not workspaces:
        return
    parts = account["id"].strip("/").split("/")
    visible_at = format_utc(now + timedelta(seconds=state.latency.get("diagnostics.ingestion", DEFAULT_INGESTION_S)))
    n = state.counter("dataplane-row")
    values = {
        "TimeGenerated": format_utc(now), "ResourceId": account["id"].upper(), "_ResourceId": account["id"].lower(),
        "SubscriptionId": parts[1], "ResourceGroup": parts[3].upper(), "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
        "ResourceType": "ACCOUNTS", "Resource": account["name"].upper(), "Category": "RequestResponse", "OperationName": operation,
        "OperationVersion": "2024-10-21", "ResultSignature": str(status), "DurationMs": 900 if status == 200 else 12,
        "CallerIPAddress": ip, "CorrelationId": state.new_guid("dataplane-correlation"),
        "properties_s": json.dumps({"apiName": "Azure OpenAI API version 2024-10-21", "objectId": principal or "",
                                    "modelDeploymentName": deployment, "streamType": "Non-Streaming", "n": n}, separators=(",", ":")),
        "location_s": account.get("location", ""), "event_s": "ShoeboxCallResult", "SourceSystem": "Azure", "Type": "AzureDiagnostics",
    }
    for workspace in workspaces:
        table = workspace["tables"].get("AzureDiagnostics")
        if table is None:
            continue
        row = [({**values, "TenantId": workspace.get("customer_id", "")}).get(col["name"]) for col in table["columns"]]
        table.setdefault("pending", []).append({"visible_at": visible_at, "row": row})


def _through_gateway(state: TenantState, now: datetime, *, apim: str, sid: str, account: str, ip: str, deployment: str,
                     operation: str, content_filtered: bool, tag: Optional[str]) -> int:
    service = _apim_service(state, apim)
    sub = state.doc["resources"].get(f"{service['id']}/subscriptions/{sid}".lower())
    active = sub is not None and str((sub.get("properties") or {}).get("state", "")).lower() == "active"
    if not active:
        status, backend = 401, 0
        state.doc.setdefault("dataplane", []).append(
            {"at": format_utc(now), "account": account_by_name(state, account)["name"], "ip": ip, "operation": operation,
             "status": status, "tag": tag, "via": f"{service['name']}/{sid}"})
    else:
        gateway_ip = ((service.get("properties") or {}).get("publicIPAddresses") or [APIM_GATEWAY_IP])[0]
        identity = str(uuid.uuid5(uuid.NAMESPACE_URL, service["id"].lower()))  # the gateway's managed identity (stand-in)
        backend = call(state, now, account=account, ip=gateway_ip, principal=identity, deployment=deployment, operation=operation,
                       content_filtered=content_filtered, tag=tag)
        entry = state.doc["dataplane"][-1]
        entry.update(ip=ip, via=f"{service['name']}/{sid}")
        status = backend
    endpoint = str((account_by_name(state, account).get("properties") or {}).get("endpoint") or "").rstrip("/")
    _gateway_row(state, now, service, ip=ip, sid=sid, status=status, backend=backend, deployment=deployment,
                 backend_url=f"{endpoint}/openai/deployments/{deployment}/chat/completions" if backend else "")
    return status


def _gateway_row(state: TenantState, now: datetime, service: dict, *, ip: str, sid: str, status: int, backend: int,
                 deployment: str, backend_url: str = "") -> None:
    destinations = models.log_destinations(state, service["id"], "GatewayLogs")
    if not destinations:
        return
    visible_at = format_utc(now + timedelta(seconds=state.latency.get("diagnostics.ingestion", DEFAULT_INGESTION_S)))
    values = {
        "TimeGenerated": format_utc(now), "_ResourceId": service["id"].lower(), "OperationName": "Microsoft.ApiManagement/GatewayLogs",
        "CorrelationId": state.new_guid("gateway-correlation"), "Region": service.get("location", ""),
        "IsRequestSuccess": 200 <= status < 400, "TotalTime": 900 if status == 200 else 12, "CallerIpAddress": ip, "Method": "POST",
        "Url": f"{((service.get('properties') or {}).get('gatewayUrl') or '')}/openai/deployments/{deployment}/chat/completions",
        "ResponseCode": status, "BackendResponseCode": backend, "ApiId": "azure-openai", "OperationId": "ChatCompletions_Create",
        "ApimSubscriptionId": sid, "BackendId": "", "BackendUrl": backend_url, "SourceSystem": "Azure", "Type": GATEWAY_TABLE,
    }
    parts = service["id"].strip("/").split("/")
    # Azure diagnostics mode (no logAnalyticsDestinationType Dedicated): the row goes to AzureDiagnostics, where a
    # rule over ApiManagementGatewayLogs never sees it (the sandbox fills the AzureDiagnostics columns it has)
    legacy = {"TimeGenerated": values["TimeGenerated"], "ResourceId": service["id"].upper(), "_ResourceId": service["id"].lower(),
              "SubscriptionId": parts[1], "ResourceGroup": parts[3].upper(), "ResourceProvider": "MICROSOFT.APIMANAGEMENT",
              "ResourceType": "SERVICE", "Resource": service["name"].upper(), "Category": "GatewayLogs",
              "OperationName": values["OperationName"], "ResultSignature": str(status), "DurationMs": values["TotalTime"],
              "CallerIPAddress": ip, "CorrelationId": values["CorrelationId"], "SourceSystem": "Azure", "Type": "AzureDiagnostics"}
    for workspace, dedicated in destinations:
        if dedicated:
            table, fields = workspace["tables"].setdefault(GATEWAY_TABLE, known_tables()[GATEWAY_TABLE]), values
        else:
            table, fields = workspace["tables"].get("AzureDiagnostics"), legacy
            if table is None:
                continue
        row = [({**fields, "TenantId": workspace.get("customer_id", "")}).get(col["name"]) for col in table["columns"]]
        table.setdefault("pending", []).append({"visible_at": visible_at, "row": row})


def metric_series(state: TenantState, resource_id: str, metric: str) -> dict[str, float]:
    """``{minute ISO: value}`` of one platform metric of a resource (minutes with calls only)."""
    series = state.doc.get("metrics", {}).get(resource_id.lower(), {})
    return {minute: float(values.get(metric, 0)) for minute, values in series.items()}


def recorded_dimensions(metric: str) -> tuple[str, ...]:
    """The dimensions of ``metric`` (case-insensitive name) the sandbox records per call; ``()`` for none."""
    return next((dims for name, dims in RECORDED_DIMENSIONS.items() if name.lower() == metric.lower()), ())


def metric_split(state: TenantState, resource_id: str, metric: str) -> list[tuple[str, dict[str, str], float]]:
    """``[(minute ISO, {dimension: value}, count)]`` of a metric the sandbox records dimensions for
    (:data:`RECORDED_DIMENSIONS`); ``[]`` for any other metric or a resource without calls."""
    name = next((n for n in RECORDED_DIMENSIONS if n.lower() == metric.lower()), None)
    if name is None:
        return []
    series = state.doc.get("metrics", {}).get(resource_id.lower(), {})
    return [(minute, json.loads(key), float(count)) for minute, values in series.items()
            for key, count in ((values.get(DIMENSIONS_KEY) or {}).get(name) or {}).items()]

"""After containment: an alert that reports the attacker being refused belongs to the incident that refused it.

When a playbook contains an attack — rotates the leaked key, closes the account's network — the attacker
usually keeps trying, and now fails: 401 with the old key, 403 from the closed network. Azure Monitor counts
those failures like any others: a log rule counting 401/403 answers to unknown callers crosses its threshold
for the very address just contained. Those alerts are the containment working, not a new attack, and opening a second incident for them is noise (a second snapshot,
a second lock, a second rotation that cuts the consumers over again).

Microsoft Sentinel meets the same situation with *alert grouping* (an analytics rule's incident settings):
alerts matching a closed incident's entities within the grouping window are added to it ("Re-open closed
matching incidents") instead of opening another. Firestop applies the narrow form of that rule,
:func:`aftermath_of`: a **Fired** alert is the *aftermath* of a finished incident when

* that incident's status is ``contained`` and it was contained at most ``window_seconds`` before the alert
  fired (the correlation window, ``FIRESTOP_CORRELATION_WINDOW_SECONDS``), on every resource the alert targets;
* the alert reports refused requests only: a **log** alert (``signalType`` ``Log``, a scheduled query rule) whose
  rule says so with the custom property ``firestop-signal: failed-requests`` (the playbook's ``detect:`` rule carries
  it, as it carries ``firestop-playbook``). The playbook loader accepts that property only on a query that provably
  keeps ResultSignature 401/403 and nothing else (:func:`firestop.playbooks.detect.refusal_statuses`; the 401 storm
  rule) — never a rule counting 429s too (a throttled request was let through, RT5-03) — and, when it names caller
  IPs, they are **all** among the incident's own caller IPs (the attacker already contained, not a new one).
  A **metric** alert is never aftermath (RT6-01): ``ClientErrors`` counts every 4xx — 429 quota abuse and 400
  content-filter refusals by another valid key too — and has no ``StatusCode`` dimension to narrow it (Microsoft's
  supported-metrics table for Microsoft.CognitiveServices/accounts lists ApiName, OperationName, Region,
  RatelimitKey); ``AzureOpenAIRequests`` has one, but even its 401/403 series names no caller, so the contained
  attacker's refusals and a new attacker's look alike. Nothing in a metric alert proves the containment caused it
  (anomalous-usage's metric rule detects only, and leaves 403 out); nor does the property on an alert of another
  kind (whatever sent it, no shipped rule of that kind may carry it).

A rule counting something the containment does not stop (content-filter refusals: the 400s of a
jailbreak are the attack being answered, not refused) carries no such property and opens its incident.

Anything else — another caller, a key listed, the network opened again, throttling, a success metric — is a
new incident as before. The aftermath alert opens nothing: intake answers 200 naming the incident
(:class:`firestop.intake.accept.OutcomeKind` ``aftermath``) and a tabletop exercise lists it beside that
incident; the requests it counts are the "malicious requests refused" of the exercise's scorecard.

Pure: no I/O; ``record`` is a filed incident record (``firestop.lifecycle`` shape: ``status``,
``contained_at``, ``alert.target_ids``, ``alert.indicators.caller_ips``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["FAILED_REQUESTS", "REFUSAL_STATUSES", "SIGNAL_PROPERTY", "aftermath_of"]

#: Custom property of an alert rule saying what it counts; ``failed-requests``: only requests the service refused
#: (the same names as ``firestop.playbooks.detect``, which refuses the property on a rule that could count others).
SIGNAL_PROPERTY = "firestop-signal"
FAILED_REQUESTS = "failed-requests"
#: The 4xx a containment causes (a revoked key: 401; a closed network: 403); ``firestop.playbooks.detect`` holds the same.
REFUSAL_STATUSES = frozenset({"401", "403"})
#: The only alert kind whose condition can prove it counts refusals: a scheduled query rule filtering ResultSignature.
REFUSAL_SIGNAL_TYPES = frozenset({"log"})


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def aftermath_of(alert: Any, record: dict[str, Any] | None, *, window_seconds: float) -> str | None:
    """Why ``alert`` is the aftermath of the incident ``record`` (one sentence), or None when it is not.

    ``alert``: a parsed Fired :class:`firestop.alerts.Alert`. ``record``: the finished incident's record
    (None or not a mapping: not aftermath). ``window_seconds``: how long after containment (> 0; 0 = never).
    """
    if not isinstance(record, dict) or window_seconds <= 0 or alert.monitor_condition != "Fired":
        return None
    contained_at = _when(record.get("contained_at"))
    if record.get("status") != "contained" or contained_at is None:
        return None
    age = (alert.fired_at - contained_at).total_seconds()
    if not 0 <= age <= window_seconds:
        return None
    earlier = record.get("alert") if isinstance(record.get("alert"), dict) else {}
    targets = {str(t).lower() for t in earlier.get("target_ids") or []}
    named = {t.lower() for t in alert.target_ids}
    if not named or not named <= targets:  # a resource the incident did not contain refuses nothing because of it (RT4-03)
        return None
    props = {str(k).lower(): str(v).strip().lower() for k, v in (alert.custom_properties or {}).items()}
    failures = props.get(SIGNAL_PROPERTY) == FAILED_REQUESTS and str(alert.signal_type or "").lower() in REFUSAL_SIGNAL_TYPES
    if not failures:
        return None
    ips = list(alert.indicators.caller_ips)
    known = {str(ip) for ip in ((earlier.get("indicators") or {}).get("caller_ips") or [])}
    incident = record.get("incident_id") or "the incident"
    if ips:
        if set(ips) <= known:
            return (f"failed requests of {', '.join(ips)}, already contained by {incident} {age:.1f} s before this alert "
                    "fired: the containment working")
        return None
    return (f"failed requests on a resource {incident} contained {age:.1f} s before this alert fired: "
            "the containment working")

"""Drift between two audits, and the incidents a new finding opens (pure: no I/O).

``diff(previous, results)``: findings (❌) of this audit that were not findings in ``previous``
are *new*; findings of ``previous`` that now pass are *fixed* (a finding that became ``—`` is
neither: unknown is not fixed). Findings are matched by :attr:`Result.key` (control + resource id,
case-insensitive). Without a previous audit nothing is new: the first audit is the baseline — unless
``unverified`` documents that this app did not seal stood where the previous audit was looked for (planted: RT17-03);
then every finding is new, so junk in the records store cannot turn the drift detection off.

``drift_alerts(audit)``: a normalised :class:`firestop.alerts.Alert` per *new* finding of
severity high whose control names a playbook; when the previous audit could not be verified (``unverified``), each
carries :data:`UNVERIFIED_PROPERTY` and its incident acts on nothing until a responder decides (A13-08: junk in the
records store cannot turn detection off, nor make Firestop act on findings that may not be new). A control names
its playbook (e.g. ``network.public-access`` →
``public-network-exposure``): configuration drift becomes a detection source, routed with the
``firestop-playbook`` custom property and deduped like an alert — its ``alert_id`` is
``firestop-audit/<control>/<resource id>/<audit id that first saw it>``, so the same drift raised
again (a retried timer, a second process) maps to the same incident, and the finding coming
back after a fix is a new alert.
"""

from __future__ import annotations

from typing import Iterable

from firestop.alerts.source_refs import AUDIT_SCHEMA, DRIFT_UNVERIFIED_PROPERTY as UNVERIFIED_PROPERTY
from firestop.audit.models import Audit, Drift, Result, Severity, Status

RULE_PREFIX = "firestop-audit-"


def diff(previous: Audit | None, results: Iterable[Result], unverified: int = 0) -> Drift:
    """The drift of ``results`` since ``previous`` (module docstring); ``unverified``: the unsealed audit documents
    met while looking for ``previous`` (:func:`firestop.audit.store.previous`)."""
    results = list(results)
    now_fail = {r.key for r in results if r.status is Status.FAIL}
    if previous is None:
        return Drift(new=tuple(sorted(now_fail)), unverified=unverified) if unverified > 0 else Drift()
    before_fail = {r.key for r in previous.results if r.status is Status.FAIL}
    now_pass = {r.key for r in results if r.status is Status.PASS}
    return Drift(previous=previous.audit_id, new=tuple(sorted(now_fail - before_fail)),
                 fixed=tuple(sorted(before_fail & now_pass)), unverified=unverified)


def since(drift: Drift) -> str:
    """What the drift is measured from, in words: the previous audit's id, or why there is none to trust."""
    if drift.previous is not None:
        return drift.previous
    if drift.unverified:
        return (f"no audit this app sealed ({drift.unverified} audit document(s) in the records store are not sealed by "
                "it: planted or altered; every finding counts as new)")
    return "the baseline"


def drift_alerts(audit: Audit) -> list:
    """Alerts for the new high-severity findings that a playbook handles (see the module docstring)."""
    from firestop.alerts import Alert

    new = set(audit.drift.new)
    # A13-08: "new" only because the previous audit could not be verified — its incidents ask before acting
    unverified = ({UNVERIFIED_PROPERTY: str(audit.drift.unverified)}
                  if audit.drift.previous is None and audit.drift.unverified > 0 else {})
    out = []
    for r in audit.results:
        if r.key not in new or r.severity is not Severity.HIGH or not r.playbook:
            continue
        evidence = "; ".join(f"{e.read} = {e.value!r}" for e in r.evidence)[:900]
        out.append(Alert(
            schema_id=AUDIT_SCHEMA,
            alert_id=f"{AUDIT_SCHEMA}/{r.control}/{r.resource.lower()}/{audit.audit_id}",
            rule_name=f"{RULE_PREFIX}{r.control}",
            rule_id=f"{AUDIT_SCHEMA}:{r.control}",
            severity=1,
            signal_type="Audit",
            monitoring_service="Firestop Audit",
            monitor_condition="Fired",
            fired_at=audit.at,
            description=f"Configuration drift since {since(audit.drift)}: {r.title} — {r.detail}. Evidence: {evidence}",
            target_ids=(r.resource,),
            resource_type="microsoft.cognitiveservices/accounts" if "/microsoft.cognitiveservices/accounts/" in r.resource.lower() else None,
            custom_properties={"firestop-playbook": r.playbook, "firestop-audit": audit.audit_id, "firestop-control": r.control,
                               **unverified},
        ))
    return out

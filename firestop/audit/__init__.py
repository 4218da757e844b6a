"""Audit: the Azure OpenAI security checklist, evaluated against the tenant, with drift between audits.

The contract (every control obeys it; :mod:`firestop.audit.registry` has the decorator):

- A **control** is one line of the security guide's checklist. It registers with ``@control(id, …)``
  naming its area, severity, target kind (``account`` / ``vault`` / ``subscription``), the Azure
  Policy built-in definition it matches (where one exists), the fix, and the runbook that can fix it.
- ``evaluate(ctx, target, params)`` reads the tenant **only** through ``ctx``
  (:class:`~firestop.audit.reader.AuditContext`: the Azure SDK clients of the client factory — the
  sandbox's transport locally, never a mock) and returns ✔/❌ with its **evidence** (what was read,
  its value), None when it does not apply, or raises :class:`~firestop.audit.reader.NotEvaluable`:
  the result is then ``—`` with the read and the reason — never a guess.
- Evidence never holds a secret value: settings, names, ids, times (secret *properties* only).
- Audits are kept (:mod:`.store`); the next one reports **drift** (new / fixed, :mod:`.drift`), and a
  new high-severity finding whose control names a playbook becomes an alert for that playbook.
- ``--fix`` plans the runbook of each finding (dry run, :mod:`.fixes`); applying goes through the
  normal runbook path (``runbooks.dispatch``, the manual ledger, confirmation).

Layout (Dispatch style): ``models.py`` (shapes), ``registry.py`` (controls), ``reader.py`` (reads),
``controls/`` (one module per area), ``service.py`` (run), ``drift.py``, ``store.py``, ``render.py``,
``fixes.py``. Imports: the client factory, settings, alerts (for drift alerts), runbooks (for plans);
never the sandbox, the CLI or the Functions bindings.
"""

from firestop.audit.models import Area, Audit, Drift, Evidence, Result, RunbookFix, Severity, Status
from firestop.audit.reader import AuditContext, NotEvaluable
from firestop.audit.registry import Control, all_controls, get_control
from firestop.audit.service import run_audit



def latest_summary(where=None) -> dict | None:
    """The newest stored audit as ``{label: value}`` rows for the web console (counts, drift, each finding), or None.

    ``where``: a :class:`firestop.settings.Settings`, or anything else (the console passes FIRESTOP_HOME) for the
    app's own settings — the records store (Blob Storage on Azure) is the settings'."""
    from firestop.audit import store
    from firestop.settings import get_settings

    settings = where if hasattr(where, "records_container") else get_settings()
    audit = store.latest(store.records_store(settings))
    if audit is None:
        return None
    c = audit.counts()
    rows: dict = {"audit": audit.audit_id, "when": audit.at.isoformat(), "scope": ", ".join(audit.scope),
                  "result": f"{c['pass']} ✔ · {c['fail']} ❌ · {c['not_evaluable']} —",
                  "since previous": (f"{len(audit.drift.new)} new, {len(audit.drift.fixed)} fixed (vs {audit.drift.previous})"
                                     if audit.drift.previous else "baseline (first audit)")}
    for i in audit.incidents:
        rows[f"incident {i.get('incident_id')}"] = f"{i.get('playbook')}: {i.get('control')} on {i.get('resource_name')}"
    for r in sorted(audit.findings, key=lambda r: (r.severity.rank, r.area.order)):
        rows[f"❌ {r.severity.value} · {r.title} · {r.resource_name}"] = r.detail
    return rows


__all__ = ["latest_summary", "Area", "Audit", "AuditContext", "Control", "Drift", "Evidence", "NotEvaluable", "Result", "RunbookFix",
           "Severity", "Status", "all_controls", "get_control", "run_audit"]

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

# The names below load their module on first access (PEP 562): importing one submodule (e.g. ``reader`` for
# ``configure_unserved`` when a CLI command wires the sandbox) does not import every control.
_EXPORTS = {
    **dict.fromkeys(("Area", "Audit", "Drift", "Evidence", "Result", "RunbookFix", "Severity", "Status"), "models"),
    **dict.fromkeys(("AuditContext", "NotEvaluable"), "reader"),
    **dict.fromkeys(("Control", "all_controls", "get_control"), "registry"),
    "run_audit": "service",
}


def __getattr__(name: str):
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{where}"), name)


__all__ = ["Area", "Audit", "AuditContext", "Control", "Drift", "Evidence", "NotEvaluable", "Result", "RunbookFix",
           "Severity", "Status", "all_controls", "get_control", "run_audit"]

"""``runbook undo``'s lookup of a manual run: :mod:`runbooks.manual_runs` (below the CLI and the API, which both use it)."""

from runbooks.manual_runs import ManualRun, ManualUndoRefused, find_manual_run  # noqa: F401  (re-exported)

"""Runbooks: the actions Firestop takes, one small module per capability.

Importing this package registers every shipped runbook; look them up with
:func:`get_runbook` and run them through :func:`runbooks.dispatch.execute`.
"""

from runbooks.registry import UnknownRunbook, all_runbooks, get_runbook, register, runbook_names
from runbooks import auth, evidence, identity, keys, network, notify, records  # noqa: F401  (registration)

__all__ = ["UnknownRunbook", "all_runbooks", "get_runbook", "register", "runbook_names"]

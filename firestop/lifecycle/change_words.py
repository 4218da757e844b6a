"""How a planned change's values read, the same on every surface (the CLI's approval card, ``runbook plan``/``run``,
``audit fix``, the console's plan table).

A runbook's :class:`runbooks.base.Change` carries ``before`` and ``after`` as JSON values; ``None`` there is not a
value but the thing's absence — ``before: None`` the field or resource is not there yet (an NSG rule, a blocklist
to create), ``after: None`` it will be gone (a role assignment removed, a deployment deleted). :func:`value_words`
says so in words (never ``null`` or Python's ``None``); a string is shown as it is, anything else as compact JSON
(``true``, ``{"defaultAction": "Deny"}``), never Python's repr. Pure; the text is not escaped (each surface escapes
it where it lands).
"""

from __future__ import annotations

import json
from typing import Any

#: ``before: None`` — nothing was there.
ABSENT = "(absent)"
#: ``after: None`` — it will be gone.
REMOVED = "(removed)"


def value_words(value: Any, side: str) -> str:
    """``value`` of a change's ``side`` (``"before"`` or ``"after"``) as one readable text: ``(absent)`` /
    ``(removed)`` for None, a string as it is, anything else as compact JSON with sorted keys."""
    if value is None:
        return REMOVED if side == "after" else ABSENT
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)

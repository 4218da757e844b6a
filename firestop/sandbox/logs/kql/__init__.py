"""A small, pure KQL engine for the sandbox's Log Analytics query API.

``run_query(text, tables, now, time_range=None) -> Result`` tokenizes
(:mod:`.lexer`), parses (:mod:`.parser`) and evaluates (:mod:`.evaluator`) the
documented subset; anything outside it raises :class:`KqlSyntaxError` or
:class:`KqlSemanticError`, which the route turns into the query API's
``400 BadArgumentError``.

Supported: ``Table | where ... | project ... | extend ... | take/limit N |
order/sort by X [asc|desc] | top N by X | summarize agg(...) [by ...] | count |
distinct``; see the module docstrings for operators and functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from .errors import KqlError, KqlSemanticError, KqlSyntaxError
from .evaluator import Evaluator, Result
from .parser import parse


def run_query(text: str, tables: dict, now: datetime, time_range: Optional[tuple[datetime, datetime]] = None) -> Result:
    """Evaluate ``text`` over ``tables`` (name -> {"columns", "rows"}); ``now`` drives ago()/now()."""
    return Evaluator(tables, now, time_range).run(parse(text))


__all__ = ["run_query", "Result", "KqlError", "KqlSyntaxError", "KqlSemanticError"]

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

import functools
from datetime import datetime
from typing import Optional

from .errors import KqlError, KqlSemanticError, KqlSyntaxError
from .evaluator import Evaluator, Result
from .parser import Query, parse

#: the longest query text whose parse is kept (longer ones are parsed at each call)
KEPT_QUERY_CHARS = 8192


def run_query(text: str, tables: dict, now: datetime, time_range: Optional[tuple[datetime, datetime]] = None) -> Result:
    """Evaluate ``text`` over ``tables`` (name -> {"columns", "rows"}); ``now`` drives ago()/now().

    The parse of a str up to ``KEPT_QUERY_CHARS`` characters is kept (``functools.lru_cache``, 256 texts; syntax
    errors are raised each time, not kept): the evaluator only reads the tree, and the parse depends on the text
    alone. The alert evaluator runs each scheduled query rule's one query at every evaluation (~60 parses of a
    handful of texts per tabletop scenario, a third of the query's CPU)."""
    query = _parsed(text) if type(text) is str and len(text) <= KEPT_QUERY_CHARS else parse(text)
    return Evaluator(tables, now, time_range).run(query)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Query:
    return parse(text)


__all__ = ["run_query", "Result", "KqlError", "KqlSyntaxError", "KqlSemanticError"]

"""Normalisation helpers: target ids, resource type, custom properties, window.

Azure facts (``alerts-common-schema.md``, ``alerts-payload-samples.md``; see
``shared/corpus/alerts/NOTES.md``):

* ``alertTargetIDs`` arrive lower-cased, mixed-case or as the bare subscription;
  they are canonicalised (trim, one leading slash, no trailing slash, case kept)
  and de-duplicated case-insensitively.
* ``customProperties`` may be absent or null → ``{}``; values are strings in
  Azure, other JSON values are rendered as compact JSON text (null → ``""``).
* The evaluation window is ``condition.windowStartTime`` / ``windowEndTime``
  (metric, log V2; absent in some samples, null in Simple Log Alert) or
  ``SearchIntervalStartTimeUtc`` / ``SearchIntervalEndtimeUtc`` (log V1; note
  the lower-case ``t``; locale strings like ``3/22/2019 1:36:31 PM``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable

from firestop.alerts.times import EARLIEST, LATEST, parse_utc_or_none
from firestop.resource_id import canonical_resource_id, parse, resource_id_key

_UTC = timezone.utc
_fromisoformat = datetime.fromisoformat

__all__ = [
    "canonical_targets",
    "custom_property_text",
    "evaluation_window",
    "resource_type_of",
]


#: canonical_targets keeps its answers for this many distinct small target lists (a storm names a few resources)
_TARGETS_CACHED = 4096
_CACHED_IDS = 8
_CACHED_CHARS = 2048
_ONLY_STR = frozenset({str})


def canonical_targets(ids: Iterable[str]) -> tuple[str, ...]:
    """Canonical ids, first spelling kept, case-insensitive duplicates dropped.

    Pure, so the answer for a small list of ids (at most 8 strings, 2,048 characters in all: what an alert
    sends) is kept in a bounded cache: the essentials' check of each id and the alert's targets are one
    computation.

    Raises:
        ValueError: an id is empty (callers validate first).
    """
    ids = tuple(ids)
    if len(ids) <= _CACHED_IDS and _ONLY_STR.issuperset(map(type, ids)) and sum(map(len, ids)) <= _CACHED_CHARS:
        return _cached_targets(ids)
    return _targets(ids)


def _targets(ids: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for raw in ids:
        cid = canonical_resource_id(raw)
        key = resource_id_key(cid)
        if key not in seen:
            seen.add(key)
            out.append(cid)
    return tuple(out)


_cached_targets = lru_cache(maxsize=_TARGETS_CACHED)(_targets)


def resource_type_of(target_ids: tuple[str, ...], target_resource_type: str | None) -> str | None:
    """Lower-case ARM type of the first target (``microsoft.cognitiveservices/accounts``),
    else ``targetResourceType`` lower-cased, else None.

    A bare subscription target gives ``microsoft.resources/subscriptions``.
    """
    if target_ids:
        found = _type_key(target_ids[0])
        if found is not None:
            return found
    if target_resource_type and target_resource_type.strip():
        return target_resource_type.strip().strip("/").lower()
    return None


def _type_key(target_id: str) -> str | None:
    """``parse(target_id).type_key``, None when it does not parse. Pure, so kept for ids of at most
    :data:`_CACHED_CHARS` characters (a storm names a few resources thousands of times, and the parse, with
    azure-mgmt-core's regular expressions, is most of a small alert's normalisation); a longer id is parsed each
    time, so 4,096 kept answers hold at most ~8 MB of ids (a 256 KiB id per entry pinned ~1 GB)."""
    if len(target_id) <= _CACHED_CHARS:
        return _cached_type_key(target_id)
    return _parse_type_key(target_id)


def _parse_type_key(target_id: str) -> str | None:
    try:
        return parse(target_id).type_key
    except ValueError:
        return None


_cached_type_key = lru_cache(maxsize=4096)(_parse_type_key)


def custom_property_text(value: Any) -> str:
    """A ``customProperties`` value as text (strings unchanged, null → ``""``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def evaluation_window(context: Any) -> tuple[datetime | None, datetime | None]:
    """``(start, end)`` of the evaluated window as aware UTC datetimes, or None each."""
    if not isinstance(context, dict):
        return None, None
    condition = context.get("condition")
    if isinstance(condition, dict) and (
        "windowStartTime" in condition or "windowEndTime" in condition
    ):
        start, end = condition.get("windowStartTime"), condition.get("windowEndTime")
    else:
        start = context.get("SearchIntervalStartTimeUtc")
        end = context.get("SearchIntervalEndtimeUtc", context.get("SearchIntervalEndTimeUtc"))
    # (parse_utc_or_none gives None for None: not called for it, the usual value of one bound or both; for text
    # it is parse_sane_utc's answer or None, asked here without its own frame)
    return (None if start is None else _utc_or_none(start)), (None if end is None else _utc_or_none(end))


def _utc_or_none(value: Any) -> datetime | None:
    """:func:`~firestop.alerts.times.parse_utc_or_none` of a value that is not None: an ISO 8601 UTC string (what
    Azure Monitor sends) read by ``fromisoformat`` here, as :func:`~firestop.alerts.times.parse_sane_utc` first reads
    it; anything else through ``parse_utc_or_none`` itself."""
    if type(value) is str:
        try:
            parsed = _fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is _UTC and EARLIEST <= parsed < LATEST:
            return parsed
    return parse_utc_or_none(value)

"""Timestamp parsing for alert payloads: everything becomes an aware UTC datetime.

Formats seen in Azure Monitor payloads (``alerts-payload-samples.md``,
``alerts-common-schema.md``; see ``shared/corpus/alerts/NOTES.md``):

* ISO 8601 with ``Z`` or an offset, with up to 7 fractional digits
  (``2019-03-22T13:58:24.3713213Z``; digits beyond microseconds are dropped);
* US-locale strings in log alert V1 contexts (``3/22/2019 1:36:31 PM``) and
  ``06/25/2017 19:59:39`` in security activity-log properties;
* RFC 1123 (``Wed, 21 Aug 2019 16:17:47 GMT``) in autoscale properties.

Strings without a zone are taken as UTC: the fields carrying them are UTC by
definition (``SearchIntervalStartTimeUtc`` …).

**Sanity bounds** (:data:`EARLIEST`, :data:`LATEST`): Azure Monitor stamps every
alert time with its own service clock when it evaluates or fires the rule, so a
real payload never carries a time before 2000 or from 2100 on (the service
dates from 2016, the common alert schema from 2019). Such a value is forged or
corrupt, and arithmetic on it overflows (``0001-01-01`` minus an hour) or
explodes (a window ending in 9999). :func:`check_sane` rejects it; callers
decide per field: ``firedDateTime`` / ``resolvedDateTime`` (required shape of the
essentials) answer 422 naming the field, window times in ``alertContext`` (which
never reject an alert) are dropped, and evidence windows are clamped again
where they are used (``runbooks/evidence.py``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import orjson

__all__ = ["EARLIEST", "LATEST", "check_sane", "isoformat", "isoformat_utc", "parse_sane_utc", "parse_utc",
           "parse_utc_or_none"]

#: Alert times outside [EARLIEST, LATEST) cannot come from Azure Monitor (module docstring).
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)

_LOCALE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=timezone.utc)
    try:
        return dt.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValueError(
            f"{dt.isoformat()} is out of range once converted to UTC; expected a timestamp "
            "such as 2025-04-15T18:17:12.851Z"
        ) from exc


def _parse_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _LOCALE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    if "," in text:
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return None


def parse_utc(value: object) -> datetime:
    """Parse an Azure timestamp into an aware UTC ``datetime``.

    Accepts ``datetime`` objects (naive ones are taken as UTC) and strings in
    the formats listed in the module docstring.

    Raises:
        ValueError: not a string/datetime, or no known format matches. The
            message shows the expected form.
    """
    if isinstance(value, datetime):
        return _as_utc(value)
    if not isinstance(value, str):
        raise ValueError(
            f"expected an ISO 8601 timestamp string, got {type(value).__name__}"
        )
    text = value.strip()
    parsed = _parse_text(text) if text else None
    if parsed is not None:
        return _as_utc(parsed)
    shown = text if len(text) <= 60 else text[:60] + "…"
    raise ValueError(
        f"{shown!r} is not a timestamp; expected ISO 8601 UTC such as 2025-04-15T18:17:12.851Z"
    )


def check_sane(value: datetime) -> datetime:
    """``value`` (aware UTC) if it lies in [:data:`EARLIEST`, :data:`LATEST`).

    Raises:
        ValueError: outside those bounds; the message names them.
    """
    if not EARLIEST <= value < LATEST:
        raise ValueError(
            f"{value.isoformat()} is outside the times Azure Monitor sends "
            f"({EARLIEST.year}-01-01 to {LATEST.year - 1}-12-31); expected a timestamp such as 2025-04-15T18:17:12.851Z"
        )
    return value


_UTC = timezone.utc
_fromisoformat = datetime.fromisoformat


def parse_sane_utc(value: object) -> datetime:
    """:func:`parse_utc`, then :func:`check_sane`. Raises ValueError for either.

    An ISO 8601 string in UTC (``…Z`` or ``+00:00``: what Azure Monitor sends) is read in one step — the first
    format :func:`parse_utc` tries, already UTC, so nothing to convert — and bounded the same way."""
    if type(value) is str:
        try:
            parsed = _fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is _UTC and EARLIEST <= parsed < LATEST:
            return parsed
    return check_sane(parse_utc(value))


def parse_utc_or_none(value: object) -> datetime | None:
    """Like :func:`parse_sane_utc` but returns None for null, empty, unparseable or
    out-of-bounds values.

    Used for optional alertContext fields, which must never reject an alert.
    """
    if value is None or value == "":
        return None
    try:
        return parse_sane_utc(value)
    except ValueError:
        return None


_dumps = orjson.dumps


def isoformat(when: datetime) -> str:
    """``when.isoformat()``, the same text: a plain ``datetime`` in :data:`datetime.timezone.utc` (what intake
    stamps and parses) is written by orjson (``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``, RFC 3339), anything else
    (another zone, naive, a subclass) by ``isoformat`` itself. ``datetime.isoformat`` builds its text with C
    ``sprintf`` calls: ~10,500 instructions under callgrind against ~1,500, 1.5 times per alert on the webhook's
    path (issue 18). ``tests/alerts/test_alerts_times.py`` holds the two equal over years 1..9999."""
    if type(when) is datetime and when.tzinfo is _UTC:
        return _dumps(when)[1:-1].decode("ascii")
    return when.isoformat()


def isoformat_utc(when: datetime) -> str:
    """``when.astimezone(timezone.utc).isoformat()`` (through :func:`isoformat`).

    Raises:
        ValueError: ``when`` is naive (``tzinfo`` None): pass an aware datetime.
    """
    tz = when.tzinfo
    if tz is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    return isoformat(when if tz is _UTC else when.astimezone(_UTC))

"""Alert sources other than the Azure Monitor common schema, each one normalised into one :class:`Alert`.

Contract of a source (one module each, registered with :func:`source`, Cloud Custodian style):

* ``recognise(body) -> Recognition | None`` — pure look at the decoded JSON object: ``None`` when the
  body is not this source's shape; else what it looks like (``name``) and what a complete body would
  still need (``missing``: dotted paths). Recognition never raises.
* ``parse(body) -> Alert`` — only called on a complete recognition; raises
  :class:`~firestop.alerts.errors.AlertPayloadError` (422) naming the field, never anything else.

:func:`detect` tries every source in registration order; the first that recognises the body wins.
A body recognised with fields missing is a 422 naming the format recognised *and* the fields missing
(the CLI answers it with exit 2). A body no source recognises falls through to the common-schema
parser (``firestop.alerts.parse``), whose error then lists every supported format.

Normalisation shared by the security sources (:mod:`.security_alert`): ``alert_id`` is
``"Microsoft.Security/alerts/" + systemAlertId`` (lower-case), the same for every delivery shape of
one Defender alert, so a redelivery in another shape is a duplicate; ``rule_name`` is the
``alertType``; ``monitoring_service`` names the product; ``signal_type`` is ``"Security"``; the
``firestop-playbook`` custom property comes from :data:`.security_alert.ALERT_TYPE_PLAYBOOKS` when
the alert type has a shipped playbook (an unknown alert type gets none: recorded, no playbook,
never an error). ``context`` holds the normalised alert (never secrets: alert payloads carry none).
"""

from __future__ import annotations

from typing import Any, Callable

from msgspec import Struct

__all__ = ["Recognition", "Source", "SOURCES", "detect", "source", "supported_formats"]


class Recognition(Struct, frozen=True):
    """What a body looks like: ``name`` of the format, ``missing`` required fields (dotted paths)."""

    name: str
    missing: tuple[str, ...] = ()


class Source(Struct, frozen=True):
    name: str
    describe: str
    recognise: Callable[[dict[str, Any]], Recognition | None]
    parse: Callable[[dict[str, Any]], Any]
    #: top-level keys (lower-cased) of which a body ``recognise`` does not answer None for has at least one;
    #: empty = no such promise. :func:`detect` skips the source for a body with none of them (a common-schema
    #: alert has only ``schemaId`` and ``data``): ``tests/alerts/test_sources_keys.py`` holds the promise.
    keys: frozenset[str] = frozenset()

    def __repr__(self) -> str:  # ``parse`` left out, as the dataclass's field(repr=False) did
        return (f"Source(name={self.name!r}, describe={self.describe!r}, recognise={self.recognise!r}, "
                f"keys={self.keys!r})")


SOURCES: list[Source] = []


def source(name: str, describe: str, recognise: Callable[[dict[str, Any]], Recognition | None],
           keys: frozenset[str] = frozenset()):
    """Decorator on a ``parse(body) -> Alert`` function: register it as the source ``name`` (``keys``: see
    :attr:`Source.keys`)."""

    def register(parse: Callable[[dict[str, Any]], Any]):
        SOURCES.append(Source(name, describe, recognise, parse, frozenset(keys)))
        return parse

    return register


_LOADED: list[bool] = []


def _load() -> list[Source]:
    if not _LOADED:  # an import statement per alert cost a tenth of detect() on the intake path
        from firestop.alerts.sources import sentinel, defender  # noqa: F401  (register; Sentinel first: its body is not an alert)

        _LOADED.append(True)
    return SOURCES


#: (number of sources, the union of their keys or None when one of them makes no promise, whether a common-schema
#: alert's keys miss that union): see :func:`detect`
_UNION: list[tuple[int, frozenset[str] | None, bool]] = []


def _union_of(sources: list[Source]) -> tuple[int, frozenset[str] | None, bool]:
    """``(len(sources), every source's Source.keys together or None when a source has none, whether a common-schema
    alert's keys miss them all)``, worked out again only when a source was registered since."""
    if not _UNION or _UNION[0][0] != len(sources):
        union = frozenset().union(*(s.keys for s in sources)) if all(s.keys for s in sources) else None
        _UNION[:] = [(len(sources), union, union is not None and union.isdisjoint(_COMMON_KEYS_LOWER))]
    return _UNION[0]


#: A common-schema alert's top-level keys as Azure Monitor spells them, and lower-cased (as :func:`detect` compares)
_COMMON_KEYS = frozenset({"schemaId", "data"})
_COMMON_KEYS_LOWER = frozenset(k.lower() for k in _COMMON_KEYS)


def detect(body: dict[str, Any]) -> tuple[Source, Recognition] | None:
    """The first source recognising ``body`` and its recognition, else None (at once for a body with none of the
    keys any source needs: a common-schema alert)."""
    sources = _load()
    _, union, common_skips_all = _union_of(sources)
    if common_skips_all and type(body) is dict and _COMMON_KEYS.issuperset(body):
        return None  # (a common-schema alert's keys: the check below, without lower-casing each key)
    present = {str(k).lower() for k in body} if isinstance(body, dict) else set()
    if union is not None and present.isdisjoint(union):
        return None  # every source would be skipped below
    for src in sources:
        if src.keys and present.isdisjoint(src.keys):
            continue  # recognise would answer None (Source.keys)
        try:
            found = src.recognise(body)
        except Exception:  # noqa: BLE001 - recognition must never break intake
            found = None
        if found is not None:
            return src, found
    return None


def supported_formats() -> list[str]:
    """One line per supported format (common schema first), for error messages and ``--help``."""
    return ["Azure Monitor common alert schema (action group webhook)"] + [s.describe for s in _load()]

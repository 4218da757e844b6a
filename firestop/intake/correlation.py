"""Which open incident a new alert joins: pure functions, no I/O.

A Fired alert whose target resource already has an *open* incident (an
``incident_orchestrator`` instance that is Pending or Running, created at most
``window_seconds`` before now) joins that incident instead of starting a
second containment. How targets are compared is the *correlation key*:

| ``FIRESTOP_CORRELATION_KEY`` | two alerts correlate when a target of each has the same … |
|---|---|
| ``resource`` (default) | ARM resource id (canonical, case-insensitive) |
| ``resource_group`` | ``/subscriptions/<id>/resourceGroups/<name>`` (case-insensitive) |
| ``subscription`` | ``/subscriptions/<id>`` (case-insensitive) |
| ``none`` | never: every alert starts its own incident |

Each correlation key owns a sequence of incident ids, its *slot*
(:func:`slot_id`): ``inc-<16 hex of SHA-256("SLOT\\n" + key)>`` for its first incident,
``…-g2``, ``…-g3`` for later ones. Every worker computes the same ids, so
"is there an open incident for this resource?" is a point read and "start
it unless someone did" is the Durable store's own atomic start (see
:mod:`firestop.intake.accept`).

``FIRESTOP_CORRELATION_WINDOW_SECONDS`` (default 3600, i.e. 60 minutes; ``0``
turns correlation off) bounds how old, in seconds, an open incident may be to
still take new alerts, so an incident stuck open for days does not swallow
unrelated alerts.

A key also carries the alert's *route* (:func:`route_of`): the playbook its
``firestop-playbook`` custom property names, else its alert rule. Only alerts
routed the same way on the same scope share an incident, so an alert never
joins an incident running another playbook: a decoy alert whose approval-gated
playbook waits on the account must not swallow the leaked-key alert that needs
``rotate-keys`` (found by the red team, ``tests/trust/test_redteam_correlation.py``).
Two incidents on one account, of different playbooks, run side by side.

ARM ids are compared case-insensitively because Azure Monitor sends them
lower-cased, mixed-case or upper-case for the same resource
(``alerts-common-schema.md``, ``alerts-payload-samples.md``; see
``shared/corpus/alerts/NOTES.md``); :func:`firestop.resource_id.resource_id_key`
gives the comparison form.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from datetime import datetime, timezone
from enum import StrEnum
from typing import Iterable, Mapping, Sequence

from msgspec import Struct

from firestop.alerts.alert import INCIDENT_ID_PREFIX
from firestop.environ import ENVIRON
from firestop.resource_id import resource_id_key

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "KEY_ENV",
    "WINDOW_ENV",
    "CorrelationConfigError",
    "CorrelationKey",
    "CorrelationSettings",
    "OpenIncident",
    "correlation_keys",
    "alert_keys",
    "route_of",
    "routed_keys",
    "find_incident",
    "slot_id",
]

WINDOW_ENV = "FIRESTOP_CORRELATION_WINDOW_SECONDS"
KEY_ENV = "FIRESTOP_CORRELATION_KEY"
DEFAULT_WINDOW_SECONDS = 3600.0


class CorrelationKey(StrEnum):
    """What two alerts must share to correlate (see the module table)."""

    RESOURCE = "resource"
    RESOURCE_GROUP = "resource_group"
    SUBSCRIPTION = "subscription"
    NONE = "none"


class CorrelationConfigError(ValueError):
    """An app setting of correlation has a value Firestop cannot use.

    ``str(err)`` names the setting, the value and the fix.
    """


#: (the values of WINDOW_ENV and KEY_ENV, the settings built from them) of the last :meth:`CorrelationSettings.from_env`:
#: every webhook reads them, and building them again (strip, float, the key's enum, a frozen dataclass) was ~3 µs of
#: CPU (``timeit``, load ~20). A changed value builds (and checks) again at once; a failure is never kept.
_last_from_env: "tuple[tuple[str | None, str | None], CorrelationSettings] | None" = None


class CorrelationSettings(Struct, frozen=True):
    """Correlation window (seconds, >= 0; 0 = off) and key."""

    window_seconds: float = DEFAULT_WINDOW_SECONDS
    key: CorrelationKey = CorrelationKey.RESOURCE

    @property
    def enabled(self) -> bool:
        """False when the key is ``none`` or the window is 0 seconds."""
        return self.key is not CorrelationKey.NONE and self.window_seconds > 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "CorrelationSettings":
        """Read :data:`WINDOW_ENV` and :data:`KEY_ENV` (unset or blank → default).

        Raises:
            CorrelationConfigError: the window is not a finite number >= 0, or
                the key is not one of ``resource``, ``resource_group``,
                ``subscription``, ``none``.
        """
        global _last_from_env
        env = ENVIRON if env is None else env  # read by every webhook (firestop.environ: no KeyError per unset name)
        values = (env.get(WINDOW_ENV), env.get(KEY_ENV))
        kept = _last_from_env
        if kept is not None and kept[0] == values and cls is CorrelationSettings:
            return kept[1]  # the same two values as the last call: the same (frozen) settings
        built = cls._from_values(*values)
        if cls is CorrelationSettings:
            _last_from_env = (values, built)
        return built

    @classmethod
    def _from_values(cls, window_value: str | None, key_value: str | None) -> "CorrelationSettings":
        """:meth:`from_env` of the two settings' values (None: unset). Raises CorrelationConfigError."""
        raw_window = (window_value or "").strip()
        window = DEFAULT_WINDOW_SECONDS
        if raw_window:
            try:
                window = float(raw_window)
            except ValueError:
                window = math.nan
            if not math.isfinite(window) or window < 0:
                raise CorrelationConfigError(
                    f"{WINDOW_ENV}={raw_window!r} is not a number of seconds >= 0; set it to e.g. 3600 "
                    "(60 minutes) or 0 to turn correlation off"
                )
        raw_key = (key_value or "").strip().lower()
        try:
            key = CorrelationKey(raw_key) if raw_key else CorrelationKey.RESOURCE
        except ValueError:
            allowed = ", ".join(k.value for k in CorrelationKey)
            raise CorrelationConfigError(f"{KEY_ENV}={raw_key!r} is not one of {allowed}") from None
        return cls(window_seconds=window, key=key)


class OpenIncident(Struct, frozen=True):
    """An open incident as the correlation sees it.

    Attributes:
        instance_id: the orchestration instance id (``inc-…``).
        created_time: when the instance was created (aware UTC; a naive value
            is taken as UTC).
        target_ids: ``alert.target_ids`` of the alert that started it.
    """

    instance_id: str
    created_time: datetime
    target_ids: tuple[str, ...]


def _scope_key(resource_id: str, key: CorrelationKey) -> str | None:
    try:
        canonical = resource_id_key(resource_id)
    except ValueError:
        return None
    if key is CorrelationKey.RESOURCE:
        return canonical
    segments = canonical[1:].split("/")
    if len(segments) < 2 or segments[0] != "subscriptions" or not segments[1]:
        return None
    if key is CorrelationKey.SUBSCRIPTION:
        return "/subscriptions/" + segments[1]
    if len(segments) < 4 or segments[2] != "resourcegroups" or not segments[3]:
        return None
    return "/".join(("", *segments[:4]))


def correlation_keys(target_ids: Iterable[object], key: CorrelationKey) -> frozenset[str]:
    """The keys an alert with ``target_ids`` correlates on (lower-case strings).

    Non-string or empty ids, and ids without the scope the key needs (a bare
    subscription under ``resource_group``), give no key. ``none`` gives none.
    """
    if key is CorrelationKey.NONE:
        return frozenset()
    out = set()
    for target in target_ids:
        if isinstance(target, str):
            scoped = _scope_key(target, key)
            if scoped is not None:
                out.add(scoped)
    return frozenset(out)


_ROUTE_JSON = json.JSONEncoder(ensure_ascii=True).encode  # json.dumps with a keyword builds an encoder per call


def route_of(alert) -> str:
    """How a parsed alert is routed, as a key component: ``playbook:<name>`` from its ``firestop-playbook``
    custom property (:attr:`firestop.alerts.Alert.routed_playbook`, the reading playbook selection uses),
    else ``rule:`` + the JSON of ``[alert rule id, rule name]`` (lower-case, stripped): playbooks match on the rule *name*,
    so two alerts of one rule id but different names may select different playbooks and must not share
    an incident (red team 2)."""
    playbook = alert.routed_playbook
    if playbook:
        return "playbook:" + playbook
    rule_id, rule_name = alert.rule_id, alert.rule_name
    if len(rule_id or "") + len(rule_name or "") <= _CACHED_CHARS:  # (_rule_route, in line)
        return _cached_rule_route(rule_id, rule_name)
    return _compute_rule_route(rule_id, rule_name)


#: Characters of a cached computation's arguments (and of what it keeps): longer ones are computed each time, so
#: a cache of 4,096 entries holds at most a few MB whatever a sender puts in target ids or rule names (a payload
#: may be 256 KiB: 4,096 entries of one pinned ~1 GB).
_CACHED_CHARS = 2048
#: :func:`slot_id` keeps 65,536 answers: keys of at most this many characters (64 MB at worst; a key is ~300).
_SLOT_CACHED_CHARS = 1024


def _rule_route(rule_id: str | None, rule_name: str | None) -> str:
    """``rule:`` + the JSON of ``[rule id, rule name]`` (lower-case, stripped). Pure, so kept when both together
    are at most :data:`_CACHED_CHARS` characters: a storm repeats a few rules thousands of times."""
    if len(rule_id or "") + len(rule_name or "") <= _CACHED_CHARS:
        return _cached_rule_route(rule_id, rule_name)
    return _compute_rule_route(rule_id, rule_name)


def _compute_rule_route(rule_id: str | None, rule_name: str | None) -> str:
    # JSON, not a joined string: rule id "a|b" + name "c" must not meet id "a" + name "b|c"
    return "rule:" + _ROUTE_JSON([(r or "").strip().lower() for r in (rule_id, rule_name)])


_cached_rule_route = lru_cache(maxsize=4096)(_compute_rule_route)


_ONLY_STR = frozenset({str})


def _cacheable_targets(target_ids: tuple[str, ...], extra: int = 0) -> bool:
    """True when ``target_ids`` (strings or not) plus ``extra`` characters per id are at most :data:`_CACHED_CHARS`
    (types checked and lengths summed in C, not a Python step per id)."""
    if not _ONLY_STR.issuperset(map(type, target_ids)) and not all(isinstance(t, str) for t in target_ids):
        return False
    return sum(map(len, target_ids)) + extra * len(target_ids) <= _CACHED_CHARS


def routed_keys(keys: Iterable[str], route: str) -> frozenset[str]:
    """``keys`` (from :func:`correlation_keys`) each narrowed to alerts routed by ``route`` (:func:`route_of`)."""
    return frozenset(f"{key}#{route}" for key in keys)


def alert_keys(alert, key: "CorrelationKey") -> list[str]:
    """The routed correlation keys of a parsed alert (sorted): its targets' scopes under ``key``, each
    narrowed to its route. Its first incident is ``slot_id(alert_keys(alert, key)[0])``."""
    target_ids = tuple(alert.target_ids)
    if alert.custom_properties:
        route = route_of(alert)
    else:  # (route_of for an alert without custom properties, the usual: no routed playbook, its rule's route)
        rule_id, rule_name = alert.rule_id, alert.rule_name
        route = (_cached_rule_route(rule_id, rule_name) if len(rule_id or "") + len(rule_name or "") <= _CACHED_CHARS
                 else _compute_rule_route(rule_id, rule_name))
    # (_sorted_routed_keys, in line; _cacheable_targets's usual answer, a tuple of str, in line too)
    if (_ONLY_STR.issuperset(map(type, target_ids))
            and sum(map(len, target_ids)) + (len(route) + 1) * len(target_ids) <= _CACHED_CHARS
            or _cacheable_targets(target_ids, len(route) + 1)):
        return list(_cached_sorted_routed_keys(target_ids, key, route))
    return list(_compute_sorted_routed_keys(target_ids, key, route))


def _sorted_routed_keys(target_ids: tuple[str, ...], key: CorrelationKey, route: str) -> tuple[str, ...]:
    """Pure in its arguments (strings, an enum), so kept when the keys it gives (at most one per target: the
    target's scope + ``#`` + ``route``) are at most :data:`_CACHED_CHARS` characters in all: a storm names a few
    resources and routes thousands of times."""
    if _cacheable_targets(target_ids, len(route) + 1):
        return _cached_sorted_routed_keys(target_ids, key, route)
    return _compute_sorted_routed_keys(target_ids, key, route)


def _compute_sorted_routed_keys(target_ids: tuple[str, ...], key: CorrelationKey, route: str) -> tuple[str, ...]:
    return tuple(sorted(routed_keys(correlation_keys(target_ids, key), route)))


_cached_sorted_routed_keys = lru_cache(maxsize=4096)(_compute_sorted_routed_keys)


def slot_id(key: str, generation: int = 1) -> str:
    """The incident id of ``key``'s ``generation``-th incident (generation >= 1).

    :data:`~firestop.alerts.alert.INCIDENT_ID_PREFIX` (``inc-``) + the first 16 hex digits of SHA-256 of ``SLOT\\n`` + the key (lower-case,
    as :func:`correlation_keys` gives it; the prefix keeps it apart from
    :func:`firestop.alerts.incident_key_for` of any alert id), then ``-g<generation>`` from the
    second on. Same on every worker; ValueError for a generation < 1. Kept (65,536 answers) for keys of at
    most :data:`_SLOT_CACHED_CHARS` characters; a longer key is hashed each time.
    """
    if generation < 1:
        raise ValueError("generation must be >= 1")
    if len(key) <= _SLOT_CACHED_CHARS:
        return _cached_slot_id(key, generation)
    return _compute_slot_id(key, generation)


def _compute_slot_id(key: str, generation: int) -> str:
    # "SLOT\n" separates slot ids from alert ids (incident_key_for hashes a lower-cased alert id, never upper-case
    # "SLOT"): else an alert whose alertId is another route's key took that key's first slot (red team 2)
    head = INCIDENT_ID_PREFIX + hashlib.sha256(b"SLOT\n" + key.encode("utf-8")).hexdigest()[:16]
    return head if generation == 1 else f"{head}-g{generation}"


_cached_slot_id = lru_cache(maxsize=65536)(_compute_slot_id)


def _candidate_keys(target_ids: tuple[str, ...], key: CorrelationKey) -> frozenset[str]:
    """``correlation_keys(target_ids, key)``; open incidents are compared with every alert of a storm, so their
    keys are kept when their target ids are at most :data:`_CACHED_CHARS` characters in all."""
    if _cacheable_targets(target_ids):
        return _cached_candidate_keys(target_ids, key)
    return correlation_keys(target_ids, key)


_cached_candidate_keys = lru_cache(maxsize=4096)(correlation_keys)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def find_incident(
    keys: frozenset[str],
    candidates: Sequence[OpenIncident],
    *,
    now: datetime,
    settings: CorrelationSettings,
    exclude: str | None = None,
) -> OpenIncident | None:
    """The open incident an alert with correlation ``keys`` joins, or None.

    A candidate matches when it shares a key with ``keys`` (computed with
    ``settings.key`` from its ``target_ids``) and was created at most
    ``settings.window_seconds`` before ``now`` (an instance created "after"
    ``now`` — clock skew — counts as age 0). Among matches the oldest wins
    (then the smallest instance id), so every later alert converges on the same
    incident. ``exclude`` (the alert's own incident id) never matches. None when
    correlation is off or ``keys`` is empty.
    """
    if not keys or not settings.enabled:
        return None
    now = _utc(now)
    best: OpenIncident | None = None
    for candidate in candidates:
        if candidate.instance_id == exclude:
            continue
        age = (now - _utc(candidate.created_time)).total_seconds()
        if age > settings.window_seconds:
            continue
        if keys.isdisjoint(_candidate_keys(tuple(candidate.target_ids), settings.key)):
            continue
        if best is None or (_utc(candidate.created_time), candidate.instance_id) < (
            _utc(best.created_time),
            best.instance_id,
        ):
            best = candidate
    return best

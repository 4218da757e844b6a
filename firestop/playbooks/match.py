"""Choose the playbook for an alert (pure)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Sequence

from firestop.alerts.alert import ROUTE_PROPERTY
from firestop.playbooks.models import Match, Playbook


def _matches(match: Match, alert) -> bool:
    if match.empty:
        return False
    if match.rule_names:
        rule = (alert.rule_name or "").lower()
        if not any(fnmatchcase(rule, g.lower()) for g in match.rule_names):
            return False
    if match.resource_types:
        types = {t.lower() for t in match.resource_types}
        if (alert.resource_type or "").lower() not in types:
            return False
    if match.monitoring_services:
        if (alert.monitoring_service or "").lower() not in {m.lower() for m in match.monitoring_services}:
            return False
    if match.signal_types:
        if (alert.signal_type or "").lower() not in {s.lower() for s in match.signal_types}:
            return False
    if match.rule_ids:
        rule_id = (alert.rule_id or "").lower()
        if not any(fnmatchcase(rule_id, g.lower()) for g in match.rule_ids):
            return False
    if match.min_severity is not None or match.max_severity is not None:
        if alert.severity is None:
            return False
        if match.min_severity is not None and alert.severity < match.min_severity:
            return False
        if match.max_severity is not None and alert.severity > match.max_severity:
            return False
    if match.custom_properties:
        props = {k.lower(): v for k, v in (alert.custom_properties or {}).items()}
        if any(props.get(k.lower()) != v for k, v in match.custom_properties.items()):
            return False
    return True


def select_playbook(alert, playbooks: Sequence[Playbook]) -> tuple[Playbook | None, str]:
    """(playbook, reason). The custom property ``firestop-playbook`` routes explicitly; otherwise the
    matching playbook with the lowest ``priority`` (then name) wins; (None, why) when none applies."""
    wanted = alert.routed_playbook
    if wanted:
        for playbook in playbooks:
            if playbook.name == wanted:
                return playbook, f"routed by custom property {ROUTE_PROPERTY}={wanted}"
        return None, f"custom property {ROUTE_PROPERTY}={wanted} names no loaded playbook"
    for playbook in sorted(playbooks, key=lambda p: (p.priority, p.name)):
        if _matches(playbook.match, alert):
            return playbook, f"matched playbook {playbook.name} (priority {playbook.priority})"
    return None, "no playbook matches this alert (rule name, resource type, service, severity)"

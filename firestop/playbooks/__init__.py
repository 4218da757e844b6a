"""Playbooks: declarative YAML saying which runbooks run, in which phase, on which alerts."""

from firestop.playbooks.loader import PlaybookError, load_playbook, load_playbooks, load_playbooks_lenient, route_playbook, routing_blocked
from firestop.playbooks.match import select_playbook
from firestop.playbooks.models import Approval, Match, Parallel, Playbook, Retry, Step

__all__ = [
    "Approval",
    "Match",
    "Parallel",
    "Playbook",
    "PlaybookError",
    "Retry",
    "Step",
    "load_playbook",
    "load_playbooks",
    "load_playbooks_lenient",
    "route_playbook",
    "routing_blocked",
    "select_playbook",
]

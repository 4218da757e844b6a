"""The incident lifecycle: detect → analyze → contain → resolve → learn.

Orchestration code here is deterministic (no I/O, no wall clock, no random):
all it does is decide, and ask activities to act.
"""

from firestop.lifecycle.group import GROUP_ORCHESTRATOR, run_group
from firestop.lifecycle.incident import (
    ACTIVITY_START_PENDING_JOINS,
    ACTIVITY_CONFIRM_ALERT,
    ACTIVITY_DESCRIBE_TARGETS,
    ACTIVITY_LEDGER_HEAD,
    ACTIVITY_RECORD_LATE,
    ACTIVITY_RUN_RUNBOOK,
    ACTIVITY_SELECT_PLAYBOOK,
    ACTIVITY_SUMMARIZE_ACTIVITY,
    EVENT_CORRELATED,
    EVENT_RESOLVED,
    EVENT_STOP,
    ORCHESTRATOR_NAME,
    IncidentInput,
    run_incident,
)
from firestop.lifecycle.outcome import EXIT_CODES, exit_code_for

__all__ = [
    "ACTIVITY_START_PENDING_JOINS",
    "ACTIVITY_CONFIRM_ALERT",
    "ACTIVITY_DESCRIBE_TARGETS",
    "ACTIVITY_LEDGER_HEAD",
    "ACTIVITY_RECORD_LATE",
    "ACTIVITY_SUMMARIZE_ACTIVITY",
    "EVENT_CORRELATED",
    "EVENT_RESOLVED",
    "EVENT_STOP",
    "GROUP_ORCHESTRATOR",
    "run_group",
    "ACTIVITY_RUN_RUNBOOK",
    "ACTIVITY_SELECT_PLAYBOOK",
    "EXIT_CODES",
    "IncidentInput",
    "ORCHESTRATOR_NAME",
    "exit_code_for",
    "run_incident",
]

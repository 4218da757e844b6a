"""Exceptions raised by the local durable host (``firestop.runtime``)."""

from __future__ import annotations


class DurableHostError(Exception):
    """Base class of every error the local durable host raises on purpose."""


class InstanceAlreadyExists(DurableHostError):
    """``start_new`` was given the id of an instance that is Pending or Running.

    Azure's default (``overridableExistingInstanceStates`` = NonRunningStates)
    allows reusing an id once the instance is Completed, Failed or Terminated;
    the local host does the same.
    """

    def __init__(self, instance_id: str, runtime_status: str) -> None:
        super().__init__(
            f"An orchestration instance with id {instance_id!r} already exists "
            f"and is {runtime_status}."
        )
        self.instance_id = instance_id
        self.runtime_status = runtime_status


class InstanceNotFound(DurableHostError, LookupError):
    """No instance with that id is stored in this host's database."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(f"No orchestration instance with id {instance_id!r}.")
        self.instance_id = instance_id


class FunctionNotFound(DurableHostError, LookupError):
    """The app declares no orchestrator/activity function with that name."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(
            f"The function {name!r} doesn't exist or is not an {kind} function "
            f"(known {kind} functions: {', '.join(sorted(known)) or 'none'})."
        )
        self.kind = kind
        self.name = name




class NonDeterminismError(DurableHostError):
    """Replaying the orchestrator produced calls that contradict its history.

    The Durable Functions Python SDK matches results to tasks by sequence
    number only (see NOTES.md), so the host checks the type and name of each
    scheduled call against the history itself, as DurableTask.Core does.
    """

    def __init__(self, position: int, event_id: int, expected: str, actual: str) -> None:
        super().__init__(
            "Non-deterministic orchestrator detected: at history position "
            f"{position} (sequence number {event_id}) the history records "
            f"{expected}, but the orchestrator now does {actual}."
        )
        self.position = position
        self.event_id = event_id
        self.expected = expected
        self.actual = actual


class UnsupportedAction(DurableHostError):
    """The orchestrator used a Durable API the local host does not implement."""

"""Run an incident for a parsed alert on the local durable host (sandbox tenant)."""

from __future__ import annotations

from typing import Any

from firestop.lifecycle import ORCHESTRATOR_NAME
from firestop.lifecycle.start import incident_input

TERMINAL = {"Completed", "Failed", "Terminated"}


class IncidentFailed(RuntimeError):
    """The orchestration itself failed (a bug, not a containment failure)."""


def handle_alert(alert, *, rerun: bool = False, env=None) -> tuple[dict[str, Any], str | None]:
    """(record, note). Starts (or resumes, or shows) the incident for ``alert`` and drives it to the end.

    env: a :class:`firestop.cli.wiring.Environment` (default: the sandbox under FIRESTOP_HOME, closed afterwards).
    Raises :class:`IncidentFailed` when the orchestration itself fails.
    """
    from firestop.cli.wiring import sandbox_environment
    from firestop.runtime import InstanceNotFound

    owned = env is None
    env = env or sandbox_environment()
    try:
        host = env.host
        instance_id = alert.incident_key
        note = None
        try:
            existing = host.get_status(instance_id)
        except InstanceNotFound:
            existing = None
        if existing is not None and existing.runtime_status in TERMINAL and not rerun:
            note = (
                f"alert already handled as incident {instance_id} ({existing.runtime_status}); "
                "showing its record. Use --rerun to handle it again."
            )
        elif existing is not None and existing.runtime_status not in TERMINAL:
            note = f"resuming incident {instance_id} ({existing.runtime_status})"
        else:
            if existing is not None:
                host.purge(instance_id)
            host.start_new(
                ORCHESTRATOR_NAME,
                instance_id,
                incident_input(alert, received_at=env.tenant.clock.now(), sandbox=True),
            )
        host.run_until_idle(instance_id, advance_timers=True)
        status = host.get_status(instance_id)
        if status.runtime_status == "Failed":
            raise IncidentFailed(f"incident {instance_id} orchestration failed: {status.output}")
        if status.runtime_status != "Completed":
            raise IncidentFailed(f"incident {instance_id} stopped in state {status.runtime_status}; run the command again to resume")
        return status.output, note
    finally:
        if owned:
            env.close()

"""Orchestrator functions (deterministic; see :mod:`firestop.lifecycle`)."""

import azure.durable_functions as df

from firestop.lifecycle import GROUP_ORCHESTRATOR, ORCHESTRATOR_NAME, run_group, run_incident

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR_NAME)
def incident_orchestrator(context: df.DurableOrchestrationContext):
    """detect → analyze → contain → resolve → learn for one incident; returns the record."""
    return (yield from run_incident(context))


@bp.orchestration_trigger(context_name="context", orchestration=GROUP_ORCHESTRATOR)
def incident_step_group(context: df.DurableOrchestrationContext):
    """One group of runbook calls in parallel, with retries and timeouts (sub-orchestration)."""
    return (yield from run_group(context))

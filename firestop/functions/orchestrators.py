"""Orchestrator functions (deterministic; see :mod:`firestop.lifecycle`)."""

import azure.durable_functions as df

from firestop.lifecycle import ORCHESTRATOR_NAME, run_incident

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR_NAME)
def incident_orchestrator(context: df.DurableOrchestrationContext):
    """detect → analyze → contain → resolve → learn for one incident; returns the record."""
    return (yield from run_incident(context))

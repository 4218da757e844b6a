"""Entity functions (Durable entities): per-resource and per-incident state shared by every instance."""

import azure.durable_functions as df

from firestop.lifecycle import tally
from firestop.lifecycle.locks import LOCK_ENTITY, operate

bp = df.Blueprint()


@bp.entity_trigger(context_name="context", entity_name=LOCK_ENTITY)
def resource_lock(context: df.DurableEntityContext) -> None:
    """The containment lease of one resource (see :mod:`firestop.lifecycle.locks`)."""
    operate(context)


@bp.entity_trigger(context_name="context", entity_name=tally.TALLY_ENTITY)
def incident_alerts(context: df.DurableEntityContext) -> None:
    """The alerts that joined one incident: count and sample (see :mod:`firestop.lifecycle.tally`)."""
    tally.operate(context)

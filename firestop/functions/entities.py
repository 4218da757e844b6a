"""Entity functions (Durable entities): per-resource state shared by every incident and instance."""

import azure.durable_functions as df

from firestop.lifecycle.locks import LOCK_ENTITY, operate

bp = df.Blueprint()


@bp.entity_trigger(context_name="context", entity_name=LOCK_ENTITY)
def resource_lock(context: df.DurableEntityContext) -> None:
    """The containment lease of one resource (see :mod:`firestop.lifecycle.locks`)."""
    operate(context)

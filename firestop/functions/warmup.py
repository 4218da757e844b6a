"""The warmup trigger: what the first alert webhook would otherwise load while its senders wait.

Azure Functions calls the function named ``warmup`` (a ``warmupTrigger``) when it adds an instance to scale out,
before the instance receives traffic (Premium and Dedicated plans; Microsoft Learn, "Azure Functions warmup
trigger"); ``firestop serve`` calls it once before it listens. Everything here is also loaded lazily on first
use: the trigger only moves that cost ahead of the first request.

Loaded: the playbook routes intake probes (:func:`firestop.functions.intake_call.playbook_routes`: YAML and
validation of every playbook, about 0.1 s of CPU), the seal key (:func:`firestop.trust.seal.load_seal_key`; a
missing or unusable key is left for the webhook to answer 503 with), the intake modules, and what the first
incident's first activity imports (``firestop.analysis`` and the Cognitive Services management SDK:
:func:`firestop.azure.clients.preload`; about 0.3 s of imports that otherwise ran on the orchestration driver
while a storm's first webhooks waited — in ``bench/intake.py storm`` half of the slowest 1 % of answers came
in its first two seconds).
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
from azure.functions.warmup import WarmUpContext

bp = df.Blueprint()
log = logging.getLogger("firestop.warmup")


@bp.warm_up_trigger("warmup")
def warmup(warmup: WarmUpContext) -> None:
    """Load the playbook routes, the seal key, the intake modules and the first activity's imports (module docstring).
    Never raises."""
    try:
        import firestop.alerts  # noqa: F401 - imported for its cost
        import firestop.analysis  # noqa: F401 - the first incident's first activity (describe_targets)
        import firestop.functions.links  # noqa: F401 - the 202's statusUri
        import firestop.intake  # noqa: F401
        import firestop.intake.aftermath  # noqa: F401 - read by accept on a Fired alert
        import firestop.lifecycle.start  # noqa: F401
        from firestop.azure.clients import preload
        from firestop.functions.intake_call import playbook_routes
        from firestop.trust.seal import SealKeyError, load_seal_key

        routes = playbook_routes()
        preload()  # the management SDK that activity builds its client from (firestop.azure.clients.PRELOADED_SDKS)
        try:
            load_seal_key()
        except SealKeyError:
            pass  # POST /api/alerts answers 503 naming the setting
        log.info("warmed up: %d playbook routes", len(routes))
    except Exception:  # noqa: BLE001 - warming up is an optimisation: the functions load all this lazily
        log.exception("warmup failed; the first requests load what it would have")

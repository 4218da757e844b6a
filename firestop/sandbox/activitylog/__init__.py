"""Room ``activitylog``: the subscription's Activity Log (ARM API and ``AzureActivity`` side effects).

Contract (see :mod:`firestop.sandbox.core.rooms`): ``events.py`` (what a
successful ARM write leaves behind: ``AzureActivity``/``Audit`` rows and
``EventData`` events, released as the clock passes their visibility time;
``doc["activity_log"]``), ``routes.py`` (``activityLogs.list``), ``seed.py``
(events for the seeded ``AzureActivity`` rows, order 90).
"""

from ..core.rooms import Room

room = Room(
    "activitylog",
    latency={
        "activityLogs.list": 0.5,
        # not a request: delay before activity/audit rows of sandbox ARM writes become queryable in Log Analytics
        "activity.ingestion": 180.0,
        # not a request: eventTimestamp -> submissionTimestamp of Activity Log API events (corpus REST sample: ~19 s)
        "activity.submission": 20.0,
    },
    modules=("routes", "seed"),  # register on ``room`` (imported by ``room.load()``)
)

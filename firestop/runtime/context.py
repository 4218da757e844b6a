"""The orchestration context JSON the host passes to a Python orchestrator.

Mirrors ``OrchestrationContextToString`` in the Durable extension's
``OrchestrationTriggerAttributeBindingProvider.cs`` as captured in
``corpus/durable/generated/*.json`` (see NOTES.md):

``{"history": [...], "input": <JSON text or null>, "instanceId": str,
"isReplaying": bool, "parentInstanceId": str|null, "upperSchemaVersion": 1,
"upperSchemaVersionNew": 2, "longRunningTimerIntervalDuration": "0.08:00:00",
"maximumShortTimerDuration": "0.16:00:00",
"defaultHttpAsyncRequestSleepTimeMillseconds": 30000}``

``upperSchemaVersion: 1, upperSchemaVersionNew: 2`` are the integers the real
host sends (extension enum SchemaVersion {Original=0, V2=1, V3=2}); the SDK
then answers with ``schemaVersion`` 2 and a single growing action list with
nested WhenAll/WhenAny compound actions.
"""

from __future__ import annotations

import json
from typing import Any

from .history import Event

UPPER_SCHEMA_VERSION = 1
UPPER_SCHEMA_VERSION_NEW = 2
#: .NET TimeSpan text ("d.hh:mm:ss"); timers longer than the maximum are split
#: by the SDK into intervals of the long-running interval (schema >= V3).
LONG_RUNNING_TIMER_INTERVAL = "0.08:00:00"
MAXIMUM_SHORT_TIMER_DURATION = "0.16:00:00"
DEFAULT_HTTP_ASYNC_SLEEP_MS = 30000


def build_context(
    *,
    instance_id: str,
    history: list[Event],
    input_json: str | None,
    parent_instance_id: str | None,
) -> str:
    """Return the context JSON string for one episode.

    ``history`` must already carry ``IsPlayed`` (see ``history.mark_played``).
    ``input_json`` is the orchestration input as JSON text (the SDK's
    ``get_input()`` parses it lazily); ``None`` or ``"null"`` become ``null``.
    ``isReplaying`` is ``false`` as in every captured context (the extension's
    flag at invocation time); the SDK derives replay state from ``IsPlayed``
    and the position of the last OrchestratorStarted instead.
    """
    return build_context_from_text(instance_id=instance_id, history_text=[json.dumps(e) for e in history],
                                   input_json=input_json, parent_instance_id=parent_instance_id)


def build_context_from_text(
    *,
    instance_id: str,
    history_text: list[str],
    input_json: str | None,
    parent_instance_id: str | None,
) -> str:
    """:func:`build_context` from the JSON text of each history event (with ``IsPlayed``).

    The host keeps each event's text between episodes, so an episode joins
    strings instead of re-serialising the whole history.
    """
    body: dict[str, Any] = {
        "input": None if input_json in (None, "null") else input_json,
        "instanceId": instance_id,
        "isReplaying": False,
        "parentInstanceId": parent_instance_id,
        "upperSchemaVersion": UPPER_SCHEMA_VERSION,
        "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
        "longRunningTimerIntervalDuration": LONG_RUNNING_TIMER_INTERVAL,
        "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER_DURATION,
        "defaultHttpAsyncRequestSleepTimeMillseconds": DEFAULT_HTTP_ASYNC_SLEEP_MS,
    }
    rest = json.dumps(body)
    return '{"history": [' + ", ".join(history_text) + "], " + rest[1:]


def played_text(event_text: str, played: bool) -> str:
    """Add ``IsPlayed`` to the JSON text of one event (a non-empty JSON object)."""
    return event_text[:-1] + (', "IsPlayed": true}' if played else ', "IsPlayed": false}')

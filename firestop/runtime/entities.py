"""Durable entities on the local host: ids, the out-of-proc batch protocol, messages.

What azure-functions-durable 1.7 (the Python SDK) supports, read from its
source, and what the host does for each:

* **Entity functions** (``@bp.entity_trigger`` / ``df.Entity.create(fn)``):
  function-based only. The SDK has no class-based entity syntax (the
  ``TaskEntity``/class syntax is .NET's, Microsoft Learn "Developer's guide to
  durable entities in .NET"); a Python class can still be dispatched from an
  entity function (``tests/runtime/test_runtime_samples.py`` shows one).
* **Orchestrations**: ``context.call_entity(entity_id, op, input)`` (action
  ``CallEntity``, actionType 7) and ``context.signal_entity(...)``
  (``SignalEntity``, 9; fire-and-forget). There is **no** ``context.lock`` /
  critical section API and no lock action type in the SDK (its ``ActionType``
  stops at 12 without one), so a critical section is written as an entity
  that grants and releases a lease (see ``test_runtime_entities.py``).
  Entities cannot signal other entities (``DurableEntityContext`` has no
  ``signal_entity``; its ``signals`` list is always empty).
* **Client**: ``DurableOrchestrationClient.signal_entity`` (``POST
  {rpc}entities/{name}/{key}?op=``) and ``read_entity_state`` (``GET
  {rpc}entities/{name}/{key}``), served by ``management.py``.

Wire shapes (Durable extension ``EntityTriggerAttributeBindingProvider.
EntityContextToString`` and ``TaskEntityShim.ExecuteOutOfProcBatch``; SDK
``DurableEntityContext.from_json`` / ``EntityState.to_json``):

* scheduler id (the entity's instance id): ``@<lowercased name>@<key>``;
* batch context: ``{"self": {"name", "key"}, "exists": bool, "state": <JSON
  text or null>, "batch": [{"name": op, "input": <input text>, "isSignal":
  bool, "id": guid}]}``. The input text is the operation input serialized
  twice (the extension serializes the SDK's already-serialized input), so the
  SDK's ``get_input`` decodes twice;
* batch result: ``{"entityExists": bool, "entityState": <JSON text>,
  "results": [{"isError", "duration", "startTime", "result": <JSON text>}],
  "signals": [...]}``;
* a call's answer reaches the orchestration as ``EventRaised`` named after the
  request id, whose ``Input`` is the ResponseMessage ``{"result": <JSON
  text>}`` plus ``"exceptionType": "Error"`` when the operation raised;
* the orchestration's history records each call or signal as ``EventSent``
  (``EventId`` = its sequence number, ``InstanceId`` = scheduler id, ``Name``
  = ``"op"``, ``Input`` = the RequestMessage JSON with ``id``); the SDK reads
  the request id from there to match the answer.

Semantics kept from the extension: operations on one entity run one batch at
a time, in the order they were sent (FIFO per entity); a batch's effects
(new state, answers to callers, removed operations) are committed in one
transaction, so a crash mid-batch re-runs the batch from the last committed
state (each operation applied once to the committed state).
"""

from __future__ import annotations

import json
from typing import Any

from msgspec import Struct
from orjson import JSONDecodeError as _OrjsonDecodeError
from orjson import dumps as _orjson_dumps
from orjson import loads as _orjson_loads

from .history import Event, EventType, format_timestamp

#: ``EntityMessageEventNames.RequestMessageEventName`` — EventSent name of an operation request.
REQUEST_EVENT_NAME = "op"
#: Most operations handed to one entity function call (the extension's
#: ``maxEntityOperationBatchSize`` is 50 on Consumption plans, 5000 elsewhere).
MAX_BATCH = 100
#: Longest entity name / key / operation name accepted from outside (characters).
MAX_NAME = 256
MAX_KEY = 1024


class EntityRef(Struct, frozen=True):
    """An entity id: ``name`` (lowercased, as the extension's ``EntityId``) and ``key``."""

    name: str
    key: str

    @property
    def scheduler_id(self) -> str:
        return f"@{self.name}@{self.key}"

    def __str__(self) -> str:
        return self.scheduler_id


def entity_ref(name: str, key: str) -> EntityRef:
    """Validated :class:`EntityRef`; ValueError naming the field for an empty or too long name/key."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or "@" in name:
        raise ValueError(f"entity name must be 1-{MAX_NAME} characters without '@', not {name!r:.80}")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY:
        raise ValueError(f"entity key must be 1-{MAX_KEY} characters, not {key!r:.80}")
    return EntityRef(name.lower(), key)


def as_ref(entity: Any) -> EntityRef:
    """An SDK ``df.EntityId`` (``.name``/``.key``), an EntityRef or a ``(name, key)`` pair → EntityRef."""
    if isinstance(entity, EntityRef):
        return entity
    if isinstance(entity, tuple) and len(entity) == 2:
        return entity_ref(*entity)
    return entity_ref(getattr(entity, "name", None), getattr(entity, "key", None))


def parse_scheduler_id(scheduler_id: str) -> EntityRef:
    """``@name@key`` → EntityRef (the key may itself contain ``@``). ValueError otherwise."""
    if not scheduler_id.startswith("@") or "@" not in scheduler_id[1:]:
        raise ValueError(f"not an entity scheduler id: {scheduler_id!r:.80}")
    name, key = scheduler_id[1:].split("@", 1)
    return entity_ref(name, key)


def is_entity_id(instance_id: str) -> bool:
    """Instance ids starting with ``@`` are reserved for entities (as in Durable Functions)."""
    return instance_id.startswith("@")


def operation_input_text(token_text: str | None) -> str:
    """The stored/batched input of an operation from the SDK's serialized input.

    The orchestrator's action carries ``input`` as JSON text (``df_dumps``);
    the client posts JSON text as a JSON string. The extension serializes that
    text once more, so the batch carries ``json.dumps(text)``. No input → the
    text ``"null"`` (``get_input()`` → None).
    """
    return json.dumps(token_text if token_text is not None else "null")


def signal_input_text(token_text: str | None) -> str:
    """:func:`operation_input_text` written with orjson (:func:`_dumps`): the stored input of a client's signal,
    read only through the batch context (decoded there twice: the same value). A hot incident's tally signal
    carries ~8 KB of summaries; the history's ``EventSent`` inputs keep :func:`operation_input_text`."""
    return _dumps(token_text if token_text is not None else "null")


class Operation(Struct, frozen=True):
    """One queued operation (a row of the store's ``entity_ops``)."""

    id: int
    entity_id: str  # scheduler id
    name: str
    input: str  # see operation_input_text
    request_id: str
    is_signal: bool
    parent_instance_id: str | None
    parent_execution_id: str | None


def _dumps(value: Any) -> str:
    """JSON text of ``value`` (strings, booleans, None, lists and dicts of them) with orjson: the same values as
    ``json.dumps`` gives (non-ASCII characters written as themselves, not ``\\u`` escapes: the reader decodes
    both alike); what orjson refuses (a lone surrogate) with ``json.dumps``."""
    try:
        return _orjson_dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value)


def _result_json(text: str) -> Any:
    """``json.loads(text)`` of a batch result, with orjson when that reads the same: orjson refuses ``NaN``,
    ``Infinity`` and escaped lone surrogates (the json module reads them) and reads an integer beyond 64 bits as a
    float, so its answer is taken only when every value read from it is exact whatever the numbers — the state and
    each operation's result JSON *text* (a string or null), ``entityExists``/``isError`` read for their truth —
    else the text is read again with ``json.loads`` (which raises ValueError for what is not JSON)."""
    try:
        data = _orjson_loads(text)
    except _OrjsonDecodeError:
        return json.loads(text)
    if not isinstance(data, dict):
        return json.loads(text)
    results = data.get("results")
    if not isinstance(data.get("entityState"), (str, type(None))) or not isinstance(results, list) or not all(
            isinstance(r, dict) and isinstance(r.get("result"), (str, type(None))) for r in results):
        return json.loads(text)
    return data


def batch_context(ref: EntityRef, *, exists: bool, state: str | None, operations: list[Operation]) -> str:
    """The context JSON string the entity function receives for one batch.

    Encoded with orjson (:func:`_dumps`): the context carries the entity's whole state as one JSON string, so this
    pass costs in proportion to the state — for a hot incident's tally (``firestop.lifecycle.tally``: 16 characters
    per remembered alert, up to 10,000) ``json.dumps`` took ~120 µs of CPU a batch at 1,000 alerts, orjson ~11 µs
    (``timeit`` of a 24 KB state, load ~7)."""
    return _dumps({
        "self": {"name": ref.name, "key": ref.key},
        "exists": bool(exists),
        "state": state if exists else None,
        "batch": [{"name": op.name, "input": op.input,
                   "isSignal": op.is_signal, "id": op.request_id} for op in operations],
    })


class OperationOutcome(Struct, frozen=True):
    """What one operation produced: ``result`` JSON text (or the error message as JSON text)."""

    is_error: bool
    result: str | None


class BatchResult(Struct, frozen=True):
    exists: bool
    state: str | None  # JSON text; None when the entity does not exist
    outcomes: list[OperationOutcome]


def parse_batch_result(text: str, count: int) -> BatchResult:
    """Parse the entity function's answer for a batch of ``count`` operations.

    Raises ValueError when the answer is not the documented shape or has a
    different number of results (the extension rejects it likewise: "Out of
    proc orchestrators must return a valid JSON schema").
    """
    data = _result_json(text)  # (the state again, as one JSON string: orjson, ~75 -> ~23 µs at 24 KB)
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError("entity function returned no results list")
    results = data["results"]
    if len(results) != count:
        raise ValueError(f"entity function returned {len(results)} results for {count} operations")
    outcomes = [OperationOutcome(bool(r.get("isError")), r.get("result")) for r in results]
    exists = bool(data.get("entityExists"))
    state = data.get("entityState") if exists else None
    if state is not None and not isinstance(state, str):
        state = json.dumps(state)
    return BatchResult(exists, state, outcomes)


def response_input(outcome: OperationOutcome) -> str:
    """The ``Input`` of the EventRaised that answers a call: the ResponseMessage as JSON text."""
    message: dict[str, Any] = {"result": outcome.result if outcome.result is not None else "null"}
    if outcome.is_error:
        message["exceptionType"] = "Error"
    return json.dumps(message)


def error_outcome(message: str) -> OperationOutcome:
    return OperationOutcome(True, json.dumps(message))


def request_message(*, operation: str, input_text: str, request_id: str, is_signal: bool,
                    parent_instance_id: str, parent_execution_id: str) -> dict[str, Any]:
    """The extension's RequestMessage as recorded in ``EventSent.Input`` (the SDK reads ``id``)."""
    return {"op": operation, "signal": is_signal, "input": input_text, "id": request_id,
            "parent": parent_instance_id, "parentExecution": parent_execution_id}


def event_sent(*, event_id: int, scheduler_id: str, message: dict[str, Any], when: Any) -> Event:
    """EventSent (DurableTask.Core ``EventSentEvent``) for an entity call or signal."""
    return {"EventType": int(EventType.EventSent), "EventId": event_id, "Timestamp": format_timestamp(when),
            "InstanceId": scheduler_id, "Name": REQUEST_EVENT_NAME, "Input": json.dumps(message)}


def sent_message(event: Event) -> dict[str, Any]:
    """The RequestMessage of an EventSent event ({} if unreadable)."""
    try:
        message = json.loads(event.get("Input") or "{}")
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}

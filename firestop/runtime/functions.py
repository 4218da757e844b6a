"""The function index of a Function App, and calling its durable functions.

Functions are found the way the Functions host finds them: by trigger binding
type (``orchestrationTrigger`` / ``activityTrigger`` / ``entityTrigger``), named
by the trigger's ``orchestration``/``activity``/``entity_name`` property if set,
else the function name (``OrchestrationTriggerAttribute`` semantics). Entity
names are case-insensitive (the extension's ``EntityId`` lowercases them), so
entities are indexed by lowercased name.

``FunctionApp.get_functions()`` may be called only once per app object (a
second call fails ``validate_function_names``), so the index is cached per app
in a weak map; if someone else already called it, the already-built functions
are taken from the app's builders.

Calling conventions, as the Python worker does it:

* orchestrator: the ``handle`` that ``df.DFApp`` registers
  (``Orchestrator.create(fn)``) gets an ``azure.functions.OrchestrationContext``
  whose ``.body`` is the context JSON string, and returns the state JSON string
  (or raises, see ``actions.parse_raised``);
* entity: the ``handle`` that ``df.DFApp.entity_trigger`` registers
  (``Entity.create(fn)``) gets an ``azure.functions.EntityContext`` whose
  ``.body`` is the batch context JSON (``entities.py``) and returns the
  batch result JSON string;
* activity: output bindings (``func.Out[...]`` parameters) get ``Out``
  objects and their values are encoded as the worker does (``bindings.py``);
  the input JSON text is decoded with the worker's
  ``ActivityTriggerConverter.decode`` (``df_loads``, raw string if not JSON) and
  passed under the trigger's parameter name; the return value is encoded with
  ``ActivityTriggerConverter.encode`` (``df_dumps``). Sync or async functions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import threading
import weakref
from datetime import datetime, timezone
from typing import Any, Callable

import azure.functions as func
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter
from msgspec import Struct, field

from . import bindings
from .errors import FunctionNotFound

ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
ENTITY_TRIGGER = "entityTrigger"
HTTP_TRIGGER = "httpTrigger"
DURABLE_CLIENT = "durableClient"


class FunctionEntry(Struct, frozen=True):
    """One indexed function: declared name, trigger parameter name, callable."""

    name: str
    kind: str  # binding type of the trigger
    parameter: str  # the trigger binding's parameter name
    fn: Callable[..., Any]
    function: Any  # azure.functions Function object


class FunctionIndex(Struct, frozen=True):
    orchestrators: dict[str, FunctionEntry]
    activities: dict[str, FunctionEntry]
    others: dict[str, FunctionEntry]  # any other trigger (http, timer, ...) by function name
    entities: dict[str, FunctionEntry] = field(default_factory=dict)  # by lowercased entity name

    def orchestrator(self, name: str) -> FunctionEntry:
        try:
            return self.orchestrators[name]
        except KeyError:
            raise FunctionNotFound("orchestrator", name, list(self.orchestrators)) from None

    def activity(self, name: str) -> FunctionEntry:
        try:
            return self.activities[name]
        except KeyError:
            raise FunctionNotFound("activity", name, list(self.activities)) from None

    def entity(self, name: str) -> FunctionEntry:
        """The entity function named ``name`` (case-insensitive). Raises FunctionNotFound."""
        try:
            return self.entities[name.lower()]
        except KeyError:
            raise FunctionNotFound("entity", name, [e.name for e in self.entities.values()]) from None

    def function(self, name: str) -> FunctionEntry:
        for table in (self.others, self.orchestrators, self.activities):
            if name in table:
                return table[name]
        raise FunctionNotFound("app", name, list(self.others))


_CACHE: "weakref.WeakKeyDictionary[Any, FunctionIndex]" = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _built_functions(app: Any) -> list[Any]:
    try:
        return list(app.get_functions())
    except ValueError:
        # get_functions() already ran on this app (names are registered once).
        if not getattr(app, "functions_bindings", None):
            raise
        return [builder._function for builder in app._function_builders]


def index_app(app: Any) -> FunctionIndex:
    """Index ``app`` (a ``df.DFApp`` / ``func.FunctionApp``), cached per app object."""
    with _CACHE_LOCK:
        cached = _CACHE.get(app)
        if cached is not None:
            return cached
        orchestrators: dict[str, FunctionEntry] = {}
        activities: dict[str, FunctionEntry] = {}
        others: dict[str, FunctionEntry] = {}
        entities: dict[str, FunctionEntry] = {}
        for function in _built_functions(app):
            trigger = function.get_trigger()
            kind = trigger.get_binding_name() if trigger is not None else ""
            fn_name = function.get_function_name()
            if kind == ORCHESTRATION_TRIGGER:
                name = getattr(trigger, "orchestration", None) or fn_name
                orchestrators[name] = FunctionEntry(name, kind, trigger.name, function.get_user_function(), function)
            elif kind == ACTIVITY_TRIGGER:
                name = getattr(trigger, "activity", None) or fn_name
                activities[name] = FunctionEntry(name, kind, trigger.name, function.get_user_function(), function)
            elif kind == ENTITY_TRIGGER:
                name = getattr(trigger, "entity_name", None) or fn_name
                entities[name.lower()] = FunctionEntry(name, kind, trigger.name, function.get_user_function(),
                                                       function)
            else:
                param = trigger.name if trigger is not None else ""
                others[fn_name] = FunctionEntry(fn_name, kind, param, function.get_user_function(), function)
        index = FunctionIndex(orchestrators, activities, others, entities)
        _CACHE[app] = index
        return index


def run_maybe_async(result: Any) -> Any:
    """Resolve a coroutine/awaitable result on a private event loop."""
    if not inspect.isawaitable(result):
        return result

    async def _await() -> Any:
        return await result

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await())
    # Called from inside a running loop (e.g. an async HTTP function drove the
    # host): run the coroutine on its own loop in a helper thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _await()).result()


def call_orchestrator(entry: FunctionEntry, context_json: str) -> str:
    """Invoke an orchestrator handle with the context JSON; returns the state string.

    Exceptions propagate (the SDK raises on unhandled orchestrator errors).
    """
    return run_maybe_async(entry.fn(func.OrchestrationContext(context_json)))


def call_entity(entry: FunctionEntry, context_json: str) -> str:
    """Invoke an entity handle with one batch's context JSON; returns the result JSON string.

    Exceptions propagate (the SDK raises only for a malformed batch).
    """
    return run_maybe_async(entry.fn(func.EntityContext(context_json)))


def decode_activity_input(input_json: str | None) -> Any:
    """What the worker passes an activity: ``ActivityTriggerConverter.decode``."""
    datum = meta.Datum(type="json", value=input_json if input_json is not None else "null")
    return ActivityTriggerConverter.decode(datum, trigger_metadata=None)


def encode_activity_output(value: Any) -> str:
    """The activity result as JSON text: ``ActivityTriggerConverter.encode``."""
    return ActivityTriggerConverter.encode(value, expected_type=None).value


def call_activity(entry: FunctionEntry, input_json: str | None) -> str:
    """Run an activity; returns its result as JSON text. Its exceptions propagate."""
    return call_activity_with_outputs(entry, input_json, instance_id="", now=None)[0]


@functools.lru_cache(maxsize=1024)
def _outputs_of(entry: FunctionEntry) -> tuple[bindings.OutputBinding, ...]:
    return tuple(bindings.output_bindings(entry.function, entry.fn))


@functools.lru_cache(maxsize=1024)
def _client_parameters(entry: FunctionEntry) -> tuple[str, ...]:
    """Names of the activity's ``durableClient`` bindings (any function may hold one, activities too)."""
    found = []
    for binding in entry.function.get_bindings():
        kind = binding.get_binding_name() if hasattr(binding, "get_binding_name") else getattr(binding, "type", "")
        if kind == DURABLE_CLIENT:
            found.append(binding.name)
    return tuple(found)


def call_activity_with_outputs(entry: FunctionEntry, input_json: str | None, *, instance_id: str,
                               now: datetime | None, client: tuple[Any, Any] | None = None
                               ) -> tuple[str, list[bindings.Output]]:
    """Run an activity with its output bindings (``bindings.py``).

    ``client``: ``(binding JSON () -> str, run(coroutine) -> result)`` — what an activity with a ``durableClient``
    binding gets (the JSON a management server of this host hands out) and where its coroutine runs (the functions
    worker loop, where the SDK's shared session lives). An activity with such a binding and no ``client`` fails
    (ValueError naming it): the host has no management server to reach.

    Returns its result as JSON text and the encoded values it set on its
    ``func.Out`` parameters. The activity's exceptions propagate, and so do
    ValueErrors for outputs that cannot be encoded or addressed.
    """
    value = decode_activity_input(input_json)
    declared = list(_outputs_of(entry))
    outs = bindings.out_parameters(declared)
    wanted = _client_parameters(entry)
    if wanted:
        if client is None:
            raise ValueError(f"activity {entry.name!r} has a durable client binding and this host has no management "
                             "server")
        binding_json = client[0]()
        result = client[1](entry.fn(**{entry.parameter: value}, **outs, **{name: binding_json for name in wanted}))
    else:
        result = run_maybe_async(entry.fn(**{entry.parameter: value}, **outs))
    encoded = encode_activity_output(result)
    if not declared:
        return encoded, []
    collected = bindings.collect(declared, outs, input_value=value, input_json=input_json,
                                 trigger_parameter=entry.parameter, instance_id=instance_id,
                                 now=now or datetime.now(timezone.utc))
    return encoded, collected

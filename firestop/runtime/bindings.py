"""Output bindings of activities (``func.Out[...]`` parameters), as the Python worker passes them.

What the worker does for a function with output bindings (declared with
``@bp.queue_output``, ``@bp.blob_output``, ``@bp.generic_output_binding``,
...; each binding ``direction: out`` with a ``name`` other than ``$return``):
it passes an ``Out`` object for each such parameter, calls the function, then
takes each ``Out``'s value (if one was set) and encodes it with the converter
that ``azure.functions`` registers for the binding type
(``meta.get_binding_registry().get(type).encode(value, expected_type=T)``
for ``func.Out[T]``; e.g. ``QueueMessageOutConverter`` for ``queue``,
``BlobConverter`` for ``blob``, ``HttpResponseConverter`` for ``http``). A
type without a converter gets the worker's generic encoding (str, bytes or
JSON). The Functions host then delivers the encoded data to the service.

Locally the service is a stand-in, written in the same SQLite transaction as
the activity's result (so a result committed has its outputs committed, and
an activity re-run after a crash delivers them again — at-least-once, as on
Azure):

* every output is a row of ``binding_outputs`` in the host's database
  (``durable.sqlite`` under ``FIRESTOP_HOME``): binding type and name,
  ``target`` (queue name, resolved blob path, or the binding's other
  properties as JSON), data type (``string``/``bytes``/``json``/``http``) and
  data; a queue output set to a list gives one row (message) per element;
  read them with ``LocalDurableHost.binding_outputs()``;
* blobs are also written as files under ``<database folder>/bindings/blob/
  <container>/<blob name>`` (normally ``FIRESTOP_HOME/bindings/blob/...``).

Blob paths resolve the binding expressions an activity can use (Azure
Functions "binding expressions"; the activity trigger's binding data,
extension ``ActivityTriggerAttributeBindingProvider``): ``{rand-guid}``,
``{DateTime}`` (UTC, ``yyyy-MM-ddTHH-mm-ssZ``), ``{instanceId}``, ``{data}`` /
``{<trigger parameter>}`` (the input) and dotted members of a JSON object
input (``{data.account}``). Anything else fails the activity with a message
naming the expression; a resolved path must stay inside its container.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
import uuid
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import azure.functions as func
from azure.functions import meta
from msgspec import Struct

OUT_DIRECTION = 1  # azure.functions BindingDirection.OUT
_EXPRESSION = re.compile(r"\{([^{}]+)\}")
#: Largest value one output binding may carry (bytes once encoded).
MAX_OUTPUT_BYTES = 16 << 20


class OutputBinding(Struct, frozen=True):
    """An output parameter of a function: binding type, parameter name, declared properties, ``Out[T]``'s T."""

    type: str
    name: str
    properties: dict[str, Any]
    pytype: Any


class Output(Struct, frozen=True):
    """One value an activity set on an output binding, encoded and ready for the stand-in."""

    binding_type: str
    binding_name: str
    target: str | None
    data_type: str  # string | bytes | json | http
    data: bytes


class _Out(func.Out):
    """The worker's ``Out``: holds what the function sets."""

    def __init__(self) -> None:
        self._value: Any = None
        self.was_set = False

    def set(self, val: Any) -> None:
        self._value = val
        self.was_set = True

    def get(self) -> Any:
        return self._value


def output_bindings(function: Any, fn: Any) -> list[OutputBinding]:
    """The output bindings of an indexed function whose parameter the function declares."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return []
    found = []
    for binding in function.get_bindings():
        data = binding.get_dict_repr()
        direction = getattr(data.get("direction"), "value", data.get("direction"))
        if (direction != OUT_DIRECTION and str(direction).lower() != "out") or data.get("name") in (None, "$return"):
            continue
        name = data["name"]
        if name not in parameters:
            continue
        args = typing.get_args(parameters[name].annotation)
        properties = {k: v for k, v in data.items() if k not in ("direction", "type", "name")}
        found.append(OutputBinding(str(data.get("type")), name, properties, args[0] if args else None))
    return found


def out_parameters(bindings: list[OutputBinding]) -> dict[str, _Out]:
    return {b.name: _Out() for b in bindings}


def collect(bindings: list[OutputBinding], outs: dict[str, _Out], *, input_value: Any, input_json: str | None,
            trigger_parameter: str, instance_id: str, now: datetime) -> list[Output]:
    """Encode every value set, as the worker does, and address it (queue name, blob path).

    Raises ValueError for an unencodable value, an over-large one, or a blob
    path expression that cannot be resolved.
    """
    collected: list[Output] = []
    for binding in bindings:
        out = outs[binding.name]
        if not out.was_set or out.get() is None:
            continue
        data_type, payloads = _encode(binding, out.get())
        target = _target(binding, input_value=input_value, input_json=input_json,
                         trigger_parameter=trigger_parameter, instance_id=instance_id, now=now)
        for payload in payloads:
            if len(payload) > MAX_OUTPUT_BYTES:
                raise ValueError(f"output binding {binding.name!r}: value over {MAX_OUTPUT_BYTES} bytes")
            collected.append(Output(binding.type, binding.name, target, data_type, payload))
    return collected


def _encode(binding: OutputBinding, value: Any) -> tuple[str, list[bytes]]:
    converter = meta.get_binding_registry().get(binding.type)
    if converter is not None:
        datum = converter.encode(value, expected_type=binding.pytype)
    else:
        datum = _generic(value)
    if datum is None:
        raise ValueError(f"output binding {binding.name!r} ({binding.type}) cannot take a {type(value).__name__}")
    kind, raw = datum.type, datum.value
    if kind == "http":
        body = raw.get("body")
        http = {"status_code": int(raw["status_code"].value) if raw.get("status_code") else 200,
                "headers": {k: v.value for k, v in (raw.get("headers") or {}).items()},
                "body": (body.value.decode("utf-8", errors="replace") if isinstance(body.value, bytes)
                         else body.value) if body is not None else None}
        return "http", [json.dumps(http).encode()]
    if kind == "json" and binding.type == "queue":
        items = json.loads(raw)
        if isinstance(items, list):  # a list set on a queue output: one message each
            return "string", [_to_bytes(i if isinstance(i, str) else json.dumps(i)) for i in items]
    return kind, [_to_bytes(raw)]


def _generic(value: Any) -> meta.Datum:
    if isinstance(value, str):
        return meta.Datum(type="string", value=value)
    if isinstance(value, (bytes, bytearray)):
        return meta.Datum(type="bytes", value=bytes(value))
    return meta.Datum(type="json", value=json.dumps(value))


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _target(binding: OutputBinding, **context: Any) -> str | None:
    props = binding.properties
    if binding.type == "queue":
        return _resolve(str(props.get("queueName") or props.get("queue_name") or ""), **context).lower()
    if binding.type == "blob":
        path = _resolve(str(props.get("path") or ""), **context)
        return safe_blob_path(path)
    if binding.type == "http":
        return None
    return json.dumps(props, sort_keys=True, default=str)


def _resolve(template: str, *, input_value: Any, input_json: str | None, trigger_parameter: str,
             instance_id: str, now: datetime) -> str:
    data = json.loads(input_json) if input_json else None

    def value_of(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        lowered = expression.lower()
        if lowered == "rand-guid":
            return str(uuid.uuid4())
        if lowered == "datetime":
            return now.strftime("%Y-%m-%dT%H-%M-%SZ")
        if lowered == "instanceid":
            return instance_id
        head, _, rest = expression.partition(".")
        if head.lower() not in ("data", trigger_parameter.lower()):
            raise ValueError(f"binding expression {{{expression}}} has no value for an activity "
                             "(use rand-guid, DateTime, instanceId, data or data.<member>)")
        current: Any = data
        for member in filter(None, rest.split(".")):
            if not isinstance(current, dict) or member not in current:
                raise ValueError(f"binding expression {{{expression}}}: the input has no member {member!r}")
            current = current[member]
        if isinstance(current, bool) or not isinstance(current, (str, int, float)):
            raise ValueError(f"binding expression {{{expression}}} is not a string or number")
        return str(current)

    return _EXPRESSION.sub(value_of, template)


def safe_blob_path(path: str) -> str:
    """``container/name`` with no empty, ``.`` or ``..`` segment and no leading ``/`` (ValueError otherwise)."""
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise ValueError(f"blob path {path!r:.200} must be 'container/name' without '.' or '..' segments")
    return "/".join(parts)


def blob_file(root: Path, path: str) -> Path:
    """Where the local stand-in keeps the blob ``path`` (``container/name``) under ``root``."""
    target = (root / "blob" / safe_blob_path(path)).resolve()
    if root.resolve() not in target.parents:
        raise ValueError(f"blob path {path!r:.200} leaves the bindings folder")
    return target

"""ARM request-body helpers: JSON merge-patch and strict shape validation.

* :func:`merge_patch` is RFC 7396 (ARM RPC: PATCH of a resource follows JSON
  merge-patch): objects merge recursively, ``null`` deletes a member, anything
  else (arrays included, e.g. ``networkAcls.ipRules``) replaces wholesale.
* :func:`validate` walks a body against a small schema (``Obj``/``Arr``/``Enum``/
  scalars) and raises :class:`BodyError` with ARM's ``InvalidRequestContent``
  wording for unknown members or wrong types. Read-only members are accepted and
  dropped (the SDK's msrest serializer omits them, but raw clients may echo a GET).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any, Optional

from msgspec import Struct, field


# The shapes are msgspec Structs, not dataclasses: a Struct class is made in C (~0.1 M instructions, a dataclass
# ~1.8 M), and every process that opens the sandbox makes these six.


class BodyError(ValueError):
    """A request body ARM would refuse to deserialize (-> 400 InvalidRequestContent)."""


class Obj(Struct):
    name: str
    fields: dict[str, Any]
    readonly: set[str] = field(default_factory=set)


class Arr(Struct):
    item: Any


class Enum(Struct):
    name: str
    values: tuple[str, ...]


class Scalar(Struct):
    name: str  # .NET type name used in messages
    types: tuple[type, ...]


STR = Scalar("System.String", (str,))
BOOL = Scalar("System.Boolean", (bool,))
INT = Scalar("System.Int32", (int,))
ANY = Scalar("Object", (object,))


class MapOf(Struct):
    value: Any


class IPv4Rule(Struct):
    """IpRule.value: "IPv4 address range in CIDR notation" (swagger 2024-10-01)."""


def _path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def validate(value: Any, shape: Any, path: str = "") -> Any:
    """Return a cleaned copy of ``value`` (read-only members dropped); ``None`` passes (merge-patch delete)."""
    if value is None:
        return None
    if isinstance(shape, Obj):
        if not isinstance(value, dict):
            raise BodyError(f"Error converting value to type '{shape.name}'. Path '{path}'")
        out = {}
        for key, item in value.items():
            if key in shape.readonly:
                continue
            if key not in shape.fields:
                raise BodyError(f"Could not find member '{key}' on object of type '{shape.name}'. Path '{_path(path, key)}'")
            out[key] = validate(item, shape.fields[key], _path(path, key))
        return out
    if isinstance(shape, Arr):
        if not isinstance(value, list):
            raise BodyError(f"Cannot deserialize the current value into a list. Path '{path}'")
        return [validate(item, shape.item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(shape, MapOf):
        if not isinstance(value, dict):
            raise BodyError(f"Cannot deserialize the current value into a dictionary. Path '{path}'")
        return {str(k): validate(v, shape.value, _path(path, str(k))) for k, v in value.items()}
    if isinstance(shape, Enum):
        if isinstance(value, str):
            for allowed in shape.values:
                if allowed.lower() == value.lower():
                    return allowed
        raise BodyError(f"Error converting value {value!r} to type '{shape.name}'. Path '{path}'")
    if isinstance(shape, IPv4Rule):
        if not isinstance(value, str):
            raise BodyError(f"Error converting value {value!r} to type 'System.String'. Path '{path}'")
        try:
            ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise BodyError(f"Invalid IPv4 address or CIDR range {value!r}. Path '{path}'") from None
        return value
    if isinstance(shape, Scalar):
        if shape is INT and isinstance(value, bool):
            raise BodyError(f"Error converting value {value!r} to type '{shape.name}'. Path '{path}'")
        if not isinstance(value, shape.types):
            raise BodyError(f"Error converting value {value!r} to type '{shape.name}'. Path '{path}'")
        return copy.deepcopy(value)
    raise TypeError(f"unknown shape {shape!r}")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge-patch; returns a new value (inputs untouched)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def if_match_failed(request_if_match: Optional[str], current_etag: Optional[str]) -> bool:
    """True when an ``If-Match`` header is present and does not match (``*`` matches anything existing)."""
    if request_if_match is None:
        return False
    wanted = request_if_match.strip()
    if wanted == "*":
        return False
    return wanted != (current_etag or "")

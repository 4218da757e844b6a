"""Lenient pydantic field types for alertContext models: they never raise.

Numbers, booleans, timestamps and JSON-in-a-string fall back to None / empty
when Azure (or a proxy) sends something unexpected, so a context never rejects
an alert. Quirks handled (``shared/corpus/alerts/NOTES.md``): numbers as strings
(``"25"``), ``"True"`` as a boolean, JSON encoded inside strings (``claims``,
``policies``, ``impactedServices``), the Python-ish ``targetResourceTypes``
string, integers or strings for Service Health enums.
"""

from __future__ import annotations

import ast
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from firestop.alerts.indicators import decode_json_text
from firestop.alerts.times import parse_utc_or_none

def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _scalar(value: Any) -> int | str | None:
    """int or str as sent (``channels: 1`` vs ``"Operation"``); anything else → None."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, str)):
        return value
    return None


def _json_dict(value: Any) -> dict[str, Any]:
    decoded = decode_json_text(value)
    return decoded if isinstance(decoded, dict) else {}


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _str_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        text = _text(item)
        out[str(key)] = "" if text is None else text
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(t for t in (_text(v) for v in _list(value)) if t is not None)


def _resource_types(value: Any) -> tuple[str, ...]:
    """``"['Microsoft.Compute/virtualMachines']"`` (Python-ish), a JSON array string, or a list."""
    if isinstance(value, list):
        return _texts(value)
    if not isinstance(value, str) or not value.strip():
        return ()
    text = value.strip()
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        parsed = None
    if isinstance(parsed, (list, tuple)):
        return tuple(str(v) for v in parsed if isinstance(v, str))
    if isinstance(parsed, str):
        return (parsed,)
    inner = text.strip("[]")
    return tuple(p.strip().strip("'\"") for p in inner.split(",") if p.strip().strip("'\""))


LenientFloat = Annotated[float | None, BeforeValidator(_float)]
LenientInt = Annotated[int | None, BeforeValidator(_int)]
LenientBool = Annotated[bool | None, BeforeValidator(_bool)]
LenientText = Annotated[str | None, BeforeValidator(_text)]
LenientScalar = Annotated[int | str | None, BeforeValidator(_scalar)]
LenientUtc = Annotated[datetime | None, BeforeValidator(parse_utc_or_none)]
JsonDict = Annotated[dict[str, Any], BeforeValidator(_json_dict)]
AnyDict = Annotated[dict[str, Any], BeforeValidator(lambda v: v if isinstance(v, dict) else {})]
StrDict = Annotated[dict[str, str], BeforeValidator(_str_dict)]
TextTuple = Annotated[tuple[str, ...], BeforeValidator(_texts)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_alias=True, validate_by_name=True)


def _nested(model: type[BaseModel]) -> Any:
    """Annotated ``model | None``: non-dicts become None."""
    return Annotated[model | None, BeforeValidator(_dict_or_none)]


def _nested_tuple(model: type[BaseModel]) -> Any:
    """Annotated ``tuple[model, ...]``: non-lists → (), non-dict items dropped."""
    return Annotated[tuple[model, ...], BeforeValidator(_dicts)]  # type: ignore[valid-type]

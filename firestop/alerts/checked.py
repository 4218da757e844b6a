"""Build a frozen pydantic model from values that are already checked, without validating them again.

``parse_alert`` validates what comes from outside (the essentials, by their
model) and builds everything else itself (canonical targets, aware-UTC window
times, indicator tuples of ``str``, ``dict[str, str]`` custom properties).
Validating the :class:`~firestop.alerts.alert.Alert` again cost a third of a
small alert's parse, and ``BaseModel.model_construct`` — which handles aliases
and defaults in Python — another fifth; every field is given here, so this
sets what ``model_construct`` sets (pydantic 2: ``__dict__``,
``__pydantic_fields_set__``, ``__pydantic_extra__``, ``__pydantic_private__``)
directly. ``tests/alerts/test_alerts_checked.py`` holds the result equal to
``model_validate`` of the same values, field for field, so a pydantic upgrade
that changes those attributes fails there, not in production.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["built"]

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def built(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``values`` (one per field of ``cls``, already valid), unvalidated.

    Raises:
        ValueError: ``values`` does not name every field of ``cls`` exactly (a programming error).
    """
    # __pydantic_fields__ is what the model_fields class property returns, without its per-call cost
    if values.keys() != cls.__pydantic_fields__.keys():
        raise ValueError(f"{cls.__name__} needs exactly its fields, got {sorted(values)}")
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model

"""Playbook objects built from a JSON form already known to be valid, without running pydantic's validation.

``build(Playbook, data)`` returns what ``Playbook.model_validate(data)`` returns — the same classes, field values and
``model_fields_set`` — when ``data`` is ``model_dump(mode="json", by_alias=True)`` of a valid playbook, by
``model_construct`` at every level: nested models, lists and dicts of them, and the phase items' tagged unions (the
member chosen by the union's own ``Discriminator`` callable, as validation chooses it). Nothing is checked: a
``data`` that is not such a dump gives a wrong object or a ``KeyError``/``TypeError``, never an error naming a field.

Why: the playbook models are ``defer_build`` (firestop/playbooks/models.py); building their validators is ~60 ms of
CPU, most of what importing the playbooks cost ``alert handle`` (bench/startup_parts.py). The shipped playbooks are
validated in full when compiled (:mod:`firestop.playbooks.compiled`), so a process that only routes an alert and
runs a shipped playbook never builds them. Only data known valid comes here: a compiled playbook (its file's bytes
hash to an entry of ``compiled.json``) or a value equal to one (:func:`firestop.playbooks.loader.playbook_from_json`);
anything else is validated as before.

What each field becomes is read from the model classes themselves (their fields' annotations and aliases), so
the models stay the one description of a playbook; ``tests/playbooks/test_playbooks_trusted.py`` checks every
shipped playbook against validation.
"""

from __future__ import annotations

import threading
import types
from typing import Annotated, Any, Callable, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, Discriminator, Tag

M = TypeVar("M", bound=BaseModel)
_Convert = Callable[[Any], Any]

#: Per model class: ``[(field name, key in the JSON form, converter or None for a plain JSON value)]``.
_PLANS: dict[type, list[tuple[str, str, _Convert | None]]] = {}
_PLANS_LOCK = threading.Lock()


def build(cls: type[M], data: dict[str, Any]) -> M:
    """``cls`` from ``data``, its ``model_dump(mode="json", by_alias=True)`` (trusted: see the module's docstring).

    ``data``'s lists and dicts become the object's own (pass a fresh copy). A key ``data`` lacks takes the field's
    default, as in :meth:`~pydantic.BaseModel.model_construct`."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _plan(cls)
    values: dict[str, Any] = {}
    for name, key, convert in plan:
        if key in data:
            value = data[key]
            values[name] = value if convert is None or value is None else convert(value)
    return cls.model_construct(**values)


def _plan(cls: type[BaseModel]) -> list[tuple[str, str, _Convert | None]]:
    plan = [(name, field.alias or name, _converter(field.annotation, f"{cls.__name__}.{name}"))
            for name, field in cls.__pydantic_fields__.items()]
    with _PLANS_LOCK:
        return _PLANS.setdefault(cls, plan)


def _model(cls: type[BaseModel]) -> _Convert:
    return lambda value: build(cls, value)


def _converter(annotation: Any, where: str) -> _Convert | None:
    """What turns a JSON value of a field annotated ``annotation`` into the value validation gives; None: the JSON
    value itself (str, numbers, bools, Literal, Any, and lists/dicts of them). ``TypeError`` for a union this cannot
    tell apart without validating (several models and no discriminator; a model beside a list or dict)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        discriminator = next((m for m in metadata if isinstance(m, Discriminator)), None)
        if discriminator is not None:
            return _tagged(inner, discriminator, where)
        return _converter(inner, where)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation)
    if origin is list:
        (item,) = get_args(annotation)
        convert = _converter(item, where)
        return None if convert is None else (lambda value: [convert(v) for v in value])
    if origin is dict:
        _, item = get_args(annotation)
        convert = _converter(item, where)
        return None if convert is None else (lambda value: {k: convert(v) for k, v in value.items()})
    if origin is Union or origin is types.UnionType:
        members = [m for m in get_args(annotation) if m is not type(None)]
        converts = [c for c in (_converter(m, where) for m in members) if c is not None]
        if not converts:
            return None
        containers = [m for m in members if get_origin(m) in (list, dict) or m in (list, dict)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if len(converts) > 1 or len(models) != 1 or containers:
            raise TypeError(f"{where}: {annotation} needs a discriminator to be built without validation")
        model = converts[0]
        return lambda value: model(value) if isinstance(value, dict) else value
    return None


def _tagged(union: Any, discriminator: Discriminator, where: str) -> _Convert:
    """A tagged union: the member whose ``Tag`` the discriminator gives for the value."""
    members: dict[str, _Convert] = {}
    for member in get_args(union):
        if get_origin(member) is not Annotated:
            raise TypeError(f"{where}: member {member} of a discriminated union has no Tag")
        cls, *metadata = get_args(member)
        tag = next((m.tag for m in metadata if isinstance(m, Tag)), None)
        convert = _converter(cls, where)
        if tag is None or convert is None:
            raise TypeError(f"{where}: member {member} of a discriminated union needs a Tag and a model")
        members[tag] = convert
    pick = discriminator.discriminator
    if not callable(pick):
        raise TypeError(f"{where}: only a callable Discriminator is read here (a field name needs its Literal values)")
    return lambda value: members[pick(value)](value)

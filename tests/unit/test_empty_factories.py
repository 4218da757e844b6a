"""Models built at ``alert handle``'s start-up give pydantic Python default factories, not builtins
(:mod:`firestop.empty` says why: a builtin's signature is parsed with tokenize and ast at class build)."""

import importlib
import inspect

import pytest
from pydantic import BaseModel

from firestop.empty import new_dict, new_list

#: Modules whose models ``alert handle`` builds.
MODULES = ["firestop.playbooks.detect", "firestop.playbooks.models", "firestop.alerts.alert", "firestop.evidence.store",
           "firestop.lifecycle.incident", "runbooks.base", "runbooks.dispatch", "runbooks.evidence", "runbooks.network"]


@pytest.mark.parametrize("name", MODULES)
def test_no_builtin_default_factory(name):
    module = importlib.import_module(name)
    models = [m for m in vars(module).values()
              if inspect.isclass(m) and issubclass(m, BaseModel) and m.__module__ == name]
    assert models, f"{name} defines no model"
    builtin = [f"{m.__name__}.{field}" for m in models for field, info in m.model_fields.items()
               if isinstance(info.default_factory, type) and info.default_factory in (list, dict, set, tuple, frozenset)]
    assert builtin == [], f"use firestop.empty.new_list/new_dict: {builtin}"


def test_factories_return_fresh_containers():
    assert new_list() == [] and new_list() is not new_list()
    assert new_dict() == {} and new_dict() is not new_dict()

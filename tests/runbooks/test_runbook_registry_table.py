"""The declared runbook table (``runbooks.registry.SHIPPED``) against the real registrations, and lazy loading.

The table lets a name be known without importing its module (issue 18: ``alert handle`` loads the runbooks of
the playbook it runs). These tests import every module of the ``runbooks`` package and compare what registers
with the table, so a new runbook missing from it (or a renamed one) fails here.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import runbooks
from runbooks.registry import _REGISTRY, SHIPPED, UnknownRunbook, all_runbooks, get_runbook, runbook_class, runbook_names

REPO_ROOT = Path(__file__).resolve().parents[2]


def _registered_by_every_module() -> dict[str, str]:
    """name -> module of every runbook that registers when each module of the package is imported."""
    for info in pkgutil.iter_modules(runbooks.__path__):
        importlib.import_module(f"runbooks.{info.name}")
    return {name: cls.__module__ for name, cls in _REGISTRY.items() if cls.__module__.startswith("runbooks.")}


def test_the_table_names_every_registered_runbook_and_its_module():
    assert _registered_by_every_module() == SHIPPED


def test_every_name_in_the_table_resolves_to_a_runbook_of_that_name():
    for name, module in SHIPPED.items():
        cls = runbook_class(name)
        assert cls.name == name and cls.__module__ == module
        assert type(get_runbook(name)) is cls
    assert [c.name for c in all_runbooks()] == runbook_names() == sorted(SHIPPED)


def test_unknown_runbook_names_the_known_ones():
    with pytest.raises(UnknownRunbook) as caught:
        get_runbook("keys.rotat")
    assert "'keys.rotat'" in str(caught.value) and "keys.rotate" in str(caught.value)


def _fresh(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_names_need_no_import_and_a_runbook_loads_its_own_module_only():
    out = _fresh(r"""
import json, sys
from runbooks import get_runbook, runbook_names
names = runbook_names()
before = sorted(m for m in sys.modules if m.startswith("runbooks."))
get_runbook("keys.rotate")
after = sorted(m for m in sys.modules if m.startswith("runbooks."))
print(json.dumps({"names": names, "before": before, "after": after}))
""")
    assert out["names"] == sorted(SHIPPED)
    assert not {"runbooks.keys", "runbooks.network", "runbooks.apim", "runbooks.sentinel"} & set(out["before"])
    assert "runbooks.keys" in out["after"]
    assert not {"runbooks.apim", "runbooks.sentinel", "runbooks.deployment", "runbooks.notify"} & set(out["after"])

"""Seed files -> initial tenant state documents.

(A file holding ARM resource JSON as ``az resource show`` prints it — a list,
or a mapping with ``resources`` — is a digital twin: :mod:`firestop.sandbox.twin`.)

A seed is YAML or JSON with the keys of ``default_tenant.yaml`` (the built-in
tenant): ``seed``, ``tenant_id``, ``subscription_id``, ``clock``, ``latency``,
``resource_groups``, ``accounts``, ``vaults``, ``workspaces``,
``network_security_groups``, ``role_assignments``. Omitted sections are empty; omitted ``latency``
entries keep the rooms' defaults (:func:`firestop.sandbox.core.rooms.default_latency`).
Each section is read by its room's ``seed.py`` (``accounts`` and
``network_security_groups``: ``arm``; ``vaults``: ``keyvault``; ``workspaces``:
``logs``; ``role_assignments``: ``authorization``), in the rooms' seed order.

Account keys are two 32-lower-hex values drawn from the seeded RNG (or given
as ``keys: {key1, key2}``). A secret's value is either ``value`` or
``value_from: {account, key}`` (the account's key at seed time).
Workspace ``tables`` is either ``{generator: incident-2026-11-29, account: name,
scenarios: [{name, account}]}`` (the leaked-key incident of
:mod:`firestop.sandbox.logs.incident` plus the optional scenarios of
:mod:`firestop.sandbox.logs.scenarios`) or ``{TableName: {columns: [{name, type}], rows: [[...]]}}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import yaml

from .core.latency import merged_latency
from .core.rooms import run_seeders, seed_time
from .core.state import TenantState, empty_document

DEFAULT_SEED_FILE = Path(__file__).with_name("default_tenant.yaml")
#: libyaml's safe loader when PyYAML was built with it (same documents as ``yaml.safe_load``, ~10x faster).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_seed_file(path: Optional[os.PathLike | str] = None) -> dict | list:
    """Parse a YAML/JSON seed file (``None`` = the built-in default tenant).

    A mapping is a seed in this module's format, or a digital twin when it has
    ``resources``; a list is a digital twin (:mod:`firestop.sandbox.twin`).
    """
    path = Path(path) if path is not None else DEFAULT_SEED_FILE
    text = path.read_text(encoding="utf-8")
    spec = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_YAML_LOADER)
    if not isinstance(spec, (dict, list)):
        raise ValueError(f"seed file {path} must hold a mapping or (digital twin) a list of ARM resources at top level")
    return spec


def build_document(spec: dict | list) -> dict:
    """The initial state document for a parsed seed ``spec`` (or digital twin, see :mod:`firestop.sandbox.twin`).

    Identity, clock, latency and resource groups are read here; every other
    section is a room's seed step (:func:`firestop.sandbox.core.rooms.run_seeders`).
    """
    from .twin import build_twin_document, is_twin

    if is_twin(spec):
        return build_twin_document(spec)
    clock = seed_time(spec["clock"])
    doc = empty_document(
        seed=int(spec.get("seed", 0)),
        tenant_id=str(spec["tenant_id"]),
        subscription_id=str(spec["subscription_id"]),
        clock=clock,
        latency=merged_latency(spec.get("latency")),
    )
    doc["resource_groups"] = [str(g) for g in spec.get("resource_groups", [])]
    run_seeders(spec, TenantState(doc), clock)
    return doc

"""The shipped playbooks' YAML documents, compiled to JSON and looked up by the SHA-256 of a file's bytes.

Why: ``alert handle`` reads every playbook of the folder to route the alert; parsing them needed PyYAML, whose
import alone was ~26 ms of CPU (``python -X importtime``; the whole command ~1.6 s, ``--help`` ~0.5 s). A file
whose bytes hash to an entry of ``compiled.json`` (beside this module) has exactly the document PyYAML's safe
loader builds from it, so the loader validates that document instead and imports no YAML parser. Any other
file — an edited playbook, a user's own folder (``FIRESTOP_PLAYBOOKS``) — misses and is parsed as YAML, as
before: the same playbook, the same errors. When a compiled document fails validation (a runbook's parameters
changed under a shipped playbook), the loader reads the YAML again for the problems' line numbers.

Only documents that survive JSON unchanged are compiled (:func:`same`: the same types, values and key order —
YAML timestamps, non-string keys, ``1`` vs ``1.0`` vs ``true`` do not); others stay YAML-only.

Regenerate after editing a shipped playbook (a test fails until then; nothing breaks meanwhile)::

    scripts/compile-playbooks            # rewrites firestop/playbooks/compiled.json
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import orjson

#: The compiled documents: ``{"<sha256 hex of the YAML file's bytes>": <document>}``.
COMPILED_FILE = Path(__file__).with_name("compiled.json")
#: The folder whose ``*.yaml``/``*.yml`` files are compiled (the default ``FIRESTOP_PLAYBOOKS``).
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "playbooks"

_raw: bytes | None = None
#: ``{sha256: the document's own JSON bytes}``, split from ``compiled.json`` once per process (None: not yet).
_documents: dict[str, bytes] | None = None
_lock = threading.Lock()


def _compiled_bytes() -> bytes:
    """``compiled.json``'s bytes, read once per process (b"{}" when it is missing or unreadable)."""
    global _raw
    with _lock:
        if _raw is None:
            try:
                _raw = COMPILED_FILE.read_bytes()
            except OSError:
                _raw = b"{}"
        return _raw


def _split() -> dict[str, bytes]:
    """``compiled.json`` decoded once and kept as each document's own JSON bytes (``{}`` when it is not a JSON
    object). Why: :func:`document` decoded the whole table (42 KB, ~1.2 ms of CPU, timeit) for each of the ~12
    files ``alert handle`` reads to route an alert; one document's bytes decode in ~7 us."""
    global _documents
    documents = _documents
    if documents is None:
        try:
            table = orjson.loads(_compiled_bytes())
        except orjson.JSONDecodeError:
            table = None
        documents = ({digest: orjson.dumps(doc) for digest, doc in table.items() if isinstance(doc, dict)}
                     if isinstance(table, dict) else {})
        with _lock:  # two threads may both split it the first time: the same table, one kept
            if _documents is None:
                _documents = documents
            documents = _documents
    return documents


def document(raw: bytes) -> dict[str, Any] | None:
    """A fresh copy of the compiled document of a playbook file whose bytes are ``raw``, or None (not compiled:
    parse the YAML). Each call decodes anew (the document's own bytes, :func:`_split`), so a caller may keep or
    change what it gets."""
    doc = _split().get(hashlib.sha256(raw).hexdigest())
    return orjson.loads(doc) if doc is not None else None


def same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are the same document: equal values of the same types (``bool`` is not ``int``, ``int`` is
    not ``float``), mappings with the same keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:  # NaN
        return b != b
    return a == b


def compile_folder(folder: Path = SHIPPED_DIR) -> dict[str, dict[str, Any]]:
    """``{sha256: document}`` for every ``*.yaml``/``*.yml`` file of ``folder`` that holds one mapping surviving
    JSON unchanged (:func:`same`); files that do not parse or do not survive are left out (read as YAML)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    table: dict[str, dict[str, Any]] = {}
    for path in sorted([*Path(folder).glob("*.yaml"), *Path(folder).glob("*.yml")]):
        raw = path.read_bytes()
        try:
            doc = yaml.load(raw.decode("utf-8"), Loader=loader)
            round_trip = orjson.loads(orjson.dumps(doc))
        except (yaml.YAMLError, UnicodeDecodeError, TypeError, orjson.JSONEncodeError):
            continue
        if isinstance(doc, dict) and same(doc, round_trip):
            table[hashlib.sha256(raw).hexdigest()] = round_trip
    return table


def render(table: dict[str, dict[str, Any]]) -> bytes:
    """``compiled.json``'s bytes for ``table`` (keys sorted, one stable rendering)."""
    return orjson.dumps(dict(sorted(table.items())), option=orjson.OPT_INDENT_2) + b"\n"


def main() -> int:
    """``scripts/compile-playbooks``: rewrite ``compiled.json`` from the shipped folder."""
    table = compile_folder()
    COMPILED_FILE.write_bytes(render(table))
    print(f"{COMPILED_FILE}: {len(table)} playbooks compiled from {SHIPPED_DIR}")
    return 0

"""The shipped playbooks' YAML documents, compiled to JSON and looked up by the SHA-256 of a file's bytes.

Why: ``alert handle`` reads every playbook of the folder to route the alert; parsing them needed PyYAML, whose
import alone was ~26 ms of CPU (``python -X importtime``; the whole command ~1.6 s, ``--help`` ~0.5 s). A file
whose bytes hash to an entry of ``compiled.json`` (beside this module) has exactly the document PyYAML's safe
loader builds from it, so the loader needs no YAML parser. Any other file — an edited playbook, a user's own folder
(``FIRESTOP_PLAYBOOKS``) — misses and is parsed as YAML, as before: the same playbook, the same errors.

Each entry is ``{"document": <the YAML document>, "playbook": <its validated form>}``. The validated form is
``Playbook.model_validate(document).model_dump(mode="json", by_alias=True)``, validated in full when compiled (each
step's ``with`` against its runbook's parameters); the loader builds the playbook from it without validating
(:mod:`firestop.playbooks.trusted`: building the playbook models' validators was ~60 ms of CPU of ``alert handle``).
A document that does not validate (or has no step) gets no ``playbook``: the loader validates the document, and
reads the YAML again for the problems' line numbers.

Only documents that survive JSON unchanged are compiled (:func:`same`: the same types, values and key order —
YAML timestamps, non-string keys, ``1`` vs ``1.0`` vs ``true`` do not); others stay YAML-only.

Regenerate after editing a shipped playbook, a playbook model or a runbook's parameters (a test fails until then;
in the meantime an edited playbook is read as YAML and validated, an edited model or runbook is not seen by the
shipped playbooks)::

    scripts/compile-playbooks            # rewrites firestop/playbooks/compiled.json
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any, NamedTuple

import orjson

#: The compiled playbooks: ``{"<sha256 hex of the YAML file's bytes>": {"document": <document>, "playbook": <validated
#: form>?}}``.
COMPILED_FILE = Path(__file__).with_name("compiled.json")
#: The folder whose ``*.yaml``/``*.yml`` files are compiled (the default ``FIRESTOP_PLAYBOOKS``).
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "playbooks"

_raw: bytes | None = None


class _Table(NamedTuple):
    """``compiled.json`` split (:func:`_split`): each entry's parts as their own JSON bytes."""

    #: ``{sha256: the document's JSON bytes}``
    documents: dict[str, bytes]
    #: ``{sha256: the validated form's JSON bytes}`` (entries that have one)
    validated: dict[str, bytes]
    #: ``{the validated form's JSON bytes: sha256}``
    forms: dict[bytes, str]


#: ``compiled.json`` split once per process (None: not yet).
_table: _Table | None = None
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


def _split() -> _Table:
    """``compiled.json`` decoded once and kept as each entry's parts' own JSON bytes (empty when it is not a JSON
    object; an entry not of the shape described above is left out). Why: :func:`document` decoded the whole table
    (42 KB, ~1.2 ms of CPU, timeit) for each of the ~12 files ``alert handle`` reads to route an alert; one
    document's bytes decode in ~7 us."""
    global _table
    table = _table
    if table is None:
        try:
            decoded = orjson.loads(_compiled_bytes())
        except orjson.JSONDecodeError:
            decoded = None
        documents, validated = {}, {}
        for digest, entry in (decoded.items() if isinstance(decoded, dict) else ()):
            if isinstance(entry, dict) and isinstance(entry.get("document"), dict):
                documents[digest] = orjson.dumps(entry["document"])
                if isinstance(entry.get("playbook"), dict):
                    validated[digest] = orjson.dumps(entry["playbook"])
        table = _Table(documents, validated, {form: digest for digest, form in validated.items()})
        with _lock:  # two threads may both split it the first time: the same table, one kept
            if _table is None:
                _table = table
            table = _table
    return table


def document(raw: bytes) -> dict[str, Any] | None:
    """A fresh copy of the compiled document of a playbook file whose bytes are ``raw``, or None (not compiled:
    parse the YAML). Each call decodes anew (the document's own bytes, :func:`_split`), so a caller may keep or
    change what it gets."""
    doc = _split().documents.get(hashlib.sha256(raw).hexdigest())
    return orjson.loads(doc) if doc is not None else None


def validated(raw: bytes) -> bytes | None:
    """The validated form (JSON bytes, see the module's docstring) of the playbook file whose bytes are ``raw``, or
    None: not compiled, or its document did not validate when compiled (validate the document)."""
    return _split().validated.get(hashlib.sha256(raw).hexdigest())


def known_form(value: Any) -> bytes | None:
    """``value``'s JSON bytes when ``value`` is exactly (the same keys in the same order, the same types and values)
    the validated form of a compiled playbook, else None. For a playbook passed on as JSON (an activity's result)."""
    forms = _split().forms
    try:
        form = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None
    return form if form in forms else None


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
    """``{sha256: {"document": document, "playbook": validated form}}`` for every ``*.yaml``/``*.yml`` file of
    ``folder`` that holds one mapping surviving JSON unchanged (:func:`same`); files that do not parse or do not
    survive are left out (read as YAML); ``playbook`` only for a document that validates in full and has a step."""
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
            entry: dict[str, Any] = {"document": round_trip}
            form = validated_form(doc)
            if form is not None:
                entry["playbook"] = form
            table[hashlib.sha256(raw).hexdigest()] = entry
    return table


def validated_form(doc: dict[str, Any]) -> dict[str, Any] | None:
    """``Playbook.model_validate(doc)``'s ``model_dump(mode="json", by_alias=True)`` (each step's parameters
    checked), when it validates, has a step and its dump survives JSON unchanged; else None."""
    from pydantic import ValidationError

    from firestop.playbooks.models import Playbook

    try:
        playbook = Playbook.model_validate(doc)
    except ValidationError:
        return None
    form = playbook.model_dump(mode="json", by_alias=True)
    round_trip = orjson.loads(orjson.dumps(form))
    return round_trip if playbook.steps() and same(form, round_trip) else None


def render(table: dict[str, dict[str, Any]]) -> bytes:
    """``compiled.json``'s bytes for ``table`` (keys sorted, one stable rendering)."""
    return orjson.dumps(dict(sorted(table.items())), option=orjson.OPT_INDENT_2) + b"\n"


def main() -> int:
    """``scripts/compile-playbooks``: rewrite ``compiled.json`` from the shipped folder."""
    table = compile_folder()
    COMPILED_FILE.write_bytes(render(table))
    print(f"{COMPILED_FILE}: {len(table)} playbooks compiled from {SHIPPED_DIR}")
    return 0

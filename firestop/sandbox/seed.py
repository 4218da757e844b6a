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
**Seed cache.** Building the default tenant (its log tables are generated: ~0.3-0.6 s) was a fifth of
``alert handle`` on a fresh ``FIRESTOP_HOME`` and of every test that opens a fresh tenant.
:func:`seed_document` keeps each built document as JSON in a cache directory —
``FIRESTOP_SEED_CACHE``, else ``$XDG_CACHE_HOME/firestop``, else ``~/.cache/firestop``; ``off`` turns
it off — under the SHA-256 of the seed file's bytes, the Python version and every source and data
file of ``firestop/sandbox`` (the code that builds it), so a changed seed or seeding code never reads
an old document. The document is the same JSON a reopened tenant reads (``tenant.json``); an
unreadable, unwritable or corrupt cache is skipped (the document is built). Files are written to a
unique temporary name and ``os.replace``-d (readers never see half a file; temporaries a killed
process left are removed after 10 minutes). The code digest reads the 2.2 MB of ``firestop/sandbox`` only
when the files' stat signature (relative path, size, mtime, ctime and inode of each, as the bytecode cache
trusts a source's mtime and size) is not in the cache (``code-<signature>.txt`` holds the digest those files
gave); a cached document is decoded with orjson where it gives what the standard library gives (``store.exact_loads``:
the standard library for ``NaN``, integers past 64 bits, ...). Measured on a fresh ``FIRESTOP_HOME`` (callgrind, instructions): code digest 41 M -> 5.7 M,
reading the cached 0.9 MB default tenant 28 M -> 12 M.

Workspace ``tables`` is either ``{generator: incident-2026-11-29, account: name,
scenarios: [{name, account}]}`` (the leaked-key incident of
:mod:`firestop.sandbox.logs.incident` plus the optional scenarios of
:mod:`firestop.sandbox.logs.scenarios`) or ``{TableName: {columns: [{name, type}], rows: [[...]]}}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Optional


from .core.latency import merged_latency
from .core.rooms import run_seeders, seed_time
from .core.state import TenantState, empty_document
from .core.store import exact_loads

DEFAULT_SEED_FILE = Path(__file__).with_name("default_tenant.yaml")


def read_seed_file(path: Optional[os.PathLike | str] = None) -> dict | list:
    """Parse a YAML/JSON seed file (``None`` = the built-in default tenant).

    A mapping is a seed in this module's format, or a digital twin when it has
    ``resources``; a list is a digital twin (:mod:`firestop.sandbox.twin`).

    Raises OSError (unreadable) and ValueError: not UTF-8, not JSON (``.json``) or not YAML (anything else: the
    parser's problem and its line and column, e.g. a README given as a tenant file), or no mapping/list at top level.
    """
    path = Path(path) if path is not None else DEFAULT_SEED_FILE
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        spec = json.loads(text)
    else:  # PyYAML only here: a seed-cache hit (``alert handle`` on a fresh FIRESTOP_HOME) never parses YAML
        import yaml

        try:
            # libyaml's safe loader when PyYAML was built with it (same documents as ``yaml.safe_load``, ~10x faster)
            spec = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise ValueError(f"not valid YAML: {problem}{where}") from None
    if not isinstance(spec, (dict, list)):
        raise ValueError(f"seed file {path} must hold a mapping or (digital twin) a list of ARM resources at top level")
    return spec


SEED_CACHE_ENV = "FIRESTOP_SEED_CACHE"
_SANDBOX_DIR = Path(__file__).resolve().parent
_code_digest: Optional[str] = None


def _cache_dir() -> Optional[Path]:
    chosen = os.environ.get(SEED_CACHE_ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    try:
        return (Path(base) if base else Path.home() / ".cache") / "firestop"
    except RuntimeError:  # no home directory to be found
        return None


def _sandbox_code_digest() -> str:
    """SHA-256 over the Python version and the relative path and bytes of every source and data file of
    ``firestop/sandbox`` (once per process; the bytes are read only when the seed cache does not remember
    the files' stat signature, see :func:`code_digest`)."""
    global _code_digest
    if _code_digest is None:
        _code_digest = code_digest(_SANDBOX_DIR, _cache_dir())
    return _code_digest


def _source_files(root: Path) -> list[tuple[tuple[str, ...], str]]:
    """(relative path parts, absolute path) of every ``.py``/``.yaml``/``.yml``/``.json`` file under ``root``
    outside ``__pycache__``, in ``sorted(root.rglob("*"))`` order (path parts compared one by one)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = Path(folder).relative_to(root).parts
        for name in files:
            if os.path.splitext(name)[1] in (".py", ".yaml", ".yml", ".json"):
                found.append((rel + (name,), os.path.join(folder, name)))
    found.sort(key=lambda f: f[0])
    return found


def code_digest(root: Path, cache: Optional[Path]) -> str:
    """SHA-256 (hex) over ``sys.version`` and, for every file of :func:`_source_files`, its relative path
    and bytes (``\\0`` after each).

    With a ``cache`` folder, the files' stat signature (relative path, size, mtime_ns, ctime_ns and inode of
    each) names ``code-<signature>.txt`` there, which holds the digest those files gave: when it is present
    no file is read. A changed, added or removed file changes the signature (an edit moves mtime and ctime).
    An unreadable or unwritable cache is skipped (the files are read). Raises OSError for a source file
    that cannot be read."""
    files = _source_files(root)
    memo = None
    if cache is not None:
        sig = hashlib.sha256(sys.version.encode())
        try:
            for parts, path in files:
                st = os.stat(path)
                sig.update(f"{'/'.join(parts)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0".encode())
            memo = cache / f"code-{sig.hexdigest()[:32]}.txt"
            known = memo.read_text(encoding="ascii").strip()
            if len(known) == 64 and all(c in "0123456789abcdef" for c in known):
                return known
        except (OSError, ValueError):
            pass
    sha = hashlib.sha256(sys.version.encode())
    for parts, path in files:
        with open(path, "rb") as fh:
            sha.update("/".join(parts).encode() + b"\0" + fh.read() + b"\0")
    digest = sha.hexdigest()
    if memo is not None:
        temporary = memo.with_name(f".seed-{memo.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp")  # as seed_document cleans up
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(digest, encoding="ascii")
            os.replace(temporary, memo)
        except OSError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return digest


def _decoded(raw: bytes) -> object:
    """``json.loads(raw)``, the same value (:func:`firestop.sandbox.core.store.exact_loads`: orjson where it reads what
    the standard library reads — it turns an integer past 64 bits into a float, so not then — else the standard
    library); ValueError if neither reads it."""
    return exact_loads(raw)


def seed_document(path: Optional[os.PathLike | str] = None) -> dict:
    """``build_document(read_seed_file(path))``, read from the seed cache when it holds the document this
    seed file and this code build (module docstring), else built and stored there.

    Raises what :func:`read_seed_file` and :func:`build_document` raise (the cache itself never raises).
    """
    source = Path(path) if path is not None else DEFAULT_SEED_FILE
    where = _cache_dir()
    if where is None:
        return build_document(read_seed_file(source))
    try:
        key = hashlib.sha256(_sandbox_code_digest().encode() + b"\0" + source.read_bytes()).hexdigest()[:32]
    except OSError:
        return build_document(read_seed_file(source))
    cached = where / f"seed-{key}.json"
    try:
        doc = _decoded(cached.read_bytes())
        if isinstance(doc, dict):
            return doc
    except (OSError, ValueError):
        pass
    doc = build_document(read_seed_file(source))
    try:
        where.mkdir(parents=True, exist_ok=True)
        for stale in where.glob(".seed-*.tmp"):  # left by a process killed between write and replace
            try:
                if time.time() - stale.stat().st_mtime > 600:
                    stale.unlink()
            except OSError:
                pass
        temporary = where / f".seed-{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            temporary.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, cached)
        finally:
            temporary.unlink(missing_ok=True)
        return _decoded(cached.read_bytes())  # what every later open reads: the JSON form, every time
    except (OSError, ValueError):
        return doc


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

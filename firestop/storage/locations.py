"""Where an object is, as the app may tell a caller: its store and name, never the app's file system or account.

A store's :meth:`~firestop.storage.base.ObjectStore.location` is for the person at the machine — the file path under
``FIRESTOP_HOME`` (:class:`~firestop.storage.local.LocalStore`) or the blob's URL naming the storage account
(:class:`~firestop.storage.blob.BlobStore`). An answer of the deployed app (the HTTP API) must not reveal either: a path
tells an attacker the app's layout, a URL its storage account. :func:`logical_location` turns either into the
object's logical location — ``FIRESTOP_HOME/<folder>/<name>`` locally, ``<container>/<blob name>`` on Blob Storage —
and :func:`logical_files` does it for a record's ``record_files``. Pure (reads only the settings it is given).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

#: How a logical location names the local home (the setting's name, not its value).
HOME = "FIRESTOP_HOME"
#: The stores' folders under FIRESTOP_HOME (:func:`firestop.storage.stores_for`).
HOME_FOLDERS = frozenset({"records", "evidence", "ledger", "notifications"})


def logical_location(location: Any, settings: Any) -> Any:
    """``location`` (a store's :meth:`location`: a path or a blob URL) as ``FIRESTOP_HOME/records/inc-….json`` or
    ``firestop-records/inc-….json``: a URL keeps its path from the first segment that is one of the settings'
    containers (Azurite's account segment and the host dropped), else its last two segments; a path under
    ``settings.home`` is named from ``FIRESTOP_HOME``, another path from its last store folder (``records/``,
    ``evidence/``, ``ledger/``, ``notifications/``: a store filed under another home) as if under it, else by its file
    name alone. Anything that is not
    text is returned as it is (None stays None)."""
    if not isinstance(location, str) or not location:
        return location
    parsed = urlparse(location)
    if parsed.scheme in ("http", "https"):
        segments = [unquote(s) for s in parsed.path.split("/") if s]
        containers = {getattr(settings, name, None) for name in ("records_container", "evidence_container", "ledger_container")}
        start = next((i for i, s in enumerate(segments) if s in containers), max(0, len(segments) - 2))
        return "/".join(segments[start:])
    home = getattr(settings, "home", None)
    if home is not None:
        try:
            relative = Path(location).resolve().relative_to(Path(home).resolve())
        except (ValueError, OSError):
            relative = None
        if relative is not None:
            return str(PurePosixPath(HOME, *relative.parts))
    parts = PurePosixPath(location.replace("\\", "/")).parts
    folder = max((i for i, p in enumerate(parts) if p in HOME_FOLDERS), default=None)
    if folder is not None:  # filed under another home (a copied or moved store): the same folder of FIRESTOP_HOME
        return str(PurePosixPath(HOME, *parts[folder:]))
    return parts[-1] if parts else ""


def logical_text(text: Any, settings: Any) -> str:
    """``text`` (an error message that may name a file of the home, e.g. a ``SealKeyError`` naming
    ``FIRESTOP_HOME/seal-key.retired``) with the home's absolute path, as given and resolved, written ``FIRESTOP_HOME``
    (A17-06: an answer names the file, never where the home is)."""
    text = str(text)
    home = getattr(settings, "home", None)
    if home is None:
        return text
    spellings = {str(home)}
    try:
        spellings.add(str(Path(home).resolve()))
    except OSError:
        pass
    for spelling in sorted((s.rstrip("/") for s in spellings if s.rstrip("/")), key=len, reverse=True):
        text = text.replace(spelling, HOME)
    return text


def logical_files(files: Any, settings: Any) -> Any:
    """A record's ``record_files`` (``{"json_path", "markdown_path", "evidence_paths": {item: location}, ...}``) with
    every location made logical (:func:`logical_location`); other keys (``revision``) and non-dicts as they are."""
    if not isinstance(files, dict):
        return files
    out = {}
    for key, value in files.items():
        if isinstance(value, dict):
            out[key] = {k: logical_location(v, settings) for k, v in value.items()}
        elif key.endswith(("_path", "_url")) or key in ("location", "path"):
            out[key] = logical_location(value, settings)
        else:
            out[key] = value
    return out

"""Load and validate playbook YAML files, reporting errors with file, line and field."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from firestop.playbooks.models import Playbook
from firestop.yamldoc import YamlFileError, read_mapping, validation_problems


class PlaybookError(YamlFileError):
    """A playbook file is invalid. ``problems``: list of (line or None, field path, message)."""


def _is_tag(part: Any) -> bool:
    """pydantic's union/validator labels in error locations, which are not YAML keys."""
    return isinstance(part, str) and (part in ("step-item", "undo-item", "parallel-group", "Step", "UndoStep") or "[" in part)


#: Playbooks already validated in this process, by (path, SHA-256 of the file's bytes): ``alert handle``
#: reads the folder to check routing and the select_playbook activity reads it again, and YAML + validation
#: of a folder cost a tenth of the command. Playbook models are frozen; an edited file is another key.
_LOADED: "OrderedDict[tuple[str, str], Playbook]" = OrderedDict()
_LOADED_MAX = 256
_LOADED_LOCK = threading.Lock()


def load_playbook(path: Path) -> Playbook:
    """Parse and validate one playbook file; :class:`PlaybookError` lists every problem."""
    try:
        key = (str(Path(path).resolve()), hashlib.sha256(Path(path).read_bytes()).hexdigest())
    except OSError:
        key = None  # read_mapping reports it
    if key is not None:
        with _LOADED_LOCK:
            if key in _LOADED:
                _LOADED.move_to_end(key)
                return _LOADED[key]
    playbook = _load_playbook(path)
    if key is not None:
        with _LOADED_LOCK:
            _LOADED[key] = playbook
            while len(_LOADED) > _LOADED_MAX:
                _LOADED.popitem(last=False)
    return playbook


def _load_playbook(path: Path) -> Playbook:
    data, node = read_mapping(Path(path), PlaybookError, "playbook is a YAML mapping with name, match and phases")
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(Path(path), validation_problems(exc, node, drop=_is_tag, aliases={"with_": "with"})) from None
    if not playbook.steps():  # it would match alerts and do nothing: every shipped playbook contains something
        raise PlaybookError(Path(path), [(None, "contain", "the playbook has no steps; give at least one step under contain "
                                          "(or analyze, resolve, learn), e.g. - id: lock-network / runbook: network.lock")])
    return playbook


def load_playbooks(directory: Path) -> list[Playbook]:
    """Every ``*.yaml``/``*.yml`` playbook in ``directory`` (sorted by file name).

    Raises :class:`PlaybookError` for the first invalid file, or when two files share a name.
    """
    directory = Path(directory)
    playbooks: list[Playbook] = []
    names: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        playbook = load_playbook(path)
        if playbook.name in names:
            raise PlaybookError(path, [(None, "name", f"{playbook.name!r} is also the name of {names[playbook.name]}")])
        names[playbook.name] = path
        playbooks.append(playbook)
    return playbooks


def load_playbooks_lenient(directory: Path) -> tuple[list[Playbook], list[PlaybookError]]:
    """Every valid playbook in ``directory`` and the errors of the invalid ones.

    For routing alerts: one broken file must not disable every other playbook.
    A missing directory is one error. Later files whose name repeats an earlier one are errors.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return [], [PlaybookError(directory, [(None, "", "playbooks directory does not exist (set FIRESTOP_PLAYBOOKS)")])]
    playbooks: list[Playbook] = []
    errors: list[PlaybookError] = []
    names: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            errors.append(exc)
            continue
        if playbook.name in names:
            errors.append(PlaybookError(path, [(None, "name", f"{playbook.name!r} is also the name of {names[playbook.name]}")]))
            continue
        names[playbook.name] = path
        playbooks.append(playbook)
    return playbooks, errors


def routing_blocked(alert: Any, directory: Path) -> str | None:
    """Why ``alert`` cannot be routed safely now, or None.

    A playbook file that fails to load may be the one the alert needed: when the alert then matches
    no loaded playbook (or is routed by ``firestop-playbook`` to a name that did not load), handling it
    would record ``no_playbook`` and never retry. The caller stops instead, recording nothing, and
    names the broken files. An alert that a loaded playbook takes goes on (one broken file must not
    disable the others). A Resolved alert never needs a playbook.
    """
    from firestop.playbooks.match import select_playbook

    if getattr(alert, "monitor_condition", None) == "Resolved":
        return None
    playbooks, errors = load_playbooks_lenient(directory)
    if not errors:
        return None
    playbook, _ = select_playbook(alert, playbooks)
    if playbook is not None:
        return None
    problems = "; ".join(str(e) for e in errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
    return (f"playbooks could not be loaded, so this alert cannot be routed: {problems}. "
            "Fix the files (python -m firestop playbook validate) or FIRESTOP_PLAYBOOKS; nothing was recorded")

"""Load and validate playbook YAML files, reporting errors with file, line and field."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from firestop.playbooks import compiled, trusted
from firestop.playbooks.models import NAMES_ONLY, Playbook
from firestop.yamldoc import YamlFileError, read_mapping, validation_problems


class PlaybookError(YamlFileError):
    """A playbook file is invalid. ``problems``: list of (line or None, field path, message)."""


def _is_tag(part: Any) -> bool:
    """pydantic's union/validator labels in error locations, which are not YAML keys."""
    return isinstance(part, str) and (part in ("step-item", "undo-item", "parallel-group", "Step", "UndoStep") or "[" in part)


#: Playbooks already validated in this process, by (path, SHA-256 of the file's bytes, params checked): ``alert handle``
#: reads the folder to check routing and the select_playbook activity reads it again, and YAML + validation
#: of a folder cost a tenth of the command. Playbook models are frozen; an edited file is another key.
_LOADED: "OrderedDict[tuple[str, str, bool], Playbook]" = OrderedDict()
_LOADED_MAX = 256
_LOADED_LOCK = threading.Lock()
#: The JSON form (``model_dump(mode="json", by_alias=True)``, as bytes) of playbooks built from a compiled one, by
#: ``id()``: ``{id: (playbook, form)}`` (the playbook held, so its id is not reused meanwhile); :func:`playbook_json`.
_FORMS: "OrderedDict[int, tuple[Playbook, bytes]]" = OrderedDict()


def load_playbook(path: Path, *, params: bool = True) -> Playbook:
    """Parse and validate one playbook file; :class:`PlaybookError` lists every problem.

    params: False checks each step's runbook by name only, not its ``with`` parameters (``NAMES_ONLY``: no
    runbook module is imported) — for routing, which validates the chosen playbook in full before using it.
    A shipped playbook (the file's bytes compiled, with a validated form: :mod:`firestop.playbooks.compiled`) was
    validated in full when compiled and is built from that form, not validated again
    (:mod:`~firestop.playbooks.trusted`)."""
    try:
        raw = Path(path).read_bytes()
        digest = (str(Path(path).resolve()), hashlib.sha256(raw).hexdigest())
    except OSError:
        raw = digest = None  # read_mapping reports it
    if digest is not None:
        with _LOADED_LOCK:
            # a playbook validated in full serves a names-only request too
            for key in ((*digest, True),) if params else ((*digest, True), (*digest, False)):
                if key in _LOADED:
                    _LOADED.move_to_end(key)
                    return _LOADED[key]
    form = compiled.validated(raw) if raw is not None else None
    if form is not None:  # a shipped playbook, validated in full when compiled: built without validating again
        playbook = _built(form)
        params = True
    else:
        playbook = _load_playbook(path, params=params, raw=raw)
    if digest is not None:
        with _LOADED_LOCK:
            _LOADED[(*digest, params)] = playbook
            while len(_LOADED) > _LOADED_MAX:
                _LOADED.popitem(last=False)
    return playbook


def _built(form: bytes) -> Playbook:
    """The playbook of a compiled validated form (:func:`firestop.playbooks.compiled.validated`), remembered for
    :func:`playbook_json`."""
    playbook = trusted.build(Playbook, orjson.loads(form))
    with _LOADED_LOCK:
        _FORMS[id(playbook)] = (playbook, form)
        while len(_FORMS) > _LOADED_MAX:
            _FORMS.popitem(last=False)
    return playbook


def playbook_json(playbook: Playbook) -> dict[str, Any]:
    """``playbook.model_dump(mode="json", by_alias=True)``: a fresh copy of its compiled form when it was built from
    one (no serializer built), else the dump."""
    with _LOADED_LOCK:
        known = _FORMS.get(id(playbook))
    if known is not None and known[0] is playbook:
        return orjson.loads(known[1])
    return playbook.model_dump(mode="json", by_alias=True)


def playbook_from_json(value: Any) -> Playbook:
    """``Playbook.model_validate(value)`` for a playbook passed on as JSON (:func:`playbook_json`'s output, a pinned
    playbook): built without validating when ``value`` is exactly a compiled playbook's validated form
    (:func:`firestop.playbooks.compiled.known_form`), validated otherwise (``ValidationError`` as model_validate)."""
    form = compiled.known_form(value)
    return _built(form) if form is not None else Playbook.model_validate(value)


_WHAT = "playbook is a YAML mapping with name, match and phases"


def _load_playbook(path: Path, *, params: bool = True, raw: bytes | None = None) -> Playbook:
    """One playbook file validated (see :func:`load_playbook`); ``raw``: the file's bytes when already read. A file
    whose bytes are a shipped playbook's is validated from its compiled document (:mod:`firestop.playbooks.compiled`,
    no YAML parser); any other is parsed as YAML. The same playbook or the same errors either way."""
    data = compiled.document(raw) if raw is not None else None
    node = None
    if data is None:
        data, node = read_mapping(Path(path), PlaybookError, _WHAT)
    try:
        playbook = Playbook.model_validate(data, context=None if params else NAMES_ONLY)
    except ValidationError as exc:
        if node is None:  # a compiled document: the problems' lines are the YAML's
            _, node = read_mapping(Path(path), PlaybookError, _WHAT)
        raise PlaybookError(Path(path), validation_problems(exc, node, drop=_is_tag, aliases={"with_": "with"},
                                                            format_help="python -m firestop playbook schema")) from None
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
    loaded, errors, _ = _lenient(Path(directory), params=True)
    return [playbook for _, playbook in loaded], errors


def _lenient(directory: Path, *, params: bool) -> tuple[list[tuple[Path, Playbook]], list[PlaybookError], int]:
    """(path, playbook) of every playbook of ``directory`` that loads (``params``: see :func:`load_playbook`), in
    file-name order, the errors of the others, as :func:`load_playbooks_lenient` describes, and how many files
    were refused for repeating an earlier file's name."""
    if not directory.is_dir():
        return [], [PlaybookError(directory, [(None, "", "playbooks directory does not exist (set FIRESTOP_PLAYBOOKS)")])], 0
    loaded: list[tuple[Path, Playbook]] = []
    errors: list[PlaybookError] = []
    names: dict[str, Path] = {}
    repeated = 0
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            playbook = load_playbook(path, params=params)
        except PlaybookError as exc:
            errors.append(exc)
            continue
        if playbook.name in names:
            errors.append(PlaybookError(path, [(None, "name", f"{playbook.name!r} is also the name of {names[playbook.name]}")]))
            repeated += 1
            continue
        names[playbook.name] = path
        loaded.append((path, playbook))
    return loaded, errors, repeated


def route_playbook(alert: Any, directory: Path) -> tuple[Playbook | None, str, list[PlaybookError]]:
    """(playbook, reason, errors): the playbook for ``alert`` among the valid ones of ``directory`` — the same
    playbook and reason as :func:`~firestop.playbooks.match.select_playbook` over :func:`load_playbooks_lenient`,
    without importing the runbooks of playbooks not chosen.

    Every file is read with each step's runbook checked by name only; the chosen playbook is then validated in
    full (its steps' ``with`` against their runbooks' models) and, if that fails, counted with the errors and
    the choice made again without it. ``errors``: the files that did not load — every one when no playbook is
    chosen (the rest are then validated in full, so a refusal names them all); when one is chosen, those found
    on the way (a file not chosen is not checked beyond its runbook names: ``playbook validate`` and ``doctor``
    check all). Several files sharing a name: every file is validated in full (which one counts depends on it).
    """
    from firestop.playbooks.match import select_playbook

    directory = Path(directory)
    loaded, errors, repeated = _lenient(directory, params=False)
    if repeated:  # which of the files sharing a name counts depends on which validate in full
        full, errors = load_playbooks_lenient(directory)
        playbook, reason = select_playbook(alert, full)
        return playbook, reason, errors
    candidates = {playbook.name: (path, playbook) for path, playbook in loaded}  # names are unique here
    chosen = None
    while True:
        playbook, reason = select_playbook(alert, [p for _, p in candidates.values()])
        if playbook is None:
            break
        path, _ = candidates.pop(playbook.name)
        try:
            chosen = load_playbook(path)
            break
        except PlaybookError as exc:
            errors.append(exc)
    if chosen is None:  # no playbook: every file that does not load is named
        for path, _ in candidates.values():
            try:
                load_playbook(path)
            except PlaybookError as exc:
                errors.append(exc)
    errors.sort(key=lambda e: e.path)  # file-name order, as load_playbooks_lenient lists them
    return chosen, reason, errors


def routing_blocked(alert: Any, directory: Path) -> str | None:
    """Why ``alert`` cannot be routed safely now, or None.

    A playbook file that fails to load may be the one the alert needed: when the alert then matches
    no loaded playbook (or is routed by ``firestop-playbook`` to a name that did not load), handling it
    would record ``no_playbook`` and never retry. The caller stops instead, recording nothing, and
    names the broken files. An alert that a loaded playbook takes goes on (one broken file must not
    disable the others). A Resolved alert never needs a playbook.
    """
    if getattr(alert, "monitor_condition", None) == "Resolved":
        return None
    playbook, _, errors = route_playbook(alert, directory)
    if playbook is not None or not errors:
        return None
    problems = "; ".join(str(e) for e in errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
    return (f"playbooks could not be loaded, so this alert cannot be routed: {problems}. "
            "Fix the files (python -m firestop playbook validate) or FIRESTOP_PLAYBOOKS; nothing was recorded")

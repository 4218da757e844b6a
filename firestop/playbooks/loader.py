"""Load and validate playbook YAML files, reporting errors with file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from firestop.playbooks.models import Playbook


class PlaybookError(ValueError):
    """A playbook file is invalid. ``problems``: list of (line or None, field path, message)."""

    def __init__(self, path: Path, problems: list[tuple[int | None, str, str]]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}:{line if line is not None else '?'}: {field or '(file)'}: {message}"
            for line, field, message in self.problems
        )


def _is_tag(part: Any) -> bool:
    """pydantic's union/validator labels in error locations, which are not YAML keys."""
    return isinstance(part, str) and (part in ("step-item", "undo-item", "parallel-group", "Step", "UndoStep") or "[" in part)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at path ``loc`` (deepest node found)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            key = "with" if part == "with_" else part
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            continue  # pydantic union tags ("Step", "Parallel") are not YAML nodes
        node = nxt
        line = node.start_mark.line + 1
    return line


def load_playbook(path: Path) -> Playbook:
    """Parse and validate one playbook file; :class:`PlaybookError` lists every problem."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise PlaybookError(path, [(None, "", f"cannot read: {exc.strerror}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlaybookError(path, [(mark.line + 1 if mark else None, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise PlaybookError(path, [(1, "", "a playbook is a YAML mapping with name, match and phases")])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc", ()))
            loc = tuple(p for p in loc if not _is_tag(p))
            field = ".".join(str(p) for p in loc).replace("with_", "with")
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append((_line_of(node, loc), field, message))
        raise PlaybookError(path, problems) from None


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

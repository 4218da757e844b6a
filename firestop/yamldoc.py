"""YAML documents validated by pydantic, with every problem reported as ``file:line: field: message``.

Shared by playbooks (:mod:`firestop.playbooks.loader`) and tabletop scenarios
(:mod:`firestop.tabletop.models`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pydantic import ValidationError

if TYPE_CHECKING:  # PyYAML is imported where a file is parsed: ``alert handle`` reads the shipped playbooks'
    import yaml    # compiled documents (firestop.playbooks.compiled) and never needs it (~26 ms of CPU at import)


def _loader() -> Any:
    """libyaml's parser when PyYAML was built with it (the same SafeConstructor builds the same documents; several
    times faster than the pure-Python parser, which was a tenth of ``alert handle`` reading the playbooks)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Problem = tuple[int | None, str, str]  # (1-based line or None, dotted field path, message)


class YamlFileError(ValueError):
    """A YAML file is invalid. ``problems``: list of (line or None, field path, message)."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}:{line if line is not None else '?'}: {field or '(file)'}: {message}"
            for line, field, message in self.problems
        )


def read_mapping(path: Path, error: type[YamlFileError], what: str) -> tuple[dict[str, Any], yaml.Node]:
    """(data, node tree) of a YAML file that must hold a mapping; ``error`` (a YamlFileError subclass)
    for an unreadable file, invalid YAML (with its line) or another top-level shape (``what`` describes it)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise error(path, [(None, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        node, data = _node_and_data(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error(path, [(mark.line + 1 if mark else None, "", f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise error(path, [(1, "", f"a {what}")])
    return data, node


def _node_and_data(text: str) -> tuple[yaml.Node | None, Any]:
    """(node tree, data) of one YAML document, parsed once: what ``yaml.compose`` and ``yaml.load`` return,
    the data built from the composed nodes as ``yaml.load`` does (``get_single_node`` then
    ``construct_document``). Raises ``yaml.YAMLError`` (also for a stream of several documents)."""
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def line_of(node: yaml.Node | None, loc: tuple[Any, ...], *, aliases: dict[str, str] | None = None) -> int | None:
    """1-based line of the deepest YAML node found along ``loc`` (parts that are not YAML keys —
    pydantic union tags, a list index where a single mapping stands — are skipped)."""
    if node is None:
        return None
    import yaml

    aliases = aliases or {}
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and not isinstance(part, int):
            key = aliases.get(part, part)
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            continue
        node = nxt
        line = node.start_mark.line + 1
    return line


def validation_problems(
    exc: ValidationError,
    node: yaml.Node | None,
    *,
    drop: Callable[[Any], bool] = lambda part: False,
    aliases: dict[str, str] | None = None,
    format_help: str | None = None,
) -> list[Problem]:
    """pydantic errors as problems with YAML lines; ``drop`` removes location parts that are not fields.
    ``format_help`` (e.g. ``python -m firestop playbook schema``): where the format's fields are listed, named in the
    message of a key the format does not have (pydantic's ``extra_forbidden``, "Extra inputs are not permitted")."""
    aliases = aliases or {}
    errors = exc.errors()
    stray = {e["loc"][0] for e in errors if e.get("type") == "extra_forbidden" and len(e.get("loc", ())) == 1}
    if {"schemaId", "data"} <= stray and format_help:
        # the webhook's payload given where a playbook or a scenario goes: say what the file is, not a typo hunt
        return [(1, "(file)", "this is an alert payload (Common Alert Schema: schemaId, data), not this format; "
                 f"python -m firestop alert handle FILE acts on it (alert show FILE reads it); the format: {format_help}")]
    problems: list[Problem] = []
    for err in errors:
        loc = tuple(p for p in err.get("loc", ()) if not drop(p))
        field = ".".join(str(aliases.get(p, p)) if isinstance(p, str) else str(p) for p in loc)
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden" and format_help and loc:
            message = f"{message}: {str(loc[-1])[:60]!r} is not a field here (a typo?); the format: {format_help}"
        problems.append((line_of(node, loc, aliases=aliases), field, message))
    return problems

"""The runbook registry: name → runbook class (Cloud Custodian style ``@register``)."""

from __future__ import annotations

from typing import TypeVar

from runbooks.base import Runbook

_REGISTRY: dict[str, type[Runbook]] = {}

R = TypeVar("R", bound=type[Runbook])


def register(cls: R) -> R:
    """Class decorator: make a runbook available under ``cls.name``."""
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"runbook name {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


class UnknownRunbook(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        known = ", ".join(sorted(_REGISTRY))
        return f"no runbook named {self.name!r}; known runbooks: {known}"


def get_runbook(name: str) -> Runbook:
    """A fresh instance of the runbook called ``name``; :class:`UnknownRunbook` if none."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise UnknownRunbook(name) from None


def runbook_names() -> list[str]:
    return sorted(_REGISTRY)


def all_runbooks() -> list[type[Runbook]]:
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]

"""Whether a command line asks for help: ``--help`` parsed as the help flag, or a group named without a sub-command.

The root command checks the ``FIRESTOP_*`` settings before any command runs (:func:`firestop.cli.main._root`), but
help must always show (exit 0) whatever the settings say: reading ``--help`` is how a responder finds out what to
type. Click answers ``--help`` only when it parses the sub-command's own arguments, *after* the root's callback
ran, and by then the root context no longer holds them — so :class:`RootGroup` reads the arguments first and
:func:`asks_for_help` parses them the way click will, without acting: ``--help`` given as an option's value
(``--comment --help``) is that value, not a help request, and the command's settings are still checked.
"""

from __future__ import annotations

from typing import Any, Sequence

from typer.core import TyperGroup

#: Where :class:`RootGroup` leaves its answer for the root callback.
META_KEY = "firestop.asks_for_help"


def asks_for_help(group: Any, ctx: Any, args: Sequence[str]) -> bool:
    """True when click will print help for ``args`` (what follows the root's own options) instead of running a
    command: a ``--help`` flag on the way to the command, or a group given no sub-command (``no_args_is_help``).
    False for anything click will reject (unknown command or option): that error is the answer, not help.

    ``group``, ``ctx``: the root's click group and context (Typer's vendored click: groups are told by their
    ``resolve_command``)."""
    command = group
    parent = ctx
    rest = list(args)
    while hasattr(command, "resolve_command"):
        if not rest:
            return bool(command.no_args_is_help)
        try:
            name, sub, rest = command.resolve_command(parent, rest)
        except Exception:  # noqa: BLE001 — an unknown command: click says so when it runs
            return False
        if sub is None:
            return False
        probe = sub.context_class(sub, info_name=name, parent=parent, resilient_parsing=True)
        help_option = sub.get_help_option(probe)
        try:
            opts, rest, _ = sub.make_parser(probe).parse_args(args=list(rest))
        except Exception:  # noqa: BLE001 — a bad option: click says so when it runs
            return False
        if help_option is not None and opts.get(help_option.name):
            return True
        command, parent = sub, probe
    return False


class RootGroup(TyperGroup):
    """The CLI's root group: notes in ``ctx.meta[META_KEY]`` whether the command line asks for help, before the
    root callback runs (which skips the settings check then)."""

    def invoke(self, ctx: Any) -> Any:
        ctx.meta[META_KEY] = asks_for_help(self, ctx, [*ctx._protected_args, *ctx.args])  # noqa: SLF001 — click's own args
        return super().invoke(ctx)

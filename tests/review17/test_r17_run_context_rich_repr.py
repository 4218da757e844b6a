"""R17-07 (low): startup17a made ``RunContext`` a msgspec Struct and kept ``repr`` free of the run's secrets with its
own ``__repr__`` — but a msgspec Struct also answers ``__rich_repr__`` with *every* field, so ``rich``'s pretty printer
(``rich.pretty``, ``console.print(ctx)``, a rich traceback's locals) showed ``_secrets``: the values the run must
never print (a Key Vault secret a runbook read, a key). The dataclass's ``field(repr=False)`` hid it from rich too.
Nothing in the product rich-prints a context today; the standard is that secrets never leak."""

from __future__ import annotations

from rich.pretty import pretty_repr

from firestop.azure.clients import ClientFactory
from firestop.settings import Settings
from runbooks.base import RunContext

SECRET = "sk-not-to-be-printed-0123456789"


def test_rich_never_shows_a_run_contexts_secrets(tmp_path):
    ctx = RunContext(clients=ClientFactory(), settings=Settings.from_env(home=tmp_path), incident_id="inc-1")
    ctx._secrets.add(SECRET)
    assert SECRET not in repr(ctx)  # guard: as startup17a made it
    shown = pretty_repr(ctx)
    assert SECRET not in shown, shown
    assert "inc-1" in shown  # the rest is still shown

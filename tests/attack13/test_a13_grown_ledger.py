"""A13-04 (attacker C — Storage Blob Data write on the ledger account, no Firestop role; high): a ledger grown past
bounds14's read bound stops the genuine incident's containment.

bounds14 item 1 reads a ledger at most ``LEDGER_READ_LIMIT`` (16 MiB) and refuses one over it (``TooLarge``): "appends
and ``ledger verify`` fail as for a ledger that cannot be read". But every step appends to its incident's ledger
(the before-state marker first: network.lock "could not keep the before-state marker, not acting"), and an incident's
ledger name is predictable (``<incident id>.jsonl``, the incident id the alert's slot). A writer creates that blob
before the alert fires (a new blob: WORM's time-based retention does not stop it; nor does it stop protected appends
to an existing ledger) with 16 MiB + 1 byte of junk. The genuine leaked-key alert then: keys rotated, **the network
left open** (lock-network refused), the orchestrator itself failed on the same refusal (runtime ``Failed``, no record
filed). On main (2fcae0a) the ledger was read whole — 16 MiB is no memory problem — the junk line was skipped as a
line Firestop did not write and the incident was contained.

Fixed in ledger15 (this test passes, no xfail): readers stream the ledger. records16 checked it again: a grown
*append* blob needs no move; a planted *block* blob (or one filled to the service's block limit) at the name, which no
append can extend, now moves the ledger to a keyed name (tests/runbooks/test_planted_names.py).

Not fixed here at first (xfail strict): a fix must keep appending to a chain whose head is past any bound a whole read can
take — an append needs only the ledger's length and its last entry (a tail read: a ranged Get Blob at
``size - N``, locally ``seek``), and ``ledger verify``/undo's ``entries`` a streamed scan that skips over-long lines
as lines Firestop did not write — both backends, Azurite's contract tests, in more time than this session had left.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from firestop.cli.main import app
from firestop.settings import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "alerts" / "leaked-key.json"
ACCOUNT = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-ai-prod/providers/Microsoft.CognitiveServices/accounts/contoso-openai-prod"
INCIDENT = "inc-33906e911c7aff74"  # the leaked-key example's slot: what any reader of the alert rule can compute


def test_a13_04_a_grown_ledger_does_not_stop_containment(firestop_home):
    from runbooks.ledger import LEDGER_READ_LIMIT

    ledger = firestop_home / "ledger" / f"{INCIDENT}.jsonl"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger, "wb") as fh:  # a writer's blob at the predictable name, before the alert fires
        fh.write(b"x" * (LEDGER_READ_LIMIT + 10) + b"\n")
    handled = CliRunner().invoke(app, ["alert", "handle", str(EXAMPLE), "--json"], catch_exceptions=False)
    view = json.loads(handled.stdout)

    from firestop.sandbox import Tenant

    acls = Tenant.open(firestop_home / "sandbox").resource(ACCOUNT)["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny", (view.get("status"), view.get("does_not_hold"))
    assert view["status"] == "contained", view.get("error")

"""RT13-01 (low): a blob writer who creates the sealed-lines marker before Firestop does switches line seals off for good.

Ledger9 seals the manual-run index lines and, before the first sealed line, creates a marker
(``index/manual-runs/sealed-lines.json`` ``{"since", "seal"}``); after its time an unsealed line is not followed. The
marker had a fixed name and is created only when none is there: a principal with Storage Blob Data write (no Firestop
role) who created that blob first — any time before the first manual run after the upgrade, or before the first one
ever on a fresh deployment — with any seal made Firestop never write its own (``AlreadyExists`` / "one is there"),
and readers, finding a marker that is not the app's, followed every line as before seals. In the ledger container
(WORM: blobs can be created, never deleted) the planted marker stays for the retention period, so the protection
ledger9 added — planted lines neither fill :data:`runbooks.manual_runs.MAX_TARGET_RUNS` nor name ledgers to read —
was gone: past the bound every undo on the target was refused (``UndoUnchecked``), and the operator cannot remove it.

Fixed: the marker's name carries a tag only the seal key makes (:func:`runbooks.manual_runs.sealed_lines_name`), so a
blob writer cannot take Firestop's place; what sits under any other name is never read.
"""

from __future__ import annotations

from datetime import timedelta

from runbooks.ledger import canonical
from tests.custody.test_planted_index_lines import _plant_line
from tests.lifecycle.test_manual_index import RECEIVED, _run, _undo, settings  # noqa: F401 — the fixture
from tests.trust.conftest import ACCOUNT


def test_a_planted_marker_does_not_switch_line_seals_off(settings, monkeypatch):  # noqa: F811
    from runbooks import manual_runs
    from runbooks.ledger import Ledger

    monkeypatch.setattr(manual_runs, "MAX_TARGET_RUNS", 2)
    store = Ledger.of(settings).store
    # the blob writer's marker, created before Firestop's first sealed line (the old fixed name, and an early time)
    store.create(manual_runs.INDEX_PREFIX + "sealed-lines.json",
                 canonical({"since": RECEIVED.isoformat(), "seal": "v1.deadbeef.forged"}), "application/json")
    _run(settings, RECEIVED + timedelta(days=1), f"{ACCOUNT}-other")  # Firestop's first sealed line
    for n in range(5):
        at = (RECEIVED + timedelta(days=2, minutes=n)).isoformat()
        _plant_line(settings, f"manual-2026-01-03/cli-run-0{n}0000-beef", at, seal="v1.deadbeef.forged")
    _undo(settings)  # before: UndoUnchecked "5 manual runs were recorded on its targets since"


def test_the_marker_name_is_the_keys(settings):  # noqa: F811
    """A marker under the name another key makes (or none) is not this app's; the app's own is found and believed."""
    from firestop.trust.seal import SealKey, load_seal_key
    from runbooks import manual_runs
    from runbooks.ledger import Ledger

    key = load_seal_key(settings.home)
    other = SealKey("another-key-" + "x" * 40, "test")
    assert manual_runs.sealed_lines_name(key) != manual_runs.sealed_lines_name(other)
    assert manual_runs.sealed_lines_name(key).startswith(manual_runs.INDEX_PREFIX)
    _run(settings, RECEIVED + timedelta(days=1), f"{ACCOUNT}-other")
    store = Ledger.of(settings).store
    assert store.read(manual_runs.sealed_lines_name(key)) is not None
    assert manual_runs._sealed_since(store, key) == RECEIVED + timedelta(days=1)
    assert manual_runs._sealed_since(store, other) is None

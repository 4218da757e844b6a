"""bounds14 item 5: backdated manual-run ledgers planted by a blob writer no longer fill the undo's read bound.

Attacker: a principal with Storage Blob Data write on the ledger storage account (no Firestop role). An undo reads
every ``manual-<day>`` ledger dated from the incident on (the days before the manual-run index's epoch, or all of them
without a sealed epoch) and refused past ``MAX_MANUAL_LEDGERS`` (100) of them. Future-dated ones were skipped
(leftovers11), but ledgers dated between the incident and today counted: for an incident more than 100 days old, ~100
planted empty ledgers refused its undo for good.

Fixed: only a ledger holding an entry the app sealed on it counts toward the bound; every ledger in the window is still
read (an unsealed apply still adds reliance: fail closed), at most ``MAX_WHOLE_LEDGERS`` (400) of them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

ACCOUNT = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ai-prod/providers/"
           "Microsoft.CognitiveServices/accounts/aoai-prod")
STEP = [{"step_id": "lock-network", "runbook": "network.lock", "target": ACCOUNT}]


@pytest.fixture
def settings(tmp_path):
    from firestop.settings import Settings

    return Settings.from_env(home=tmp_path)


def _plant(settings, day: str) -> None:
    folder = settings.home / "ledger"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"manual-{day}.jsonl").write_text("")  # the blob writer's: nothing the app sealed


def _sealed(settings, day: str) -> None:
    from runbooks.ledger import Ledger

    Ledger.of(settings).append(f"manual-{day}", kind="action", runbook="network.lock", action="plan", step_id="s",
                               target=None, at=f"{day}T01:00:00+00:00", data={})


def test_backdated_planted_ledgers_do_not_refuse_the_undo(settings, monkeypatch):
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.undo import UndoUnchecked, later_reliance
    from runbooks import manual_runs

    monkeypatch.setattr(manual_runs, "MAX_MANUAL_LEDGERS", 2)  # 100 in production: the same arithmetic, smaller
    now = get_client_factory().clock.now()
    received = {"received_at": (now - timedelta(days=150)).isoformat()}  # an incident 150 days old
    for n in range(1, 6):  # five backdated days between the incident and today
        _plant(settings, (now - timedelta(days=10 * n)).date().isoformat())
    later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", received, STEP)  # fails before bounds14: "5 days"
    for n in range(1, 4):  # three days the app itself wrote: past the bound of 2, refused as before
        _sealed(settings, (now - timedelta(days=10 * n + 1)).date().isoformat())
    with pytest.raises(UndoUnchecked, match="3 days"):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", received, STEP)


def test_the_reads_stay_bounded(settings, monkeypatch):
    from firestop.azure.clients import get_client_factory
    from firestop.lifecycle.undo import UndoUnchecked, later_reliance
    from runbooks import manual_runs

    monkeypatch.setattr(manual_runs, "MAX_WHOLE_LEDGERS", 4, raising=False)
    now = get_client_factory().clock.now()
    received = {"received_at": (now - timedelta(days=150)).isoformat()}
    for n in range(1, 6):
        _plant(settings, (now - timedelta(days=10 * n)).date().isoformat())
    with pytest.raises(UndoUnchecked, match="5 days"):
        later_reliance(settings, "inc-aaaaaaaaaaaaaaaa", received, STEP)

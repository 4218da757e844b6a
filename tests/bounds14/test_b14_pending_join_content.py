"""bounds14 item 3: a pending join's content is tied to its sealed name, and one that cannot be read is told.

Attacker: a principal with Storage Blob Data write on the records store (no Firestop role), beside the webhook-key
holder whose forged alert opened the resource's incident. A genuine alert that joined it while its source check ran
was kept as a pending join, ``pending-joins/<run>/<digest32>.<seal>.json``: the *name* is sealed (RT16-05), but the
content at that name is not. Overwritten with a copy of another pending join's content (the folder can be listed), the
genuine join started the other alert's variant (found: "already running"), never its own; overwritten with junk (or
deleted after the listing), it was skipped. Either way the genuine alert was never checked, and nobody was told.

Fixed: the content must name the variant of its name's digest (``<incident key>-v<first 16 hex>``; that variant's
input seal is bound to it and checked where it starts and runs); a sealed name whose content is not the pending join it
was sealed for is counted ``unreadable`` (:class:`firestop.records.pending_joins.Pending`), the incident notes "N
pending join(s) could not be read" and ends ``needs_responder`` saying so (its page asks the responder). Bound: one
listing and at most ``MAX_STARTS`` (2,000) reads of at most 8 MiB each per incident run.
Not closed here: a pending join *deleted before* the listing leaves no trace to count (see the README).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firestop.records import pending_joins
from firestop.storage.local import LocalStore
from firestop.trust.seal import SealKey
from tests.e2e.test_webhook import served  # noqa: F401 (fixture)
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.source_check_steps import confirm_outcomes
from tests.variants13.test_v13_joined_while_checked import _posted, _variant_of
from tests.verify12.test_v12_forged_dimensions import RAW, _fire_genuine

INCIDENT, RECEIVED = "aoai-incident-b14", "2026-12-05T03:00:00Z"
KEY = SealKey("bounds14-pending-test-key-0123456789abcdef", "test")


@pytest.fixture(autouse=True)
def check_on(monkeypatch):
    monkeypatch.setenv("FIRESTOP_ALERT_SOURCE_CHECK", "on")


def _keep(store, letter: str) -> str:
    pending_joins.keep(store, INCIDENT, RECEIVED, letter * 64, f"{INCIDENT}-v{letter * 16}", {"sealed": letter}, KEY)
    return next(n for n in store.names(pending_joins.folder(INCIDENT, RECEIVED)) if f"/{letter * 32}." in n)


@pytest.mark.parametrize("how", ["copy of another", "junk", "nested", "over the bound", "another variant"])
def test_content_that_is_not_its_names_pending_join_is_counted(tmp_path, how, monkeypatch):
    store = LocalStore(tmp_path)
    genuine, other = _keep(store, "a"), _keep(store, "b")
    path = Path(store.path(genuine))
    if how == "copy of another":
        path.write_bytes(Path(store.path(other)).read_bytes())
    elif how == "junk":
        path.write_bytes(b"not json")
    elif how == "nested":
        path.write_bytes(b"[" * 100_000)
    elif how == "over the bound":
        monkeypatch.setattr(pending_joins, "READ_LIMIT", len(Path(store.path(other)).read_bytes()))  # 8 MiB: smaller
        path.write_bytes(json.dumps({"variant_id": f"{INCIDENT}-v{'a' * 16}", "input": {"x": "y" * 100}}).encode())
    else:
        path.write_bytes(json.dumps({"variant_id": f"{INCIDENT}-v{'c' * 16}", "input": {"sealed": "c"}}).encode())
    found = pending_joins.pending(store, INCIDENT, RECEIVED, KEY)
    assert found.kept == [(f"{INCIDENT}-v{'b' * 16}", {"sealed": "b"})] and found.unreadable == 1 and found.left == 0


def test_a_pending_join_as_kept_is_read(tmp_path):
    store = LocalStore(tmp_path)
    _keep(store, "a")
    assert pending_joins.pending(store, INCIDENT, RECEIVED, KEY) == pending_joins.Pending(
        [(f"{INCIDENT}-v{'a' * 16}", {"sealed": "a"})], 0, 0)


def test_an_overwritten_pending_join_asks_the_responder(served):  # noqa: F811
    """Fails before bounds14: the genuine alert's pending join, overwritten with a copy of another's, started the
    other variant ("1 variant(s) started, 1 already running or done"); the genuine alert was never checked, and
    neither the notes nor the outcome said so."""
    from firestop.records.store import records_store
    from firestop.settings import get_settings

    env, server, app = served
    _fire_genuine(env)
    forged = _posted(server, app, _forged())["id"]
    assert _posted(server, app, _forged()).get("correlatedTo") == forged  # another forged alert joins (its own join)
    assert _posted(server, app, json.loads(RAW)).get("correlatedTo") == forged  # the genuine one joins
    store = records_store(get_settings())
    names = [n for n in store.names(pending_joins.PENDING_PREFIX)]
    assert len(names) == 2, names
    own = _variant_of(json.loads(RAW))
    mine = next(n for n in names if json.loads(store.read(n))["variant_id"] == own)
    theirs = next(n for n in names if n != mine)
    Path(store.path(mine)).write_bytes(store.read(theirs))  # the storage writer's overwrite
    env.host.run_until_idle(advance_timers=True)
    assert confirm_outcomes(env, forged) == ["not confirmed"]
    output = env.host.get_status(forged).output
    assert any("1 pending join(s) could not be read" in n for n in output["notes"]), output["notes"]
    assert output["status"] == "needs_responder" and "1 pending join(s) could not be read" in output["reason"], output


def test_the_records_layer_derives_variant_ids_as_intake_does():
    """``pending_joins`` keeps its own copy of intake's variant-id shape (the records layer imports no intake)."""
    from firestop.intake.accept import VARIANT_DIGITS

    assert pending_joins.VARIANT_DIGITS == VARIANT_DIGITS
    assert pending_joins._variant_of_digest(_variant_of(json.loads(RAW)), _variant_of(json.loads(RAW)).rsplit("-v", 1)[1]
                                            + "0" * 16)

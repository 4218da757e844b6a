"""Remote mode's one-line errors: the app's reason and its fix, each said once."""
from __future__ import annotations

import pytest

from firestop.cli.remote import RemoteError
from tests.cli.canned_app import canned_remote

REASON = ("step 'lock-network' on /subscriptions/s/accounts/a is relied on by a later incident, inc-2; nothing was undone — "
          "undo inc-2 first, or decide with that incident's responders")
ANSWERS = {"/api/incidents/inc-1/undo": (409, {"error": "step", "reason": REASON, "fix": "undo inc-2 first"}),
           "/api/incidents/inc-3/undo": (409, {"error": "step", "reason": "nothing left to undo", "fix": "see incident show inc-3"})}


@pytest.fixture
def app(monkeypatch):
    yield from canned_remote(monkeypatch, lambda method, path: ANSWERS[path])


def test_a_fix_the_reason_already_says_is_not_repeated(app):
    with pytest.raises(RemoteError) as refused:
        app.undo("inc-1", "lock-network")
    assert refused.value.exit_code == 2
    assert str(refused.value) == REASON  # it read "…responders; undo inc-2 first" — the fix twice


def test_a_fix_the_reason_does_not_say_is_appended(app):
    with pytest.raises(RemoteError) as refused:
        app.undo("inc-3", None)
    assert str(refused.value) == "nothing left to undo; see incident show inc-3"


def test_no_scope_says_which_variable_to_set_and_where_the_recipe_is(monkeypatch):
    """New-user trial 8: the refusal pointed to "Deploy to Azure, step 2", which creates the app registration but
    not the delegated scope the CLI signs in for (that is Remote mode's recipe, step 1); it now says what to export."""
    from firestop.cli.remote import SCOPE_ENV, RemoteApp, RemoteError

    monkeypatch.delenv(SCOPE_ENV, raising=False)
    with pytest.raises(RemoteError) as refused:
        RemoteApp("http://127.0.0.1:7071")
    text = str(refused.value)
    assert f"export {SCOPE_ENV}=api://" in text and "Remote mode" in text and "Deploy to Azure, step 2" not in text


def test_a_release_command_in_the_apps_refusal_acts_on_the_app(app, monkeypatch):
    """New-user trial 9: the app's relied-on refusal names the release command in the local command's words; run as
    typed (without --app) it acted on the local store. It now carries --app ORIGIN."""
    later = ("step 'lock-network' on /s/a is relied on by a later incident, inc-2: its step 'lock-network' found that "
             "state in place and changed nothing; nothing was undone — release it first — python -m firestop incident "
             "undo inc-2 --step lock-network (it changed nothing, so nothing is restored; inc-2 stops relying on the "
             "state) — then undo this step again")
    manual = ("step 'lock-network' on /s/a is relied on by a later manual run, manual-2026-11-29/cli-run-031640-316d "
              "(it changed the same state); nothing was undone — undo that run first — python -m firestop runbook undo "
              "manual-2026-11-29/cli-run-031640-316d — or decide with whoever ran it")
    monkeypatch.setitem(ANSWERS, "/api/incidents/inc-4/undo", (409, {"error": "step", "reason": later, "code": "relied_on"}))
    monkeypatch.setitem(ANSWERS, "/api/incidents/inc-5/undo", (409, {"error": "step", "reason": manual, "code": "relied_on"}))
    with pytest.raises(RemoteError) as refused:
        app.undo("inc-4", "lock-network")
    assert refused.value.exit_code == 3
    assert f"python -m firestop incident undo inc-2 --step lock-network --app {app.origin} (it changed" in str(refused.value)
    with pytest.raises(RemoteError) as refused:
        app.undo("inc-5", "lock-network")
    assert f"runbook undo manual-2026-11-29/cli-run-031640-316d --app {app.origin} — or" in str(refused.value)
    assert str(refused.value).count("--app") == 1

"""``audit show --app`` when the app keeps no such audit: the CLI command to type (with ``--app``), not the API route.

New-user trial 9: ``audit show --app URL`` on an app without an audit said "run one: POST /api/audits (responder) or
wait for audit_timer" — the HTTP route, where every other ``--app`` refusal names the CLI command."""
from __future__ import annotations

import pytest

from firestop.cli.remote import RemoteError
from tests.cli.canned_app import canned_remote


def no_audit(method, path):
    """The app's own 404s for these routes (firestop/functions/audit.py)."""
    if path == "/api/audits/latest":
        return 404, {"error": "audit_id", "reason": "no audit has been kept yet",
                     "fix": "run one: POST /api/audits (responder) or wait for audit_timer"}
    if path == "/api/audits/controls":
        return 403, {"error": "role", "reason": "caller lacks the reader role", "fix": "ask an admin"}
    return 404, {"error": "audit_id", "reason": f"no audit {path.rsplit('/', 1)[-1]}", "fix": "see GET /api/audits/latest"}


@pytest.fixture
def app(monkeypatch):
    yield from canned_remote(monkeypatch, no_audit)


def test_no_audit_yet_names_audit_run_with_the_app(app):
    with pytest.raises(RemoteError) as refused:
        app.audit(None)
    text = str(refused.value)
    assert refused.value.exit_code == 2
    assert f"python -m firestop audit run --app {app.origin}" in text, text
    assert "POST /api/audits" not in text, text


def test_an_unknown_audit_id_names_audit_show_with_the_app(app):
    with pytest.raises(RemoteError) as refused:
        app.audit("audit-20000101T000000Z-0000")
    text = str(refused.value)
    assert refused.value.exit_code == 2 and "audit-20000101T000000Z-0000" in text
    assert f"python -m firestop audit show --app {app.origin}" in text and "GET /api/audits" not in text, text


def test_other_refusals_keep_the_apps_words(app):
    with pytest.raises(RemoteError) as refused:
        app.audit_controls()
    assert str(refused.value) == "caller lacks the reader role; ask an admin"

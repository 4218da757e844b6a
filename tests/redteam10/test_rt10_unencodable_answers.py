"""RT10-01 (low): two refusals a caller's own input can turn into a 500 instead of a 4xx.

* ``POST /api/audits`` (responder) with a body field named by a lone UTF-16 surrogate escape (``{"\\ud800": 1}``):
  :func:`firestop.functions.audit.narrowed_scope` names the unknown field in its 400, and the audit routes' JSON
  answer (``_json``) was written with ``ensure_ascii=False``, so ``azure.functions.HttpResponse`` raised
  UnicodeEncodeError encoding the body as UTF-8: the route answered 500 (seen against ``firestop serve``), no JSON
  reason. The answer is now escaped JSON (``\\ud800``) whenever it cannot be UTF-8, still naming the field.
* A console POST (stop, undo, decide) whose anti-forgery token starts with a Unicode digit that ``int`` refuses
  (``²``, U+00B2: ``str.isdigit`` is True for it) raised ValueError out of
  :func:`firestop.console.csrf.check_post` — 500 with an empty body instead of the 403 naming the check. Only ASCII
  digits are an hour now.
"""

from __future__ import annotations

import json

import pytest

from firestop.console import csrf


def test_an_unencodable_unknown_audit_field_is_a_400_naming_it():
    from firestop.functions.audit import narrowed_scope

    answer = narrowed_scope({"\ud800": 1}, env={"FIRESTOP_AUDIT_SUBSCRIPTION": "11111111-2222-3333-4444-555555555555"})
    assert answer.status_code == 400
    body = json.loads(answer.get_body())
    assert body["error"] == "\ud800" and "unknown field" in body["reason"], body


@pytest.mark.parametrize("hour", ["\u00b2", "\u00b9\u00b2", "\u2460"])
def test_a_token_hour_of_non_ascii_digits_is_a_csrf_refusal(hour):
    from firestop.trust.seal import SealKey

    key = SealKey("k" * 40, "test")
    origin = "http://localhost:7071"
    with pytest.raises(csrf.CsrfError, match="malformed"):
        csrf.check_post({"Origin": origin}, f"{hour}.abc", key=key, object_id="oid-alice", origin=origin)


def test_a_token_hour_of_other_unicode_decimal_digits_is_refused_too():
    """Arabic-Indic digits parse as an int (an hour long past): refused as malformed, not as expired."""
    from firestop.trust.seal import SealKey

    key = SealKey("k" * 40, "test")
    origin = "http://localhost:7071"
    with pytest.raises(csrf.CsrfError, match="malformed"):
        csrf.check_post({"Origin": origin}, "\u0661\u0662.abc", key=key, object_id="oid-alice", origin=origin)


def test_a_management_listing_top_of_non_ascii_digits_is_a_400(tmp_path):
    """The same ``isdigit`` slip in the local management API (system key): ``GET …/instances/?top=²`` answered 500."""
    from firestop.runtime import LocalDurableHost, ManagementServer
    from tests.runtime.test_instance_listing import app

    host = LocalDurableHost(app, tmp_path / "durable.db")
    server = ManagementServer(host).start()
    try:
        for top in ("%C2%B2", "%D9%A1"):
            code, _, payload = server.handle("GET", f"/durabletask/instances/?top={top}", {}, b"")
            assert code == 400 and "top" in payload["Message"], (top, code, payload)
    finally:
        server.stop()

"""R17-01: ``GET /api/incidents?status=`` split its refusal at the first ``"; use "`` — which the caller's own value
may hold — so the 400's ``reason`` and ``fix`` were cut inside the echoed value (``reason`` "'x", ``fix`` "use y' is not
an incident status; use one of ..."). The split must be at the fixed suffix the refusal ends with."""

from __future__ import annotations

from tests.e2e.test_http_api import api  # noqa: F401 — the responders' API on a sandbox (a fixture)


def test_a_status_holding_the_separator_is_refused_whole(api):  # noqa: F811
    status, body = api.call("list_incidents_http", "GET", "incidents", params={"status": "x; use running"})
    assert status == 400 and body["error"] == "status", body
    assert body["reason"] == "'x; use running' is not an incident status", body
    assert body["fix"].startswith("use one of: ") and "awaiting_approval" in body["fix"], body
    assert "is not an incident status" not in body["fix"], body


def test_a_plain_typo_still_reads_as_before(api):  # noqa: F811 - guard: the usual refusal is unchanged
    status, body = api.call("list_incidents_http", "GET", "incidents", params={"status": "runing"})
    assert status == 400 and body["reason"] == "'runing' is not an incident status", body
    assert body["fix"].startswith("use one of: ") and body["fix"].endswith("or leave status out for every incident"), body

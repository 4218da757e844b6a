"""RT10-02 (medium): an alert flood hid an incident waiting for approval from the console, and every front-page load
read every finished incident's record.

Attack: ``GET /api/console`` lists every incident the backend holds (up to :data:`firestop.instance_listing.MAX_PAGES`
pages, 5,000 instances), turns each into a view — for a finished incident that is the filed record: a prefix listing,
a read and a second listing of the records store (:func:`firestop.functions.http_api._status_view`) — sorts them and
shows the newest :data:`~firestop.functions.http_console.MAX_LISTED` (200). "Waiting for a decision" was taken from
those 200 only. So whoever can open incidents (the alert webhook's key, or an alert storm: one incident per target)
opens 200 that finish at once (``needs_responder``: a made-up account), and the incident that *is* waiting for an
approver — the containment of the real attack, which fails closed when nobody decides — drops off the page the
approvers watch. And every load by any reader costs up to 15,000 records-store calls (Blob Storage: minutes), for
200 rows. Fixed: the approvals come from every open incident (their views read no record), and records are read only
for the newest 200 incidents (by creation time) that the page shows.

PoC in-process: the backend listing is 1 open incident awaiting approval (the oldest) and 250 finished ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from tests.console.test_console_routes import call
from tests.trust.conftest import Api, api, handled_home  # noqa: F401 — fixtures

WAITING = "inc-00000000000000aa"


def _statuses(finished: int) -> list[SimpleNamespace]:
    from firestop.lifecycle import ORCHESTRATOR_NAME

    start = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
    waiting = SimpleNamespace(
        name=ORCHESTRATOR_NAME, instance_id=WAITING, runtime_status="Running", output=None,
        created_time=start, last_updated_time=start,
        custom_status={"phase": "contain", "step": "rotate-keys", "received_at": start.isoformat(),
                       "pending_approval": {"step": "rotate-keys", "runbook": "keys.rotate", "approvers": [],
                                            "target": "/subscriptions/s/resourceGroups/rg/providers/"
                                                      "Microsoft.CognitiveServices/accounts/contoso-openai-prod",
                                            "expires_at": (start + timedelta(hours=1)).isoformat()}})
    out = [waiting]
    for n in range(finished):
        at = start + timedelta(seconds=10 + n)
        out.append(SimpleNamespace(
            name=ORCHESTRATOR_NAME, instance_id=f"inc-{n:016x}", runtime_status="Completed", custom_status=None,
            created_time=at, last_updated_time=at,
            output={"incident_id": f"inc-{n:016x}", "status": "needs_responder", "received_at": at.isoformat()}))
    return out


def test_a_flood_of_finished_incidents_neither_hides_a_waiting_approval_nor_costs_a_record_read_each(api, monkeypatch):  # noqa: F811
    from firestop import instance_listing
    import importlib

    http_console = importlib.import_module("firestop.functions.http_console")  # the package exports its blueprint by that name
    from firestop.records import store

    statuses = _statuses(250)

    async def listing(client, **_):
        return instance_listing.Listing(statuses=tuple(statuses), complete=True, pages=3)

    reads = []

    def filed_record(where, incident_id):
        reads.append(incident_id)
        return None  # nothing filed: the view is the orchestration's output

    monkeypatch.setattr(instance_listing, "list_instances", listing)
    monkeypatch.setattr(store, "filed_record", filed_record)
    status, _, page = call(api, "console_home", "console")
    assert status == 200, page[:500]
    waiting_section = page.split("Waiting for a decision", 1)
    assert len(waiting_section) == 2 and WAITING in waiting_section[1].split("<table", 1)[0], \
        "the incident waiting for an approver is not on the front page"
    assert len(reads) <= http_console.MAX_LISTED, f"{len(reads)} records read to show {http_console.MAX_LISTED} rows"
    assert f"inc-{249:016x}" in page and f"inc-{0:016x}" not in page  # the newest 200 are listed, the oldest are not
    assert "More incidents not shown" in page

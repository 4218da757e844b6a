"""One unreadable record no longer blocks whole lists (lifecycle7; session 6 note, "Noticed and left").

bounds7 made an unreadable filed record raise instead of being skipped, so ``incident list``, ``GET /api/incidents`` and
the console's front page failed whole (exit 1 / 503) until it was fixed. Lists *for display* now show it as a row naming
it (``status: unreadable``; the CLI exits 3 and names it on stderr, the API adds ``X-Firestop-Unreadable-Records``),
while what decides safety still fails closed: the earlier incident's undo, which that record may rely on, is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from firestop.settings import REPO_ROOT
from tests.lifecycle.test_undo_release import ANOMALOUS, _acl, _later
from tests.lifecycle.test_undo_unreadable_records import _deny_read
from tests.trust.conftest import INCIDENT, api, handled_home  # noqa: F401 — fixtures


def test_api_and_console_list_an_unreadable_record_as_a_row_and_the_undo_still_refuses(api, firestop_home, monkeypatch):
    later = _later(api.env)
    _deny_read(monkeypatch, Path(firestop_home) / "records" / f"{later}.json")

    status, rows = api.call("list_incidents_http", "GET", "incidents")
    assert status == 200, rows
    by_id = {r["incident_id"]: r for r in rows}
    assert by_id[INCIDENT]["status"] == "contained"  # the readable one, whole
    assert by_id[later]["status"] == "unreadable" and by_id[later]["unreadable"] is True and by_id[later]["created_at"]
    assert "Permission denied" not in json.dumps(rows)  # the store's message is logged, not answered
    import azure.functions as func

    from firestop.functions.http_api import UNREADABLE_HEADER
    from firestop.runtime import invoke_http_function
    from firestop.trust import encode_principal, stamp_peer

    request = func.HttpRequest(method="GET", url="http://127.0.0.1/api/incidents", body=b"", route_params={},
                               headers=stamp_peer({"X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice")}, "127.0.0.1"))
    headers = dict(invoke_http_function(api.app, "list_incidents_http", request, server=api.server).headers)
    assert headers.get(UNREADABLE_HEADER) == "1", headers

    status, filtered = api.call("list_incidents_http", "GET", "incidents", params={"status": "contained"})
    assert status == 200 and {r["incident_id"] for r in filtered} >= {INCIDENT, later}  # status unknown: kept, named

    from tests.console.test_console_routes import call as console_call

    status, _, page = console_call(api, "console_home", "console")
    assert status == 200 and later in page and INCIDENT in page and "1 incident record cannot be read" in page

    status, refused = api.call("undo_http", "POST", f"incidents/{INCIDENT}/undo", who="oid-bob",
                               route={"incident_id": INCIDENT}, body={"step": "lock-network"})
    assert status == 409 and refused["code"] == "relied_on" and "could not be read" in refused["reason"], refused
    assert _acl(api.env) == "Deny"  # fail closed: the unreadable record may be the one relying on the lock


def test_cli_list_names_the_unreadable_record_and_exits_3_and_the_undo_still_refuses(firestop_home):
    from firestop.cli.main import app
    from firestop.settings import Settings

    def cli(*args, input=None):
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    first = json.loads(cli("alert", "handle", str(REPO_ROOT / "examples" / "alerts" / "leaked-key.json"), "--json").stdout)
    second = json.loads(cli("alert", "handle", str(ANOMALOUS), "--json").stdout)
    (Settings.from_env(home=firestop_home).records_dir / f"{second['incident_id']}.json").write_text("{ broken")

    listed = cli("incident", "list")
    assert listed.exit_code == 3, (listed.stdout, listed.stderr)
    assert first["incident_id"] in listed.stdout and second["incident_id"] in listed.stdout
    from firestop.lifecycle.view import status_label, unreadable_row

    assert status_label(unreadable_row(second["incident_id"], None, "x")) == "record unreadable"  # its status column
    assert second["incident_id"] in listed.stderr and "not JSON" in listed.stderr and "Traceback" not in listed.stderr

    as_json = cli("incident", "list", "--json")
    assert as_json.exit_code == 3
    rows = {r["incident_id"]: r for r in json.loads(as_json.stdout)}
    assert rows[second["incident_id"]]["unreadable"] is True and "not JSON" in rows[second["incident_id"]]["reason"]
    assert rows[first["incident_id"]]["status"] == "contained" and "unreadable" not in rows[first["incident_id"]]

    # incident show of it says the same (new-user trial 9: it read "internal error: StoreError …"); exit 1, as the
    # API's 503 is with --app (tests/lifecycle/test_undo_unreadable_records.py)
    shown = cli("incident", "show", second["incident_id"])
    assert shown.exit_code == 1, (shown.stdout, shown.stderr)
    said = " ".join(shown.stderr.split())
    assert f"ID: the filed record of {second['incident_id']} cannot be read" in said and "not JSON" in said, said
    assert "internal error" not in said and "Traceback" not in said

    refused = cli("incident", "undo", first["incident_id"], "--step", "lock-network", "--as", "oid-bob", "--yes")
    assert refused.exit_code == 3 and "could not be read" in refused.stderr + refused.stdout, (refused.stdout, refused.stderr)

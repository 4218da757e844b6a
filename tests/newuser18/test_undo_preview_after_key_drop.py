"""newuser18: after ``seal-key retire`` dropped the key an incident was sealed under, README says its undo is refused
("its record's filing is not the app's (`incident undo` refuses, exit 3 …)") and undo refusals come "before it asks".
The undo itself was refused — but only inside the lease, after the preview: ``incident undo ID --dry-run`` printed
"would undo lock-network … to do it: python -m firestop incident undo …" and exited 0, the command without ``--yes``
showed the same preview and asked "Undo this on the sandbox tenant?", and only a "y" met the refusal; the API's
``GET /api/incidents/{id}/undo`` (what ``--app`` shows first) answered 200 with the actions, and the console's
confirmation page offered "Yes, undo containment". The previews now run the same record check the undo runs
(:func:`firestop.lifecycle.undo.still_newest`): the dry run, the CLI's preview, the API's and the console's refuse
(exit 3, 409), naming the dropped key, before anything is asked.

Fails before: the dry run exits 0 offering the undo, the interactive undo asks first, the API preview answers 200,
the console's confirmation page 200."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firestop.cli.main import app
from tests.trust.conftest import INCIDENT, api, handled_home  # noqa: F401 — fixtures


def cli(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "400"}, catch_exceptions=False)


def _console_confirm(api):  # noqa: F811 — the Undo button's confirmation page, as a browser asks for it (HTML)
    import azure.functions as func

    from firestop.runtime import invoke_http_function
    from firestop.trust import encode_principal, stamp_peer

    headers = stamp_peer({"accept": "text/html", "X-MS-CLIENT-PRINCIPAL": encode_principal("oid-alice")}, "127.0.0.1")
    request = func.HttpRequest(method="GET", url=f"http://localhost:7071/api/console/incidents/{INCIDENT}/undo",
                               headers=headers, body=b"", route_params={"incident_id": INCIDENT})
    return invoke_http_function(api.app, "console_undo_confirm", request, server=api.server)


def _drop_the_incidents_key() -> None:
    assert cli("seal-key", "rotate", "--as", "oid-admin").exit_code == 0
    old = json.loads(cli("seal-key", "show", "--json").stdout)["retired"][0]
    assert cli("seal-key", "retire", old, "--as", "oid-admin", "--yes").exit_code == 0


def test_a_dry_run_and_the_preview_refuse_what_the_undo_refuses(api):  # noqa: F811
    status, preview = api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT})
    assert status == 200 and preview["actions"], preview  # with the key in the ring the undo is offered
    assert _console_confirm(api).status_code == 200
    _drop_the_incidents_key()

    dry = cli("incident", "undo", INCIDENT, "--as", "oid-alice", "--dry-run")
    assert dry.exit_code == 3, dry.output
    assert "seal key since dropped" in dry.output and "would undo" not in dry.output, dry.output

    dry_json = cli("incident", "undo", INCIDENT, "--as", "oid-alice", "--dry-run", "--json")
    assert dry_json.exit_code == 3 and "seal key since dropped" in dry_json.stdout, dry_json.output

    asked = cli("incident", "undo", INCIDENT, "--as", "oid-alice", stdin="y\n")
    assert asked.exit_code == 3, asked.output
    assert "[y/N]" not in asked.output and "would undo" not in asked.output, asked.output  # refused before it asks

    status, body = api.call("undo_preview_http", "GET", f"incidents/{INCIDENT}/undo", route={"incident_id": INCIDENT})
    assert status == 409 and "seal key since dropped" in body["reason"], (status, body)
    page = _console_confirm(api)
    assert page.status_code == 409 and b"seal key since dropped" in page.get_body(), page.status_code
    # the state the undo would restore is untouched: the account is still locked
    status, view = api.call("get_incident_http", "GET", f"incidents/{INCIDENT}", route={"incident_id": INCIDENT})
    assert status == 200 and view.get("containment") is None, view
